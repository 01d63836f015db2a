import Testing
import MailCore
@testable import MailStore

@Suite struct ProxyAddressConstraintTests {
    let db: TestDatabase
    let store: DirectoryStore

    init() throws {
        db = try TestDatabase()
        store = try db.open()
        try store.addRecipient(Recipient(alias: "a1", addresses: [try ProxyAddress(parsing: "SMTP:a.one@contoso.com"), try ProxyAddress(parsing: "smtp:a1@contoso.local")]))
        try store.addRecipient(Recipient(alias: "b2", addresses: [try ProxyAddress(parsing: "SMTP:b.two@contoso.com")]))
    }

    @Test(arguments: ["smtp:a.one@contoso.com", "SMTP:A.ONE@CONTOSO.COM", "smtp:A.One@Contoso.Com", "smtp:A1@contoso.LOCAL"])
    func anAddressOwnedByAnotherRecipientIsRefusedInAnyLetterCase(text: String) throws {
        let error = try expectRefusedWithoutWriting(store) {
            try store.addAddress(try ProxyAddress(parsing: text), to: "b2")
        }
        guard case .refused(let message)? = error else { Issue.record("expected refused, got \(String(describing: error))"); return }
        #expect(message.contains("already belongs to recipient a1"), "\(message)")
    }

    @Test func aNewRecipientCannotTakeAnExistingAddress() throws {
        let error = try expectRefusedWithoutWriting(store) {
            try store.addRecipient(Recipient(alias: "c3", addresses: [try ProxyAddress(parsing: "SMTP:B.Two@contoso.com")]))
        }
        #expect(error?.description == "address SMTP:b.two@contoso.com already belongs to recipient b2")
    }

    @Test func twoPrimariesOfOneTypeInANewRecipientAreRefused() throws {
        try expectRefusedWithoutWriting(store) {
            try store.addRecipient(Recipient(alias: "c3", addresses: [try ProxyAddress(parsing: "SMTP:c@contoso.com"), try ProxyAddress(parsing: "SMTP:c3@contoso.com")]))
        }
    }

    @Test func theSameAddressTwiceInANewRecipientIsRefused() throws {
        try expectRefusedWithoutWriting(store) {
            try store.addRecipient(Recipient(alias: "c3", addresses: [try ProxyAddress(parsing: "SMTP:c@contoso.com"), try ProxyAddress(parsing: "smtp:C@contoso.com")]))
        }
    }

    /// The rules hold in the schema itself, whoever writes: here raw SQL, as sqlite3 by hand would.
    @Test(arguments: [
        "INSERT INTO proxy_address (recipient_id, type, address, is_primary) SELECT id, 'SMTP', 'A.ONE@contoso.com', 0 FROM recipient WHERE alias = 'b2'",
        "INSERT INTO proxy_address (recipient_id, type, address, is_primary) SELECT id, 'SMTP', 'second@contoso.com', 1 FROM recipient WHERE alias = 'a1'",
        "INSERT INTO proxy_address (recipient_id, type, address, is_primary) SELECT id, 'smtp', 'lower@contoso.com', 0 FROM recipient WHERE alias = 'a1'",
        "UPDATE proxy_address SET is_primary = 1 WHERE address = 'a1@contoso.local'",
        "INSERT INTO recipient (alias, kind) VALUES ('A1', 'mailbox')",
        "INSERT INTO recipient (alias, kind) VALUES ('x', 'contact')",
        "INSERT INTO recipient (alias, kind, target_address) VALUES ('x', 'mailbox', 'x@example.com')",
        "INSERT INTO recipient (alias, kind) VALUES ('x', 'user')",
        "INSERT INTO recipient (alias, kind, initials) VALUES ('x', 'mailbox', 'ABCDEFG')",
        "INSERT INTO accepted_domain (name, type) VALUES ('fabrikam.com', 'internal')",
        "INSERT INTO accepted_domain (name, type) VALUES ('Fabrikam.com', 'relay')",
        "DELETE FROM recipient_policy WHERE is_default = 1",
        "UPDATE recipient_policy SET filter = '(company=x)' WHERE is_default = 1",
        "INSERT INTO recipient_policy (name, priority, filter, is_default) VALUES ('Second Default', 2, '(x=*)', 1)",
        "INSERT INTO address_space (connector_id, pattern, cost) VALUES (1, 'x.com', 101)",
    ])
    func theSchemaRefusesWhatBreaksTheModel(sql: String) throws {
        try expectRefusedWithoutWriting(store) {
            try store.write { c in try c.execute(sql) }
        }
    }

