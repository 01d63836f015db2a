import Foundation
import Testing
@testable import MailMigrations
@testable import MailStore

@Suite struct MigrationTests {
    @Test func migratesAnEmptyFileToTheLatestVersionInWALMode() throws {
        let db = try TestDatabase()
        let store = try db.open()
        #expect(try store.schemaVersion() == MailMigrations.latestVersion)
        #expect(try store.schemaVersion() >= 1)
        #expect(try store.journalMode() == "wal")
        let foreignKeys = try store.read { c in try c.cached("PRAGMA foreign_keys").first { $0.int(0) } }
        #expect(foreignKeys == 1)
        let synchronous = try store.read { c in try c.cached("PRAGMA synchronous").first { $0.int(0) } }
        #expect(synchronous == 1)  // NORMAL
    }

    @Test func firstMigrationCreatesTheDefaultPolicyWithNoTemplates() throws {
        let store = try TestDatabase().open()
        let policies = try store.policies()
        #expect(policies.count == 1)
        #expect(policies[0].name == "Default Policy")
        #expect(policies[0].isDefault)
        #expect(policies[0].priority == 1)
        #expect(policies[0].templates.isEmpty)
    }

    @Test func reopeningKeepsDataAndDoesNotMigrateAgain() throws {
        let db = try TestDatabase()
        do {
            let store = try db.open()
            try store.addDomain(.init(name: .init(stored: "contoso.com"), type: .shared))
        }
        let store = try db.open()
        #expect(try store.domains().map(\.name.name) == ["contoso.com"])
        #expect(try store.policies().count == 1, "the Default Policy must not be inserted twice")
        #expect(try store.schemaVersion() == MailMigrations.latestVersion)
    }

