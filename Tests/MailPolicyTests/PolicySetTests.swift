import MailCore
import Testing

@testable import MailPolicy

enum PolicyFixtures {
    static func templates(_ texts: [String]) -> [PolicyTemplate] {
        texts.map { try! PolicyTemplate(parsing: $0) }
    }

    static func policy(
        _ name: String, _ priority: Int, _ filter: String, enabled: Bool = true, isDefault: Bool = false, _ templates: [String]
    ) -> RecipientPolicy {
        RecipientPolicy(
            name: name, priority: priority, filter: filter, isEnabled: enabled, isDefault: isDefault,
            templates: Self.templates(templates))
    }

    static let sales = policy("Sales", 1, "(department=Sales)", ["SMTP:%g.%s@sales.contoso.com", "smtp:%m@sales.contoso.com"])
    static let contoso = policy("Contoso", 2, "(company=Contoso)", ["SMTP:%g.%s@contoso.com"])
    static let contacts = policy("Contacts", 3, "(objectClass=contact)", ["SMTP:%m@contacts.contoso.com"])
    static let defaultPolicy = policy(
        RecipientPolicy.defaultPolicyName, 4, "(mailNickname=*)", isDefault: true, ["SMTP:%m@contoso.local"])
    static let all = [sales, contoso, contacts, defaultPolicy]

    static let recipients: [String: Recipient] = [
        "salesContoso": Recipient(
            alias: "jsmith", attributes: [.givenName: "John", .sn: "Smith", .company: "Contoso", .department: "Sales"]),
        "contosoOnly": Recipient(alias: "mjones", attributes: [.givenName: "Mary", .sn: "Jones", .company: "Contoso"]),
        "salesElsewhere": Recipient(alias: "pbrown", attributes: [.company: "Fabrikam", .department: "Sales"]),
        "contact": Recipient(alias: "ext.pat", kind: .contact, attributes: [.company: "Contoso"]),
        "remote": Recipient(alias: "rremote", kind: .remote, attributes: [.company: "Fabrikam"]),
        "bare": Recipient(alias: "bare"),
    ]
}

@Suite struct PolicySetTests {
    /// (recipient key, winning policy)
    @Test(arguments: [
        ("salesContoso", "Sales"),
        ("contosoOnly", "Contoso"),
        ("salesElsewhere", "Sales"),
        ("contact", "Contoso"),
        ("remote", RecipientPolicy.defaultPolicyName),
        ("bare", RecipientPolicy.defaultPolicyName),
    ])
    func bestPriorityMatchingPolicyWins(recipientKey: String, expected: String) throws {
        let recipient = try #require(PolicyFixtures.recipients[recipientKey])
        // Given in scrambled order: priority decides, not the order of the list.
        let set = try PolicySet(PolicyFixtures.all.reversed())
        #expect(set.policies.map(\.priority) == [1, 2, 3, 4])
        #expect(set.winner(for: recipient)?.name == expected)
    }

    @Test func recipientMatchedByTwoPoliciesGetsOnlyTheBetterOnesAddresses() throws {
        let recipient = try #require(PolicyFixtures.recipients["salesContoso"])
        let set = try PolicySet(PolicyFixtures.all)
        #expect(set.policies.filter { $0.filter.matches(recipient) }.map(\.name) == ["Sales", "Contoso", RecipientPolicy.defaultPolicyName])
        let winner = try #require(set.winner(for: recipient))
        let plan = Stamper().plan(for: recipient, under: winner) { _ in nil }
        #expect(plan.policy == "Sales")
        #expect(plan.added.map(\.description) == ["SMTP:John.Smith@sales.contoso.com", "smtp:jsmith@sales.contoso.com"])
    }

