import MailCore
import Testing
@testable import MailRouting

// MARK: - A directory in memory

/// Accepted domains, connectors, settings and recipients as plain values, with the resolver
/// over them. The lookup is a dictionary from the lower-cased address to the recipient, as the
/// store's case-insensitive index would answer.
struct World {
    var domains: [AcceptedDomain] = []
    var connectors: [Connector] = []
    var settings = ServerSettings()
    var recipients: [String: RoutedRecipient] = [:]

    mutating func domain(_ name: String, _ type: DomainType, subdomains: Bool = false, validates: Bool = false) throws {
        domains.append(AcceptedDomain(name: try DomainName(parsing: name), type: type, includesSubdomains: subdomains, validatesRecipients: validates))
    }

    /// A connector from its address spaces as `mailns connector add` takes them (`fabrikam.com;5`)
    /// and its smart hosts (none: DNS delivery).
    mutating func connector(_ name: String, _ spaces: [String], hosts: [String] = [], relay: Bool = false, enabled: Bool = true) throws {
        let delivery: Connector.Delivery = hosts.isEmpty ? .dns : .smartHosts(try hosts.map { try SmartHost(parsing: $0) })
        connectors.append(
            Connector(
                name: name, addressSpaces: try spaces.map { try AddressSpace(parsing: $0) }, delivery: delivery, allowsRelay: relay,
                isEnabled: enabled))
    }

    /// Registers `addresses` (the first is the primary) for a recipient.
    mutating func recipient(_ alias: String, _ kind: RecipientKind = .mailbox, _ addresses: [String], target: String? = nil) throws {
        let primary = try addresses.first.map { try EmailAddress(parsing: $0).description }
        let routed = RoutedRecipient(alias: alias, kind: kind, primary: primary, targetAddress: try target.map { try EmailAddress(parsing: $0) })
        for address in addresses {
            recipients[try EmailAddress(parsing: address).key] = routed
        }
    }

    var table: RoutingTable { RoutingTable(domains: domains, connectors: connectors, settings: settings) }

    func resolve(_ address: String, trusted: Bool = false, explain: Bool = false) -> Decision {
        let recipients = recipients
        return Resolver(table: table).resolve(address, trusted: trusted, explain: explain) { recipients[$0.key] }
    }
}

/// The fields of a decision a test states, all at once, so a failure shows the whole answer.
struct Expected: Equatable, CustomStringConvertible {
    var action: Decision.Action
    var row: Int
    var domainType: DomainType? = nil
    var recipient: String? = nil
    var primary: String? = nil
    var target: String? = nil
    var nexthop: String? = nil
    var connector: String? = nil
    var reply: String? = nil
    var status: String? = nil

    init(
        _ action: Decision.Action, row: Int, domainType: DomainType? = nil, recipient: String? = nil, primary: String? = nil,
        target: String? = nil, nexthop: String? = nil, connector: String? = nil, reply: String? = nil, status: String? = nil
    ) {
        self.action = action
        self.row = row
        self.domainType = domainType
        self.recipient = recipient
        self.primary = primary
        self.target = target
        self.nexthop = nexthop
        self.connector = connector
        self.reply = reply
        self.status = status
    }

    init(_ d: Decision) {
        self.init(
            d.action, row: d.row, domainType: d.domainType, recipient: d.recipient, primary: d.primary, target: d.target,
            nexthop: d.nexthop, connector: d.connector, reply: d.reply, status: d.status)
    }

    var description: String {
        "\(action) row \(row) domainType=\(domainType?.rawValue ?? "nil") recipient=\(recipient ?? "nil") primary=\(primary ?? "nil") "
            + "target=\(target ?? "nil") nexthop=\(nexthop ?? "nil") connector=\(connector ?? "nil") reply=\(reply ?? "nil") status=\(status ?? "nil")"
    }
}

func expectDecision(_ decision: Decision, _ expected: Expected, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Expected(decision) == expected, sourceLocation: sourceLocation)
}

func userUnknown(_ address: String) -> String { "550 5.1.1 <\(address)>: Recipient address rejected: User unknown" }

// MARK: - Rows 1–11 of spec §3

@Suite("Resolver: the rows of spec §3")
struct ResolverRowTests {
    /// contoso.local authoritative, contoso.com shared, fabrikam.com relay; a connector for the
    /// other system of contoso.com and one for fabrikam.com; alice (mailbox), bob (contact),
    /// carol (remote).
    static func world() throws -> World {
        var w = World()
        try w.domain("contoso.local", .authoritative)
        try w.domain("contoso.com", .shared)
        try w.domain("fabrikam.com", .relay)
        try w.connector("Other system", ["contoso.com"], hosts: ["[10.0.0.5]"])
        try w.connector("Fabrikam", ["fabrikam.com"], hosts: ["[10.0.1.25]"])
        try w.recipient("alice", .mailbox, ["Alice.Smith@contoso.com", "alice@contoso.local"])
        try w.recipient("bob", .contact, ["bob@contoso.com"], target: "bob@fabrikam.com")
        try w.recipient("carol", .remote, ["carol@contoso.com"])
        return w
    }

