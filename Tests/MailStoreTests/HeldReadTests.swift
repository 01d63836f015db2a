import Testing
import MailCore
@testable import MailStore

/// `holdReadsBetweenLookups`: lookups share one read transaction, and still see every commit.
@Suite struct HeldReadTests {
    private func address(_ text: String) throws -> EmailAddress { try EmailAddress(parsing: text) }

    @Test("a held lookup sees every commit made by another connection, on the very next lookup")
    func everyCommitIsSeenByTheNextLookup() throws {
        let db = try TestDatabase()
        let writer = try db.open()
        let server = try db.open()
        try server.holdReadsBetweenLookups()
        #expect(try server.routedRecipient(try address("a@contoso.com")).recipient == nil)
        for round in 1...20 {
            try writer.addRecipient(Recipient(alias: "r\(round)", addresses: [try ProxyAddress(parsing: "SMTP:r\(round)@contoso.com")]))
            #expect(try server.routedRecipient(try address("R\(round)@Contoso.com")).recipient?.alias == "r\(round)", "round \(round)")
            try writer.removeRecipient(alias: "r\(round)")
            #expect(try server.routedRecipient(try address("r\(round)@contoso.com")).recipient == nil, "round \(round)")
        }
    }

    @Test("the change marker moves with each commit while reads are held, and stands still without one")
    func changeMarkerFollowsCommits() throws {
        let db = try TestDatabase()
        let writer = try db.open()
        let server = try db.open()
        try server.holdReadsBetweenLookups()
        let first = try server.changeMarker()
        #expect(try server.changeMarker() == first)
        try writer.setDNSDelivery(false)
        let second = try server.changeMarker()
        #expect(second != first)
        #expect(try server.settings().isDNSDeliveryEnabled == false)
        #expect(try server.changeMarker() == second)
    }

    @Test("a held read does not stop the writer; once released, a checkpoint empties the WAL")
    func releasingLetsACheckpointFinish() throws {
        let db = try TestDatabase()
        let writer = try db.open()
        let server = try db.open()
        try server.holdReadsBetweenLookups()
        _ = try server.routedRecipient(try address("x@contoso.com"))
        // The writer commits while the server's snapshot is open (WAL readers never block it).
        try writer.addRecipient(Recipient(alias: "w", addresses: [try ProxyAddress(parsing: "SMTP:w@contoso.com")]))
        try server.releaseHeldRead()
        let checkpointer = try Connection(path: db.path)
        let busy = try checkpointer.cached("PRAGMA wal_checkpoint(TRUNCATE)").first { $0.int(0) }
        #expect(busy == 0, "the checkpoint was blocked by a snapshot the server had released")
        #expect(try server.routedRecipient(try address("w@contoso.com")).recipient?.alias == "w")
    }
}
