import Foundation
import Testing
@testable import MailStore

/// A fresh directory in its own temporary folder, removed when the test ends.
final class TestDatabase {
    let folder: URL
    var path: String { folder.appendingPathComponent("directory.sqlite").path }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mailns-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    func open() throws -> DirectoryStore { try DirectoryStore(path: path) }

    /// Every row of every table, as text: equal snapshots mean nothing was written.
    static func snapshot(_ store: DirectoryStore) throws -> String {
        try store.read { db in
            let tables = try db.cached("SELECT name, sql LIKE '%WITHOUT ROWID' FROM sqlite_schema WHERE type = 'table' ORDER BY name").map { ($0.text(0), $0.bool(1)) }
            var out = ""
            for (table, withoutRowID) in tables {
                out += "== \(table)\n"
                // Table names come from sqlite_schema, not input; tests only.
                // A WITHOUT ROWID table is read in primary-key order.
                let statement = try db.cached("SELECT * FROM \"\(table)\"" + (withoutRowID ? "" : " ORDER BY rowid"))
                try statement.forEach { row in
                    out += (0..<row.columnCount).map { row.optionalText($0) ?? "NULL" }.joined(separator: "|") + "\n"
                }
            }
            return out + "user_version=\(try db.cached("PRAGMA user_version").first { $0.int(0) } ?? -1)\n"
        }
    }
}

/// Runs `change`, expects it to throw a `StoreError`, and expects the database unchanged.
@discardableResult
func expectRefusedWithoutWriting(
    _ store: DirectoryStore, sourceLocation: SourceLocation = #_sourceLocation, _ change: () throws -> Void
) throws -> StoreError? {
    let before = try TestDatabase.snapshot(store)
    let error = #expect(throws: StoreError.self, sourceLocation: sourceLocation) { try change() }
    #expect(try TestDatabase.snapshot(store) == before, "the refused change wrote something", sourceLocation: sourceLocation)
    return error
}
