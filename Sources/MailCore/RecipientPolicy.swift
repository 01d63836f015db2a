/// One address template of a recipient policy, e.g. `SMTP:%g.%s@contoso.com`.
///
/// The prefix says the type and whether the generated address becomes primary, as in
/// proxy addresses. The template text after the prefix is kept verbatim; `MailPolicy`
/// interprets it.
package struct PolicyTemplate: Hashable, Sendable, CustomStringConvertible {
    package static let maximumLength = 1024

    package let type: String
    package let template: String
    package let isPrimary: Bool

    package var description: String { "\(isPrimary ? type : type.lowercased()):\(template)" }

    package init(type: String, template: String, isPrimary: Bool) {
        self.type = type
        self.template = template
        self.isPrimary = isPrimary
    }

    package init(parsing text: String) throws(AddressError) {
        let (type, kind, rest) = try ProxyAddress.splitPrefix(text, subject: "template")
        guard !rest.isEmpty else { throw AddressError("template", text, "empty template") }
        guard rest.utf8.count <= Self.maximumLength else {
            throw AddressError("template", text, "longer than \(Self.maximumLength) octets")
        }
        self.init(type: type, template: String(rest), isPrimary: kind == .primary)
    }
}

/// A recipient policy: which recipients (an LDAP filter) get which addresses (templates).
package struct RecipientPolicy: Sendable, Equatable {
    package static let defaultPolicyName = "Default Policy"

    package var name: String
    /// 1 is the highest; priorities are dense 1…N and the Default Policy is always N.
    package var priority: Int
    /// RFC 4515 filter text, stored verbatim.
    package var filter: String
    package var isEnabled: Bool
    package var isDefault: Bool
    package var templates: [PolicyTemplate]

    package init(name: String, priority: Int, filter: String, isEnabled: Bool = true, isDefault: Bool = false, templates: [PolicyTemplate]) {
        self.name = name
        self.priority = priority
        self.filter = filter
        self.isEnabled = isEnabled
        self.isDefault = isDefault
        self.templates = templates
    }

    /// Whether two policy names name the same policy, by the store's rule (the name column's
    /// `COLLATE NOCASE`): ASCII letters match in either case, every other byte must be equal.
    /// Every comparison of policy names in Swift goes through here. Swift's own would disagree
    /// with the store: `lowercased()` folds `Ä` to `ä`, so `Ärzte` and `ärzte`, two policies
    /// to SQLite, were one to `preview` and `apply --policy`; `==` equates the NFC and NFD
    /// spellings of a name, which SQLite also keeps as two.
    package static func sameName(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8) { asciiLowercased($0) == asciiLowercased($1) }
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }
}

/// Server-wide settings (spec §1).
package struct ServerSettings: Sendable, Equatable {
    /// Exchange's "forward all mail with unresolved recipients to host"; nil when unset.
    package var unresolvedHost: SmartHost?
    /// Whether mail with no matching connector may go out by DNS MX lookup.
    package var isDNSDeliveryEnabled: Bool
    /// This server's own names, for loop checks.
    package var localHosts: [DomainName]
    /// Postfix's recipient_delimiter (`+`); nil when extensions are off.
    package var recipientDelimiter: Character?
    /// How mailboxes are delivered (Postfix's transport for a local recipient).
    package var deliveryTransport: DeliveryTransport

    package init(
        unresolvedHost: SmartHost? = nil, isDNSDeliveryEnabled: Bool = true, localHosts: [DomainName] = [],
        recipientDelimiter: Character? = "+", deliveryTransport: DeliveryTransport = .virtual
    ) {
        self.unresolvedHost = unresolvedHost
        self.isDNSDeliveryEnabled = isDNSDeliveryEnabled
        self.localHosts = localHosts
        self.recipientDelimiter = recipientDelimiter
        self.deliveryTransport = deliveryTransport
    }
}