    @Test func refusesANewerSchemaAndLeavesTheFileUntouched() throws {
        let db = try TestDatabase()
        do {
            let store = try db.open()
            try store.write { c in try c.execute("PRAGMA user_version = 999") }
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: db.path))
        let error = #expect(throws: StoreError.self) { try db.open() }
        guard case .schemaTooNew(_, let found, let supported)? = error else {
            Issue.record("expected schemaTooNew, got \(String(describing: error))")
            return
        }
        #expect(found == 999)
        #expect(supported == MailMigrations.latestVersion)
        #expect(error?.isConfiguration == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: db.path)) == before)
    }

    @Test(arguments: [
        Data("this is a mail log, not a database\n".utf8),
        Data(repeating: 0xAB, count: 8192),
        Data("SQLite format 3\0".utf8) + Data(repeating: 0xFF, count: 4096),
    ])
    func refusesAFileThatIsNotADatabaseAndLeavesItUntouched(content: Data) throws {
        let db = try TestDatabase()
        try content.write(to: URL(fileURLWithPath: db.path))
        let error = #expect(throws: StoreError.self) { try db.open() }
        guard case .notADatabase? = error else {
            Issue.record("expected notADatabase, got \(String(describing: error))")
            return
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: db.path)) == content)
        #expect(!FileManager.default.fileExists(atPath: db.path + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: db.path + "-shm"))
    }

    @Test func refusesAnotherApplicationsSQLiteDatabase() throws {
        let db = try TestDatabase()
        let other = try Connection(path: db.path)
        try other.execute("CREATE TABLE mail_log (line TEXT); INSERT INTO mail_log VALUES ('x');")
        let error = #expect(throws: StoreError.self) { try db.open() }
        guard case .notADatabase? = error else {
            Issue.record("expected notADatabase, got \(String(describing: error))")
            return
        }
        let rows = try other.cached("SELECT count(*) FROM mail_log").first { $0.int(0) }
        #expect(rows == 1)
        #expect(try other.cached("PRAGMA user_version").first { $0.int(0) } == 0)
    }

    @Test func createsTheFileReadableByOwnerAndGroupOnly() throws {
        let db = try TestDatabase()
        _ = try db.open()
        let attributes = try FileManager.default.attributesOfItem(atPath: db.path)
        let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
        #expect(mode & 0o007 == 0, "others must have no access, mode is \(String(mode, radix: 8))")
    }

    /// v0007 rebuilds proxy_address keyed by (address, type): a directory written by v0006
    /// keeps every address, its type, its owner and which one is primary, and the rules the
    /// old table enforced still hold on the new one.
    @Test func addressKeyedTableKeepsADirectoryWrittenBeforeIt() throws {
        let db = try TestDatabase()
        do {
            let old = try Connection(path: db.path)
            for migration in MailMigrations.all where migration.version <= 6 { try old.execute(migration.sql) }
            try old.execute("""
                PRAGMA user_version = 6;
                INSERT INTO recipient (alias, kind) VALUES ('anna', 'mailbox');
                INSERT INTO recipient (alias, kind, target_address) VALUES ('partner', 'contact', 'p@fabrikam.com');
                INSERT INTO proxy_address (recipient_id, type, address, is_primary) VALUES
                    (1, 'SMTP', 'Anna.Berg@contoso.com', 1), (1, 'SMTP', 'anna@contoso.local', 0),
                    (1, 'X400', 'c=US;a= ;p=Contoso;s=Berg;', 1), (2, 'SMTP', 'partner@contoso.com', 1);
                """)
        }
        let store = try db.open()
        #expect(try store.schemaVersion() == MailMigrations.latestVersion)
        let anna = try #require(try store.recipient(alias: "anna"))
        #expect(anna.addresses.map(\.description) == ["SMTP:Anna.Berg@contoso.com", "smtp:anna@contoso.local", "X400:c=US;a= ;p=Contoso;s=Berg;"])
        #expect(try store.recipient(alias: "partner")?.addresses.map(\.description) == ["SMTP:partner@contoso.com"])
        let mailboxes = try store.read { c in try c.cached("SELECT address, maildir FROM postfix_mailbox").map { "\($0.text(0)) \($0.text(1))" } }
        #expect(mailboxes.sorted() == ["Anna.Berg@contoso.com anna/", "anna@contoso.local anna/"])
        try store.write { c in
            // Unique whatever the letter case, one primary per type, owners must exist.
            #expect(throws: SQLiteError.self) { try c.execute("INSERT INTO proxy_address VALUES (2, 'SMTP', 'ANNA.BERG@CONTOSO.COM', 0)") }
            #expect(throws: SQLiteError.self) { try c.execute("INSERT INTO proxy_address VALUES (1, 'SMTP', 'second@contoso.com', 1)") }
            #expect(throws: SQLiteError.self) { try c.execute("INSERT INTO proxy_address VALUES (99, 'SMTP', 'ghost@contoso.com', 0)") }
        }
    }

    /// Every file in Migrations/sql is registered, in order, versions 1…N with no gap.
    @Test func everyMigrationFileIsRegisteredInOrder() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Migrations/sql")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.count == MailMigrations.all.count)
        for (index, migration) in MailMigrations.all.enumerated() {
            #expect(migration.version == index + 1)
            let expected = String(format: "v%04d_%@.sql", migration.version, migration.name)
            #expect(files.contains(expected), "\(expected) is registered but not in Migrations/sql")
            let text = try String(contentsOf: folder.appendingPathComponent(expected), encoding: .utf8)
            #expect(text == migration.sql, "the embedded \(expected) differs from the file")
        }
    }

    /// The migrated schema equals Fixtures/schema.sql (regenerate with scripts/dump-schema).
    @Test func migratedSchemaMatchesTheReference() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/schema.sql")
        let expected = try String(contentsOf: fixture, encoding: .utf8)
        let store = try TestDatabase().open()
        let actual = try store.read { c in
            try c.cached("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name").map { $0.text(0) + ";\n" }.joined()
        }
        #expect(actual == expected)
    }
}
