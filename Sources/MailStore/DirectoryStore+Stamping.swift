import MailCore

extension DirectoryStore {
    private static let demotePrimary = "UPDATE proxy_address SET is_primary = 0 WHERE recipient_id = ? AND type = ? AND is_primary = 1"
    private static let promoteAddress = "UPDATE proxy_address SET is_primary = 1 WHERE recipient_id = ? AND type = ? AND address = ?"
    private static let insertStampedAddress = "INSERT INTO proxy_address (recipient_id, type, address, is_primary) VALUES (?, ?, ?, ?)"
    private static let setStampingPolicy = """
        UPDATE recipient SET stamped_by_policy_id = (SELECT id FROM recipient_policy WHERE name = ?) WHERE id = ?
        """

    /// Writes one recipient's stamp. The demotion comes first: the partial unique index allows
    /// one primary per type at any moment. The caller has checked collisions in this same
    /// transaction, so a UNIQUE failure here means a concurrent writer and rolls back the batch.
    static func writeStamp(_ db: Connection, _ stamp: AddressStamp, batchID: String, at: String) throws {
        let id = stamp.record.id
        let alias = stamp.record.recipient.alias
        let actor = AddressActor.policy(stamp.policy)
        if let demoted = stamp.demoted {
            try db.cached(demotePrimary).bind(id, demoted.type).run()
            try recordHistory(db, recipientID: id, alias: alias, action: .demoted, address: demoted, actor: actor, batchID: batchID, at: at)
        }
        if let promoted = stamp.promoted {
            try db.cached(promoteAddress).bind(id, promoted.type, promoted.value).run()
            precondition(db.changes == 1, "promoted address \(promoted) is not the recipient's")
            try recordHistory(db, recipientID: id, alias: alias, action: .promoted, address: promoted, actor: actor, batchID: batchID, at: at)
        }
        for address in stamp.added {
            try db.cached(insertStampedAddress).bind(id, address.type, address.value, address.isPrimary).run()
            try recordHistory(db, recipientID: id, alias: alias, action: .added, address: address, actor: actor, batchID: batchID, at: at)
        }
        if stamp.updatesStampingPolicy {
            try db.cached(setStampingPolicy).bind(stamp.policy, id).run()
        }
    }
}
