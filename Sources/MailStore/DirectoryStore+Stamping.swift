import MailCore

extension DirectoryStore {
    private static let demotePrimary = "UPDATE proxy_address SET is_primary = 0 WHERE recipient_id = ? AND type = ? AND is_primary = 1"
    private static let promoteAddress = "UPDATE proxy_address SET is_primary = 1 WHERE recipient_id = ? AND type = ? AND address = ?"
    private static let setStampingPolicy = """
        UPDATE recipient SET stamped_by_policy_id = (SELECT id FROM recipient_policy WHERE name = ?) WHERE id = ?
        """

    /// Writes a batch of stamps: first every address change (demotions before promotions and
    /// additions, per recipient: the partial unique index allows one primary per type at any
    /// moment), then every history line. Two passes keep each pass on one table's pages,
    /// which is measurably faster than alternating between the tables row by row. The caller
    /// has checked collisions in this same transaction, so a UNIQUE failure here is a bug and
    /// rolls the batch back.
    static func writeStamps(_ db: Connection, _ stamps: [AddressStamp], batchID: String, at: String) throws {
        for stamp in stamps {
            let id = stamp.record.id
            if let demoted = stamp.demoted {
                try db.cached(demotePrimary).bind(id, demoted.type).run()
            }
            if let promoted = stamp.promoted {
                try db.cached(promoteAddress).bind(id, promoted.type, promoted.value).run()
                precondition(db.changes == 1, "promoted address \(promoted) is not the recipient's")
            }
            for address in stamp.added {
                try db.cached(insertAddressRow).bind(id, address.type, address.value, address.isPrimary).run()
            }
            if stamp.updatesStampingPolicy {
                try db.cached(setStampingPolicy).bind(stamp.policy, id).run()
            }
        }
        // History lines many to a statement (`RowBuffer`); the addresses above stay one row to
        // a statement, which measured faster for a table keyed by address.
        var history = try historyRows(db, batchID: batchID, at: at)
        for stamp in stamps {
            let id = stamp.record.id
            let alias = stamp.record.recipient.alias
            let actor = AddressActor.policy(stamp.policy)
            if let demoted = stamp.demoted {
                try history.add(recipientID: id, alias: alias, action: .demoted, address: demoted, actor: actor)
            }
            if let promoted = stamp.promoted {
                try history.add(recipientID: id, alias: alias, action: .promoted, address: promoted, actor: actor)
            }
            for address in stamp.added {
                try history.add(recipientID: id, alias: alias, action: .added, address: address, actor: actor)
            }
        }
        try history.flush()
    }
}
