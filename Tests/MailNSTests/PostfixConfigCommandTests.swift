import Foundation
import Testing

@Suite("mailns postfix-config")
struct PostfixConfigCommandTests {
    let sandbox: Sandbox

    init() throws { sandbox = try Sandbox() }

    /// Every main.cf parameter and the map `mailns serve` answers for it.
    static let tables: [(parameter: String, map: String)] = [
        ("virtual_mailbox_domains", "mailbox-domains"),
        ("virtual_mailbox_maps", "mailboxes"),
        ("virtual_alias_maps", "aliases"),
        ("relay_domains", "relay-domains"),
        ("relay_recipient_maps", "relay-recipients"),
        ("transport_maps", "transport"),
    ]

    /// `name = value` lines (comments and headers left out), as postconf reads them.
    private func parameters(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            #expect(out[name] == nil, "\(name) is set twice")
            out[name] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return out
    }

    @Test("main.cf names the socketmap endpoint of --listen for every map, and relay control ends in reject_unauth_destination", arguments: [
        ("127.0.0.1:9026", "inet:127.0.0.1:9026"),
        ("inet:127.0.0.1:9025", "inet:127.0.0.1:9025"),
        ("[::1]:9027", "inet:[::1]:9027"),
        ("unix:/run/mailns/mailns.sock", "unix:/run/mailns/mailns.sock"),
    ])
    func mainCfNamesTheEndpoint(listen: String, endpoint: String) async throws {
        let result = try await sandbox.ok("postfix-config", "--listen", listen, "--part", "main.cf")
        let main = parameters(result.stdout)
        for (parameter, map) in Self.tables {
            #expect(main[parameter] == "socketmap:\(endpoint):\(map)", "\(parameter) in:\n\(result.stdout)")
        }
        #expect(main["smtpd_recipient_restrictions"] == "check_recipient_access socketmap:\(endpoint):recipient-access")
        let relay = try #require(main["smtpd_relay_restrictions"])
        #expect(relay.hasSuffix("reject_unauth_destination"), "\(relay)")
        #expect(relay.contains("permit_mynetworks"))
        #expect(!relay.contains("defer_unauth_destination"))
        #expect(main["mydestination"] == "")
        #expect(main["recipient_delimiter"] == "+")
        #expect(result.stderr.isEmpty, "\(result)")
    }

    @Test("without --part: main.cf, master.cf and the sqlite: table, each under its header; the default endpoint is 127.0.0.1:9025")
    func wholeConfiguration() async throws {
        let result = try await sandbox.ok("postfix-config")
        let text = result.stdout
        #expect(text.contains("# ---- main.cf ----"))
        #expect(text.contains("# ---- master.cf ----"))
        #expect(text.contains("# ---- /etc/postfix/mailns-mailboxes.cf ----"))
        #expect(text.contains("virtual_mailbox_maps = socketmap:inet:127.0.0.1:9025:mailboxes"))
        #expect(text.contains("virtual_transport = virtual"))
        let master = try await sandbox.ok("postfix-config", "--part", "master.cf", "--sqlite-cf", "/etc/postfix/x.cf").stdout
        #expect(master.hasPrefix("virtual "), "\(master)")
        #expect(master.contains("-o virtual_mailbox_maps=sqlite:/etc/postfix/x.cf"), "\(master)")
    }

    @Test("--delivery lmtp:127.0.0.1:24 is stored (settings show: deliveryTransport) and printed as virtual_transport, with no master.cf or sqlite part")
    func deliveryLMTP() async throws {
        let result = try await sandbox.ok("postfix-config", "--delivery", "lmtp:127.0.0.1:24")
        let settings = try await sandbox.object("settings", "show", "--json")
        #expect(settings["deliveryTransport"] as? String == "lmtp:127.0.0.1:24")
        let main = parameters(result.stdout)
        #expect(main["virtual_transport"] == "lmtp:inet:127.0.0.1:24", "\(result.stdout)")
        #expect(main["virtual_mailbox_base"] == nil, "no virtual(8) settings over LMTP:\n\(result.stdout)")
        #expect(!result.stdout.contains("# ---- master.cf"), "\(result.stdout)")
        #expect(!result.stdout.contains("dbpath"), "\(result.stdout)")
        #expect(!result.stdout.contains("sqlite:"), "\(result.stdout)")

        // The stored setting is what later runs print, without --delivery.
        let again = parameters(try await sandbox.ok("postfix-config", "--part", "main.cf").stdout)
        #expect(again["virtual_transport"] == "lmtp:inet:127.0.0.1:24")
        let sqlitePart = try await sandbox.ok("postfix-config", "--part", "sqlite").stdout
        #expect(!sqlitePart.contains("dbpath"), "\(sqlitePart)")

        // And back.
        _ = try await sandbox.ok("postfix-config", "--delivery", "virtual")
        #expect(try await sandbox.object("settings", "show", "--json")["deliveryTransport"] as? String == "virtual")
    }

