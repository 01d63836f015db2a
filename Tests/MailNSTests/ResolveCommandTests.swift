import Foundation
import Testing

@Suite("mailns resolve")
struct ResolveCommandTests {
    let sandbox: Sandbox

    init() throws { sandbox = try Sandbox() }

    static let keys: Set<String> = ["address", "action", "domainType", "recipient", "primary", "mailbox", "target", "nexthop", "connector", "reply", "status", "row"]

    /// contoso.local authoritative with a mailbox john; fabrikam.com relay through a connector.
    private func setUp() async throws {
        try await sandbox.ok("domain", "add", "contoso.local", "--type", "authoritative")
        try await sandbox.ok("domain", "add", "fabrikam.com", "--type", "relay")
        try await sandbox.ok("connector", "add", "Fabrikam", "--address-space", "fabrikam.com", "--smart-host", "[10.0.1.25]")
        try await sandbox.ok("recipient", "add", "john", "--no-policy", "--address", "SMTP:john@contoso.local")
    }

    private func resolveJSON(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let result = try await sandbox.raw(["resolve"] + arguments + ["--json", "--db", sandbox.database.path])
        try #require(result.status == 0, "\(result)", sourceLocation: sourceLocation)
        let value = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        return try #require(value as? [String: Any], "not one JSON object: \(result.stdout)", sourceLocation: sourceLocation)
    }

    @Test("resolve ADDRESS --json prints one object with exactly the documented keys")
    func jsonShape() async throws {
        try await setUp()
        let d = try await resolveJSON("john@contoso.local")
        #expect(Set(d.keys) == Self.keys)
        #expect(d["address"] as? String == "john@contoso.local")
        #expect(d["action"] as? String == "deliver")
        #expect(d["domainType"] as? String == "authoritative")
        #expect(d["recipient"] as? String == "john")
        #expect(d["primary"] as? String == "john@contoso.local")
        #expect(d["mailbox"] as? String == "john")
        #expect(d["row"] as? Int == 2)
        for key in ["target", "nexthop", "connector", "reply", "status"] {
            #expect(d.isNull(key), "\(key) should be null: \(d)")
        }

        let relayed = try await resolveJSON("anyone@fabrikam.com")
        #expect(Set(relayed.keys) == Self.keys)
        #expect(relayed["action"] as? String == "forward")
        #expect(relayed["domainType"] as? String == "relay")
        #expect(relayed["nexthop"] as? String == "[10.0.1.25]")
        #expect(relayed["connector"] as? String == "Fabrikam")
        #expect(relayed["row"] as? Int == 8)
        #expect(relayed.isNull("recipient"))
    }

    @Test("a rejection is a decision: exit 0 with the reply and status")
    func rejectionExitsZero() async throws {
        try await setUp()
        let unknown = try await resolveJSON("nobody@contoso.local")
        #expect(Set(unknown.keys) == Self.keys)
        #expect(unknown["action"] as? String == "reject")
        #expect(unknown["reply"] as? String == "550 5.1.1 <nobody@contoso.local>: Recipient address rejected: User unknown")
        #expect(unknown["status"] as? String == "5.1.1")
        #expect(unknown["row"] as? Int == 6)
        #expect(unknown.isNull("nexthop"))

        let bad = try await resolveJSON("not an address")
        #expect(bad["row"] as? Int == 1)
        #expect(bad["status"] as? String == "5.1.3")
        #expect(bad.isNull("domainType"))

        let plain = try await sandbox.run("resolve", "nobody@contoso.local")
        #expect(plain.status == 0, "\(plain)")
        #expect(plain.stdout.contains("5.1.1"), "\(plain)")
    }

    @Test("--explain prints numbered steps")
    func explain() async throws {
        try await setUp()
        try await sandbox.ok("connector", "add", "Internet", "--address-space", "*;50", "--dns")
        let result = try await sandbox.ok("resolve", "anyone@fabrikam.com", "--explain")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let steps = lines.filter { $0.range(of: #"^\s*\d+\. "#, options: .regularExpression) != nil }
        #expect(steps.count >= 2, "\(result)")
        for (index, step) in steps.enumerated() {
            #expect(step.trimmingCharacters(in: .whitespaces).hasPrefix("\(index + 1). "), "\(step)")
        }
        #expect(steps.contains { $0.contains("Fabrikam") }, "\(result)")
        #expect(steps.contains { $0.contains("Internet") }, "\(result)")

        let quiet = try await sandbox.ok("resolve", "anyone@fabrikam.com")
        #expect(!quiet.stdout.contains("1. "), "\(quiet)")
    }

    @Test("resolve - reads one address per line and prints one JSON line each")
    func stdinList() async throws {
        try await setUp()
        let result = try await sandbox.raw(
            ["resolve", "-", "--db", sandbox.database.path], input: "john@contoso.local\nnobody@contoso.local\nanyone@fabrikam.com\n")
        #expect(result.status == 0, "\(result)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        try #require(lines.count == 3, "\(result)")
        let objects = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not an object: \(line)")
        }
        #expect(objects.map { $0["address"] as? String } == ["john@contoso.local", "nobody@contoso.local", "anyone@fabrikam.com"])
        #expect(objects.map { $0["action"] as? String } == ["deliver", "reject", "forward"])
        #expect(objects.map { $0["row"] as? Int } == [2, 6, 8])
        for object in objects {
            #expect(Set(object.keys) == Self.keys, "\(object)")
        }
    }

    @Test("--trusted turns a relay-denied 554 into a forward")
    func trusted() async throws {
        try await setUp()
        let denied = try await resolveJSON("x@example.org")
        #expect(denied["action"] as? String == "reject")
        #expect(denied["status"] as? String == "5.7.1")
        #expect(denied["reply"] as? String == "554 5.7.1 <x@example.org>: Relay access denied")
        #expect(denied["row"] as? Int == 11)

        let allowed = try await resolveJSON("x@example.org", "--trusted")
        #expect(allowed["action"] as? String == "forward")
        #expect(allowed["nexthop"] as? String == "dns")
        #expect(allowed["row"] as? Int == 9)
        #expect(allowed.isNull("reply"))
        #expect(allowed.isNull("status"))
    }

    @Test("resolve - copes with CRLF line ends, surrounding blanks and empty lines")
    func stdinLineEnds() async throws {
        try await setUp()
        let result = try await sandbox.raw(
            ["resolve", "-", "--trusted", "--db", sandbox.database.path], input: "john@contoso.local\r\n\r\n  x@example.org \r\n")
        #expect(result.status == 0, "\(result)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        try #require(lines.count == 2, "\(result)")
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.map { $0["address"] as? String } == ["john@contoso.local", "x@example.org"])
        #expect(objects.map { $0["row"] as? Int } == [2, 9])
    }

    @Test("resolve without an address is a usage error (64)")
    func usage() async throws {
        let result = try await sandbox.run("resolve")
        #expect(result.status == 64, "\(result)")
    }
}
