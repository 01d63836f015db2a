import Foundation
import Testing

@Suite("mailns doctor")
struct DoctorCommandTests {
    let sandbox: Sandbox

    init() throws { sandbox = try Sandbox() }

    @Test("a clean directory: exit 0, no findings")
    func clean() async throws {
        try await sandbox.ok("domain", "add", "contoso.local", "--type", "authoritative")
        let report = try await sandbox.object("doctor", "--json")
        #expect(report["errors"] as? Int == 0)
        #expect(report["warnings"] as? Int == 0)
        #expect((report["findings"] as? [Any])?.isEmpty == true)
    }

    @Test("an error (a smart host that is this server): exit 65, the finding names the connector and what to do")
    func errorExits65() async throws {
        try await sandbox.ok("settings", "set", "local-hosts", "mx1.contoso.com")
        try await sandbox.ok("connector", "add", "Loop", "--address-space", "loop.example", "--smart-host", "[mx1.contoso.com]")
        let result = try await sandbox.run("doctor", "--json")
        #expect(result.status == 65, "\(result)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let finding = try #require((report["findings"] as? [[String: Any]])?.first)
        #expect(finding["severity"] as? String == "error")
        #expect(finding["check"] as? String == "smart-host-is-local")
        #expect(finding["objects"] as? [String] == ["connector:Loop"])
        #expect((finding["remedy"] as? String)?.isEmpty == false)
    }

    @Test("warnings only: exit 0")
    func warningsExit0() async throws {
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "shared")
        let result = try await sandbox.run("doctor")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("warning:"))
        #expect(result.stdout.contains("0 errors, 1 warning"))
    }
}