    @Test("row 1: not an address → reject 501 5.1.3", arguments: [
        "not an address", "", "@contoso.com", "alice@", "a..b@contoso.com", "alice@contoso..com", "<alice@contoso.com>",
        String(repeating: "a", count: 65) + "@contoso.com",
        "a@" + Array(repeating: String(repeating: "b", count: 60), count: 5).joined(separator: ".") + ".com",
    ])
    func row1(address: String) throws {
        let d = try Self.world().resolve(address)
        expectDecision(d, Expected(.reject, row: 1, reply: "501 5.1.3 Bad recipient address syntax", status: "5.1.3"))
        #expect(d.address == address)
    }

    @Test("row 1 holds for trusted clients too, and a 64-octet local part is fine")
    func row1Boundaries() throws {
        let w = try Self.world()
        #expect(w.resolve("x@@contoso.com", trusted: true).row == 1)
        let local64 = String(repeating: "a", count: 64) + "@contoso.local"
        expectDecision(w.resolve(local64), Expected(.reject, row: 6, domainType: .authoritative, reply: userUnknown(local64), status: "5.1.1"))
    }

    @Test("row 2: a mailbox, found by any of its addresses → deliver to its primary")
    func row2() throws {
        let w = try Self.world()
        for address in ["alice@contoso.local", "Alice.Smith@contoso.com"] {
            let d = w.resolve(address)
            let type: DomainType = address.hasSuffix("local") ? .authoritative : .shared
            expectDecision(d, Expected(.deliver, row: 2, domainType: type, recipient: "alice", primary: "Alice.Smith@contoso.com"))
            #expect(d.address == address)
        }
    }

    @Test("row 3: a contact → forward its target by rows 8–11 as trusted, keeping row 3")
    func row3() throws {
        // fabrikam.com is relay here; make the target a domain that is not accepted at all, so
        // only routing "as trusted" lets it through for an untrusted client.
        var w = try Self.world()
        try w.recipient("dave", .contact, ["dave@contoso.com"], target: "dave@adatum.com")
        try w.connector("Adatum", ["adatum.com"], hosts: ["[192.0.2.30]"])
        expectDecision(
            w.resolve("dave@contoso.com", trusted: false),
            Expected(
                .forward, row: 3, domainType: .shared, recipient: "dave", primary: "dave@contoso.com", target: "dave@adatum.com",
                nexthop: "[192.0.2.30]", connector: "Adatum"))
        expectDecision(
            w.resolve("bob@contoso.com"),
            Expected(
                .forward, row: 3, domainType: .shared, recipient: "bob", primary: "bob@contoso.com", target: "bob@fabrikam.com",
                nexthop: "[10.0.1.25]", connector: "Fabrikam"))
    }

    @Test("row 3: a contact whose target has no connector goes by DNS when it is on, still row 3")
    func row3ByDNS() throws {
        var w = try Self.world()
        try w.recipient("erin", .contact, ["erin@contoso.local"], target: "erin@example.org")
        expectDecision(
            w.resolve("erin@contoso.local"),
            Expected(
                .forward, row: 3, domainType: .authoritative, recipient: "erin", primary: "erin@contoso.local", target: "erin@example.org",
                nexthop: "dns"))
    }

    @Test("row 3: a contact whose target is in an authoritative domain → reject 5.4.6 (forwarding loop)")
    func row3Loop() throws {
        var w = try Self.world()
        try w.recipient("loop", .contact, ["loop@contoso.com"], target: "someone@contoso.local")
        let d = w.resolve("loop@contoso.com", trusted: true)
        #expect(d.action == .reject)
        #expect(d.row == 3)
        #expect(d.status == "5.4.6")
        #expect(d.reply?.hasPrefix("550 5.4.6 <loop@contoso.com>") == true, "\(d.reply ?? "nil")")
        #expect(d.target == "someone@contoso.local")
        #expect(d.recipient == "loop")
        #expect(d.nexthop == nil)
        #expect(d.connector == nil)
    }