    @Test("a bad --delivery is refused as a usage error (64) and stores nothing")
    func badDelivery() async throws {
        try await sandbox.ok("init")
        let result = try await sandbox.run("postfix-config", "--delivery", "smtp:10.0.0.1:25")
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("smtp:10.0.0.1:25"), "\(result)")
        #expect(try await sandbox.object("settings", "show", "--json")["deliveryTransport"] as? String == "virtual")
    }

    /// Regression (review): `1x:2:3` became uid 2, gid 3; `5000::5000` passed.
    @Test("a malformed --mailbox-owner is refused (64)", arguments: ["1x:2:3", "5000::5000", "5000:", ":5000", "0:5000", "5000"])
    func malformedMailboxOwner(owner: String) async throws {
        try await sandbox.ok("init")
        let result = try await sandbox.run("postfix-config", "--mailbox-owner", owner)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("--mailbox-owner takes UID:GID"), "\(result)")
    }

    /// Regression (review): `$` starts a macro in main.cf, so a `$` delimiter printed bare
    /// stopped Postfix with "macro processing error".
    @Test("a $ in the recipient delimiter or the mailbox base is written $$, as main.cf wants it")
    func dollarIsEscaped() async throws {
        try await sandbox.ok("init")
        try await sandbox.ok("settings", "set", "recipient-delimiter", "$")
        let result = try await sandbox.run("postfix-config", "--part", "main.cf", "--mailbox-base", "/var/mail/$vhosts")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("\nrecipient_delimiter = $$\n"), "\(result)")
        #expect(result.stdout.contains("virtual_mailbox_base = /var/mail/$$vhosts\n"), "\(result)")
    }

    @Test("--part sqlite prints an absolute dbpath (even for a relative --db) and a query on postfix_mailbox")
    func sqlitePart() async throws {
        let result = try await sandbox.raw(["postfix-config", "--part", "sqlite", "--db", "test.sqlite"])
        #expect(result.status == 0, "\(result)")
        let part = parameters(result.stdout)
        let expected = URL(fileURLWithPath: sandbox.database.path).resolvingSymlinksInPath().path
        let dbpath = try #require(part["dbpath"], "\(result.stdout)")
        #expect(dbpath.hasPrefix("/"))
        #expect(URL(fileURLWithPath: dbpath).resolvingSymlinksInPath().path == expected, "\(dbpath)")
        let query = try #require(part["query"], "\(result.stdout)")
        #expect(query.contains("postfix_mailbox"), "\(query)")
        #expect(query.contains("'%s'"), "\(query)")
    }

    @Test("the printed sqlite query, run by the sqlite3 shell on the directory, finds a mailbox's Maildir by any of its addresses in any case", .enabled(if: MailNSRunner.hasSQLite3))
    func sqliteQueryFindsTheMaildir() async throws {
        try await sandbox.ok("domain", "add", "contoso.local", "--type", "authoritative")
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "shared")
        try await sandbox.ok("recipient", "add", "Alice", "--no-policy", "--address", "SMTP:Alice.Smith@contoso.com", "--address", "smtp:alice@contoso.local")
        try await sandbox.ok("recipient", "add", "carol", "--kind", "remote", "--address", "SMTP:carol@contoso.com")
        let part = parameters(try await sandbox.ok("postfix-config", "--part", "sqlite").stdout)
        let query = try #require(part["query"])
        let dbpath = try #require(part["dbpath"])

        func lookup(_ address: String) async throws -> String {
            let result = try await MailNSRunner.run(
                URL(fileURLWithPath: MailNSRunner.sqlite3Path), ["-batch", dbpath, query.replacingOccurrences(of: "%s", with: address)],
                in: sandbox.directory, environment: Sandbox.environment([:]))
            #expect(result.status == 0, "\(result)")
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try await lookup("alice.smith@contoso.com") == "alice/")
        #expect(try await lookup("Alice.SMITH@Contoso.COM") == "alice/")
        #expect(try await lookup("ALICE@contoso.local") == "alice/")
        #expect(try await lookup("nobody@contoso.local") == "", "an unknown address finds nothing")
        #expect(try await lookup("carol@contoso.com") == "", "a remote recipient has no Maildir")
    }
}
