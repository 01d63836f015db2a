internal import CSQLite

/// A value to bind to a `?` parameter. Only the types our schema uses (STRICT tables: INTEGER, TEXT).
enum SQLValue: Sendable {
    case integer(Int64)
    case text(String)
    case null
}

protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension Int: SQLBindable { var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int64: SQLBindable { var sqlValue: SQLValue { .integer(self) } }
extension Bool: SQLBindable { var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension String: SQLBindable { var sqlValue: SQLValue { .text(self) } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// A prepared statement. Reused through `Connection.cached(_:)`; each use rebinds all parameters.
///
/// Not thread-safe: owned by one `Connection`, which its `DirectoryStore` guards with a mutex.
final class Statement {
    let handle: OpaquePointer
    let sql: String
    private unowned let connection: Connection
    /// Text parameters are copied here and bound SQLITE_STATIC: SQLite then keeps no copy of
    /// its own (a malloc and memcpy per parameter with SQLITE_TRANSIENT, which showed in
    /// policy runs' profiles). Valid until the next `bind`, which resets the statement first.
    private var scratch: UnsafeMutableRawBufferPointer = .init(start: nil, count: 0)

    init(connection: Connection, sql: String) throws(SQLiteError) {
        var handle: OpaquePointer?
        let rc = sqlite3_prepare_v3(connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard rc == SQLITE_OK, let handle else {
            throw connection.error(sql: sql)
        }
        self.handle = handle
        self.sql = sql
        self.connection = connection
    }

    deinit {
        sqlite3_finalize(handle)
        scratch.deallocate()
    }

    /// Resets the statement and binds `values` to parameters 1…n. A count mismatch is our bug.
    @discardableResult
    func bind(_ values: any SQLBindable...) -> Statement {
        bind(values)
    }

    @discardableResult
    func bind(_ values: [any SQLBindable]) -> Statement {
        sqlite3_reset(handle)
        precondition(Int(sqlite3_bind_parameter_count(handle)) == values.count, "wrong parameter count for `\(sql)`")
        let sqlValues = values.map(\.sqlValue)
        var textBytes = 0
        for case .text(let text) in sqlValues { textBytes += text.utf8.count + 1 }
        if scratch.count < textBytes {
            scratch.deallocate()
            scratch = .allocate(byteCount: max(textBytes, 2 * scratch.count, 256), alignment: 1)
        }
        var offset = 0
        for (position, value) in sqlValues.enumerated() {
            let index = Int32(position + 1)
            let rc: Int32
            switch value {
            case .integer(let v):
                rc = sqlite3_bind_int64(handle, index, v)
            case .text(let v):
                let start = scratch.baseAddress! + offset
                let count = v.utf8.count
                var text = v
                text.withUTF8 { bytes in
                    if let base = bytes.baseAddress { start.copyMemory(from: base, byteCount: count) }
                }
                offset += count + 1
                rc = sqlite3_bind_text(handle, index, start.assumingMemoryBound(to: CChar.self), Int32(count), nil)  // nil: SQLITE_STATIC
            case .null:
                rc = sqlite3_bind_null(handle, index)
            }
            precondition(rc == SQLITE_OK, "bind failed (\(rc)) for `\(sql)`")
        }
        return self
    }

    /// Runs a statement that returns no rows.
    func run() throws(SQLiteError) {
        defer { sqlite3_reset(handle) }
        while try step() {}
    }

    /// Calls `body` for each row. The row is valid only inside the call.
    func forEach(_ body: (Row) throws -> Void) throws {
        defer { sqlite3_reset(handle) }
        while try step() { try body(Row(handle: handle)) }
    }

    /// Maps every row.
    func map<T>(_ transform: (Row) throws -> T) throws -> [T] {
        var result: [T] = []
        try forEach { result.append(try transform($0)) }
        return result
    }

    /// Maps the first row, or returns nil when there is none.
    func first<T>(_ transform: (Row) throws -> T) throws -> T? {
        defer { sqlite3_reset(handle) }
        guard try step() else { return nil }
        return try transform(Row(handle: handle))
    }

    /// Steps once and calls `body` with the row (nil when there is none) while the statement's
    /// read transaction is still open, so `body` may read per-snapshot connection state.
    func firstWithinSnapshot<T>(_ body: (Row?) throws -> T) throws -> T {
        defer { sqlite3_reset(handle) }
        return try body(try step() ? Row(handle: handle) : nil)
    }

    /// True while a row is available; false when done.
    private func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(sql: sql)
        }
    }
}

/// The current row of a stepping statement. Column indexes are 0-based, as in the SELECT list.
struct Row {
    fileprivate let handle: OpaquePointer

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func bool(_ column: Int32) -> Bool { sqlite3_column_int64(handle, column) != 0 }

    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    var columnCount: Int32 { sqlite3_column_count(handle) }

    /// A TEXT column holding a raw value our schema's CHECK constraint guarantees; anything
    /// else is corruption, so it traps.
    func value<T: RawRepresentable>(_ column: Int32, as type: T.Type) -> T where T.RawValue == String {
        let raw = text(column)
        guard let value = T(rawValue: raw) else { preconditionFailure("unexpected stored value '\(raw)' for \(T.self)") }
        return value
    }
}
