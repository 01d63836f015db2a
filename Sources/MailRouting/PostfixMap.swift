import MailCore

/// The tables Postfix asks `mailns serve` for, each a view of the resolver (spec §5).
///
/// Postfix sends only the full key over socketmap (never `@domain`, `domain` or the address
/// without its extension), in the case it was typed; the resolver does the case folding and
/// the `+extension` fallback. Every address map answers from `resolve(key, trusted: true)`:
/// the mail was accepted, or relay control (Postfix's `reject_unauth_destination`) has already
/// decided about an untrusted client.
package enum PostfixMap: String, CaseIterable, Sendable {
    /// `virtual_mailbox_domains`: authoritative accepted domains, whose unknown recipients
    /// Postfix rejects itself. Not when an unresolved-recipients host is set: their unknowns
    /// are forwarded, so they are relay-class.
    case mailboxDomains = "mailbox-domains"
    /// `relay_domains`: shared and relay accepted domains (and authoritative ones with an
    /// unresolved-recipients host), and domains that an allow-relay connector covers.
    case relayDomains = "relay-domains"
    /// `virtual_mailbox_maps`, for smtpd: the recipients it accepts in a mailbox domain. The
    /// value is the Maildir of a mailbox (virtual(8) reads its own `sqlite:` copy).
    case mailboxes
    /// `relay_recipient_maps`: every address of a relay-class domain the resolver accepts.
    case relayRecipients = "relay-recipients"
    /// `virtual_alias_maps`: a secondary address → the primary; a contact → its target.
    case aliases
    /// `transport_maps`: a mailbox → the delivery transport; forwarded → `smtp:` next hop.
    case transport
    /// `check_recipient_access`: the resolver's rejections, `DUNNO` otherwise.
    case recipientAccess = "recipient-access"

    /// Every map name, in order, as `mailns serve` lists them.
    package static func names(separator: String = ", ") -> String { allCases.map(\.rawValue).joined(separator: separator) }

    /// The answer for `key`: a value, or nil for "not found".
    package func answer(
        _ key: String, resolver: Resolver, lookup: (EmailAddress) throws -> RoutedRecipient?
    ) rethrows -> String? {
        let table = resolver.table
        switch self {
        case .mailboxDomains, .relayDomains:
            // A domain list: the key is a domain name (Postfix asks the recipient's domain).
            guard !key.contains("@"), let domain = try? DomainName(parsing: key) else { return nil }
            let accepted = table.acceptedDomain(for: domain)
            let isMailboxDomain = accepted?.type == .authoritative && table.settings.unresolvedHost == nil
            if self == .mailboxDomains { return isMailboxDomain ? "authoritative" : nil }
            if let accepted { return isMailboxDomain ? nil : accepted.type.rawValue }
            return table.candidates(for: domain, relayOnly: true).isEmpty ? nil : "relay-connector"
        default:
            break
        }
        // Address maps: a key without a local part is never an address of ours. (Postfix
        // sends none over socketmap; answering them would turn `domain` into a rejection.)
        // Neither `@domain` nor `local@` is an address (a partial key must never become a 501).
        guard let at = key.utf8.lastIndex(of: UInt8(ascii: "@")), at != key.utf8.startIndex, key.utf8.index(after: at) != key.utf8.endIndex
        else { return nil }
        let decision = try resolver.resolve(key, trusted: true, lookup: lookup)
        switch self {
        case .mailboxes:
            guard decision.action != .reject, decision.recipient != nil else { return nil }
            // A contact delivered here through its target is still not a mailbox itself.
            if decision.row == 2, let mailbox = decision.mailbox { return Self.maildir(alias: mailbox) }
            return "not a mailbox: \(decision.row == 3 ? "contact" : "remote")"
        case .relayRecipients:
            return decision.action == .reject ? nil : "OK"
        case .aliases:
            return Self.alias(key, decision)
        case .transport:
            switch decision.action {
            case .deliver: return table.settings.deliveryTransport.postfixTransport
            case .forward: return decision.nexthop.map(Self.smtpTransport)
            case .reject:
                // Mail asks for a transport only once accepted (a contact's target, a bounce):
                // never leave it to Postfix's default route, which is DNS whatever our settings.
                switch decision.row {
                case 6, 10:
                    // Unknown here, or no route: bounce with the resolver's own reason.
                    guard let status = decision.status, let reason = decision.reason else { return nil }
                    return "error:\(status) \(reason)"
                case 7:
                    // Known to neither system, yet accepted: a contact's target (spec row 3 routes
                    // it by rows 8–10), so the route of its domain.
                    guard let address = try? EmailAddress(parsing: key) else { return nil }
                    return resolver.nexthop(for: address.domain).map(Self.smtpTransport) ?? "error:5.4.0 no route to destination"
                default:
                    return nil
                }
            }
        case .recipientAccess:
            guard decision.action == .reject, let code = decision.code, let status = decision.status, let reason = decision.reason else {
                return "DUNNO"
            }
            return "\(code) \(status) \(reason)"
        case .mailboxDomains, .relayDomains:
            preconditionFailure("domain maps answered above")
        }
    }

    /// `smtp:` with a next hop as the resolver gives it (`dns`: Postfix's own MX routing).
    private static func smtpTransport(_ nexthop: String) -> String { nexthop == "dns" ? "smtp:" : "smtp:" + nexthop }

    /// The Maildir of a mailbox under `virtual_mailbox_base`, as the `postfix_mailbox` view
    /// (migration v0004) spells it: the alias, lower-cased, `%` and `/` escaped.
    package static func maildir(alias: String) -> String {
        alias.lowercased().replacing("%", with: "%25").replacing("/", with: "%2F") + "/"
    }

    /// virtual_alias_maps: a contact → its target; a mailbox's other address → its primary, and
    /// a remote recipient's address in a domain only we serve → its primary (the resolver's
    /// target: the other system cannot take the former), keeping a `+extension` the lookup
    /// stripped (as Postfix's propagate_unmatched_extensions would, had it done the
    /// stripping). The primary itself is not an alias.
    private static func alias(_ key: String, _ decision: Decision) -> String? {
        guard decision.action != .reject else { return nil }
        if decision.row == 3 { return decision.target }
        guard let primary = decision.action == .deliver ? decision.primary : decision.row == 4 ? decision.target : nil else { return nil }
        guard let matched = decision.matchedWithoutExtension else {
            // Matched as asked: an alias unless it is the primary itself.
            return key.lowercased() == primary.lowercased() ? nil : primary
        }
        // Found without the extension: key is local+ext@domain, matched is local@domain.
        guard matched.lowercased() != primary.lowercased() else { return nil }
        let matchedLocal = matched.prefix(while: { $0 != "@" })
        guard let keyAt = key.lastIndex(of: "@"), let at = primary.lastIndex(of: "@") else { return primary }
        let askedLocal = key[..<keyAt]
        guard askedLocal.lowercased().hasPrefix(matchedLocal.lowercased()) else { return primary }
        let tag = askedLocal.dropFirst(matchedLocal.count)
        return String(primary[..<at]) + String(tag) + String(primary[at...])
    }
}
