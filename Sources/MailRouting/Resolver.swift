import MailCore

/// Exchange's message flow for one recipient (spec §3, rows 1–11 in order), pure over values.
///
/// ## Rows
/// 1 bad syntax → 501 5.1.3 · 2 mailbox → deliver · 3 contact → its target, resolved as a
/// trusted client's recipient (as Postfix does once it has rewritten the contact; a target
/// unknown in a validating shared domain is routed by rows 8–10); a target in an
/// authoritative domain → 5.4.6 · 4 remote → the route of its domain (an address in an
/// authoritative domain: forwarded as its primary, by that address's route) · 5 unknown in an accepted domain with an unresolved-recipients
/// host → that host · 6 unknown, authoritative → 550 5.1.1 · 7 unknown, shared with recipient
/// validation → 550 5.1.1 · 8 shared, relay, or relayable → the best connector · 9 no
/// connector, DNS on → dns · 10 DNS off → 550 5.4.0 · 11 not accepted, not trusted, no relay
/// connector → 554 5.7.1. Row 11 is decided before rows 2–4, as Postfix's relay control comes
/// before its lookups. See docs/DECISIONS.md for where this differs from spec §3's words.
///
/// ## Lookups
/// Addresses are matched case-insensitively by the caller's `lookup`; `user+tag@domain` is
/// tried as `user@domain` when the tagged address is not an address itself (Postfix's
/// recipient_delimiter).
package struct Resolver: Sendable {
    package let table: RoutingTable

    package init(table: RoutingTable) { self.table = table }

    package func resolve(
        _ text: String, trusted: Bool, explain: Bool = false, lookup: (EmailAddress) throws -> RoutedRecipient?
    ) rethrows -> Decision {
        try resolve(text, trusted: trusted, explain: explain, contacts: 0, via: nil, lookup: lookup)
    }

    /// How many contacts one address may be rewritten through before it is called a loop.
    /// (Postfix's virtual_alias_recursion_limit is 1000; a directory's chains are short.)
    static let maximumContactChain = 8

    /// `contacts`: how many contacts' rewrites led to `text`; `via`: the alias of the contact
    /// whose target `text` is.
    private func resolve(
        _ text: String, trusted: Bool, explain: Bool, contacts: Int, via: String?, lookup: (EmailAddress) throws -> RoutedRecipient?
    ) rethrows -> Decision {
        var trace = Trace(isOn: explain)
        guard let address = try? EmailAddress(parsing: text) else {
            var d = Decision(address: text, action: .reject, row: 1)
            trace.add("'\(text)' is not a valid RFC 5321 address")
            d.reply = "501 5.1.3 Bad recipient address syntax"
            d.code = 501
            d.status = "5.1.3"
            d.reason = "Bad recipient address syntax"
            d.steps = trace.steps
            return d
        }
        let accepted = table.acceptedDomain(for: address.domain)
        if let accepted {
            trace.add("domain \(address.domain) is accepted: \(accepted.type.rawValue)" + (accepted.name == address.domain ? "" : " (through \(accepted.name), which includes subdomains)"))
        } else {
            trace.add("domain \(address.domain) is not an accepted domain")
        }

        var found = try lookup(address)
        trace.add(found.map { "\(address) belongs to \($0.kind.rawValue) \($0.alias)" } ?? "no recipient has \(address)")
        var matchedBase: EmailAddress?
        if found == nil, let base = baseAddress(of: address) {
            found = try lookup(base)
            if found != nil { matchedBase = base }
            trace.add(found.map { "without its extension, \(base) belongs to \($0.kind.rawValue) \($0.alias)" } ?? "without its extension, no recipient has \(base) either")
        }

        var d = Decision(address: text, action: .reject, row: 0)
        d.domainType = accepted?.type
        // Relay control decides before the recipient does, as Postfix's
        // reject_unauth_destination does: a recipient's address in a domain we do not accept is
        // no reason to take mail for it from an untrusted client. (The lookup still ran: it is
        // what tells a caching caller that the directory changed.)
        if accepted == nil && !trusted && table.candidates(for: address.domain, relayOnly: true).isEmpty {
            d.row = 11
            trace.add("not accepted, the client may not relay, and no connector allows relay to \(address.domain)")
            reject(&d, 554, "5.7.1", "Relay access denied", address: text, rejectedAs: "")
            d.steps = trace.steps
            return d
        }
        if let found {
            d.recipient = found.alias
            d.matchedWithoutExtension = matchedBase?.description
            d.primary = found.primary
            switch found.kind {
            case .mailbox:
                d.action = .deliver
                d.row = 2
                d.mailbox = found.alias
                trace.add("a mailbox here: deliver to \(found.primary ?? address.description)")
            case .contact:
                d.row = 3
                guard let target = found.targetAddress else {
                    preconditionFailure("contact \(found.alias) without a target address")
                }
                d.target = target.description
                let targetDomain = table.acceptedDomain(for: target.domain)
                if targetDomain?.type == .authoritative {
                    trace.add("contact target \(target) is in authoritative domain \(targetDomain!.name): it would come straight back")
                    reject(&d, 550, "5.4.6", "forwarding loop (contact target \(target) is in an authoritative domain)", address: text)
                } else if found.alias == via {
                    // The contact holds its own target (the usual shape of an Exchange mail
                    // contact): an address that maps to itself ends Postfix's rewriting, and
                    // the target is routed as it is (rows 8–10).
                    trace.add("\(target) is the contact's own address: route it")
                    route(&d, domain: target.domain, rejecting: text, trace: &trace)
                } else if contacts >= Self.maximumContactChain {
                    trace.add("\(contacts + 1) contacts in a row: a forwarding loop")
                    reject(&d, 550, "5.4.6", "forwarding loop (more than \(Self.maximumContactChain) contacts in a row)", address: text)
                } else {
                    // Postfix rewrites the contact (virtual_alias_maps) and then treats the
                    // target as any recipient of a trusted client: rewritten again if it is
                    // ours, routed by transport_maps. Say what it will do.
                    trace.add("a contact: rewrite to \(target) and resolve that as a trusted client's recipient")
                    let next = try resolve(
                        target.description, trusted: true, explain: explain, contacts: contacts + 1, via: found.alias, lookup: lookup)
                    for step in next.steps { trace.add("  \(step)") }
                    follow(next, to: target, into: &d, rejecting: text, trace: &trace)
                }
            case .remote:
                d.row = 4
                // The other system cannot take mail for an address in a domain only we serve
                // (the recipe's policy gives everyone one): such mail goes on as the
                // recipient's primary, as a GAL-synced contact's goes to its targetAddress.
                if accepted?.type == .authoritative, let primary = found.primary.map(EmailAddress.init(stored:)),
                    !EmailAddress.sameText(primary.description, (matchedBase ?? address).description)
                {
                    d.target = primary.description
                    trace.add("a remote recipient: it lives on the other system, which does not serve \(address.domain); forward as its primary \(primary) and route \(primary.domain)")
                    route(&d, domain: primary.domain, rejecting: text, trace: &trace)
                } else {
                    trace.add("a remote recipient: it lives on the other system; route its domain")
                    route(&d, domain: address.domain, rejecting: text, trace: &trace)
                }
            }
            d.steps = trace.steps
            return d
        }

        if let accepted, accepted.type != .relay, let host = table.settings.unresolvedHost {
            d.action = .forward
            d.row = 5
            d.nexthop = host.description
            trace.add("unknown in an accepted domain: forward to the unresolved-recipients host \(host); it answers for unknowns")
        } else if accepted?.type == .authoritative {
            d.row = 6
            trace.add("unknown in an authoritative domain: user unknown")
            reject(&d, 550, "5.1.1", "User unknown", address: text)
        } else if let accepted, accepted.type == .shared, accepted.validatesRecipients {
            d.row = 7
            trace.add("unknown in shared domain \(accepted.name) with recipient validation: it exists in neither system")
            reject(&d, 550, "5.1.1", "User unknown", address: text)
        } else if accepted != nil {
            route(&d, domain: address.domain, rejecting: text, trace: &trace)
        } else if trusted {
            trace.add("not accepted, but the client may relay")
            route(&d, domain: address.domain, rejecting: text, trace: &trace)
        } else {
            // Untrusted: relay control above let it through, so a connector allows relay.
            trace.add("not accepted, the client may not relay, but a connector allows relay to this domain")
            route(&d, domain: address.domain, rejecting: text, relayOnly: true, trace: &trace)
        }
        d.steps = trace.steps
        return d
    }

    /// Rows 8–10 for `domain`, as a trusted client's mail goes: the next hop (`dns` for MX
    /// routing), or nil when there is no route.
    package func nexthop(for domain: DomainName) -> String? {
        var d = Decision(address: "", action: .reject, row: 0)
        var trace = Trace(isOn: false)
        route(&d, domain: domain, rejecting: "", trace: &trace)
        return d.action == .forward ? d.nexthop : nil
    }

    /// A contact's decision from its target's: delivered or forwarded as the target is (as the
    /// address the target is finally rewritten to), or refused with the target's reason. A
    /// target unknown in a shared domain with recipient validation is routed by rows 8–10:
    /// Postfix has accepted the contact, and the transport map routes such a target so.
    private func follow(_ next: Decision, to target: EmailAddress, into d: inout Decision, rejecting text: String, trace: inout Trace) {
        switch next.action {
        case .deliver:
            d.action = .deliver
            d.mailbox = next.mailbox
            // Found as written: on as the mailbox's primary. Found without its +tag: as written,
            // and Postfix's next lookup gives the primary with the tag kept.
            d.target = next.matchedWithoutExtension == nil ? next.primary ?? target.description : target.description
        case .forward:
            d.action = .forward
            d.target = next.target ?? target.description
            d.nexthop = next.nexthop
            d.connector = next.connector
        case .reject:
            if next.row == 7 {
                trace.add("the target is unknown in a domain that validates recipients; the contact was accepted, so route its domain")
                route(&d, domain: target.domain, rejecting: text, trace: &trace)
            } else if let code = next.code, let status = next.status, let reason = next.reason {
                reject(&d, code, status, reason, address: text, rejectedAs: next.rejectedAs)
            }
        }
    }

    /// `user@domain` for `user+tag@domain`, when the delimiter is on and the address has one.
    private func baseAddress(of address: EmailAddress) -> EmailAddress? {
        guard let delimiter = table.settings.recipientDelimiter?.asciiValue, !address.localPart.isQuoted else { return nil }
        let local = address.localPart.text
        guard let cut = local.utf8.firstIndex(of: delimiter), cut != local.startIndex else { return nil }
        let base = String(local[..<cut])
        guard LocalPart.isDotString(base[...]) else { return nil }
        return EmailAddress(localPart: LocalPart(canonical: base), domain: address.domain)
    }

    /// Rows 8–10: the best connector for `domain`, else DNS, else no route. Sets the row only
    /// when the address itself is routed (a contact keeps row 3, a remote recipient row 4).
    private func route(_ d: inout Decision, domain: DomainName, rejecting text: String, relayOnly: Bool = false, trace: inout Trace) {
        let candidates = table.candidates(for: domain, relayOnly: relayOnly)
        let setsRow = d.row == 0
        if trace.isOn {
            for connector in table.connectors {
                if !connector.isEnabled { trace.add("connector \(connector.name): disabled, ignored"); continue }
                if relayOnly && !connector.allowsRelay { trace.add("connector \(connector.name): does not allow relay"); continue }
                if !candidates.contains(where: { $0.connector.name == connector.name }) {
                    trace.add("connector \(connector.name): no address space matches \(domain)")
                }
            }
            for (index, candidate) in candidates.enumerated() {
                trace.add("connector \(candidate.connector.name): address space \(candidate.space.pattern) cost \(candidate.space.cost)" + (index == 0 ? ": best" : ": loses to \(candidates[0].connector.name)"))
            }
        }
        if let best = candidates.first {
            d.action = .forward
            if setsRow { d.row = 8 }
            d.connector = best.connector.name
            switch best.connector.delivery {
            case .dns: d.nexthop = "dns"
            case .smartHosts(let hosts): d.nexthop = hosts.map(\.description).joined(separator: ",")
            }
            trace.add("forward through connector \(best.connector.name) to \(d.nexthop ?? "")")
        } else if table.settings.isDNSDeliveryEnabled {
            d.action = .forward
            if setsRow { d.row = 9 }
            d.nexthop = "dns"
            trace.add("no connector matches \(domain); DNS delivery is on: forward by MX lookup")
        } else {
            if setsRow { d.row = 10 }
            trace.add("no connector matches \(domain) and DNS delivery is off: no route")
            reject(&d, 550, "5.4.0", "no route to destination", address: text, rejectedAs: "")
        }
    }

    /// A rejection, its reply written as Postfix writes it: `550 5.1.1 <addr>: Recipient
    /// address rejected: User unknown` (`rejectedAs` is the phrase before the reason).
    private func reject(
        _ d: inout Decision, _ code: Int, _ status: String, _ reason: String, address: String,
        rejectedAs: String = "Recipient address rejected: "
    ) {
        d.action = .reject
        d.rejectedAs = rejectedAs
        d.reply = "\(code) \(status) <\(address)>: \(rejectedAs)\(reason)"
        d.code = code
        d.reason = reason
        d.status = status
        d.nexthop = nil
        d.connector = nil
    }
}

/// Explanation lines, collected only when asked (they cost string building per lookup).
struct Trace {
    let isOn: Bool
    private(set) var steps: [String] = []
    init(isOn: Bool) { self.isOn = isOn }
    mutating func add(_ step: @autoclosure () -> String) {
        if isOn { steps.append(step()) }
    }
}
