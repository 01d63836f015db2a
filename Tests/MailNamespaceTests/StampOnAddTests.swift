import MailCore
import MailNamespace
import MailPolicy
import MailStore
import Testing

/// A policy-managed recipient is stamped as it is added or changed (Exchange 2007+), and a
/// recipient whose policy-managed flag is off is never stamped (spec §2 rule 5).
@Suite struct StampOnAddTests {
    let dir: TestDirectory
    var namespace: Namespace { dir.namespace }

    init() throws {
        dir = try TestDirectory()
        try dir.setUpSharedNamespaceRecipe()
    }

    // MARK: - Stamped at once

    @Test func aNewPolicyManagedRecipientGetsItsPolicyAddressesAtOnce() throws {
        let added = try namespace.addRecipient(person("jdoe", "John", "Doe"))
        #expect(Set(added.addresses.map(\.description)) == ["SMTP:John.Doe@contoso.com", "smtp:jdoe@contoso.local"])
        #expect(added.stampedByPolicy == "Shared")
        #expect(try dir.addresses(of: "jdoe") == ["SMTP:John.Doe@contoso.com", "smtp:jdoe@contoso.local"])
        let history = try dir.directory.history(alias: "jdoe")
        #expect(history.map { Line($0.action.rawValue, $0.address) } == [
            Line("added", "SMTP:John.Doe@contoso.com"), Line("added", "smtp:jdoe@contoso.local"),
        ])
        #expect(history.allSatisfy { $0.actor == "policy" && $0.actorName == "Shared" })
        #expect(Set(history.map(\.batchID)).count == 1)

        // Nothing left for a policy run to do.
        let report = try namespace.applyPolicies(ApplyOptions())
        #expect(report.changed == 0)
    }

    @Test func aSecondRecipientWithTheSameNameGetsTheNextSuffixAtOnce() throws {
        try namespace.addRecipient(person("jdoe", "John", "Doe"))
        let second = try namespace.addRecipient(person("johnd", "John", "Doe"))
        #expect(second.primaryAddress()?.description == "SMTP:John.Doe2@contoso.com")
        #expect(try dir.primary(of: "jdoe") == "SMTP:John.Doe@contoso.com")
    }

    @Test func anAddressGivenOnAddIsKeptAsSecondaryWhenThePolicyPrimaryTakesOver() throws {
        var recipient = person("jdoe", "John", "Doe")
        recipient.addresses = [try ProxyAddress(parsing: "SMTP:john@contoso.local")]
        try namespace.addRecipient(recipient)
        #expect(
            try dir.addresses(of: "jdoe") == ["SMTP:John.Doe@contoso.com", "smtp:john@contoso.local", "smtp:jdoe@contoso.local"])
    }

    @Test func changingTheGivenNameRestampsWithANewPrimaryAndDemotesTheOldOne() throws {
        try namespace.addRecipient(person("jdoe", "John", "Doe"))
        let batchesBefore = Set(try dir.directory.history(alias: "jdoe").map(\.batchID))

        let updated = try namespace.updateRecipient(alias: "jdoe") { $0.attributes[.givenName] = "Jonathan" }

        let expected: Set<String> = ["SMTP:Jonathan.Doe@contoso.com", "smtp:John.Doe@contoso.com", "smtp:jdoe@contoso.local"]
        #expect(Set(updated.addresses.map(\.description)) == expected)
        #expect(try dir.addresses(of: "jdoe") == expected)
        let newLines = try dir.directory.history(alias: "jdoe").filter { !batchesBefore.contains($0.batchID) }
        #expect(newLines.map { Line($0.action.rawValue, $0.address) } == [
            Line("demoted", "smtp:John.Doe@contoso.com"), Line("added", "SMTP:Jonathan.Doe@contoso.com"),
        ])
        #expect(newLines.allSatisfy { $0.actorName == "Shared" })
        #expect(Set(newLines.map(\.batchID)).count == 1)
    }

    @Test func aChangeThatMakesAnotherPolicyWinStampsThatPolicysAddresses() throws {
        try dir.addDomain("sales.contoso.com", .shared)
        try namespace.addPolicy(name: "Sales", priority: 1, filter: "(department=Sales)", templates: templates("SMTP:%m@sales.contoso.com"))
        try namespace.addRecipient(person("jdoe", "John", "Doe"))
        #expect(try dir.primary(of: "jdoe") == "SMTP:John.Doe@contoso.com")

        let updated = try namespace.updateRecipient(alias: "jdoe") { $0.attributes[.department] = "Sales" }
        #expect(updated.stampedByPolicy == "Sales")
        #expect(
            try dir.addresses(of: "jdoe") == ["SMTP:jdoe@sales.contoso.com", "smtp:John.Doe@contoso.com", "smtp:jdoe@contoso.local"])
    }

    // MARK: - The policy-managed flag

    @Test func aRecipientAddedWithoutPolicyIsNeverStampedNotEvenByApply() throws {
        let added = try namespace.addRecipient(person("jdoe", "John", "Doe", managed: false))
        #expect(added.addresses.isEmpty)
        #expect(added.stampedByPolicy == nil)
        #expect(try dir.addresses(of: "jdoe") == [])

        let before = try dir.snapshot()
        let report = try namespace.applyPolicies(ApplyOptions())
        #expect(try dir.snapshot() == before)
        #expect(report.recipients == 0)
        #expect(report.changed == 0)
        #expect(try dir.directory.history(alias: "jdoe").isEmpty)
        #expect(try namespace.preview(policy: "Shared").isEmpty)
    }

    @Test func aRecipientWithoutPolicyKeepsExactlyItsOwnAddressesThroughApplyAndUpdates() throws {
        var recipient = person("jdoe", "John", "Doe", managed: false)
        recipient.addresses = [try ProxyAddress(parsing: "SMTP:johnny@contoso.com")]
        try namespace.addRecipient(recipient)
        _ = try namespace.applyPolicies(ApplyOptions())
        try namespace.updateRecipient(alias: "jdoe") { $0.attributes[.givenName] = "Jonathan" }
        _ = try namespace.applyPolicies(ApplyOptions())
        #expect(try dir.addresses(of: "jdoe") == ["SMTP:johnny@contoso.com"])
        #expect(try dir.directory.history(alias: "jdoe").allSatisfy { $0.actor == "manual" })
    }

    @Test func switchingThePolicyManagedFlagOnStampsAtOnce() throws {
        try namespace.addRecipient(person("jdoe", "John", "Doe", managed: false))
        let updated = try namespace.updateRecipient(alias: "jdoe") { $0.isPolicyManaged = true }
        #expect(updated.isPolicyManaged)
        #expect(updated.stampedByPolicy == "Shared")
        #expect(try dir.addresses(of: "jdoe") == ["SMTP:John.Doe@contoso.com", "smtp:jdoe@contoso.local"])
        #expect(try dir.directory.history(alias: "jdoe").allSatisfy { $0.actorName == "Shared" })
    }

    @Test func switchingThePolicyManagedFlagOffFreezesTheAddresses() throws {
        try namespace.addRecipient(person("jdoe", "John", "Doe"))
        try namespace.updateRecipient(alias: "jdoe") { $0.isPolicyManaged = false }
        try namespace.setPolicyTemplates(name: "Shared", templates("SMTP:%1g%s@contoso.com", "smtp:%m@contoso.local"))
        let before = try dir.snapshot()
        let report = try namespace.applyPolicies(ApplyOptions())
        #expect(try dir.snapshot() == before)
        #expect(report.changed == 0)
        #expect(try dir.addresses(of: "jdoe") == ["SMTP:John.Doe@contoso.com", "smtp:jdoe@contoso.local"])
    }

    // MARK: - A recipient whose addresses cannot be generated

    @Test func addingARecipientWithNoFreeAddressIsRefusedAndLeavesNothingBehind() throws {
        let taken = try [ProxyAddress(parsing: "SMTP:x@contoso.com")]
            + (2...Stamper.maximumSuffix).map { try ProxyAddress(parsing: "smtp:x\($0)@contoso.com") }
        try dir.directory.addRecipient(Recipient(alias: "hoarder", isPolicyManaged: false, addresses: taken))
        let message = try dir.expectRefusedWithoutWriting { try namespace.addRecipient(person("xavier", "x")) }
        #expect(message?.contains("xavier") == true)
        #expect(try dir.directory.recipient(alias: "xavier") == nil)
    }
}