    @Test("row 3: a target in a subdomain covered by an authoritative parent is a loop too")
    func row3LoopThroughParent() throws {
        var w = World()
        try w.domain("contoso.local", .authoritative, subdomains: true)
        try w.domain("contoso.com", .shared)
        try w.recipient("loop", .contact, ["loop@contoso.com"], target: "x@eu.contoso.local")
        let d = w.resolve("loop@contoso.com")
        #expect(d.status == "5.4.6")
        #expect(d.row == 3)
    }

    @Test("row 3: a contact whose target domain has no route and DNS off → reject 550 5.4.0, but row 3")
    func row3NoRoute() throws {
        var w = try Self.world()
        w.settings.isDNSDeliveryEnabled = false
        try w.recipient("erin", .contact, ["erin@contoso.local"], target: "erin@example.org")
        expectDecision(
            w.resolve("erin@contoso.local"),
            Expected(
                .reject, row: 3, domainType: .authoritative, recipient: "erin", primary: "erin@contoso.local", target: "erin@example.org",
                reply: "550 5.4.0 <erin@contoso.local>: no route to destination", status: "5.4.0"))
    }

    @Test("row 3: the target is resolved as Postfix resolves the rewritten address: a mailbox here is delivered here")
    func row3TargetIsOurMailbox() throws {
        var w = try Self.world()
        // A Fabrikam contact left behind after its person moved here as a mailbox.
        try w.recipient("moved", .contact, ["moved@contoso.com"], target: "alice@contoso.local")
        try w.recipient("toalice", .contact, ["toalice@contoso.com"], target: "Alice.Smith@contoso.com")
        expectDecision(
            w.resolve("toalice@contoso.com"),
            Expected(.deliver, row: 3, domainType: .shared, recipient: "toalice", primary: "toalice@contoso.com", target: "Alice.Smith@contoso.com"))
        #expect(w.resolve("toalice@contoso.com").mailbox == "alice")
        #expect(w.resolve("alice@contoso.local").mailbox == "alice")
        // A target in an authoritative domain is still a loop (spec row 3), mailbox or not.
        #expect(w.resolve("moved@contoso.com").status == "5.4.6")
    }

    /// Regression (review): the target's lookup found the contact itself, again and again,
    /// until the chain limit called it a loop; Postfix stops at an address that maps to itself.
    @Test("row 3: a contact that holds its own target address (an Exchange mail contact's usual shape) is forwarded, by either address")
    func row3ContactHoldingItsTarget() throws {
        var w = try Self.world()
        try w.recipient("per", .contact, ["per@fabrikam.com", "per@contoso.com"], target: "per@fabrikam.com")
        for address in ["per@contoso.com", "Per@Fabrikam.com"] {
            let d = w.resolve(address)
            #expect(d.action == .forward, "\(address): \(d.reply ?? "")")
            #expect(d.row == 3)
            #expect(d.target == "per@fabrikam.com")
            #expect(d.nexthop == "[10.0.1.25]" && d.connector == "Fabrikam")
        }
    }

    @Test("row 3: a target found without its +tag keeps it: Postfix's next lookup gives the mailbox's primary with the tag")
    func row3TargetWithATag() throws {
        var w = try Self.world()
        try w.recipient("news", .contact, ["news@contoso.local"], target: "alice.smith+news@contoso.com")
        let d = w.resolve("news@contoso.local")
        #expect(d.action == .deliver && d.mailbox == "alice")
        #expect(d.target == "alice.smith+news@contoso.com")
    }

    @Test("row 3: a target unknown in a shared domain goes where row 5 or rows 8–10 send it; validation does not refuse it")
    func row3TargetUnknownInASharedDomain() throws {
        var w = try Self.world()
        try w.recipient("gone", .contact, ["gone@contoso.local"], target: "gone@contoso.com")
        expectDecision(
            w.resolve("gone@contoso.local"),
            Expected(
                .forward, row: 3, domainType: .authoritative, recipient: "gone", primary: "gone@contoso.local", target: "gone@contoso.com",
                nexthop: "[10.0.0.5]", connector: "Other system"))
        w.settings.unresolvedHost = try SmartHost(parsing: "[10.0.0.9]")
        #expect(w.resolve("gone@contoso.local").nexthop == "[10.0.0.9]", "Postfix's transport map sends an unknown there")
        w.settings.unresolvedHost = nil
        w.domains = w.domains.map { $0.name.name == "contoso.com" ? AcceptedDomain(name: $0.name, type: .shared, validatesRecipients: true) : $0 }
        expectDecision(
            w.resolve("gone@contoso.local"),
            Expected(
                .forward, row: 3, domainType: .authoritative, recipient: "gone", primary: "gone@contoso.local", target: "gone@contoso.com",
                nexthop: "[10.0.0.5]", connector: "Other system"))
    }

