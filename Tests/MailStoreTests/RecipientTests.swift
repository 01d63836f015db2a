import Testing
import MailCore
@testable import MailStore

@Suite struct RecipientTests {
    let db: TestDatabase
    let store: DirectoryStore

    init() throws {
        db = try TestDatabase()
        store = try db.open()
    }

    @Test func storesEveryAttributeUnderItsADName() throws {
        var attributes: [RecipientAttribute: String] = [:]
        for attribute in RecipientAttribute.allCases { attributes[attribute] = String(attribute.adName.prefix(attribute.maximumLength)) }
        let added = try store.addRecipient(Recipient(alias: "jdoe", attributes: attributes, source: "fabrikam"))
        let read = try #require(try store.recipient(alias: "JDOE"))
        #expect(read == added)
        #expect(read.attributes == attributes)
        #expect(read.source == "fabrikam")
        #expect(read.isPolicyManaged)
    }

    @Test func aliasesAreUniqueWhateverTheCase() throws {
        try store.addRecipient(Recipient(alias: "jdoe"))
        let error = try expectRefusedWithoutWriting(store) { try store.addRecipient(Recipient(alias: "JDoe")) }
        #expect(error?.description == "recipient jdoe already exists")
    }

    @Test(arguments: ["", "john doe", ".jdoe", "j..doe", String(repeating: "a", count: 65), "jdoe@contoso.com"])
    func anInvalidAliasIsRefused(alias: String) throws {
        try expectRefusedWithoutWriting(store) { try store.addRecipient(Recipient(alias: alias)) }
    }

    @Test func aValueLongerThanTheDirectoryAllowsIsRefusedNamingTheField() throws {
        let error = try expectRefusedWithoutWriting(store) {
            try store.addRecipient(Recipient(alias: "x", attributes: [.initials: "ABCDEFG"]))
        }
        #expect(error?.description == "initials of x is 7 characters long; the directory allows 6")
    }

    @Test func lengthsCountCharactersNotBytes() throws {
        // 64 letters with umlauts: 128 UTF-8 bytes, 64 characters, as AD counts.
        try store.addRecipient(Recipient(alias: "x", attributes: [.givenName: String(repeating: "ü", count: 64)]))
    }

    @Test func aContactNeedsATargetAndOnlyContactsHaveOne() throws {
        try expectRefusedWithoutWriting(store) { try store.addRecipient(Recipient(alias: "c", kind: .contact)) }
        try expectRefusedWithoutWriting(store) {
            try store.addRecipient(Recipient(alias: "m", kind: .mailbox, targetAddress: try EmailAddress(parsing: "m@fabrikam.com")))
        }
        let contact = try store.addRecipient(Recipient(alias: "c", kind: .contact, targetAddress: try EmailAddress(parsing: "Carol@Fabrikam.com")))
        #expect(contact.targetAddress?.description == "Carol@fabrikam.com")
    }

    @Test func updateChangesFieldsAndKeepsAddresses() throws {
        try store.addRecipient(Recipient(alias: "jdoe", attributes: [.company: "Contoso"], addresses: [try ProxyAddress(parsing: "SMTP:jdoe@contoso.com")]))
        let updated = try store.updateRecipient(alias: "jdoe") { r in
            r.attributes[.company] = "Fabrikam"
            r.attributes[.department] = "Sales"
            r.isPolicyManaged = false
            r.addresses = []  // ignored: addresses change only through the address methods
        }
        #expect(updated.attributes == [.company: "Fabrikam", .department: "Sales"])
        #expect(!updated.isPolicyManaged)
        #expect(updated.addresses.map(\.description) == ["SMTP:jdoe@contoso.com"])
        #expect(try store.recipient(alias: "jdoe") == updated)
    }

    @Test func anUpdateThatBreaksARuleWritesNothing() throws {
        try store.addRecipient(Recipient(alias: "jdoe"))
        try expectRefusedWithoutWriting(store) {
            try store.updateRecipient(alias: "jdoe") { r in r.kind = .contact }
        }
    }

    @Test func unknownRecipientsAreNotFound() throws {
        let error = try expectRefusedWithoutWriting(store) { try store.removeRecipient(alias: "ghost") }
        guard case .notFound? = error else { Issue.record("expected notFound"); return }
    }

    @Test func recipientsAreListedByAliasWithAddressesPrimaryFirst() throws {
        try store.addRecipient(Recipient(alias: "zed", addresses: [try ProxyAddress(parsing: "smtp:z2@contoso.com"), try ProxyAddress(parsing: "SMTP:zed@contoso.com"), try ProxyAddress(parsing: "X500:/o=Contoso/cn=zed")]))
        try store.addRecipient(Recipient(alias: "Anna"))
        try store.addRecipient(Recipient(alias: "bob"))
        let list = try store.recipients()
        #expect(list.map(\.alias) == ["Anna", "bob", "zed"])
        #expect(list[2].addresses.map(\.description) == ["SMTP:zed@contoso.com", "smtp:z2@contoso.com", "X500:/o=Contoso/cn=zed"])
    }
}
