import Foundation
import Testing

@Suite("mailns policy")
struct PolicyCommandTests {
    let sandbox: Sandbox

    init() throws { sandbox = try Sandbox() }

    /// Templates must name accepted (authoritative or shared) domains.
    private func accept(_ domains: String...) async throws {
        for domain in domains {
            try await sandbox.ok("domain", "add", domain, "--type", "authoritative")
        }
    }

    /// Policy names in priority order, after checking the priorities are 1…N and the Default
    /// Policy is last.
    private func order(sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String] {
        let policies = try await sandbox.array("policy", "list", "--json")
        #expect(policies.map { $0["priority"] as? Int } == Array(1...policies.count).map { Optional($0) }, sourceLocation: sourceLocation)
        #expect(policies.last?["name"] as? String == "Default Policy", sourceLocation: sourceLocation)
        #expect(policies.last?["isDefault"] as? Bool == true, sourceLocation: sourceLocation)
        #expect(policies.dropLast().allSatisfy { $0["isDefault"] as? Bool == false }, sourceLocation: sourceLocation)
        return policies.compactMap { $0["name"] as? String }
    }

    @Test("after init the only policy is the Default Policy, at priority 1, with no templates")
    func defaultPolicyAfterInit() async throws {
        try await sandbox.ok("init")
        let policies = try await sandbox.array("policy", "list", "--json")
        try #require(policies.count == 1)
        let p = policies[0]
        #expect(p["name"] as? String == "Default Policy")
        #expect(p["priority"] as? Int == 1)
        #expect(p["isDefault"] as? Bool == true)
        #expect(p["enabled"] as? Bool == true)
        #expect(p["templates"] as? [String] == [])
        #expect((p["filter"] as? String)?.isEmpty == false)
    }

    @Test("policy add --priority N inserts at N and moves the policies at N and below down; priorities stay 1…N")
    func addInsertsAndShifts() async throws {
        try await accept("a.example", "b.example", "c.example", "d.example")
        try await sandbox.ok("policy", "add", "A", "--priority", "1", "--filter", "(company=A)", "--template", "SMTP:%m@a.example")
        #expect(try await order() == ["A", "Default Policy"])
        try await sandbox.ok("policy", "add", "B", "--priority", "1", "--filter", "(company=B)", "--template", "SMTP:%m@b.example")
        #expect(try await order() == ["B", "A", "Default Policy"])
        try await sandbox.ok("policy", "add", "C", "--priority", "2", "--filter", "(company=C)", "--template", "SMTP:%m@c.example")
        #expect(try await order() == ["B", "C", "A", "Default Policy"])
        // The Default Policy's own priority is a valid place: just above it.
        try await sandbox.ok("policy", "add", "D", "--priority", "4", "--filter", "(company=D)", "--template", "SMTP:%m@d.example")
        #expect(try await order() == ["B", "C", "A", "D", "Default Policy"])
    }

    @Test("policy add without --priority goes just above the Default Policy")
    func addWithoutPriorityGoesLast() async throws {
        try await accept("a.example", "b.example")
        try await sandbox.ok("policy", "add", "First", "--filter", "(company=A)", "--template", "SMTP:%m@a.example")
        try await sandbox.ok("policy", "add", "Second", "--filter", "(company=B)", "--template", "SMTP:%m@b.example")
        #expect(try await order() == ["First", "Second", "Default Policy"])
    }

    @Test("policy show --json gives the filter and templates verbatim, in order")
    func showGivesPolicyVerbatim() async throws {
        try await accept("contoso.com")
        let filter = "(&(company=Contoso)(|(department=Sales)(department=Support)))"
        try await sandbox.ok(
            "policy", "add", "Contoso", "--priority", "1", "--filter", filter,
            "--template", "SMTP:%g.%s@contoso.com", "--template", "smtp:%m@contoso.com", "--template", "smtp:%1g%s@Contoso.COM")
        let p = try await sandbox.object("policy", "show", "Contoso", "--json")
        #expect(p["name"] as? String == "Contoso")
        #expect(p["priority"] as? Int == 1)
        #expect(p["filter"] as? String == filter)
        #expect(p["isDefault"] as? Bool == false)
        #expect(p["enabled"] as? Bool == true)
        #expect(p["templates"] as? [String] == ["SMTP:%g.%s@contoso.com", "smtp:%m@contoso.com", "smtp:%1g%s@Contoso.COM"])

        let byOtherCase = try await sandbox.object("policy", "show", "contoso", "--json")
        #expect(byOtherCase["name"] as? String == "Contoso")
    }

    @Test("policy show of an unknown policy exits 65 naming it")
    func showUnknown() async throws {
        expectOneLineError(try await sandbox.run("policy", "show", "Nope", "--json"), status: 65, mentioning: ["Nope"])
    }

