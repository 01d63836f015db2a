import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `mailns check` and `mailns backup`.
@Suite("mailns check and backup")
struct CheckAndBackupTests {
    let sandbox: Sandbox

    init() async throws {
        sandbox = try Sandbox()
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "authoritative")
        try await sandbox.ok("policy", "set-templates", "Default Policy", "--template", "SMTP:%g.%s@contoso.com", "--template", "smtp:%m@contoso.com")
        try await sandbox.ok("recipient", "add", "alice", "--given", "Alice", "--surname", "Smith")
        try await sandbox.ok("recipient", "add", "bob", "--no-policy", "--address", "SMTP:bob@contoso.com", "--address", "smtp:b@contoso.com")
        try await sandbox.ok("address", "remove", "bob", "b@contoso.com")
    }

    @Test("a healthy directory has no findings")
    func healthy() async throws {
        let result = try await sandbox.ok("check")
        #expect(result.stdout == "ok: no findings\n")
        let report = try await sandbox.object("check", "--json")
        #expect((report["findings"] as? [Any])?.isEmpty == true)
    }

    @Test("a broken invariant is a finding naming the recipient, and exit 65")
    func findings() async throws {
        try #require(MailNSRunner.hasSQLite3)
        // Changes made behind mailns's back, as a hand edit with sqlite3 could.
        _ = try await sandbox.sqlite3("test.sqlite", "UPDATE proxy_address SET is_primary = 0 WHERE address = 'Alice.Smith@contoso.com'")
        _ = try await sandbox.sqlite3("test.sqlite", "DELETE FROM address_history WHERE address = 'smtp:alice@contoso.com'")
        _ = try await sandbox.sqlite3("test.sqlite", "DELETE FROM proxy_address WHERE address = 'bob@contoso.com'")
        let result = try await sandbox.run("check")
        #expect(result.status == 65, "\(result)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("one-primary: recipient alice has 0 primary SMTP addresses; it must have exactly one"), "\(result)")
        #expect(lines.contains("history: recipient alice has smtp:alice@contoso.com, which its history never added"), "\(result)")
        #expect(lines.contains("history: recipient alice has smtp:Alice.Smith@contoso.com, but its last history line is added SMTP:Alice.Smith@contoso.com"), "\(result)")
        #expect(lines.contains("history: the history of bob says it has SMTP:bob@contoso.com, but it does not"), "\(result)")
        #expect(lines.last == "4 findings")
    }

    @Test("backup writes a checked copy, owner and group only, while mailns serve keeps answering")
    func backupWhileServing() async throws {
        let port = try freeLoopbackPort()
        let serve = try BackgroundMailNS(sandbox, ["serve", "--db", sandbox.database.path, "--listen", "127.0.0.1:\(port)"])
        defer { serve.stop() }
        try #require(await serve.waitForLine(containing: "listening on ") != nil, "\(serve.stderr)")
        let wire = try SocketmapWire(port: port)
        #expect(wire.ask("transport", "Alice.Smith@contoso.com").hasPrefix("OK "))

        let result = try await sandbox.ok("backup", sandbox.path("copy.sqlite"))
        #expect(result.stdout.contains("a consistent copy"))
        #expect(wire.ask("transport", "bob@contoso.com").hasPrefix("OK "))
        var info = stat()
        #expect(stat(sandbox.path("copy.sqlite"), &info) == 0)
        #expect(info.st_mode & 0o777 == 0o640)
        let original = try await sandbox.ok("recipient", "list", "--json").stdout
        let copy = try await sandbox.raw(["recipient", "list", "--json", "--db", sandbox.path("copy.sqlite")])
        #expect(copy.stdout == original)

        // Never over an existing file.
        let again = try await sandbox.run("backup", sandbox.path("copy.sqlite"))
        expectOneLineError(again, status: 65, mentioning: ["cannot create the backup", "copy.sqlite", "File exists"])
    }
}