    @Test("row 3: a target that is another contact's or a remote recipient's address goes on as they do; a ring of contacts is a loop")
    func row3Chains() throws {
        var w = try Self.world()
        try w.recipient("dave", .remote, ["dave@contoso.com", "dave.old@contoso.com"])
        try w.recipient("todave", .contact, ["todave@contoso.local"], target: "dave.old@contoso.com")
        try w.recipient("tobob", .contact, ["tobob@contoso.local"], target: "bob@contoso.com")
        expectDecision(
            w.resolve("todave@contoso.local"),
            Expected(
                .forward, row: 3, domainType: .authoritative, recipient: "todave", primary: "todave@contoso.local", target: "dave.old@contoso.com",
                nexthop: "[10.0.0.5]", connector: "Other system"))
        expectDecision(
            w.resolve("tobob@contoso.local"),
            Expected(
                .forward, row: 3, domainType: .authoritative, recipient: "tobob", primary: "tobob@contoso.local", target: "bob@fabrikam.com",
                nexthop: "[10.0.1.25]", connector: "Fabrikam"))
        try w.recipient("ping", .contact, ["ping@contoso.com"], target: "pong@contoso.com")
        try w.recipient("pong", .contact, ["pong@contoso.com"], target: "ping@contoso.com")
        let ring = w.resolve("ping@contoso.com")
        #expect(ring.action == .reject)
        #expect(ring.row == 3)
        #expect(ring.reply == "550 5.4.6 <ping@contoso.com>: Recipient address rejected: forwarding loop (more than \(Resolver.maximumContactChain) contacts in a row)")
    }

    @Test("row 4: a remote recipient → forward by the route of its domain")
    func row4() throws {
        let w = try Self.world()
        for trusted in [false, true] {
            expectDecision(
                w.resolve("carol@contoso.com", trusted: trusted),
                Expected(.forward, row: 4, domainType: .shared, recipient: "carol", primary: "carol@contoso.com", nexthop: "[10.0.0.5]", connector: "Other system"))
        }
    }

    @Test("row 4: a remote recipient with no connector goes by DNS (still row 4), or 5.4.0 with DNS off")
    func row4WithoutConnector() throws {
        var w = World()
        try w.domain("contoso.com", .shared)
        try w.recipient("carol", .remote, ["carol@contoso.com"])
        expectDecision(
            w.resolve("carol@contoso.com"),
            Expected(.forward, row: 4, domainType: .shared, recipient: "carol", primary: "carol@contoso.com", nexthop: "dns"))
        w.settings.isDNSDeliveryEnabled = false
        expectDecision(
            w.resolve("carol@contoso.com"),
            Expected(
                .reject, row: 4, domainType: .shared, recipient: "carol", primary: "carol@contoso.com",
                reply: "550 5.4.0 <carol@contoso.com>: no route to destination", status: "5.4.0"))
    }

