import Testing
import MailCore
@testable import MailStore

@Suite struct PolicyTests {
    let db: TestDatabase
    let store: DirectoryStore

    init() throws {
        db = try TestDatabase()
        store = try db.open()
    }

    private func names() throws -> [String] { try store.policies().map(\.name) }
    private func priorities() throws -> [Int] { try store.policies().map(\.priority) }

    @Test func aNewPolicyGoesAboveTheDefaultPolicyByDefault() throws {
        let added = try store.addPolicy(name: "Shared", priority: nil, filter: "(mailNickname=*)", templates: [try PolicyTemplate(parsing: "SMTP:%g.%s@contoso.com"), try PolicyTemplate(parsing: "smtp:%m@contoso.local")])
        #expect(added.priority == 1)
        #expect(added.templates.map(\.description) == ["SMTP:%g.%s@contoso.com", "smtp:%m@contoso.local"])
        #expect(try names() == ["Shared", "Default Policy"])
        #expect(try priorities() == [1, 2])
    }

    @Test func insertingAtAPriorityMovesThePoliciesBelowDown() throws {
        try store.addPolicy(name: "A", priority: nil, filter: "(company=A)", templates: [])
        try store.addPolicy(name: "B", priority: nil, filter: "(company=B)", templates: [])
        try store.addPolicy(name: "C", priority: 1, filter: "(company=C)", templates: [])
        #expect(try names() == ["C", "A", "B", "Default Policy"])
        #expect(try priorities() == [1, 2, 3, 4])
        try store.setPolicyPriority(name: "C", to: 3)
        #expect(try names() == ["A", "B", "C", "Default Policy"])
        try store.removePolicy(name: "A")
        #expect(try names() == ["B", "C", "Default Policy"])
        #expect(try priorities() == [1, 2, 3])
    }

    @Test(arguments: [0, -1, 3, 99])
    func aPriorityOutOfRangeIsRefused(priority: Int) throws {
        try store.addPolicy(name: "A", priority: nil, filter: "(company=A)", templates: [])
        let error = try expectRefusedWithoutWriting(store) {
            try store.addPolicy(name: "B", priority: priority, filter: "(company=B)", templates: [])
        }
        #expect(error?.description.contains("out of range") == true)
    }

    @Test(arguments: [0, 2, 5])
    func movingToAPriorityOutOfRangeIsRefused(priority: Int) throws {
        try store.addPolicy(name: "A", priority: nil, filter: "(company=A)", templates: [])
        try expectRefusedWithoutWriting(store) { try store.setPolicyPriority(name: "A", to: priority) }
    }

    @Test func theDefaultPolicyCannotBeRemovedOrMovedButItsTemplatesChange() throws {
        let removeError = try expectRefusedWithoutWriting(store) { try store.removePolicy(name: "default policy") }
        #expect(removeError?.description == "the Default Policy cannot be removed")
        try store.addPolicy(name: "A", priority: nil, filter: "(company=A)", templates: [])
        try expectRefusedWithoutWriting(store) { try store.setPolicyPriority(name: "Default Policy", to: 1) }
        let updated = try store.setPolicyTemplates(name: "Default Policy", [try PolicyTemplate(parsing: "SMTP:%m@contoso.local")])
        #expect(updated.templates.map(\.description) == ["SMTP:%m@contoso.local"])
        #expect(updated.priority == 2)
    }

    @Test func policyNamesAreUniqueWhateverTheCase() throws {
        try store.addPolicy(name: "Shared", priority: nil, filter: "(x=*)", templates: [])
        try expectRefusedWithoutWriting(store) { try store.addPolicy(name: "SHARED", priority: nil, filter: "(x=*)", templates: []) }
        try expectRefusedWithoutWriting(store) { try store.addPolicy(name: "Default Policy", priority: nil, filter: "(x=*)", templates: []) }
    }

    @Test(arguments: [
        ["smtp:%m@contoso.com"],
        ["SMTP:%m@contoso.com", "SMTP:%g@contoso.com"],
        ["SMTP:%m@contoso.com", "SMTP:%m@contoso.com"],
    ])
    func templatesNeedExactlyOnePrimaryPerTypeAndNoRepeats(templates: [String]) throws {
        let parsed = try templates.map { try PolicyTemplate(parsing: $0) }
        try expectRefusedWithoutWriting(store) { try store.addPolicy(name: "A", priority: nil, filter: "(x=*)", templates: parsed) }
    }

