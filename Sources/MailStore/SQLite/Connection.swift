internal import CSQLite

/// One libsqlite3 connection and its statement cache.
///
/// ## Threading
/// Opened with `SQLITE_OPEN_NOMUTEX`: SQLite does no locking of its own, so the owner must
/// serialise all use (`DirectoryStore` holds it in a `Mutex`).
///
/// ## Transactions
/// `transaction(.immediate)` takes the write lock up front (`BEGIN IMMEDIATE`) so a writer never
/// fails half-way on a lock upgrade; `.deferred` reads from one consistent WAL snapshot.
/// Any error inside rolls back.
final class Connection {
    enum TransactionKind: String {
        case deferred = "BEGIN DEFERRED"
        case immediate = "BEGIN IMMEDIATE"
    }

    let handle: OpaquePointer
    let path: String
    private var statements: [String: Statement] = [:]

    /// Opens (creating if needed) the database at `path`. Configures nothing: see `DirectoryStore`.
    init(path: String, readOnly: Bool = false) throws(SQLiteError) {
        var handle: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            let code = handle.map { sqlite3_extended_errcode($0) } ?? rc
            sqlite3_close_v2(handle)
            throw SQLiteError(code: code, message: message, sql: nil)
        }
        sqlite3_extended_result_codes(handle, 1)
        self.handle = handle
        self.path = path
    }

    deinit {
        statements.removeAll()  // finalize before closing
        sqlite3_close_v2(handle)
    }

    /// The error of the last failed call on this connection.
    func error(sql: String?) -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs one or more statements of our own SQL (migrations, pragmas). Never input.
    func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        guard rc == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: text, sql: sql)
        }
    }

    /// A prepared statement for `sql`, prepared once per connection and reused.
    func cached(_ sql: String) throws(SQLiteError) -> Statement {
        if let statement = statements[sql] { return statement }
        let statement = try Statement(connection: self, sql: sql)
        statements[sql] = statement
        return statement
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes64(handle)) }
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    /// The pager's data version: changes when another connection commits. Read while a
    /// statement is stepping, it belongs to that statement's snapshot (as `PRAGMA
    /// data_version` would, without running SQL).
    var dataVersion: Int64 {
        var value: UInt32 = 0
        sqlite3_file_control(handle, "main", SQLITE_FCNTL_DATA_VERSION, &value)
        return Int64(value)
    }

    /// Rows changed by this connection since it opened: moves on every write of ours.
    var totalChanges: Int { Int(sqlite3_total_changes64(handle)) }
    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    func setBusyTimeout(milliseconds: Int32) { sqlite3_busy_timeout(handle, milliseconds) }

    /// Runs `body` in a transaction: commits if it returns, rolls back if it throws.
    func transaction<T>(_ kind: TransactionKind, _ body: () throws -> T) throws -> T {
        precondition(!isInTransaction, "nested transaction")
        // Prepared once: a resolver lookup is one short read transaction, and parsing BEGIN and
        // COMMIT each time cost as much as the lookup itself.
        try cached(kind.rawValue).run()
        do {
            let result = try body()
            try cached("COMMIT").run()
            return result
        } catch {
            // A failed COMMIT may already have ended the transaction; roll back only if one is open.
            if isInTransaction { try? cached("ROLLBACK").run() }
            throw error
        }
    }
}
