/// What a recipient is (spec §1).
package enum RecipientKind: String, CaseIterable, Sendable, Codable {
    /// Lives here: mail is delivered locally.
    case mailbox
    /// Mail-enabled contact: mail is rewritten to its `targetAddress`.
    case contact
    /// **(ours)** Lives on the other system of a shared namespace; known so that addresses in
    /// neither system can be refused at RCPT time.
    case remote
}

/// The directory attributes a recipient carries, under their Active Directory names.
///
/// Maximum lengths are AD's `rangeUpper` values, so anything exported from AD fits and the
/// schema can enforce the same limits.
package enum RecipientAttribute: String, CaseIterable, Sendable {
    case givenName, sn, initials, displayName, company, department, title, physicalDeliveryOfficeName
    case extensionAttribute1, extensionAttribute2, extensionAttribute3, extensionAttribute4, extensionAttribute5
    case extensionAttribute6, extensionAttribute7, extensionAttribute8, extensionAttribute9, extensionAttribute10
    case extensionAttribute11, extensionAttribute12, extensionAttribute13, extensionAttribute14, extensionAttribute15

    /// The AD attribute name (`lDAPDisplayName`).
    package var adName: String { rawValue }

    package var maximumLength: Int {
        switch self {
        case .givenName, .sn, .company, .department: 64
        case .initials: 6
        case .displayName: 256
        case .title: 128
        case .physicalDeliveryOfficeName: 128
        default: 1024  // extensionAttribute1–15
        }
    }

    /// Looks an attribute up by its AD name, case-insensitively (LDAP names are).
    package init?(adName: String) {
        let lower = adName.lowercased()
        guard let found = Self.allCases.first(where: { $0.rawValue.lowercased() == lower }) else { return nil }
        self = found
    }
}

/// A recipient alias (`mailNickname`): an RFC 5321 dot-string of at most 64 characters, since
/// policies use it as a local part (`%m`). Unique in the directory, case-insensitively.
package enum RecipientAlias {
    package static let maximumLength = 64

    package static func validate(_ alias: String) throws(AddressError) {
        guard !alias.isEmpty else { throw AddressError("alias", alias, "empty") }
        guard alias.utf8.count <= maximumLength else {
            throw AddressError("alias", alias, "longer than \(maximumLength) characters")
        }
        guard LocalPart.isDotString(alias[...]) else {
            throw AddressError("alias", alias, "use letters, digits and !#$%&'*+-/=?^_`{|}~, with single dots between them")
        }
    }
}

/// A recipient with its attributes and proxy addresses, as the directory holds it.
package struct Recipient: Sendable, Equatable {
    package var alias: String
    package var kind: RecipientKind
    /// Only attributes that have a value; AD has no empty strings.
    package var attributes: [RecipientAttribute: String]
    /// Where a contact's mail goes; nil for other kinds.
    package var targetAddress: EmailAddress?
    /// Exchange's "automatically update e-mail addresses based on recipient policy".
    package var isPolicyManaged: Bool
    /// Which organisation it came from (free text, e.g. `fabrikam`).
    package var source: String?
    /// The policy that last stamped its addresses, if any.
    package var stampedByPolicy: String?
    /// Primary address of each type first, then secondaries, each group in address order.
    package var addresses: [ProxyAddress]

    package init(
        alias: String, kind: RecipientKind = .mailbox, attributes: [RecipientAttribute: String] = [:],
        targetAddress: EmailAddress? = nil, isPolicyManaged: Bool = true, source: String? = nil,
        stampedByPolicy: String? = nil, addresses: [ProxyAddress] = []
    ) {
        self.alias = alias
        self.kind = kind
        self.attributes = attributes
        self.targetAddress = targetAddress
        self.isPolicyManaged = isPolicyManaged
        self.source = source
        self.stampedByPolicy = stampedByPolicy
        self.addresses = addresses
    }

    package subscript(attribute: RecipientAttribute) -> String? { attributes[attribute] }

    /// The primary address of `type` (SMTP unless said otherwise).
    package func primaryAddress(ofType type: String = ProxyAddress.smtp) -> ProxyAddress? {
        addresses.first { $0.type == type && $0.isPrimary }
    }
}

/// A recipient as the resolver needs it, found by one of its addresses: what it is, its
/// primary SMTP address, and a contact's target.
package struct RoutedRecipient: Sendable, Equatable {
    package let alias: String
    package let kind: RecipientKind
    package let primary: String?
    package let targetAddress: EmailAddress?

    package init(alias: String, kind: RecipientKind, primary: String?, targetAddress: EmailAddress?) {
        self.alias = alias
        self.kind = kind
        self.primary = primary
        self.targetAddress = targetAddress
    }
}