    @Test func filtersAndTemplatesAreStoredVerbatim() throws {
        let filter = "(&(company=Contoso)(!(department=Temp\\2a)))"
        try store.addPolicy(name: "A", priority: nil, filter: filter, templates: [try PolicyTemplate(parsing: "SMTP:%1g%s@Contoso.com")])
        let read = try #require(try store.policy(named: "a"))
        #expect(read.filter == filter)
        #expect(read.templates.first?.template == "%1g%s@Contoso.com")
    }

    // MARK: - Changing a filter or the enabled state

    private func update(_ name: String, filter: String? = nil, isEnabled: Bool? = nil) throws -> RecipientPolicy {
        try store.transaction(writing: true) { try $0.updatePolicy(named: name, filter: filter, isEnabled: isEnabled) }
    }

    @Test func aPolicysFilterAndEnabledStateChangeAndNothingElseDoes() throws {
        try store.addPolicy(name: "A", priority: nil, filter: "(company=A)", templates: [try PolicyTemplate(parsing: "SMTP:%m@contoso.com")])
        try store.addPolicy(name: "B", priority: nil, filter: "(company=B)", templates: [])
        let disabled = try update("a", isEnabled: false)
        #expect(disabled == RecipientPolicy(name: "A", priority: 1, filter: "(company=A)", isEnabled: false, templates: [try PolicyTemplate(parsing: "SMTP:%m@contoso.com")]))
        let refiltered = try update("A", filter: "(department=Sales)")
        #expect(refiltered.filter == "(department=Sales)")
        #expect(refiltered.isEnabled == false, "a filter change leaves the enabled state alone")
        #expect(try update("A", isEnabled: true).isEnabled)
        #expect(try names() == ["A", "B", "Default Policy"])
        #expect(try store.policy(named: "B")?.isEnabled == true)
    }

    @Test func theDefaultPolicyKeepsItsFilterAndStaysEnabledSaidByName() throws {
        let filterError = try expectRefusedWithoutWriting(store) { _ = try update("Default Policy", filter: "(company=A)") }
        #expect(filterError?.description == "the Default Policy's filter cannot be changed: it matches every recipient")
        let sameFilter = try expectRefusedWithoutWriting(store) { _ = try update("default policy", filter: "(mailNickname=*)") }
        #expect(sameFilter?.description.contains("filter cannot be changed") == true)
        let disableError = try expectRefusedWithoutWriting(store) { _ = try update("Default Policy", isEnabled: false) }
        #expect(disableError?.description == "the Default Policy cannot be disabled: it is what every recipient falls back to")
        // Switching it on says what it already is.
        #expect(try update("Default Policy", isEnabled: true).isEnabled)
    }

    @Test func aChangedFilterIsCheckedLikeANewOne() throws {
        try store.addPolicy(name: "A", priority: nil, filter: "(company=A)", templates: [])
        let empty = try expectRefusedWithoutWriting(store) { _ = try update("A", filter: "") }
        #expect(empty?.description == "policy A needs a filter")
        try expectRefusedWithoutWriting(store) { _ = try update("A", filter: "(" + String(repeating: "x", count: 4096) + "=*)") }
        let missing = try expectRefusedWithoutWriting(store) { _ = try update("Ghost", isEnabled: false) }
        #expect(missing?.description == "no recipient policy named Ghost")
    }

    /// The store and `RecipientPolicy.sameName` agree on which names are one policy's: a name
    /// is taken exactly when `sameName` says so, and found by exactly those spellings.
    @Test(arguments: [
        ("Ärzte", "ärzte"), ("Ärzte", "ÄRZTE"), ("Shared", "SHARED"), ("\u{C4}rzte", "A\u{308}rzte"), ("Straße", "STRASSE"),
        ("K", "\u{212A}"),
    ])
    func theStoreTakesANameExactlyWhenSameNameSaysItIsTaken(_ first: String, _ second: String) throws {
        try store.addPolicy(name: first, priority: nil, filter: "(company=A)", templates: [])
        let same = RecipientPolicy.sameName(first, second)
        #expect(try store.policy(named: second)?.name == (same ? first : nil))
        if same {
            try expectRefusedWithoutWriting(store) { try store.addPolicy(name: second, priority: nil, filter: "(company=B)", templates: []) }
        } else {
            try store.addPolicy(name: second, priority: nil, filter: "(company=B)", templates: [])
            #expect(try store.policy(named: second)?.filter == "(company=B)")
            #expect(try store.policy(named: first)?.filter == "(company=A)")
        }
    }
}