    @Test("a priority out of range is refused with 65 and changes nothing", arguments: ["0", "3", "-1", "99"])
    func priorityOutOfRange(_ priority: String) async throws {
        try await accept("a.example")
        try await sandbox.ok("policy", "add", "A", "--filter", "(company=A)", "--template", "SMTP:%m@a.example")
        let before = try await sandbox.snapshot()
        // Two policies: valid priorities are 1 and 2.
        let result = try await sandbox.run("policy", "add", "B", "--priority=\(priority)", "--filter", "(company=B)")
        expectOneLineError(result, status: 65, mentioning: ["priority \(priority)", "B"])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("a second policy with the same name in any letter case is refused with 65")
    func duplicateNameRefused() async throws {
        try await sandbox.ok("policy", "add", "Contoso", "--filter", "(company=Contoso)")
        let before = try await sandbox.snapshot()
        expectOneLineError(
            try await sandbox.run("policy", "add", "CONTOSO", "--priority", "1", "--filter", "(company=X)"), status: 65,
            mentioning: ["Contoso", "already exists"])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("templates with two primaries of a type, or secondaries without a primary, are refused with 65")
    func templateRulesRefused() async throws {
        try await accept("a.example")
        try await sandbox.ok("init")
        let before = try await sandbox.snapshot()
        expectOneLineError(
            try await sandbox.run("policy", "add", "P", "--filter", "(company=X)", "--template", "SMTP:%m@a.example", "--template", "SMTP:%g@a.example"),
            status: 65, mentioning: ["P"])
        expectOneLineError(
            try await sandbox.run("policy", "add", "Q", "--filter", "(company=X)", "--template", "smtp:%m@a.example"),
            status: 65, mentioning: ["Q"])
        expectOneLineError(
            try await sandbox.run("policy", "add", "R", "--filter", "(company=X)", "--template", "%m@a.example"),
            status: 65, mentioning: ["%m@a.example"])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("policy set-priority moves a policy and keeps priorities dense with the Default Policy last")
    func setPriority() async throws {
        for name in ["A", "B", "C"] {
            try await sandbox.ok("policy", "add", name, "--filter", "(company=\(name))")
        }
        #expect(try await order() == ["A", "B", "C", "Default Policy"])
        try await sandbox.ok("policy", "set-priority", "C", "1")
        #expect(try await order() == ["C", "A", "B", "Default Policy"])
        try await sandbox.ok("policy", "set-priority", "c", "3")
        #expect(try await order() == ["A", "B", "C", "Default Policy"])
    }

    @Test("policy set-priority refuses the Default Policy and priorities out of range (65, nothing changed)")
    func setPriorityRefusals() async throws {
        try await sandbox.ok("policy", "add", "A", "--filter", "(company=A)")
        try await sandbox.ok("policy", "add", "B", "--filter", "(company=B)")
        let before = try await sandbox.snapshot()
        expectOneLineError(
            try await sandbox.run("policy", "set-priority", "Default Policy", "1"), status: 65, mentioning: ["Default Policy"])
        expectOneLineError(try await sandbox.run("policy", "set-priority", "A", "3"), status: 65, mentioning: ["priority 3", "A"])
        expectOneLineError(try await sandbox.run("policy", "set-priority", "A", "0"), status: 65, mentioning: ["priority 0", "A"])
        expectOneLineError(try await sandbox.run("policy", "set-priority", "Ghost", "1"), status: 65, mentioning: ["Ghost"])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("policy set-templates replaces the templates; none given clears them; the Default Policy's can be set")
    func setTemplates() async throws {
        try await accept("old.example", "new.example", "contoso.com")
        try await sandbox.ok("policy", "add", "A", "--filter", "(company=A)", "--template", "SMTP:%m@old.example")
        try await sandbox.ok("policy", "set-templates", "A", "--template", "SMTP:%g.%s@new.example", "--template", "smtp:%m@new.example")
        #expect(try await sandbox.object("policy", "show", "A", "--json")["templates"] as? [String] == ["SMTP:%g.%s@new.example", "smtp:%m@new.example"])

        try await sandbox.ok("policy", "set-templates", "A")
        #expect(try await sandbox.object("policy", "show", "A", "--json")["templates"] as? [String] == [])

        try await sandbox.ok("policy", "set-templates", "Default Policy", "--template", "SMTP:%m@contoso.com")
        let d = try await sandbox.object("policy", "show", "Default Policy", "--json")
        #expect(d["templates"] as? [String] == ["SMTP:%m@contoso.com"])
        #expect(d["isDefault"] as? Bool == true)
    }

    @Test("a refused set-templates keeps the old templates")
    func refusedSetTemplatesKeepsOld() async throws {
        try await accept("a.example", "b.example")
        try await sandbox.ok("policy", "add", "A", "--filter", "(company=A)", "--template", "SMTP:%m@a.example")
        let before = try await sandbox.snapshot()
        let result = try await sandbox.run(
            "policy", "set-templates", "A", "--template", "SMTP:%m@b.example", "--template", "SMTP:%g@b.example")
        expectOneLineError(result, status: 65, mentioning: ["A"])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("policy remove removes it and the policies below move up")
    func removePolicy() async throws {
        for name in ["A", "B", "C"] {
            try await sandbox.ok("policy", "add", name, "--filter", "(company=\(name))")
        }
        try await sandbox.ok("policy", "remove", "A")
        #expect(try await order() == ["B", "C", "Default Policy"])
        expectOneLineError(try await sandbox.run("policy", "remove", "A"), status: 65, mentioning: ["A"])
    }

    @Test("removing the Default Policy is refused with 65 and changes nothing")
    func removeDefaultRefused() async throws {
        try await sandbox.ok("policy", "add", "A", "--filter", "(company=A)")
        let before = try await sandbox.snapshot()
        let result = try await sandbox.run("policy", "remove", "Default Policy")
        expectOneLineError(result, status: 65, mentioning: ["Default Policy"])
        #expect(try await sandbox.snapshot() == before)
    }

    // MARK: - policy set

    @Test("policy set changes the filter and switches a policy off and on; list and show say which")
    func setFilterAndEnabled() async throws {
        try await accept("a.example")
        try await sandbox.ok("policy", "add", "A", "--filter", "(company=A)", "--template", "SMTP:%m@a.example")
        let off = try await sandbox.ok("policy", "set", "a", "--enabled", "off")
        #expect(off.stdout == "policy A: filter (company=A), enabled off\n")
        let shown = try await sandbox.object("policy", "show", "A", "--json")
        #expect(shown["enabled"] as? Bool == false)
        #expect(shown["filter"] as? String == "(company=A)")
        let enabledLine = try await sandbox.ok("policy", "show", "A").stdout.split(separator: "\n").first { $0.hasPrefix("enabled:") }
        #expect(enabledLine?.split(separator: " ").last == "no")
        let listed = try await sandbox.ok("policy", "list").stdout
        #expect(listed == "1\tA\t(company=A)\tSMTP:%m@a.example\tdisabled\n2\tDefault Policy\t(mailNickname=*)\t\n", "\(listed)")
        #expect(try await sandbox.array("policy", "list", "--json").map { $0["enabled"] as? Bool } == [false, true])

        try await sandbox.ok("policy", "set", "A", "--filter", "(&(company=A)(department=Sales))")
        let refiltered = try await sandbox.object("policy", "show", "A", "--json")
        #expect(refiltered["filter"] as? String == "(&(company=A)(department=Sales))")
        #expect(refiltered["enabled"] as? Bool == false, "a filter change leaves the policy off")
        #expect(refiltered["priority"] as? Int == 1)
        #expect(refiltered["templates"] as? [String] == ["SMTP:%m@a.example"])

        try await sandbox.ok("policy", "set", "A", "--enabled", "on", "--filter", "(company=B)")
        let on = try await sandbox.object("policy", "show", "A", "--json")
        #expect(on["enabled"] as? Bool == true)
        #expect(on["filter"] as? String == "(company=B)")
        #expect(try await sandbox.ok("policy", "list").stdout.hasPrefix("1\tA\t(company=B)\tSMTP:%m@a.example\n"))
    }

    @Test("policy set without --filter or --enabled is a usage error (64) and changes nothing")
    func setNeedsAnOption() async throws {
        try await sandbox.ok("policy", "add", "A", "--filter", "(company=A)")
        let before = try await sandbox.snapshot()
        let result = try await sandbox.run("policy", "set", "A")
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("--filter"), "\(result)")
        #expect(try await sandbox.run("policy", "set", "A", "--enabled", "maybe").status == 64)
        #expect(try await sandbox.snapshot() == before)
    }

    @Test(
        "policy set refuses a filter policy add refuses (65, naming the policy and the reason) and changes nothing",
        arguments: [
            ("(company=A", ["policy A", "column"]),
            ("(proxyAddresses=*)", ["policy A", "proxyAddresses"]),
            ("(&(company=A)(mail=a@b))", ["policy A", "mail", "column"]),
            ("(nosuchattribute=1)", ["policy A", "nosuchattribute"]),
        ])
    func setRefusesABadFilter(_ filter: String, _ fragments: [String]) async throws {
        try await sandbox.ok("policy", "add", "A", "--filter", "(company=A)")
        let before = try await sandbox.snapshot()
        // --enabled off too: a refused set changes neither field.
        expectOneLineError(try await sandbox.run("policy", "set", "A", "--filter", filter, "--enabled", "off"), status: 65, mentioning: fragments)
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("policy set refuses to change the Default Policy's filter or disable it (65) and changes nothing; an unknown policy is 65")
    func setRefusesTheDefaultPolicy() async throws {
        try await sandbox.ok("policy", "add", "A", "--filter", "(company=A)")
        let before = try await sandbox.snapshot()
        expectOneLineError(
            try await sandbox.run("policy", "set", "Default Policy", "--filter", "(company=A)"), status: 65,
            mentioning: ["Default Policy", "filter cannot be changed"])
        expectOneLineError(
            try await sandbox.run("policy", "set", "default policy", "--enabled", "off"), status: 65,
            mentioning: ["Default Policy", "cannot be disabled"])
        expectOneLineError(try await sandbox.run("policy", "set", "Ghost", "--enabled", "off"), status: 65, mentioning: ["Ghost"])
        #expect(try await sandbox.snapshot() == before)
    }
}

