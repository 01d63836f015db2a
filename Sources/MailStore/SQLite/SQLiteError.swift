/// A failed libsqlite3 call. Carries the SQL so a log says what ran, as GRDB's DatabaseError does.
package struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The extended result code (e.g. 2067, SQLITE_CONSTRAINT_UNIQUE).
    package let code: Int32
    package let message: String
    package let sql: String?

    /// The primary result code (e.g. 19, SQLITE_CONSTRAINT).
    package var primaryCode: Int32 { code & 0xFF }

    package var description: String {
        "SQLite error \(code): \(message)" + (sql.map { " — while executing `\($0)`" } ?? "")
    }

    // Primary and extended result codes we act on. https://sqlite.org/rescode.html
    static let busy: Int32 = 5
    static let locked: Int32 = 6
    static let ioError: Int32 = 10
    static let corrupt: Int32 = 11
    static let cantOpen: Int32 = 14
    static let constraint: Int32 = 19
    static let notADatabase: Int32 = 26
    static let constraintCheck: Int32 = 275
    static let constraintForeignKey: Int32 = 787
    static let constraintTrigger: Int32 = 1811
    static let constraintUnique: Int32 = 2067
    static let constraintPrimaryKey: Int32 = 1555

    /// Busy, locked or an I/O error: trying again later may succeed.
    package var isTransient: Bool { [Self.busy, Self.locked, Self.ioError].contains(primaryCode) }
}
