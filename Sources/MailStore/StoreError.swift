/// Why the directory refused or failed an operation, phrased for the operator.
///
/// Classified once here so each edge (CLI exit status, socketmap reply) maps it without
/// inspecting SQLite codes: `isTransient` is Postfix's DICT_ERR_RETRY, `isConfiguration`
/// its DICT_ERR_CONFIG, anything else is bad data or a refused change.
package enum StoreError: Error, Sendable, CustomStringConvertible {
    /// libsqlite3 failed in a way we did not translate.
    case sqlite(SQLiteError)
    /// The file's schema is newer than this binary; nothing was changed.
    case schemaTooNew(path: String, found: Int, supported: Int)
    /// The file exists but is not a SQLite database, or not one of ours; nothing was changed.
    case notADatabase(path: String, reason: String)
    /// The database could not be opened or created.
    case cannotOpen(path: String, reason: String)
    /// The named object does not exist.
    case notFound(String)
    /// The change would break a rule of the directory (a duplicate, a second primary, …).
    case refused(String)
    /// A stored value this binary cannot read (written by hand with sqlite3, past the
    /// schema's looser CHECK): reported, never a crash of a long-running server.
    case unreadable(String)

    package var description: String {
        switch self {
        case .sqlite(let error):
            if error.isTransient { return "the database is busy or locked (\(error.message)); try again" }
            return error.description
        case .schemaTooNew(let path, let found, let supported):
            return "\(path): schema version \(found) is newer than this mailns supports (\(supported)); use a newer mailns. The file was not changed"
        case .notADatabase(let path, let reason):
            return "\(path): \(reason); the file was not changed"
        case .cannotOpen(let path, let reason):
            return "\(path): cannot open the database: \(reason)"
        case .notFound(let message), .refused(let message):
            return message
        case .unreadable(let message):
            return "the directory holds a value this mailns cannot read: \(message)"
        }
    }

    /// Busy, locked or I/O: the same request may succeed later (exit 75, socketmap TEMP).
    package var isTransient: Bool {
        if case .sqlite(let error) = self { return error.isTransient }
        return false
    }

    /// The database itself is unusable by this binary (exit 78, socketmap PERM).
    package var isConfiguration: Bool {
        switch self {
        case .schemaTooNew, .notADatabase, .cannotOpen, .unreadable: true
        default: false
        }
    }
}
