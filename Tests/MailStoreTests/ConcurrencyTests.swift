import Testing
import MailCore
@testable import MailStore

@Suite struct ConcurrencyTests {
    /// WAL: a reader inside a transaction keeps its snapshot while another connection commits,
    /// and sees the commit in its next transaction.
    @Test func aReaderSeesAConsistentSnapshotWhileAWriterCommits() throws {
        let db = try TestDatabase()
        let writer = try db.open()
        let reader = try db.open()
        try writer.addRecipient(Recipient(alias: "before", addresses: [try ProxyAddress(parsing: "SMTP:before@contoso.com")]))

        let (first, second) = try reader.read { c -> (Int, Int) in
            let count = "SELECT count(*) FROM recipient"
            let first = try c.cached(count).first { $0.int(0) } ?? -1
            // Commits on another connection while this read transaction is open.
            try writer.addRecipient(Recipient(alias: "during", addresses: [try ProxyAddress(parsing: "SMTP:during@contoso.com")]))
            try writer.addAddress(try ProxyAddress(parsing: "SMTP:new.primary@contoso.com"), to: "before")
            let second = try c.cached(count).first { $0.int(0) } ?? -1
            let primary = try c.cached("SELECT address FROM proxy_address WHERE is_primary = 1 ORDER BY address").map { $0.text(0) }
            #expect(primary == ["before@contoso.com"], "the reader saw a commit made after its snapshot")
            return (first, second)
        }
        #expect(first == 1)
        #expect(second == 1)
        #expect(try reader.recipients().map(\.alias) == ["before", "during"])
        #expect(try reader.recipient(alias: "before")?.primaryAddress()?.value == "new.primary@contoso.com")
    }

    /// A second process's write lock makes a writer wait for the busy timeout, then fail
    /// with a transient error (exit 75), leaving nothing half-written.
    @Test func aWriterBlockedByAnotherWriterFailsTransiently() throws {
        let db = try TestDatabase()
        let store = try db.open()
        let other = try Connection(path: db.path)
        other.setBusyTimeout(milliseconds: 0)
        try other.execute("BEGIN IMMEDIATE")
        defer { try? other.execute("ROLLBACK") }
        // Shorten the wait for the test; the production timeout is 5 s.
        try store.read { c in c.setBusyTimeout(milliseconds: 50) }
        let error = #expect(throws: StoreError.self) {
            try store.addDomain(AcceptedDomain(name: try DomainName(parsing: "contoso.com"), type: .authoritative))
        }
        #expect(error?.isTransient == true)
        try other.execute("ROLLBACK")
        try store.addDomain(AcceptedDomain(name: try DomainName(parsing: "contoso.com"), type: .authoritative))
        #expect(try store.domains().count == 1)
    }
}
