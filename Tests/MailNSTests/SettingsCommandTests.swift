import Foundation
import Testing

@Suite("mailns settings")
struct SettingsCommandTests {
    let sandbox: Sandbox

    init() throws { sandbox = try Sandbox() }

    private func settings() async throws -> [String: Any] {
        try await sandbox.object("settings", "show", "--json")
    }

    @Test("settings show --json defaults: unresolvedHost null, dnsDelivery true, localHosts [], recipientDelimiter +, deliveryTransport virtual")
    func defaults() async throws {
        let s = try await settings()
        #expect(s.isNull("unresolvedHost"))
        #expect(s["dnsDelivery"] as? Bool == true)
        #expect(s["localHosts"] as? [String] == [])
        #expect(s["recipientDelimiter"] as? String == "+")
        #expect(s["deliveryTransport"] as? String == "virtual")
        #expect(Set(s.keys) == ["unresolvedHost", "dnsDelivery", "localHosts", "recipientDelimiter", "deliveryTransport"])
    }

    @Test("settings set delivery-transport takes virtual or lmtp:HOST:PORT and refuses anything else with 65")
    func deliveryTransport() async throws {
        try await sandbox.ok("settings", "set", "delivery-transport", "lmtp:127.0.0.1:24")
        #expect(try await settings()["deliveryTransport"] as? String == "lmtp:127.0.0.1:24")
        try await sandbox.ok("settings", "set", "delivery-transport", "lmtp:[::1]:2424")
        #expect(try await settings()["deliveryTransport"] as? String == "lmtp:[::1]:2424")
        for bad in ["smtp:[10.0.0.1]", "lmtp:mail.example.net", "lmtp:127.0.0.1:0", "lmtp:127.0.0.1:99999", "lmtp::24"] {
            let result = try await sandbox.run("settings", "set", "delivery-transport", bad)
            expectOneLineError(result, status: 65, mentioning: [bad])
        }
        #expect(try await settings()["deliveryTransport"] as? String == "lmtp:[::1]:2424")
        try await sandbox.ok("settings", "set", "delivery-transport", "virtual")
        #expect(try await settings()["deliveryTransport"] as? String == "virtual")
    }

    @Test("settings set unresolved-host sets the host; none clears it")
    func unresolvedHost() async throws {
        try await sandbox.ok("settings", "set", "unresolved-host", "[10.0.0.9]")
        #expect(try await settings()["unresolvedHost"] as? String == "[10.0.0.9]")
        try await sandbox.ok("settings", "set", "unresolved-host", "[old.contoso.com]:2525")
        #expect(try await settings()["unresolvedHost"] as? String == "[old.contoso.com]:2525")
        try await sandbox.ok("settings", "set", "unresolved-host", "none")
        #expect(try await settings().isNull("unresolvedHost"))
    }

    @Test("an invalid unresolved host is refused with 65 and the setting is kept")
    func invalidUnresolvedHost() async throws {
        try await sandbox.ok("settings", "set", "unresolved-host", "[10.0.0.9]")
        let result = try await sandbox.run("settings", "set", "unresolved-host", "10.0.0.9")
        expectOneLineError(result, status: 65, mentioning: ["10.0.0.9"])
        #expect(try await settings()["unresolvedHost"] as? String == "[10.0.0.9]")
    }

    @Test("settings set dns-delivery off and on")
    func dnsDelivery() async throws {
        try await sandbox.ok("settings", "set", "dns-delivery", "off")
        #expect(try await settings()["dnsDelivery"] as? Bool == false)
        try await sandbox.ok("settings", "set", "dns-delivery", "on")
        #expect(try await settings()["dnsDelivery"] as? Bool == true)
    }

    @Test("settings set dns-delivery with a value other than on/off is a usage error (64) and changes nothing")
    func dnsDeliveryBadValue() async throws {
        try await sandbox.ok("settings", "set", "dns-delivery", "off")
        let result = try await sandbox.run("settings", "set", "dns-delivery", "maybe")
        #expect(result.status == 64, "\(result)")
        #expect(try await settings()["dnsDelivery"] as? Bool == false)
    }

    /// Regression: the value was checked only after the database had been opened (and created).
    @Test("a bad dns-delivery value is refused before any database is created")
    func dnsDeliveryBadValueCreatesNoDatabase() async throws {
        let result = try await sandbox.run("settings", "set", "dns-delivery", "maybe")
        #expect(result.status == 64, "\(result)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.database.path))
    }

    @Test("settings set local-hosts replaces the list; none empties it")
    func localHosts() async throws {
        try await sandbox.ok("settings", "set", "local-hosts", "a.example,b.example")
        #expect(try await settings()["localHosts"] as? [String] == ["a.example", "b.example"])
        try await sandbox.ok("settings", "set", "local-hosts", "mx1.contoso.com")
        #expect(try await settings()["localHosts"] as? [String] == ["mx1.contoso.com"])
        try await sandbox.ok("settings", "set", "local-hosts", "none")
        #expect(try await settings()["localHosts"] as? [String] == [])
    }

    @Test("an invalid local host name is refused with 65 and the list is kept")
    func invalidLocalHost() async throws {
        try await sandbox.ok("settings", "set", "local-hosts", "a.example")
        let result = try await sandbox.run("settings", "set", "local-hosts", "b.example,bad..example")
        expectOneLineError(result, status: 65, mentioning: ["bad..example"])
        #expect(try await settings()["localHosts"] as? [String] == ["a.example"])
    }

    @Test("an unknown setting is a usage error (64)")
    func unknownSetting() async throws {
        let result = try await sandbox.run("settings", "set", "colour", "blue")
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("colour"), "\(result)")
    }
}
