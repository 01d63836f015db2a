import MailCore
import Testing
@testable import MailRouting

@Suite("Resolver: connector choice")
struct ConnectorChoiceTests {
    /// The connector a trusted client's mail for `address` goes through, or nil.
    private func chosen(_ w: World, _ address: String) -> String? {
        let d = w.resolve(address, trusted: true)
        #expect(d.action == .forward, "\(address): \(Expected(d))")
        return d.connector
    }

    @Test("the most specific address space wins: exact > *.sub.x > *.x > *, whatever the costs")
    func specificity() throws {
        var w = World()
        // Less specific spaces get the better (lower) costs, so only specificity can decide.
        try w.connector("any", ["*;1"], hosts: ["[192.0.2.1]"])
        try w.connector("wild", ["*.fabrikam.com;2"], hosts: ["[192.0.2.2]"])
        try w.connector("wild-sub", ["*.sub.fabrikam.com;3"], hosts: ["[192.0.2.3]"])
        try w.connector("exact", ["mail.sub.fabrikam.com;100"], hosts: ["[192.0.2.4]"])
        #expect(chosen(w, "u@mail.sub.fabrikam.com") == "exact")
        #expect(chosen(w, "u@other.sub.fabrikam.com") == "wild-sub")
        #expect(chosen(w, "u@a.b.sub.fabrikam.com") == "wild-sub")
        #expect(chosen(w, "u@sub.fabrikam.com") == "wild")
        #expect(chosen(w, "u@x.fabrikam.com") == "wild")
        #expect(chosen(w, "u@fabrikam.com") == "any")
        #expect(chosen(w, "u@example.org") == "any")
        let d = w.resolve("u@mail.sub.fabrikam.com", trusted: true)
        expectDecision(d, Expected(.forward, row: 8, nexthop: "[192.0.2.4]", connector: "exact"))
    }

    @Test("the declaration order of connectors does not matter")
    func orderIndependent() throws {
        var w = World()
        try w.connector("exact", ["fabrikam.com;100"], hosts: ["[192.0.2.4]"])
        try w.connector("wild", ["*.fabrikam.com;1"], hosts: ["[192.0.2.2]"])
        try w.connector("any", ["*;1"], hosts: ["[192.0.2.1]"])
        #expect(chosen(w, "u@fabrikam.com") == "exact")
        #expect(chosen(w, "u@x.fabrikam.com") == "wild")
    }

    @Test("an exact space of one connector beats a wildcard of another, even when both belong to several spaces")
    func bestSpaceOfEachConnector() throws {
        var w = World()
        try w.connector("A", ["*;1", "fabrikam.com;50"], hosts: ["[192.0.2.1]"])
        try w.connector("B", ["fabrikam.com;10"], hosts: ["[192.0.2.2]"])
        // Both claim fabrikam.com exactly; B's is cheaper.
        #expect(chosen(w, "u@fabrikam.com") == "B")
        // Only A claims anything else.
        #expect(chosen(w, "u@example.org") == "A")
    }

    @Test("same specificity: the lowest cost wins")
    func costWins() throws {
        var w = World()
        try w.connector("alpha", ["fabrikam.com;5"], hosts: ["[192.0.2.1]"])
        try w.connector("beta", ["fabrikam.com;3"], hosts: ["[192.0.2.2]"])
        try w.connector("gamma", ["fabrikam.com;4"], hosts: ["[192.0.2.3]"])
        expectDecision(w.resolve("u@fabrikam.com", trusted: true), Expected(.forward, row: 8, nexthop: "[192.0.2.2]", connector: "beta"))
    }

    @Test("same specificity and cost: the connector name breaks the tie, whatever the order")
    func nameBreaksTies() throws {
        for names in [["beta", "alpha", "gamma"], ["alpha", "gamma", "beta"], ["gamma", "beta", "alpha"]] {
            var w = World()
            for (index, name) in names.enumerated() {
                try w.connector(name, ["*.fabrikam.com;7"], hosts: ["[192.0.2.\(index + 1)]"])
            }
            #expect(chosen(w, "u@x.fabrikam.com") == "alpha", "order \(names)")
        }
    }