    @Test("row 4: a remote recipient found by an address in an authoritative domain → forwarded as its primary, by its route")
    func row4BySecondary() throws {
        var w = try Self.world()
        // The KB 321721 recipe's policy gives everyone an internal secondary, remote recipients too.
        try w.recipient("dave", .remote, ["dave@contoso.com", "dave@contoso.local", "dave+x@contoso.local"])
        for trusted in [false, true] {
            expectDecision(
                w.resolve("Dave@CONTOSO.local", trusted: trusted),
                Expected(
                    .forward, row: 4, domainType: .authoritative, recipient: "dave", primary: "dave@contoso.com", target: "dave@contoso.com",
                    nexthop: "[10.0.0.5]", connector: "Other system"))
        }
        // Found without its extension: the primary is still what the other system knows.
        expectDecision(
            w.resolve("dave+tag@contoso.local"),
            Expected(
                .forward, row: 4, domainType: .authoritative, recipient: "dave", primary: "dave@contoso.com", target: "dave@contoso.com",
                nexthop: "[10.0.0.5]", connector: "Other system"))
        // By its primary (in any case) nothing is rewritten.
        expectDecision(
            w.resolve("DAVE@contoso.com"),
            Expected(.forward, row: 4, domainType: .shared, recipient: "dave", primary: "dave@contoso.com", nexthop: "[10.0.0.5]", connector: "Other system"))
        #expect(
            w.resolve("dave@contoso.local", explain: true).steps.contains(
                "a remote recipient: it lives on the other system, which does not serve contoso.local; forward as its primary dave@contoso.com and route contoso.com"))
        // An address in a domain the other system serves goes on as it is.
        try w.recipient("erin", .remote, ["erin@contoso.com", "erin.old@contoso.com"])
        expectDecision(
            w.resolve("erin.old@contoso.com"),
            Expected(.forward, row: 4, domainType: .shared, recipient: "erin", primary: "erin@contoso.com", nexthop: "[10.0.0.5]", connector: "Other system"))
    }

    @Test("row 5: unknown in an authoritative or shared domain with the unresolved host set → forward there")
    func row5() throws {
        var w = try Self.world()
        w.settings.unresolvedHost = try SmartHost(parsing: "[10.0.0.9]")
        expectDecision(w.resolve("nobody@contoso.local"), Expected(.forward, row: 5, domainType: .authoritative, nexthop: "[10.0.0.9]"))
        expectDecision(w.resolve("nobody@contoso.com"), Expected(.forward, row: 5, domainType: .shared, nexthop: "[10.0.0.9]"))
    }

    @Test("row 5 does not apply to relay domains, to domains not accepted, or to known recipients")
    func row5NotForRelay() throws {
        var w = try Self.world()
        w.settings.unresolvedHost = try SmartHost(parsing: "old.contoso.local:2525")
        expectDecision(w.resolve("x@fabrikam.com"), Expected(.forward, row: 8, domainType: .relay, nexthop: "[10.0.1.25]", connector: "Fabrikam"))
        expectDecision(w.resolve("x@example.org", trusted: true), Expected(.forward, row: 9, nexthop: "dns"))
        expectDecision(
            w.resolve("x@example.org"), Expected(.reject, row: 11, reply: "554 5.7.1 <x@example.org>: Relay access denied", status: "5.7.1"))
        #expect(w.resolve("alice@contoso.local").row == 2)
        #expect(w.resolve("carol@contoso.com").row == 4)
        #expect(w.resolve("nobody@contoso.local").nexthop == "old.contoso.local:2525")
    }

    @Test("row 5 comes before recipient validation (row 7)")
    func row5BeforeRow7() throws {
        var w = World()
        try w.domain("contoso.com", .shared, validates: true)
        w.settings.unresolvedHost = try SmartHost(parsing: "[10.0.0.9]")
        expectDecision(w.resolve("nobody@contoso.com"), Expected(.forward, row: 5, domainType: .shared, nexthop: "[10.0.0.9]"))
    }

    @Test("row 6: unknown in an authoritative domain → 550 5.1.1 User unknown, for trusted clients too")
    func row6() throws {
        let w = try Self.world()
        for trusted in [false, true] {
            expectDecision(
                w.resolve("nobody@contoso.local", trusted: trusted),
                Expected(.reject, row: 6, domainType: .authoritative, reply: userUnknown("nobody@contoso.local"), status: "5.1.1"))
        }
    }

    @Test("row 6 wins over a connector that covers the authoritative domain")
    func row6BeforeConnectors() throws {
        var w = try Self.world()
        try w.connector("Everything", ["*"], hosts: ["[192.0.2.1]"])
        #expect(w.resolve("nobody@contoso.local").row == 6)
    }

    @Test("row 7: unknown in a shared domain with recipient validation → 550 5.1.1")
    func row7() throws {
        var w = try Self.world()
        w.domains[1].validatesRecipients = true
        expectDecision(
            w.resolve("nobody@contoso.com"), Expected(.reject, row: 7, domainType: .shared, reply: userUnknown("nobody@contoso.com"), status: "5.1.1"))
    }

    @Test("recipient validation on and off: unknowns are refused or forwarded; known recipients are unaffected")
    func validationOnAndOff() throws {
        var w = try Self.world()
        for validates in [false, true] {
            w.domains[1].validatesRecipients = validates
            let unknown = w.resolve("nobody@contoso.com")
            if validates {
                #expect(unknown.action == .reject && unknown.row == 7 && unknown.status == "5.1.1", "\(Expected(unknown))")
            } else {
                expectDecision(unknown, Expected(.forward, row: 8, domainType: .shared, nexthop: "[10.0.0.5]", connector: "Other system"))
            }
            #expect(w.resolve("Alice.Smith@contoso.com").row == 2)
            #expect(w.resolve("carol@contoso.com").row == 4)
            #expect(w.resolve("carol@contoso.com").nexthop == "[10.0.0.5]")
            #expect(w.resolve("bob@contoso.com").row == 3)
        }
    }

    @Test("row 8: unknown in a shared domain → the best connector")
    func row8Shared() throws {
        expectDecision(
            try Self.world().resolve("nobody@contoso.com"),
            Expected(.forward, row: 8, domainType: .shared, nexthop: "[10.0.0.5]", connector: "Other system"))
    }

    @Test("row 8: a relay domain → its connector, for untrusted clients too")
    func row8Relay() throws {
        let w = try Self.world()
        for trusted in [false, true] {
            expectDecision(
                w.resolve("anyone@fabrikam.com", trusted: trusted),
                Expected(.forward, row: 8, domainType: .relay, nexthop: "[10.0.1.25]", connector: "Fabrikam"))
        }
    }

    @Test("row 8: not accepted, trusted client → the best connector")
    func row8Trusted() throws {
        var w = try Self.world()
        try w.connector("Internet", ["*"], hosts: ["[192.0.2.1]"])
        expectDecision(w.resolve("x@example.org", trusted: true), Expected(.forward, row: 8, nexthop: "[192.0.2.1]", connector: "Internet"))
    }

    @Test("row 8: not accepted, untrusted client, a relay-allowed connector covers it → forward through that connector")
    func row8RelayAllowed() throws {
        var w = try Self.world()
        try w.connector("Partner", ["partner.example"], hosts: ["[192.0.2.40]"], relay: true)
        expectDecision(w.resolve("x@partner.example"), Expected(.forward, row: 8, nexthop: "[192.0.2.40]", connector: "Partner"))
    }

    @Test("an untrusted client may only use relay-allowed connectors, even when a better one matches")
    func untrustedUsesOnlyRelayConnectors() throws {
        var w = World()
        try w.connector("Specific", ["partner.example"], hosts: ["[192.0.2.41]"])
        try w.connector("Relay", ["*.example"], hosts: ["[192.0.2.42]"], relay: true)
        expectDecision(w.resolve("x@partner.example"), Expected(.forward, row: 8, nexthop: "[192.0.2.42]", connector: "Relay"))
        expectDecision(w.resolve("x@partner.example", trusted: true), Expected(.forward, row: 8, nexthop: "[192.0.2.41]", connector: "Specific"))
    }

    @Test("a connector without relay, or a disabled relay connector, does not let untrusted clients relay")
    func noRelayWithoutPermission() throws {
        var w = World()
        try w.connector("Plain", ["partner.example"], hosts: ["[192.0.2.41]"])
        try w.connector("Off", ["partner.example"], hosts: ["[192.0.2.43]"], relay: true, enabled: false)
        expectDecision(
            w.resolve("x@partner.example"), Expected(.reject, row: 11, reply: "554 5.7.1 <x@partner.example>: Relay access denied", status: "5.7.1"))
    }

    @Test("row 9: no connector matches, DNS delivery on → dns")
    func row9() throws {
        var w = World()
        try w.domain("contoso.com", .shared)
        try w.domain("fabrikam.com", .relay)
        expectDecision(w.resolve("nobody@contoso.com"), Expected(.forward, row: 9, domainType: .shared, nexthop: "dns"))
        expectDecision(w.resolve("x@fabrikam.com"), Expected(.forward, row: 9, domainType: .relay, nexthop: "dns"))
        expectDecision(w.resolve("x@example.org", trusted: true), Expected(.forward, row: 9, nexthop: "dns"))
    }

    @Test("row 10: no connector matches, DNS delivery off → 550 5.4.0 no route")
    func row10() throws {
        var w = World()
        w.settings.isDNSDeliveryEnabled = false
        try w.domain("contoso.com", .shared)
        try w.domain("fabrikam.com", .relay)
        for (address, type, trusted) in [("nobody@contoso.com", DomainType?.some(.shared), false), ("x@fabrikam.com", .relay, false), ("x@example.org", nil, true)] {
            expectDecision(
                w.resolve(address, trusted: trusted),
                Expected(.reject, row: 10, domainType: type, reply: "550 5.4.0 <\(address)>: no route to destination", status: "5.4.0"))
        }
    }

    @Test("row 11: not accepted, untrusted, no relay connector → 554 5.7.1 Relay access denied")
    func row11() throws {
        var w = try Self.world()
        try w.connector("Internet", ["*"], hosts: ["[192.0.2.1]"])
        expectDecision(
            w.resolve("x@example.org"), Expected(.reject, row: 11, reply: "554 5.7.1 <x@example.org>: Relay access denied", status: "5.7.1"))
    }

    @Test("row 11 comes before rows 2–4: a recipient's address in a domain we do not accept is relay for an untrusted client")
    func row11BeforeTheLookup() throws {
        var w = try Self.world()
        try w.recipient("erin", .mailbox, ["erin@contoso.com", "erin@oldcompany.example"])
        try w.recipient("rx", .remote, ["rx@partner.example"])
        for address in ["erin@oldcompany.example", "rx@partner.example"] {
            expectDecision(
                w.resolve(address), Expected(.reject, row: 11, reply: "554 5.7.1 <\(address)>: Relay access denied", status: "5.7.1"))
        }
        // A trusted client may relay, and then the recipient is found (Postfix's aliases rewrite it).
        expectDecision(
            w.resolve("erin@oldcompany.example", trusted: true),
            Expected(.deliver, row: 2, recipient: "erin", primary: "erin@contoso.com"))
        // So may anyone when a connector allows relay to the domain.
        try w.connector("Partner", ["partner.example"], hosts: ["[10.0.2.25]"], relay: true)
        expectDecision(
            w.resolve("rx@partner.example"),
            Expected(.forward, row: 4, recipient: "rx", primary: "rx@partner.example", nexthop: "[10.0.2.25]", connector: "Partner"))
    }
}

