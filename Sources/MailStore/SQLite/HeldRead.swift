#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A read transaction a lookup service keeps open between lookups while nobody commits.
///
/// Every statement outside a transaction opens and closes its own WAL read transaction, and in
/// SQLite's unix VFS that is two `fcntl` locks and an `fstat`: more than the lookup itself costs
/// on a virtual machine. Kept open, those go away; kept correct, it is reused only while the
/// WAL-index header (the first 48 bytes of the `-shm` file, https://sqlite.org/walformat.html)
/// is byte for byte what it was before the transaction began. Every commit rewrites that header
/// (its change counter and checksums), so a lookup after any commit opens a new snapshot: the
/// next lookup still sees every change. The owner also ends it on a timer, so an idle server
/// never holds back a checkpoint for long.
final class HeldRead {
    private static let headerLength = 48
    private let header: UnsafeRawPointer
    private var saved: InlineArray<6, UInt64> = .init(repeating: 0)
    private(set) var isOpen = false

    /// Maps the WAL index of the database at `path`; nil when there is none to map (not WAL).
    init?(databasePath path: String) {
        // SQLite names the WAL index after the database file a symlink points to.
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        let fd = open(String(cString: real) + "-shm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_size >= Self.headerLength else { return nil }
        guard let base = mmap(nil, Self.headerLength, PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED else { return nil }
        header = UnsafeRawPointer(base)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: header), Self.headerLength) }

    private func current() -> InlineArray<6, UInt64> {
        // Another process writes this memory: fence so the loads are not reordered or reused.
        atomicMemoryFence(ordering: .acquiring)
        var words = InlineArray<6, UInt64>(repeating: 0)
        for i in 0..<6 { words[i] = header.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) }
        return words
    }

    private static func same(_ a: InlineArray<6, UInt64>, _ b: InlineArray<6, UInt64>) -> Bool {
        for i in 0..<6 where a[i] != b[i] { return false }
        return true
    }

    /// Makes sure a transaction of the newest committed state is open on `db`.
    func prepare(_ db: Connection) throws {
        if isOpen {
            if Self.same(current(), saved) { return }
            try end(db)
        }
        // The header is read before the snapshot begins: if a commit slips in between, the
        // snapshot is newer than the saved header, and the next lookup only reopens once more.
        let before = current()
        try db.cached("BEGIN").run()
        isOpen = true
        saved = before
    }

    func end(_ db: Connection) throws {
        isOpen = false
        if db.isInTransaction { try db.cached("COMMIT").run() }
    }
}
