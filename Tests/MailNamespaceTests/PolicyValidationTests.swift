import MailCore
import MailNamespace
@testable import MailStore
import Testing

/// A policy that cannot work is refused when it is saved, and the refusal leaves the
/// directory exactly as it was (spec §2, issue 3 acceptance).
@Suite struct PolicyValidationTests {
    let dir: TestDirectory
    var namespace: Namespace { dir.namespace }

    /// The recipe, a relay domain, and one stamped recipient, so there is state to disturb.
    init() throws {
        dir = try TestDirectory()
        try dir.setUpSharedNamespaceRecipe()
        try dir.addDomain("fabrikam.com", .relay)
        try namespace.addRecipient(person("jdoe", "John", "Doe"))
    }

    struct BadPolicy: Sendable, CustomTestStringConvertible {
        let filter: String
        let templates: [String]
        /// A fragment the error message must contain.
        let says: String
        var testDescription: String { "\(filter) \(templates) → \(says)" }
    }

    static let badPolicies: [BadPolicy] = [
        BadPolicy(filter: "(company=Contoso", templates: ["SMTP:%m@contoso.com"], says: "column"),
        BadPolicy(filter: "(&(company=A)(department=B)", templates: ["SMTP:%m@contoso.com"], says: "filter"),
        BadPolicy(filter: "(proxyAddresses=*)", templates: ["SMTP:%m@contoso.com"], says: "proxyAddresses"),
        BadPolicy(filter: "(mailNickname=*)", templates: ["SMTP:%q@contoso.com"], says: "%q"),
        BadPolicy(filter: "(mailNickname=*)", templates: ["SMTP:%g.%s"], says: "missing @domain"),
        BadPolicy(filter: "(mailNickname=*)", templates: ["SMTP:%m@example.org"], says: "not an accepted domain"),
        BadPolicy(filter: "(mailNickname=*)", templates: ["SMTP:%m@contoso.com", "smtp:%m@example.org"], says: "example.org"),
        BadPolicy(filter: "(mailNickname=*)", templates: ["SMTP:%m@fabrikam.com"], says: "relay"),
        BadPolicy(filter: "(mailNickname=*)", templates: ["SMTP:%m@contoso.com", "SIP:%m@contoso.com"], says: "SMTP"),
        BadPolicy(filter: "(mailNickname=*)", templates: ["X400:%m@contoso.com"], says: "SMTP"),
        BadPolicy(filter: "(mailNickname=*)", templates: ["smtp:%m@contoso.com"], says: "primary"),
    ]

    @Test(arguments: badPolicies)
    func aPolicyThatCannotWorkIsRefusedAndLeavesNothingBehind(_ bad: BadPolicy) throws {
        let parsed = try bad.templates.map { try PolicyTemplate(parsing: $0) }
        let message = try dir.expectRefusedWithoutWriting {
            try namespace.addPolicy(name: "Bad", priority: 1, filter: bad.filter, templates: parsed)
        }
        #expect(message?.contains(bad.says) == true, "message: \(message ?? "none")")
        #expect(try dir.directory.policy(named: "Bad") == nil)
    }