// MARK: - Address forms

@Suite("Resolver: address forms")
struct ResolverAddressFormTests {
    @Test("upper case in the local part and the domain, and one trailing dot, find the same recipient and domain")
    func caseAndTrailingDot() throws {
        let w = try ResolverRowTests.world()
        for address in ["ALICE@CONTOSO.LOCAL", "alice@contoso.local.", "Alice@Contoso.Local.", "alice.smith@CONTOSO.COM."] {
            let d = w.resolve(address)
            #expect(d.action == .deliver, "\(address): \(Expected(d))")
            #expect(d.recipient == "alice")
            #expect(d.primary == "Alice.Smith@contoso.com")
            #expect(d.address == address)
        }
        let unknown = w.resolve("NOBODY@CONTOSO.LOCAL.")
        expectDecision(unknown, Expected(.reject, row: 6, domainType: .authoritative, reply: userUnknown("NOBODY@CONTOSO.LOCAL."), status: "5.1.1"))
        expectDecision(
            w.resolve("Someone@FABRIKAM.COM."), Expected(.forward, row: 8, domainType: .relay, nexthop: "[10.0.1.25]", connector: "Fabrikam"))
        #expect(w.resolve("x@contoso.local..").row == 1)
    }

    @Test("user+tag resolves to user when user+tag is not an address itself")
    func subaddress() throws {
        var w = try ResolverRowTests.world()
        expectDecision(
            w.resolve("alice+news@contoso.local"),
            Expected(.deliver, row: 2, domainType: .authoritative, recipient: "alice", primary: "Alice.Smith@contoso.com"))
        expectDecision(
            w.resolve("Alice.Smith+a+b@CONTOSO.com"),
            Expected(.deliver, row: 2, domainType: .shared, recipient: "alice", primary: "Alice.Smith@contoso.com"))
        #expect(w.resolve("carol+x@contoso.com").row == 4)
        // An address of its own wins over the base address.
        try w.recipient("alicenews", .mailbox, ["alice+news@contoso.local"])
        #expect(w.resolve("alice+news@contoso.local").recipient == "alicenews")
        #expect(w.resolve("alice+other@contoso.local").recipient == "alice")
        // Unknown base: still unknown.
        #expect(w.resolve("nobody+x@contoso.local").row == 6)
        // A leading delimiter is no extension.
        #expect(w.resolve("+alice@contoso.local").row == 6)
    }

