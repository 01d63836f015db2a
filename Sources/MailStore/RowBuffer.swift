/// Rows bound for one table, written many to a statement: `INSERT OR ROLLBACK … VALUES (…), (…)`.
///
/// A multi-row INSERT that may fail half-way makes SQLite keep a statement journal to undo its
/// first rows, and that cost more than the statements it saved (measured on policy runs). With
/// `OR ROLLBACK` a failure ends the whole transaction instead, and with the transaction's
/// foreign keys deferred to COMMIT nothing is left that needs the journal.
/// Both fit the callers: they have checked every row in this same transaction, so a failure is
/// our bug, and it must roll the batch back anyway. Making a buffer defers the foreign keys,
/// so no caller can forget it. The last rows, fewer than a full statement, go one at a time
/// through the caller's single-row INSERT.
struct RowBuffer {
    static let rowsPerStatement = 64
    private let db: Connection
    private let columns: Int
    private let singleRow: String
    private let manyRows: String
    private var values: [any SQLBindable] = []

    /// `into` is the table and its columns, "t (a, b)" (our SQL, never input); `singleRow` the
    /// statement for one row, with its `columns` parameters in the same order. Defers the
    /// foreign keys of `db`'s open transaction to its COMMIT (SQLite resets this when the
    /// transaction ends).
    init(_ db: Connection, into table: String, columns: Int, singleRow: String) throws {
        try db.cached("PRAGMA defer_foreign_keys = ON").run()
        self.db = db
        self.columns = columns
        self.singleRow = singleRow
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        manyRows = "INSERT OR ROLLBACK INTO \(table) VALUES "
            + Array(repeating: row, count: Self.rowsPerStatement).joined(separator: ", ")
        values.reserveCapacity(columns * Self.rowsPerStatement)
    }

    mutating func append(_ row: any SQLBindable...) throws {
        precondition(row.count == columns, "a row of \(row.count) values for \(columns) columns")
        values.append(contentsOf: row)
        if values.count == columns * Self.rowsPerStatement {
            try db.cached(manyRows).bind(values).run()
            values.removeAll(keepingCapacity: true)
        }
    }

    /// Writes the rows still held.
    mutating func flush() throws {
        var start = 0
        while start < values.count {
            try db.cached(singleRow).bind(Array(values[start..<(start + columns)])).run()
            start += columns
        }
        values.removeAll(keepingCapacity: true)
    }
}