    @Test(arguments: badPolicies.filter { $0.filter == "(mailNickname=*)" })
    func badTemplatesAreRefusedWhenAPolicysTemplatesChange(_ bad: BadPolicy) throws {
        let parsed = try bad.templates.map { try PolicyTemplate(parsing: $0) }
        let message = try dir.expectRefusedWithoutWriting { try namespace.setPolicyTemplates(name: "Shared", parsed) }
        #expect(message?.contains(bad.says) == true, "message: \(message ?? "none")")
        #expect(
            try dir.directory.policy(named: "Shared")?.templates.map(\.description) == [
                "SMTP:%g.%s@contoso.com", "smtp:%m@contoso.local",
            ])
    }

    // MARK: - Changing a policy's filter or enabled state

    @Test(arguments: badPolicies.filter { $0.filter != "(mailNickname=*)" })
    func aBadFilterIsRefusedWhenAPolicysFilterChanges(_ bad: BadPolicy) throws {
        let message = try dir.expectRefusedWithoutWriting { try namespace.setPolicy(name: "Shared", filter: bad.filter, isEnabled: false) }
        #expect(message?.contains("policy Shared") == true, "message: \(message ?? "none")")
        #expect(message?.contains(bad.says) == true, "message: \(message ?? "none")")
        let kept = try dir.directory.policy(named: "Shared")
        #expect(kept?.filter == "(mailNickname=*)")
        #expect(kept?.isEnabled == true, "the enabled change of a refused set is rolled back with it")
    }

    @Test func aFilterWithAnUnknownAttributeIsRefusedNamingItsPosition() throws {
        let message = try dir.expectRefusedWithoutWriting { try namespace.setPolicy(name: "Shared", filter: "(&(company=A)(mail=x))", isEnabled: nil) }
        #expect(message?.contains("mail") == true, "message: \(message ?? "none")")
        #expect(message?.contains("column") == true, "message: \(message ?? "none")")
    }

    /// The whole policy is checked as saved, templates included, in the change's transaction.
    @Test func aPolicyWhoseTemplatesNoLongerHoldIsRefusedWhenItChanges() throws {
        try dir.directory.write { db in
            // As an older binary or sqlite3 by hand could leave it (doctor reports it).
            try db.cached("INSERT INTO address_template (policy_id, position, type, template, is_primary) SELECT id, 9, 'SMTP', '%m@fabrikam.com', 0 FROM recipient_policy WHERE name = 'Shared'").bind().run()
        }
        let message = try dir.expectRefusedWithoutWriting { try namespace.setPolicy(name: "Shared", filter: "(company=Contoso)", isEnabled: nil) }
        #expect(message?.contains("relay") == true, "message: \(message ?? "none")")
    }

    @Test func aValidFilterAndEnabledStateAreSaved() throws {
        let changed = try namespace.setPolicy(name: "shared", filter: "(company=Contoso)", isEnabled: false)
        #expect(changed.name == "Shared")
        #expect(changed.priority == 1)
        #expect(try dir.directory.policy(named: "Shared") == changed)
        #expect(try namespace.setPolicy(name: "Shared", filter: nil, isEnabled: true).filter == "(company=Contoso)")
    }

    @Test func theDefaultPolicysFilterAndEnabledStateAreRefusedByName() throws {
        for (filter, enabled) in [("(company=Contoso)", nil), (nil, false), ("(mailNickname=*)", true)] as [(String?, Bool?)] {
            let message = try dir.expectRefusedWithoutWriting {
                try namespace.setPolicy(name: RecipientPolicy.defaultPolicyName, filter: filter, isEnabled: enabled)
            }
            #expect(message?.contains("the Default Policy") == true, "message: \(message ?? "none")")
        }
    }

    @Test func theDefaultPolicysTemplatesAreCheckedToo() throws {
        try dir.expectRefusedWithoutWriting {
            try namespace.setPolicyTemplates(name: RecipientPolicy.defaultPolicyName, templates("SMTP:%m@fabrikam.com"))
        }
    }

    @Test func aValidPolicyIsSavedAtItsPriority() throws {
        try dir.addDomain("sales.contoso.com", .authoritative)
        let saved = try namespace.addPolicy(name: "Sales", priority: 1, filter: "(department=Sales)", templates: templates("SMTP:%m@sales.contoso.com"))
        #expect(saved.priority == 1)
        #expect(try dir.directory.policies().map(\.name) == ["Sales", "Shared", "Default Policy"])
    }

    // MARK: - Removing a domain a template uses

    @Test(arguments: ["contoso.com", "contoso.local"])
    func removingADomainATemplateUsesIsRefusedAndChangesNothing(_ domain: String) throws {
        let name = try DomainName(parsing: domain)
        let message = try dir.expectRefusedWithoutWriting { try namespace.removeDomain(name) }
        #expect(message?.contains(domain) == true)
        #expect(try dir.directory.domain(named: name) != nil)
    }

    @Test func aDomainNoTemplateUsesCanBeRemoved() throws {
        let name = try DomainName(parsing: "fabrikam.com")
        try namespace.removeDomain(name)
        #expect(try dir.directory.domain(named: name) == nil)
    }

    /// Regression: the first covering domain in name order (the shared parent) was taken, so a
    /// template on a relay subdomain was accepted.
    @Test func aTemplateOnARelaySubdomainOfASharedParentIsRefused() throws {
        let other = try TestDirectory()
        try other.addDomain("contoso.com", .shared, includesSubdomains: true)
        try other.addDomain("fabrikam.contoso.com", .relay)
        let message = try other.expectRefusedWithoutWriting {
            try other.namespace.addPolicy(name: "Relay", priority: 1, filter: "(mailNickname=*)", templates: templates("SMTP:%m@fabrikam.contoso.com"))
        }
        #expect(message?.contains("relay") == true, "message: \(message ?? "none")")
    }

    /// Regression: only templates on the removed name itself were checked, so a template on a
    /// subdomain it covered was left generating addresses nobody accepts.
    @Test func removingAParentThatCoversATemplatesSubdomainIsRefused() throws {
        let other = try TestDirectory()
        try other.addDomain("contoso.com", .shared, includesSubdomains: true)
        try other.namespace.addPolicy(name: "EU", priority: 1, filter: "(company=EU)", templates: templates("SMTP:%m@eu.contoso.com"))
        let message = try other.expectRefusedWithoutWriting { try other.namespace.removeDomain(try DomainName(parsing: "contoso.com")) }
        #expect(message?.contains("eu.contoso.com") == true, "message: \(message ?? "none")")
    }

    /// Regression (review): a relay domain added after the policy took over the subdomain its
    /// template used, and apply then stamped addresses in a relay domain.
    @Test func addingARelayDomainUnderAPolicysTemplateIsRefused() throws {
        let other = try TestDirectory()
        try other.addDomain("contoso.com", .shared, includesSubdomains: true)
        try other.namespace.addPolicy(name: "Sales", priority: 1, filter: "(department=Sales)", templates: templates("SMTP:%m@sales.contoso.com"))
        let message = try other.expectRefusedWithoutWriting {
            try other.namespace.addDomain(AcceptedDomain(name: try DomainName(parsing: "sales.contoso.com"), type: .relay))
        }
        #expect(message?.contains("policy Sales") == true, "message: \(message ?? "none")")
        try other.namespace.addDomain(AcceptedDomain(name: try DomainName(parsing: "eu.contoso.com"), type: .relay))
    }

    /// Regression (review): turning subdomains off was refused as "cannot become shared",
    /// naming a type change nobody asked for.
    @Test func theRefusalNamesWhatChanged() throws {
        let other = try TestDirectory()
        try other.addDomain("contoso.com", .shared, includesSubdomains: true)
        try other.namespace.addPolicy(name: "EU", priority: 1, filter: "(company=EU)", templates: templates("SMTP:%m@eu.contoso.com"))
        let contoso = try DomainName(parsing: "contoso.com")
        let subdomains = try other.expectRefusedWithoutWriting { try other.namespace.updateDomain(contoso) { $0.includesSubdomains = false } }
        #expect(subdomains?.hasPrefix("domain contoso.com cannot stop including its subdomains: policy EU") == true, "message: \(subdomains ?? "none")")
        let type = try other.expectRefusedWithoutWriting { try other.namespace.updateDomain(contoso) { $0.type = .relay } }
        #expect(type?.hasPrefix("domain contoso.com cannot become relay: policy EU") == true, "message: \(type ?? "none")")
    }

    @Test func aDomainIsFreeToRemoveOnceThePolicyNoLongerUsesIt() throws {
        try namespace.setPolicyTemplates(name: "Shared", templates("SMTP:%g.%s@contoso.com"))
        try namespace.setPolicyTemplates(name: RecipientPolicy.defaultPolicyName, templates("SMTP:%m@contoso.com"))
        try namespace.removeDomain(try DomainName(parsing: "contoso.local"))
        #expect(try dir.directory.domains().map(\.name.name) == ["contoso.com", "fabrikam.com"])
    }
}
