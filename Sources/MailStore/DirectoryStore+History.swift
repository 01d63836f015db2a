import MailCore

/// Who changed an address, as the address history records it.
package enum AddressActor: Sendable, Equatable {
    /// An operator, through `mailns address …` or `recipient …`.
    case manual
    /// A bulk import; the name is the import's source.
    case `import`(source: String?)
    /// A recipient policy, by name.
    case policy(String)

    var kind: String {
        switch self {
        case .manual: "manual"
        case .import: "import"
        case .policy: "policy"
        }
    }

    var name: String? {
        switch self {
        case .manual: nil
        case .import(let source): source
        case .policy(let name): name
        }
    }
}

/// One line of a recipient's address history.
package struct AddressHistoryEntry: Sendable, Equatable {
    package enum Action: String, Sendable { case added, promoted, demoted, removed }

    package let alias: String
    package let action: Action
    /// Written with its prefix as it stood after the change (`SMTP:` once promoted).
    package let address: String
    package let actor: String
    package let actorName: String?
    package let batchID: String
    package let at: String
}

extension DirectoryStore {
    /// A fresh identifier grouping the history rows of one change (one command, one batch).
    package static func makeBatchID() -> String {
        let high = UInt64.random(in: .min ... .max)
        let text = String(high, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }

    // `at` defaults to now; batch writers pass one timestamp for the whole transaction, which
    // is both what happened (one commit) and cheaper than strftime per row.
    private static let insertHistory = """
        INSERT INTO address_history (recipient_id, alias, action, type, address, actor, actor_name, batch_id, at)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?9, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))
        """
    /// History lines of one batch, written many to a statement (see `RowBuffer`); `flush()`
    /// before the transaction commits.
    package struct HistoryRows {
        fileprivate var rows: RowBuffer
        let batchID: String
        let at: String

        mutating func add(recipientID: Int64, alias: String, action: AddressHistoryEntry.Action, address: ProxyAddress, actor: AddressActor) throws {
            try rows.append(recipientID, alias, action.rawValue, address.type, address.description, actor.kind, actor.name, batchID, at)
        }

        package mutating func flush() throws { try rows.flush() }
    }

    /// Defers the transaction's foreign keys to COMMIT (see `RowBuffer`).
    static func historyRows(_ db: Connection, batchID: String, at: String) throws -> HistoryRows {
        let table = "address_history (recipient_id, alias, action, type, address, actor, actor_name, batch_id, at)"
        return HistoryRows(rows: try RowBuffer(db, into: table, columns: 9, singleRow: insertHistory), batchID: batchID, at: at)
    }

    static let currentTimestamp = "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

    static func recordHistory(
        _ db: Connection, recipientID: Int64, alias: String, action: AddressHistoryEntry.Action,
        address: ProxyAddress, actor: AddressActor, batchID: String, at: String? = nil
    ) throws {
        try db.cached(insertHistory)
            .bind(recipientID, alias, action.rawValue, address.type, address.description, actor.kind, actor.name, batchID, at)
            .run()
    }

    private static let selectHistory = """
        SELECT alias, action, address, actor, actor_name, batch_id, at FROM address_history
        WHERE alias = ? COLLATE NOCASE ORDER BY id
        """

    /// Every recorded change to the addresses of the recipient with this alias, oldest first,
    /// including changes made before the recipient was removed.
    package func history(alias: String) throws -> [AddressHistoryEntry] {
        try read { db in
            try db.cached(Self.selectHistory).bind(alias).map { row in
                AddressHistoryEntry(
                    alias: row.text(0), action: row.value(1, as: AddressHistoryEntry.Action.self),
                    address: row.text(2), actor: row.text(3), actorName: row.optionalText(4),
                    batchID: row.text(5), at: row.text(6))
            }
        }
    }
}
