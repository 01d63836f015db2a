import Glibc
import MailCore

/// One thing `check` found wrong with the database.
package struct CheckFinding: Sendable, Equatable {
    /// Which check found it: `integrity`, `foreign-keys`, `one-primary`, `unique-address`,
    /// `history`, `policy-priorities`.
    package let check: String
    package let message: String
}

extension DirectoryStore {
    private static let typesWithoutOnePrimary = """
        SELECT r.alias, a.type, sum(a.is_primary) FROM proxy_address AS a JOIN recipient AS r ON r.id = a.recipient_id
        GROUP BY a.recipient_id, a.type HAVING sum(a.is_primary) <> 1 ORDER BY r.alias, a.type
        """
    private static let duplicateAddresses = """
        SELECT type, address COLLATE NOCASE, count(*) FROM proxy_address GROUP BY type, address COLLATE NOCASE HAVING count(*) > 1
        """
    /// Addresses whose latest history line is missing, says `removed`, or gives another primary
    /// flag (the prefix's case) than the address has.
    private static let addressesWithoutHistory = """
        SELECT r.alias, a.type, a.address, a.is_primary, h.action, h.address
        FROM proxy_address AS a JOIN recipient AS r ON r.id = a.recipient_id
        LEFT JOIN address_history AS h ON h.id = (
            SELECT max(id) FROM address_history AS x
            WHERE x.recipient_id = a.recipient_id AND x.type = a.type
              AND substr(x.address, length(x.type) + 2) = a.address COLLATE NOCASE)
        WHERE h.id IS NULL OR h.action = 'removed'
           OR (substr(h.address, 1, length(h.type)) = upper(h.type)) <> (a.is_primary = 1)
        ORDER BY r.alias
        """
    /// History that says an address is there (its latest line is not `removed`) for a
    /// recipient that no longer has it.
    private static let historyWithoutAddresses = """
        SELECT h.alias, h.address FROM address_history AS h
        WHERE h.recipient_id IS NOT NULL AND h.action <> 'removed'
          AND h.id = (SELECT max(id) FROM address_history AS x WHERE x.recipient_id = h.recipient_id AND x.type = h.type
                      AND substr(x.address, length(x.type) + 2) = substr(h.address, length(h.type) + 2) COLLATE NOCASE)
          AND NOT EXISTS (SELECT 1 FROM proxy_address AS a WHERE a.recipient_id = h.recipient_id AND a.type = h.type
                          AND a.address = substr(h.address, length(h.type) + 2) COLLATE NOCASE)
        ORDER BY h.alias
        """
    private static let priorities = "SELECT priority FROM recipient_policy ORDER BY priority"

    /// Every finding of SQLite's integrity and foreign-key checks and of the spec's invariants
    /// (one primary per type, unique addresses, the history agrees with the addresses, policy
    /// priorities 1..N); empty when all is well. One read snapshot.
    package func check(limit: Int = 1_000) throws -> [CheckFinding] {
        try read { db in
            var findings: [CheckFinding] = []
            func add(_ check: String, _ message: String) {
                if findings.count < limit { findings.append(CheckFinding(check: check, message: message)) }
            }
            try db.cached("PRAGMA integrity_check").forEach { row in
                let text = row.text(0)
                if text != "ok" { add("integrity", text) }
            }
            try db.cached("PRAGMA foreign_key_check").forEach { row in
                add("foreign-keys", "table \(row.text(0)) row \(row.int64(1)) refers to a missing row of \(row.text(2))")
            }
            try db.cached(Self.typesWithoutOnePrimary).forEach { row in
                add("one-primary", "recipient \(row.text(0)) has \(row.int(2)) primary \(row.text(1)) addresses; it must have exactly one")
            }
            try db.cached(Self.duplicateAddresses).forEach { row in
                add("unique-address", "\(row.text(0).lowercased()):\(row.text(1)) is held \(row.int(2)) times")
            }
            try db.cached(Self.addressesWithoutHistory).forEach { row in
                let address = (row.bool(3) ? row.text(1) : row.text(1).lowercased()) + ":" + row.text(2)
                if let action = row.optionalText(4) {
                    add("history", "recipient \(row.text(0)) has \(address), but its last history line is \(action) \(row.text(5))")
                } else {
                    add("history", "recipient \(row.text(0)) has \(address), which its history never added")
                }
            }
            try db.cached(Self.historyWithoutAddresses).forEach { row in
                add("history", "the history of \(row.text(0)) says it has \(row.text(1)), but it does not")
            }
            let priorities = try db.cached(Self.priorities).map { $0.int(0) }
            if priorities != Array(stride(from: 1, through: priorities.count, by: 1)) {
                add("policy-priorities", "recipient policy priorities are \(priorities.map(String.init).joined(separator: ", ")), not 1 to \(priorities.count)")
            }
            return findings
        }
    }

    /// Writes a consistent copy of the database to `path` (SQLite's `VACUUM INTO`: one read
    /// snapshot, so writers and lookups go on meanwhile). The copy is created readable by its
    /// owner and group only, like the database; an existing file is never overwritten.
    package func backup(to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw StoreError.refused("cannot create the backup \(path): \(reason)")
        }
        close(fd)
        do {
            try translatingErrors { try withConnection { db in try db.cached("VACUUM INTO ?").bind(path).run() } }
        } catch {
            unlink(path)
            throw error
        }
    }
}
