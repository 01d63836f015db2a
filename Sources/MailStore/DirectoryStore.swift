internal import CSQLite
internal import MailMigrations
import MailCore

#if canImport(Glibc)
import Glibc
#endif

/// The directory: accepted domains, recipients and their proxy addresses, recipient policies,
/// connectors and server settings, in one SQLite file.
///
/// ## Opening
/// `init(path:)` creates the file if needed (mode 0640: it names every user), refuses a file
/// that is not a SQLite database or whose schema is newer than this binary (leaving it
/// untouched), then sets WAL, `synchronous=NORMAL`, `foreign_keys=ON`, a busy timeout, and
/// applies pending migrations, each in its own transaction.
///
/// ## Concurrency
/// One connection per store, guarded by a mutex; one store per process. Several processes
/// (the CLI, `mailns serve`) share the file through WAL: readers see the last committed
/// state and never block the writer; writers queue on the busy timeout.
///
/// ## Errors
/// Every method throws `StoreError`; absence in a lookup is `nil`, not an error.
package final class DirectoryStore: Sendable {
    /// How long a writer waits for another process's write lock before reporting busy.
    package static let busyTimeoutMilliseconds: Int32 = 5_000

    package let path: String
    /// Serialises all use of `connection` (opened NOMUTEX). The connection itself is not
    /// Sendable; it is only touched while this lock is held.
    private let lock = ConnectionLock()
    private nonisolated(unsafe) let connection: Connection
    /// Set by `holdReadsBetweenLookups()`; guarded by `lock`, like the connection.
    private nonisolated(unsafe) var heldRead: HeldRead?

    package init(path: String) throws {
        self.path = path
        self.connection = try Self.open(path: path)
    }

    /// Runs `body` in a read transaction: one consistent snapshot, even while another
    /// process commits.
    func read<T>(_ body: (Connection) throws -> T) throws -> T {
        try translatingErrors {
            try withConnection { db in try db.transaction(.deferred) { try body(db) } }
        }
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction; any error rolls everything back, so a
    /// refused change leaves the database exactly as it was.
    func write<T>(_ body: (Connection) throws -> T) throws -> T {
        try translatingErrors {
            try withConnection { db in try db.transaction(.immediate) { try body(db) } }
        }
    }

    /// The schema version of the open database.
    package func schemaVersion() throws -> Int {
        try read { db in try db.cached("PRAGMA user_version").first { $0.int(0) } ?? 0 }
    }

    static func changeMarker(dataVersion: Int64, _ db: Connection) -> Int64 {
        dataVersion &* 1_000_003 &+ Int64(db.totalChanges)
    }

    // The recipient owning an SMTP address; the change marker is read while this statement's
    // snapshot is open, so the resolver's fast path needs no BEGIN and COMMIT. The address is
    // the key of proxy_address (v0007), so the lookup reads that table's B-tree and the
    // recipient's row, nothing else. Mail goes mostly to primaries; for them the
    // primary is the row itself, no second probe, and callers that need no primary skip it
    // but for a remote recipient, whose mail may go on as its primary (spec row 4).
    private static let routedLookup = """
        SELECT r.alias, r.kind, r.target_address,
               CASE WHEN a.is_primary THEN a.address ELSE
                   (SELECT p.address FROM proxy_address AS p WHERE p.recipient_id = r.id AND p.type = 'SMTP' AND p.is_primary = 1)
               END
        FROM proxy_address AS a JOIN recipient AS r ON r.id = a.recipient_id
        WHERE a.address = ?1 AND a.type = 'SMTP'
        """
    private static let routedLookupWithoutPrimary = """
        SELECT r.alias, r.kind, r.target_address,
               CASE WHEN r.kind <> 'remote' THEN NULL WHEN a.is_primary THEN a.address ELSE
                   (SELECT p.address FROM proxy_address AS p WHERE p.recipient_id = r.id AND p.type = 'SMTP' AND p.is_primary = 1)
               END
        FROM proxy_address AS a JOIN recipient AS r ON r.id = a.recipient_id
        WHERE a.address = ?1 AND a.type = 'SMTP'
        """

    /// The recipient owning `address` (any letter case) and the change marker of the snapshot
    /// it was read from (see `DirectoryTransaction.changeMarker`), in one read. Without
    /// `withPrimary` the recipient's `primary` is nil (one index probe less for a secondary),
    /// except for a remote recipient, whose mail the resolver may forward as its primary.
    package func routedRecipient(_ address: EmailAddress, withPrimary: Bool = true) throws -> (marker: Int64, recipient: RoutedRecipient?) {
        try translatingErrors {
            try withLookupConnection { db in try Self.routedRecipient(db, address, withPrimary: withPrimary) { ($0, $1) } }
        }
    }

    /// Runs the routed lookup and hands `body` the change marker (read while the statement's
    /// snapshot is open) and the recipient.
    static func routedRecipient<T>(
        _ db: Connection, _ address: EmailAddress, withPrimary: Bool = true, _ body: (Int64, RoutedRecipient?) -> T
    ) throws -> T {
        try db.cached(withPrimary ? routedLookup : routedLookupWithoutPrimary).bind(address.description).firstWithinSnapshot { row in
            body(
                changeMarker(dataVersion: db.dataVersion, db),
                row.map { row in
                    RoutedRecipient(
                        alias: row.text(0), kind: row.value(1, as: RecipientKind.self), primary: row.optionalText(3),
                        targetAddress: row.optionalText(2).map(EmailAddress.init(stored:)))
                })
        }
    }

    /// The change marker of the newest committed state (see `DirectoryTransaction.changeMarker`),
    /// read without a transaction: it moves whenever anyone commits.
    package func changeMarker() throws -> Int64 {
        try translatingErrors {
            try withLookupConnection { db in
                try db.cached("PRAGMA schema_version").firstWithinSnapshot { _ in Self.changeMarker(dataVersion: db.dataVersion, db) }
            }
        }
    }

    /// Reads through a memory map of up to 256 MB from now on. For lookup-heavy readers (the
    /// resolver): a lookup touches three B-trees, and copying each page out of the kernel with
    /// pread cost more than the search. Not for bulk writers: mapped pages count as resident
    /// memory, and a policy run over a million recipients would touch them all.
    package func enableMemoryMappedReads() throws {
        try translatingErrors { try withConnection { db in try db.execute("PRAGMA mmap_size = 268435456") } }
    }

    /// Tunes this connection for a long-running lookup service: how long a read waits for a
    /// lock before failing (a service answers "try again" rather than stall its callers), and
    /// the page cache's size in KiB (each connection has its own; the OS page cache is shared).
    package func configureForLookups(busyTimeoutMilliseconds: Int32, cacheKibibytes: Int) throws {
        precondition(busyTimeoutMilliseconds >= 0 && cacheKibibytes > 0)
        try translatingErrors {
            try withConnection { db in
                db.setBusyTimeout(milliseconds: busyTimeoutMilliseconds)
                try db.execute("PRAGMA cache_size = -\(cacheKibibytes)")
            }
        }
    }

    private static let bareAddressLookup = "SELECT recipient_id FROM proxy_address WHERE address = ?"

    /// The floor of scripts/bench: one bare point lookup on the address index, in autocommit
    /// through this wrapper, with nothing built around it. Not for production paths.
    package func benchmarkPointLookup(_ address: String) throws -> Int64? {
        try translatingErrors {
            try withConnection { db in try db.cached(Self.bareAddressLookup).bind(address).first { $0.int64(0) } }
        }
    }

    /// The journal mode SQLite reports (`wal` once opened).
    package func journalMode() throws -> String {
        try translatingErrors {
            try withConnection { db in try db.cached("PRAGMA journal_mode").first { $0.text(0) } ?? "" }
        }
    }

    /// From now on, lookups (`routedRecipient`, `changeMarker`) share one read transaction for
    /// as long as nobody commits (see `HeldRead`): for a lookup service, where opening a read
    /// transaction per lookup costs more than the lookup. Anything else this store does ends
    /// that transaction first; so does `releaseHeldRead()`, which the owner calls on a timer.
    package func holdReadsBetweenLookups() throws {
        try translatingErrors {
            try withConnection { db in
                // A first read makes sure the WAL index exists before it is mapped.
                _ = try db.cached("PRAGMA schema_version").first { $0.int(0) }
                heldRead = HeldRead(databasePath: path)
            }
        }
    }

    /// Ends the read transaction lookups share, if one is open, so the snapshot does not hold
    /// back a checkpoint.
    package func releaseHeldRead() throws {
        try translatingErrors { try withConnection { _ in } }
    }

    func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        try lock.withLock {
            if let heldRead, heldRead.isOpen { try heldRead.end(connection) }
            return try body(connection)
        }
    }

    /// For lookups: inside the held read transaction when there is one (opening a newer one if
    /// anybody committed), else a statement of its own.
    private func withLookupConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        try lock.withLock {
            guard let heldRead else { return try body(connection) }
            do {
                try heldRead.prepare(connection)
                return try body(connection)
            } catch {
                // A failed read (busy, I/O) may leave the transaction in any state: start over.
                try? heldRead.end(connection)
                throw error
            }
        }
    }

    func translatingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SQLiteError {
            // A constraint the schema enforces (a duplicate, a CHECK, a trigger's RAISE) is a
            // refused change, not a failure; the message is SQLite's or the trigger's own.
            if error.primaryCode == SQLiteError.constraint { throw StoreError.refused(error.message) }
            throw StoreError.sqlite(error)
        }
    }

    // MARK: - Opening and migrating

    private static func open(path: String) throws -> Connection {
        // SQLite would open these as a private temporary database: everything written is lost.
        guard !path.isEmpty, path != ":memory:" else {
            throw StoreError.cannotOpen(path: path.isEmpty ? "''" : path, reason: "a database file is needed (nothing written to a temporary database is kept)")
        }
        try createIfMissing(path: path)
        let db: Connection
        do {
            db = try Connection(path: path)
        } catch {
            throw StoreError.cannotOpen(path: path, reason: error.message)
        }
        db.setBusyTimeout(milliseconds: busyTimeoutMilliseconds)

        // Look before changing anything: a foreign or too-new file must be left exactly as it was.
        let version: Int
        let objectCount: Int
        let ourTables: Int
        do {
            // One statement, one snapshot: read apart, another process's first migration could
            // commit in between and make a new file look like a foreign database.
            (version, objectCount, ourTables) = try db.cached(Self.selectIdentity).first { ($0.int(0), $0.int(1), $0.int(2)) } ?? (0, 0, 0)
        } catch let error as SQLiteError {
            if error.primaryCode == SQLiteError.notADatabase {
                throw StoreError.notADatabase(path: path, reason: "not a SQLite database")
            }
            throw error.isTransient ? StoreError.sqlite(error) : StoreError.cannotOpen(path: path, reason: error.message)
        }
        if version > MailMigrations.latestVersion {
            throw StoreError.schemaTooNew(path: path, found: version, supported: MailMigrations.latestVersion)
        }
        if version == 0 && objectCount > 0 {
            throw StoreError.notADatabase(path: path, reason: "a SQLite database, but not a MailNamespace directory (it has tables and no schema version)")
        }
        // Another program's file may number its schema too: ours has had these tables since v0001.
        if version > 0 && ourTables < Self.firstTables.count {
            throw StoreError.notADatabase(path: path, reason: "a SQLite database with schema version \(version), but not a MailNamespace directory")
        }

        do {
            try enableWAL(db)
            try db.execute("PRAGMA synchronous = NORMAL")
            try db.execute("PRAGMA foreign_keys = ON")
            // 64 MB of page cache (allocated only as used): policy runs over a million
            // recipients touch index pages all over the file, and the default 2 MB thrashes.
            try db.execute("PRAGMA cache_size = -65536")
            try migrate(db)
        } catch let error as SQLiteError {
            throw StoreError.sqlite(error)
        }
        return db
    }

    /// Tables every MailNamespace directory has had since migration v0001.
    private static let firstTables = ["accepted_domain", "recipient_policy", "recipient", "proxy_address", "connector"]
    /// The schema version, how many objects the schema has, and how many of `firstTables`.
    private static let selectIdentity = """
        SELECT user_version, (SELECT count(*) FROM sqlite_schema),
               (SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN (\(firstTables.map { "'\($0)'" }.joined(separator: ", "))))
        FROM pragma_user_version
        """

    /// Switches the file to WAL (persistent once set). The switch needs an exclusive lock and
    /// SQLite reports busy at once rather than waiting, so when several processes open a new
    /// file together, retry until one of them has switched it, within the busy timeout.
    private static func enableWAL(_ db: Connection) throws {
        let pause: Int32 = 20  // milliseconds
        for attempt in 0...(busyTimeoutMilliseconds / pause) {
            let mode = try db.cached("PRAGMA journal_mode").first { $0.text(0).lowercased() } ?? ""
            if mode == "wal" || mode == "memory" { return }
            do {
                try db.execute("PRAGMA journal_mode = WAL")
            } catch {
                let transient = error.isTransient && attempt < busyTimeoutMilliseconds / pause
                if !transient { throw error }
            }
            usleep(useconds_t(pause) * 1000)
        }
        throw SQLiteError(code: SQLiteError.busy, message: "could not switch the database to WAL mode", sql: "PRAGMA journal_mode = WAL")
    }

    /// Creates a missing database file readable by owner and group only; SQLite gives its
    /// -wal and -shm files the same mode.
    private static func createIfMissing(path: String) throws {
        let fd = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o640)
        if fd >= 0 {
            close(fd)
        } else if errno != EEXIST {
            throw StoreError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Applies every migration newer than `user_version`, one transaction each. Another process
    /// may be migrating the same file: the version is re-read under the write lock.
    private static func migrate(_ db: Connection) throws {
        // Up to date (the usual case): no write lock, so opening never waits behind a writer.
        let version = try db.cached("PRAGMA user_version").first { $0.int(0) } ?? 0
        for migration in MailMigrations.all where migration.version > version {
            try db.transaction(.immediate) {
                let current = try db.cached("PRAGMA user_version").first { $0.int(0) } ?? 0
                guard current < migration.version else { return }
                precondition(current == migration.version - 1, "migration \(migration.version) applied out of order")
                try db.execute(migration.sql)
                let violations = try db.cached("PRAGMA foreign_key_check").first { _ in true } ?? false
                if violations {
                    throw SQLiteError(code: SQLiteError.constraintForeignKey, message: "migration \(migration.version) \(migration.name) left foreign key violations", sql: nil)
                }
                // An integer of our own registry, not input: PRAGMA takes no parameters.
                try db.execute("PRAGMA user_version = \(migration.version)")
            }
        }
    }
}