    @Test("*.x matches subdomains only, not x itself")
    func wildcardIsNotTheDomain() throws {
        var w = World()
        try w.connector("wild", ["*.fabrikam.com"], hosts: ["[192.0.2.2]"])
        expectDecision(w.resolve("u@fabrikam.com", trusted: true), Expected(.forward, row: 9, nexthop: "dns"))
        expectDecision(w.resolve("u@x.fabrikam.com", trusted: true), Expected(.forward, row: 8, nexthop: "[192.0.2.2]", connector: "wild"))
        // Nor a name that only ends with the same text.
        expectDecision(w.resolve("u@xfabrikam.com", trusted: true), Expected(.forward, row: 9, nexthop: "dns"))
        w.settings.isDNSDeliveryEnabled = false
        expectDecision(
            w.resolve("u@fabrikam.com", trusted: true),
            Expected(.reject, row: 10, reply: "550 5.4.0 <u@fabrikam.com>: no route to destination", status: "5.4.0"))
    }

    @Test("an exact address space does not cover subdomains")
    func exactIsNotSubdomains() throws {
        var w = World()
        try w.connector("exact", ["fabrikam.com"], hosts: ["[192.0.2.2]"])
        expectDecision(w.resolve("u@x.fabrikam.com", trusted: true), Expected(.forward, row: 9, nexthop: "dns"))
    }

    @Test("disabled connectors are ignored")
    func disabledIgnored() throws {
        var w = World()
        try w.connector("off", ["fabrikam.com"], hosts: ["[192.0.2.9]"], enabled: false)
        expectDecision(w.resolve("u@fabrikam.com", trusted: true), Expected(.forward, row: 9, nexthop: "dns"))
        try w.connector("fallback", ["*;100"], hosts: ["[192.0.2.1]"])
        expectDecision(w.resolve("u@fabrikam.com", trusted: true), Expected(.forward, row: 8, nexthop: "[192.0.2.1]", connector: "fallback"))
        w.connectors[0].isEnabled = true
        #expect(chosen(w, "u@fabrikam.com") == "off")
    }

    @Test("a connector that delivers by DNS gives nexthop dns and its name, even with DNS delivery off")
    func dnsConnector() throws {
        var w = World()
        w.settings.isDNSDeliveryEnabled = false
        try w.connector("Internet", ["*"])
        expectDecision(w.resolve("u@example.org", trusted: true), Expected(.forward, row: 8, nexthop: "dns", connector: "Internet"))
        try w.domain("contoso.com", .shared)
        expectDecision(w.resolve("u@contoso.com"), Expected(.forward, row: 8, domainType: .shared, nexthop: "dns", connector: "Internet"))
    }

    @Test("several smart hosts are kept in their configured order")
    func multipleSmartHosts() throws {
        var w = World()
        try w.domain("fabrikam.com", .relay)
        try w.connector("Fabrikam", ["fabrikam.com"], hosts: ["[10.0.1.25]", "relay.fabrikam.com:2525", "[backup.fabrikam.com]"])
        let d = w.resolve("u@fabrikam.com")
        #expect(d.action == .forward)
        #expect(d.row == 8)
        #expect(d.connector == "Fabrikam")
        let hops = d.nexthop?.split(separator: ",").map(String.init)
        #expect(hops == ["[10.0.1.25]", "relay.fabrikam.com:2525", "[backup.fabrikam.com]"], "\(d.nexthop ?? "nil")")
    }

    @Test("RoutingTable.candidates lists the enabled matching connectors, best first")
    func candidatesOrder() throws {
        var w = World()
        try w.connector("any", ["*"], hosts: ["[192.0.2.1]"])
        try w.connector("off", ["fabrikam.com"], hosts: ["[192.0.2.9]"], enabled: false)
        try w.connector("exact-b", ["fabrikam.com;2"], hosts: ["[192.0.2.2]"])
        try w.connector("exact-a", ["fabrikam.com;2"], hosts: ["[192.0.2.3]"])
        try w.connector("exact-cheap", ["fabrikam.com;1"], hosts: ["[192.0.2.4]"], relay: true)
        try w.connector("other", ["adatum.com"], hosts: ["[192.0.2.5]"])
        let domain = try DomainName(parsing: "fabrikam.com")
        #expect(w.table.candidates(for: domain).map(\.connector.name) == ["exact-cheap", "exact-a", "exact-b", "any"])
        #expect(w.table.candidates(for: domain, relayOnly: true).map(\.connector.name) == ["exact-cheap"])
    }
}
