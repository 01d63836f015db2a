import Foundation
import Testing

/// `mailns policy apply` and `policy preview` as an operator runs them.
@Suite("mailns policy apply")
struct PolicyApplyCommandTests {
    let sandbox: Sandbox

    /// The shared-namespace recipe of spec §6 with two John Does and one recipient policies never touch.
    init() async throws {
        sandbox = try Sandbox()
        try await sandbox.ok("domain", "add", "contoso.local", "--type", "authoritative")
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "shared")
        try await sandbox.ok("policy", "set-templates", "Default Policy", "--template", "SMTP:%m@contoso.local")
        try await sandbox.ok("recipient", "add", "jdoe1", "--given", "John", "--surname", "Doe")
        try await sandbox.ok("recipient", "add", "jdoe2", "--given", "John", "--surname", "Doe")
        try await sandbox.ok("recipient", "add", "svc", "--no-policy", "--address", "SMTP:svc@contoso.local")
        try await sandbox.ok(
            "policy", "add", "Shared", "--priority", "1", "--filter", "(mailNickname=*)",
            "--template", "SMTP:%g.%s@contoso.com", "--template", "smtp:%m@contoso.local")
    }

    private func addresses(_ alias: String) async throws -> [String] {
        try await sandbox.object("recipient", "show", alias, "--json")["addresses"] as? [String] ?? []
    }

    @Test("a new policy-managed recipient is stamped at once by the winning policy; --no-policy is not")
    func stampedOnAdd() async throws {
        #expect(try await addresses("jdoe1") == ["SMTP:jdoe1@contoso.local"])
        #expect(try await addresses("svc") == ["SMTP:svc@contoso.local"])
        try await sandbox.ok("recipient", "add", "alice", "--given", "Alice", "--surname", "Smith")
        #expect(try await addresses("alice") == ["SMTP:Alice.Smith@contoso.com", "smtp:alice@contoso.local"])
    }

    @Test("--dry-run --json prints the plans and a summary, and writes nothing")
    func dryRunWritesNothing() async throws {
        let before = try await sandbox.snapshot()
        let report = try await sandbox.object("policy", "apply", "--dry-run", "--json")
        #expect(try await sandbox.snapshot() == before)
        #expect(report["dryRun"] as? Bool == true)
        #expect(report["changes"] as? Int == 2)
        #expect(report["collisions"] as? Int == 1)
        let plans = try #require(report["plans"] as? [[String: Any]])
        #expect(plans.map { $0["alias"] as? String } == ["jdoe1", "jdoe2"])
        #expect(plans[1]["added"] as? [String] == ["SMTP:John.Doe2@contoso.com"])
        #expect(plans[1]["demoted"] as? String == "smtp:jdoe2@contoso.local")
        let collision = try #require((plans[1]["collisions"] as? [[String: Any]])?.first)
        #expect(collision["owner"] as? String == "jdoe1")
        #expect(collision["used"] as? String == "John.Doe2@contoso.com")
    }

    @Test("apply stamps, demotes the old primary, and a second run says 0 changes and writes nothing")
    func applyThenNothingToDo() async throws {
        let first = try await sandbox.ok("policy", "apply")
        #expect(first.stdout.contains("2 changes"), "\(first)")
        #expect(try await addresses("jdoe2") == ["SMTP:John.Doe2@contoso.com", "smtp:jdoe2@contoso.local"])
        #expect(try await addresses("svc") == ["SMTP:svc@contoso.local"])
        let before = try await sandbox.snapshot()
        let second = try await sandbox.ok("policy", "apply")
        #expect(second.stdout.contains(" 0 changes "), "\(second)")
        #expect(try await sandbox.snapshot() == before)
        let history = try await sandbox.array("recipient", "history", "jdoe2", "--json")
        #expect(history.suffix(2).map { $0["action"] as? String } == ["demoted", "added"])
        #expect(history.last?["actorName"] as? String == "Shared")
    }

    @Test("piped, policy apply prints no progress: stderr stays empty")
    func quietWhenPiped() async throws {
        let result = try await sandbox.ok("policy", "apply")
        #expect(result.stderr.isEmpty, "\(result)")
    }

    /// script(1) gives the command a pseudo-terminal, as an operator's shell would.
    @Test(
        "on a terminal, policy apply shows recipients done, rate and percentage",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func progressOnATerminal() async throws {
        let command = [try MailNSRunner.binaryURL().path, "--db", sandbox.database.path, "policy", "apply"]
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let result = try await MailNSRunner.run(
            URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command, "/dev/null"], in: sandbox.directory,
            environment: Sandbox.environment([:]))
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("policy apply: 2/2 recipients (100%)"), "\(result)")
        #expect(result.stdout.contains("2 changes"), "\(result)")
    }

    @Test("policy preview lists the recipients a policy wins with their primary")
    func preview() async throws {
        let rows = try await sandbox.array("policy", "preview", "Shared", "--json")
        #expect(rows.map { $0["alias"] as? String } == ["jdoe1", "jdoe2"])
        #expect(rows.first?["primary"] as? String == "SMTP:John.Doe@contoso.com")
    }

    @Test("a policy that cannot be saved is refused with 65, naming the policy and the reason")
    func badPolicyRefused() async throws {
        let before = try await sandbox.snapshot()
        let result = try await sandbox.run("policy", "add", "Bad", "--filter", "(company=x", "--template", "SMTP:%m@contoso.com")
        expectOneLineError(result, status: 65, mentioning: ["policy Bad", "column"])
        let template = try await sandbox.run("policy", "add", "Bad", "--filter", "(company=x)", "--template", "SMTP:%m@fabrikam.com")
        expectOneLineError(template, status: 65, mentioning: ["fabrikam.com", "not an accepted domain"])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("a disabled policy wins nobody: apply gives the next policy's addresses; enabled again, they follow back, nothing removed")
    func disableAndEnableAPolicy() async throws {
        try await sandbox.ok("policy", "apply")
        #expect(try await addresses("jdoe1") == ["SMTP:John.Doe@contoso.com", "smtp:jdoe1@contoso.local"])

        try await sandbox.ok("policy", "set", "Shared", "--enabled", "off")
        #expect(try await sandbox.array("policy", "preview", "Shared", "--json").isEmpty)
        #expect(try await sandbox.array("policy", "preview", "Default Policy", "--json").map { $0["alias"] as? String } == ["jdoe1", "jdoe2"])
        let off = try await sandbox.ok("policy", "apply")
        #expect(off.stdout.contains("2 changes"), "\(off)")
        #expect(try await addresses("jdoe1") == ["SMTP:jdoe1@contoso.local", "smtp:John.Doe@contoso.com"])
        #expect(try await addresses("jdoe2") == ["SMTP:jdoe2@contoso.local", "smtp:John.Doe2@contoso.com"])
        #expect(try await sandbox.object("recipient", "show", "jdoe1", "--json")["stampedByPolicy"] as? String == "Default Policy")

        try await sandbox.ok("policy", "set", "Shared", "--enabled", "on")
        #expect(try await sandbox.array("policy", "preview", "Shared", "--json").map { $0["alias"] as? String } == ["jdoe1", "jdoe2"])
        let on = try await sandbox.ok("policy", "apply")
        #expect(on.stdout.contains("2 changes"), "\(on)")
        #expect(try await addresses("jdoe1") == ["SMTP:John.Doe@contoso.com", "smtp:jdoe1@contoso.local"])
        #expect(try await addresses("jdoe2") == ["SMTP:John.Doe2@contoso.com", "smtp:jdoe2@contoso.local"])
        #expect(try await sandbox.object("recipient", "show", "jdoe1", "--json")["stampedByPolicy"] as? String == "Shared")
        let history = try await sandbox.array("recipient", "history", "jdoe1", "--json")
        #expect(!history.contains { $0["action"] as? String == "removed" })
        #expect(history.suffix(2).map { $0["action"] as? String } == ["demoted", "promoted"])
    }

    @Test("a changed filter decides who the policy wins from the next apply on")
    func changedFilter() async throws {
        try await sandbox.ok("policy", "set", "Shared", "--filter", "(mailNickname=jdoe2)")
        #expect(try await sandbox.array("policy", "preview", "Shared", "--json").map { $0["alias"] as? String } == ["jdoe2"])
        try await sandbox.ok("policy", "apply")
        #expect(try await addresses("jdoe1") == ["SMTP:jdoe1@contoso.local"])
        #expect(try await addresses("jdoe2") == ["SMTP:John.Doe@contoso.com", "smtp:jdoe2@contoso.local"])
    }

    /// Review item 2: the store keeps `Ärzte` and `ärzte` apart (NOCASE folds ASCII only), so
    /// preview and apply --policy must too.
    @Test("policy preview and apply --policy act on the one policy named, not one differing only in non-ASCII case")
    func namesDifferingOnlyInNonASCIICase() async throws {
        try await sandbox.ok("recipient", "add", "p1", "--surname", "One")
        try await sandbox.ok("recipient", "add", "p2", "--surname", "Two")
        try await sandbox.ok("policy", "add", "Ärzte", "--priority", "1", "--filter", "(sn=One)", "--template", "SMTP:a.%m@contoso.com")
        try await sandbox.ok("policy", "add", "ärzte", "--priority", "1", "--filter", "(sn=Two)", "--template", "SMTP:b.%m@contoso.com")
        let preview = try await sandbox.array("policy", "preview", "ärzte", "--json")
        #expect(preview.map { $0["alias"] as? String } == ["p2"])
        #expect(preview.first?["primary"] as? String == "SMTP:b.p2@contoso.com")
        #expect(try await sandbox.array("policy", "preview", "ÄRZTE", "--json").map { $0["alias"] as? String } == ["p1"])

        // Stamped by Shared when added; Ärzte's apply must leave p1 so.
        let p1Before = try await addresses("p1")
        let p2Before = try await addresses("p2")
        let dry = try await sandbox.object("policy", "apply", "--policy", "ärzte", "--dry-run", "--json")
        #expect((dry["plans"] as? [[String: Any]])?.map { $0["alias"] as? String } == ["p2"])
        try await sandbox.ok("policy", "apply", "--policy", "ärzte")
        #expect(try await addresses("p1") == p1Before)
        let p2After = try await addresses("p2")
        #expect(p2After.first == "SMTP:b.p2@contoso.com")
        #expect(Set(p2After.dropFirst()) == Set(p2Before.map { "smtp:" + $0.dropFirst(5) }))
    }
}