    @Test("with the delimiter off (nil) nothing is stripped; another delimiter is honoured")
    func delimiterSetting() throws {
        var w = try ResolverRowTests.world()
        w.settings.recipientDelimiter = nil
        expectDecision(
            w.resolve("alice+news@contoso.local"),
            Expected(.reject, row: 6, domainType: .authoritative, reply: userUnknown("alice+news@contoso.local"), status: "5.1.1"))
        w.settings.recipientDelimiter = "-"
        #expect(w.resolve("alice-news@contoso.local").recipient == "alice")
        #expect(w.resolve("alice+news@contoso.local").row == 6)
    }

    @Test("a quoted local part is found by its canonical form")
    func quotedLocalPart() throws {
        var w = try ResolverRowTests.world()
        try w.recipient("jdoe", .mailbox, [#""john doe"@contoso.com"#])
        for address in [#""john doe"@contoso.com"#, #""john\ doe"@contoso.com"#, #""JOHN DOE"@Contoso.COM"#] {
            let d = w.resolve(address)
            expectDecision(d, Expected(.deliver, row: 2, domainType: .shared, recipient: "jdoe", primary: #""john doe"@contoso.com"#))
        }
        // A quoted dot-string is the same mailbox as the unquoted one.
        expectDecision(
            w.resolve(#""alice"@contoso.local"#),
            Expected(.deliver, row: 2, domainType: .authoritative, recipient: "alice", primary: "Alice.Smith@contoso.com"))
        // A quoted local part is never cut at the delimiter.
        #expect(w.resolve(#""alice+x y"@contoso.local"#).row == 6)
    }

    @Test("an IDN domain matches its A-label: user@bücher.de finds an accepted xn--bcher-kva.de")
    func idn() throws {
        var w = World()
        try w.domain("xn--bcher-kva.de", .authoritative)
        try w.recipient("user", .mailbox, ["user@xn--bcher-kva.de"])
        for address in ["user@bücher.de", "USER@BÜCHER.DE", "user@xn--bcher-kva.de", "user@bücher.de."] {
            expectDecision(w.resolve(address), Expected(.deliver, row: 2, domainType: .authoritative, recipient: "user", primary: "user@xn--bcher-kva.de"))
        }
        expectDecision(
            w.resolve("nobody@bücher.de"),
            Expected(.reject, row: 6, domainType: .authoritative, reply: userUnknown("nobody@bücher.de"), status: "5.1.1"))
    }

    @Test("an IDN address space matches the U-label form of the domain")
    func idnConnector() throws {
        var w = World()
        try w.connector("Bücher", ["bücher.example"], hosts: ["[192.0.2.50]"], relay: true)
        expectDecision(w.resolve("x@BÜCHER.example"), Expected(.forward, row: 8, nexthop: "[192.0.2.50]", connector: "Bücher"))
        expectDecision(w.resolve("x@xn--bcher-kva.example"), Expected(.forward, row: 8, nexthop: "[192.0.2.50]", connector: "Bücher"))
    }

    @Test("include subdomains: a parent covers its subdomains at any depth; an exact entry wins over the parent")
    func includeSubdomains() throws {
        var w = World()
        try w.domain("contoso.local", .authoritative, subdomains: true)
        try w.domain("contoso.com", .relay, subdomains: false)
        try w.domain("fabrikam.com", .relay, subdomains: true)
        try w.domain("eu.fabrikam.com", .authoritative)
        for address in ["x@eu.contoso.local", "x@a.b.contoso.local"] {
            expectDecision(w.resolve(address), Expected(.reject, row: 6, domainType: .authoritative, reply: userUnknown(address), status: "5.1.1"))
        }
        // Without the flag a subdomain is not accepted.
        expectDecision(
            w.resolve("x@eu.contoso.com"), Expected(.reject, row: 11, reply: "554 5.7.1 <x@eu.contoso.com>: Relay access denied", status: "5.7.1"))
        #expect(w.resolve("x@eu.fabrikam.com").domainType == .authoritative)
        #expect(w.resolve("x@us.fabrikam.com").domainType == .relay)
        #expect(w.resolve("x@us.fabrikam.com").row == 9)
        // A name that merely ends with the parent's text is no subdomain.
        #expect(w.resolve("x@notcontoso.local").domainType == nil)
    }
}

// MARK: - Explain

@Suite("Resolver: explain")
struct ResolverExplainTests {
    @Test("explain: true lists steps naming every connector considered; explain: false lists none")
    func explain() throws {
        var w = World()
        try w.domain("fabrikam.com", .relay)
        try w.connector("Best", ["fabrikam.com"], hosts: ["[10.0.1.25]"])
        try w.connector("Loser", ["*.com;5"], hosts: ["[10.0.1.26]"])
        try w.connector("Elsewhere", ["adatum.com"], hosts: ["[10.0.1.27]"])
        try w.connector("Switched off", ["fabrikam.com"], hosts: ["[10.0.1.28]"], enabled: false)
        let explained = w.resolve("x@fabrikam.com", explain: true)
        #expect(!explained.steps.isEmpty)
        for name in ["Best", "Loser", "Elsewhere", "Switched off"] {
            #expect(explained.steps.contains { $0.contains(name) }, "no step names \(name): \(explained.steps)")
        }
        #expect(explained.steps.contains { $0.contains("relay") }, "the domain's class: \(explained.steps)")
        let plain = w.resolve("x@fabrikam.com", explain: false)
        #expect(plain.steps.isEmpty)
        // The decision itself does not depend on explaining.
        var withoutSteps = explained
        withoutSteps.steps = []
        #expect(withoutSteps == plain)
        #expect(w.resolve("x@fabrikam.com").steps.isEmpty)
    }

    @Test("every row explains itself when asked, and is silent otherwise", arguments: [
        "bad address", "alice@contoso.local", "bob@contoso.com", "carol@contoso.com", "nobody@contoso.local", "nobody@contoso.com",
        "x@fabrikam.com", "x@example.org", "alice+tag@contoso.local",
    ])
    func explainEveryRow(address: String) throws {
        let w = try ResolverRowTests.world()
        #expect(!w.resolve(address, explain: true).steps.isEmpty)
        #expect(w.resolve(address, explain: false).steps.isEmpty)
    }
}