    @Test func addingAPrimaryDemotesTheOldPrimaryAndRecordsBoth() throws {
        let change = try store.addAddress(try ProxyAddress(parsing: "SMTP:alice@contoso.com"), to: "a1")
        #expect(change == .addedReplacingPrimary(previous: try ProxyAddress(parsing: "SMTP:a.one@contoso.com")))
        let a1 = try #require(try store.recipient(alias: "a1"))
        #expect(a1.addresses.map(\.description) == ["SMTP:alice@contoso.com", "smtp:a.one@contoso.com", "smtp:a1@contoso.local"])
        let actions = try store.history(alias: "a1").suffix(2).map { "\($0.action.rawValue) \($0.address)" }
        #expect(actions == ["demoted smtp:a.one@contoso.com", "added SMTP:alice@contoso.com"])
    }

    @Test func theFirstAddressOfATypeBecomesPrimary() throws {
        try store.addRecipient(Recipient(alias: "c3"))
        #expect(try store.addAddress(try ProxyAddress(parsing: "smtp:c3@contoso.com"), to: "c3") == .addedAsFirstPrimary)
        #expect(try store.recipient(alias: "c3")?.addresses.map(\.description) == ["SMTP:c3@contoso.com"])
    }

    @Test func setPrimaryPromotesAnOwnedSecondary() throws {
        let previous = try store.setPrimary(type: "SMTP", value: "A1@CONTOSO.LOCAL", for: "a1")
        #expect(previous?.value == "a.one@contoso.com")
        #expect(try store.recipient(alias: "a1")?.primaryAddress()?.value == "a1@contoso.local")
    }

    @Test func setPrimaryOfAnotherRecipientsAddressIsRefused() throws {
        try expectRefusedWithoutWriting(store) { try store.setPrimary(type: "SMTP", value: "b.two@contoso.com", for: "a1") }
    }

    @Test func thePrimaryCannotBeRemovedWhileSecondariesRemain() throws {
        try expectRefusedWithoutWriting(store) { try store.removeAddress(type: "SMTP", value: "a.one@contoso.com", from: "a1") }
        try store.removeAddress(type: "SMTP", value: "a1@contoso.local", from: "a1")
        try store.removeAddress(type: "SMTP", value: "a.one@contoso.com", from: "a1")
        #expect(try store.recipient(alias: "a1")?.addresses == [])
        #expect(try store.history(alias: "a1").last?.action == .removed)
    }

    @Test func lookupByAddressIgnoresLetterCase() throws {
        let found = try store.recipient(owning: EmailAddress(parsing: "A.ONE@Contoso.Com"))
        #expect(found?.alias == "a1")
        #expect(try store.recipient(owning: EmailAddress(parsing: "nobody@contoso.com")) == nil)
    }

    @Test func removingARecipientKeepsItsHistory() throws {
        try store.removeRecipient(alias: "a1")
        #expect(try store.recipient(alias: "a1") == nil)
        let history = try store.history(alias: "a1")
        #expect(history.filter { $0.action == .removed }.count == 2)
        // Its addresses are free again.
        try store.addAddress(try ProxyAddress(parsing: "smtp:a.one@contoso.com"), to: "b2")
    }
}
