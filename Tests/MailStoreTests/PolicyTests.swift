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
}