    @Test func disabledPolicyIsSkipped() throws {
        var sales = PolicyFixtures.sales
        sales.isEnabled = false
        let set = try PolicySet([sales, PolicyFixtures.contoso, PolicyFixtures.defaultPolicy])
        #expect(set.policies.map(\.name) == ["Contoso", RecipientPolicy.defaultPolicyName])
        #expect(set.winner(for: PolicyFixtures.recipients["salesContoso"]!)?.name == "Contoso")
        #expect(set.winner(for: PolicyFixtures.recipients["salesElsewhere"]!)?.name == RecipientPolicy.defaultPolicyName)
    }

    @Test(arguments: Array(PolicyFixtures.recipients.keys).sorted())
    func defaultPolicyAloneMatchesEveryone(recipientKey: String) throws {
        let set = try PolicySet([PolicyFixtures.defaultPolicy])
        let winner = try #require(set.winner(for: PolicyFixtures.recipients[recipientKey]!))
        #expect(winner.isDefault)
        #expect(winner.name == RecipientPolicy.defaultPolicyName)
    }

    @Test func noPoliciesMeansNoWinner() throws {
        #expect(try PolicySet([]).winner(for: PolicyFixtures.recipients["bare"]!) == nil)
    }

    @Test func compiledPolicyPutsThePrimaryTemplateFirst() throws {
        let policy = PolicyFixtures.policy("P", 1, "(sn=*)", ["smtp:%m@a.example", "SMTP:%g.%s@b.example", "smtp:%s@c.example"])
        let compiled = try CompiledPolicy(policy)
        #expect(compiled.templates.map(\.template.text) == ["%g.%s@b.example", "%m@a.example", "%s@c.example"])
        #expect(compiled.templates.map(\.isPrimary) == [true, false, false])
        #expect(compiled.filter == (try RecipientFilter(parsing: "(sn=*)")))
    }

    /// (policy, reason in the PolicyError)
    @Test(arguments: [
        (PolicyFixtures.policy("Broken Filter", 1, "(foo=bar)", ["SMTP:%m@contoso.com"]), "filter: unknown attribute foo at column 2"),
        (PolicyFixtures.policy("Unbalanced", 1, "(&(sn=x)", ["SMTP:%m@contoso.com"]), "filter: expected ')', found the end at column 9"),
        (
            PolicyFixtures.policy("By Address", 1, "(proxyAddresses=*)", ["SMTP:%m@contoso.com"]),
            "filter: proxyAddresses is derived from the addresses policies stamp and cannot be filtered on at column 2"
        ),
        (
            PolicyFixtures.policy("X400", 1, "(sn=*)", ["X400:c=US;a= ;p=Contoso;o=Exchange;s=%s;"]),
            "template X400:c=US;a= ;p=Contoso;o=Exchange;s=%s;: only SMTP templates are supported"
        ),
        (
            PolicyFixtures.policy("SIP", 1, "(sn=*)", ["SMTP:%m@contoso.com", "sip:%m@contoso.com"]),
            "template sip:%m@contoso.com: only SMTP templates are supported"
        ),
        (
            PolicyFixtures.policy("Bad Token", 1, "(sn=*)", ["SMTP:%q@contoso.com"]),
            "template %q@contoso.com: unknown token %q; use %g %s %i %d %m, %Ng, %rxy or %%"
        ),
        (PolicyFixtures.policy("No Domain", 1, "(sn=*)", ["SMTP:%g.%s"]), "template %g.%s: missing @domain"),
    ])
    func badPolicyThrowsPolicyErrorNamingThePolicy(policy: RecipientPolicy, reason: String) {
        let error = #expect(throws: PolicyError.self) { try CompiledPolicy(policy) }
        #expect(error?.policy == policy.name)
        #expect(error?.reason == reason)
        #expect(error?.description == "policy \(policy.name): \(reason)")
        // In a set, a bad enabled policy is an error too, even below a good one.
        let setError = #expect(throws: PolicyError.self) {
            var lower = policy
            lower.priority = 2
            return try PolicySet([PolicyFixtures.sales, lower, PolicyFixtures.defaultPolicy])
        }
        #expect(setError?.policy == policy.name)
    }
}

extension RecipientPolicy: CustomTestStringConvertible {
    package var testDescription: String { name }
}
