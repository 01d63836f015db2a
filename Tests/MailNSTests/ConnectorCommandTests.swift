import Foundation
import Testing

@Suite("mailns connector")
struct ConnectorCommandTests {
    let sandbox: Sandbox

    init() throws { sandbox = try Sandbox() }

    private func connector(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let list = try await sandbox.array("connector", "list", "--json")
        return try #require(list.first { $0["name"] as? String == name }, "no connector \(name) in \(list)", sourceLocation: sourceLocation)
    }

    private func spaces(_ c: [String: Any]) -> [String] {
        (c["addressSpaces"] as? [[String: Any]] ?? []).map { "\($0["pattern"] as? String ?? "?");\($0["cost"] as? Int ?? -1)" }
    }

    @Test("connector add with an address space and cost and a smart host is listed as given")
    func addWithSmartHost() async throws {
        try await sandbox.ok("connector", "add", "To Fabrikam", "--address-space", "fabrikam.com;5", "--smart-host", "[10.0.0.5]")
        let c = try await connector("To Fabrikam")
        #expect(spaces(c) == ["fabrikam.com;5"])
        #expect(c["smartHosts"] as? [String] == ["[10.0.0.5]"])
        #expect(c["dns"] as? Bool == false)
        #expect(c["allowRelay"] as? Bool == false)
        #expect(c["enabled"] as? Bool == true)
    }

    @Test("an address space without a cost has cost 1; several spaces and smart hosts keep their order")
    func defaultsAndOrder() async throws {
        try await sandbox.ok(
            "connector", "add", "out", "--address-space", "fabrikam.com", "--address-space", "*.fabrikam.com;10",
            "--address-space", "*;100", "--smart-host", "relay.example.net", "--smart-host", "[relay2.example.net]:2525")
        let c = try await connector("out")
        #expect(spaces(c) == ["fabrikam.com;1", "*.fabrikam.com;10", "*;100"])
        #expect(c["smartHosts"] as? [String] == ["relay.example.net", "[relay2.example.net]:2525"])
    }

    @Test("--dns makes a connector that delivers by DNS, with no smart hosts")
    func dnsConnector() async throws {
        try await sandbox.ok("connector", "add", "internet", "--address-space", "*", "--dns")
        let c = try await connector("internet")
        #expect(c["dns"] as? Bool == true)
        #expect(c["smartHosts"] as? [String] == [])
        #expect(spaces(c) == ["*;1"])
    }

    @Test("--allow-relay and --disabled are stored")
    func allowRelayAndDisabled() async throws {
        try await sandbox.ok("connector", "add", "relay", "--address-space", "adatum.com", "--dns", "--allow-relay")
        try await sandbox.ok("connector", "add", "off", "--address-space", "off.example", "--dns", "--disabled")
        let relay = try await connector("relay")
        #expect(relay["allowRelay"] as? Bool == true)
        #expect(relay["enabled"] as? Bool == true)
        let off = try await connector("off")
        #expect(off["allowRelay"] as? Bool == false)
        #expect(off["enabled"] as? Bool == false)
    }

    @Test("connector list --json is an array by name, empty at first")
    func listIsArray() async throws {
        #expect(try await sandbox.array("connector", "list", "--json").isEmpty)
        try await sandbox.ok("connector", "add", "zeta", "--address-space", "z.example", "--dns")
        try await sandbox.ok("connector", "add", "alpha", "--address-space", "a.example", "--dns")
        #expect(try await sandbox.array("connector", "list", "--json").map { $0["name"] as? String } == ["alpha", "zeta"])
    }

    @Test("connector remove removes it; an unknown name exits 65 naming it")
    func removeConnector() async throws {
        try await sandbox.ok("connector", "add", "a", "--address-space", "a.example", "--dns")
        try await sandbox.ok("connector", "add", "b", "--address-space", "b.example", "--smart-host", "[10.0.0.7]")
        try await sandbox.ok("connector", "remove", "a")
        #expect(try await sandbox.array("connector", "list", "--json").map { $0["name"] as? String } == ["b"])
        expectOneLineError(try await sandbox.run("connector", "remove", "a"), status: 65, mentioning: ["a"])
    }

    @Test("a connector with neither --smart-host nor --dns, or both, or no address space, is a usage error (64)")
    func deliveryIsRequired() async throws {
        for arguments in [
            ["connector", "add", "c", "--address-space", "fabrikam.com"],
            ["connector", "add", "c", "--address-space", "fabrikam.com", "--dns", "--smart-host", "[10.0.0.5]"],
            ["connector", "add", "c", "--dns"],
        ] {
            let result = try await sandbox.raw(arguments + ["--db", sandbox.database.path])
            #expect(result.status == 64, "\(arguments): \(result)")
        }
        #expect(try await sandbox.array("connector", "list", "--json").isEmpty)
    }

    @Test("a second connector with the same name is refused with 65 and changes nothing")
    func duplicateNameRefused() async throws {
        try await sandbox.ok("connector", "add", "out", "--address-space", "fabrikam.com", "--dns")
        let before = try await sandbox.snapshot()
        expectOneLineError(
            try await sandbox.run("connector", "add", "OUT", "--address-space", "adatum.com", "--dns"), status: 65,
            mentioning: ["already exists"])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("invalid address spaces, costs and smart hosts are refused with 65 naming them", arguments: [
        ["--address-space", "fabrikam.com;101", "--dns"],
        ["--address-space", "fabrikam.com;0", "--dns"],
        ["--address-space", "fab*rikam.com", "--dns"],
        ["--address-space", "fabrikam.com", "--smart-host", "10.0.0.5"],
        ["--address-space", "fabrikam.com", "--smart-host", "[10.0.0.5"],
    ])
    func invalidSyntaxRefused(_ options: [String]) async throws {
        try await sandbox.ok("init")
        let before = try await sandbox.snapshot()
        let result = try await sandbox.raw(["connector", "add", "c"] + options + ["--db", sandbox.database.path])
        let bad = options.first { $0.contains("101") || $0.contains(";0") || $0.contains("*r") || $0.hasPrefix("10.") || $0.hasPrefix("[10") }
        expectOneLineError(result, status: 65, mentioning: [try #require(bad)])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("the same address space twice on one connector is refused with 65")
    func repeatedAddressSpaceRefused() async throws {
        let result = try await sandbox.run(
            "connector", "add", "c", "--address-space", "fabrikam.com", "--address-space", "Fabrikam.com;3", "--dns")
        expectOneLineError(result, status: 65, mentioning: ["c", "fabrikam.com"])
        #expect(try await sandbox.array("connector", "list", "--json").isEmpty)
    }
}
