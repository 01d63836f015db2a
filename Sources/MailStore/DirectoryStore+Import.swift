import MailCore

/// What an import did to one existing recipient.
package enum ImportUpdate: Sendable, Equatable {
    case unchanged
    case updated
}

extension DirectoryTransaction {
    private static let selectByImportKey = "SELECT r.alias FROM import_key AS k JOIN recipient AS r ON r.id = k.recipient_id WHERE k.name = ? AND k.value = ?"
    private static let insertImportKey = "INSERT OR IGNORE INTO import_key (name, value, recipient_id) VALUES (?, ?, ?)"
    private static let selectAddressOwner = """
        SELECT r.id, r.alias FROM proxy_address AS a JOIN recipient AS r ON r.id = a.recipient_id WHERE a.type = ? AND a.address = ?
        """
    private static let clearStampedBy = "UPDATE recipient SET stamped_by_policy_id = NULL WHERE id = ?"
    private static let selectDisplayNames = "SELECT alias, display_name, company FROM recipient WHERE display_name IS NOT NULL"
    private static let selectAddressesHolding = """
        SELECT r.alias, r.source, a.type, a.address, a.is_primary FROM proxy_address AS a JOIN recipient AS r ON r.id = a.recipient_id
        WHERE instr(a.address, ?) > 0 ORDER BY r.alias
        """

    /// The recipient an earlier import matched on key `name` (not the alias) with `value`.
    package func recipient(importKey name: String, value: String) throws -> RecipientRecord? {
        guard let alias = try db.cached(Self.selectByImportKey).bind(name, value).first({ $0.text(0) }) else { return nil }
        return try recipient(alias: alias)
    }

    /// Who holds the proxy address `type:value` (any letter case): id and alias, or nil.
    package func addressOwner(type: String, value: String) throws -> (id: Int64, alias: String)? {
        try db.cached(Self.selectAddressOwner).bind(type, value).first { ($0.int64(0), $0.text(1)) }
    }

    /// Every recipient with a display name, for the merge report's "same display name in the
    /// same company" check (one scan, not one per record).
    package func displayNames() throws -> [(alias: String, displayName: String, company: String?)] {
        try db.cached(Self.selectDisplayNames).map { ($0.text(0), $0.text(1), $0.optionalText(2)) }
    }

    /// Every proxy address whose value holds `text`, with its recipient's alias and source, in
    /// alias order (export's check for addresses CSV cannot write: one scan, not one per page).
    package func addresses(holding text: String) throws -> [(alias: String, source: String?, address: ProxyAddress)] {
        try db.cached(Self.selectAddressesHolding).bind(text).map {
            ($0.text(0), $0.optionalText(1), ProxyAddress(storedType: $0.text(2), value: $0.text(3), kind: $0.int64(4) != 0 ? .primary : .secondary))
        }
    }

    /// A buffer for the history lines of new recipients (`createImported`), flushed by the
    /// caller before the transaction ends. Defers this transaction's foreign keys to COMMIT.
    package func historyRows(batchID: String) throws -> DirectoryStore.HistoryRows {
        precondition(isWriting, "historyRows in a read transaction")
        return try DirectoryStore.historyRows(db, batchID: batchID, at: timestamp)
    }

    /// Creates an imported recipient with its addresses; their history lines go to `history`
    /// (written when the caller flushes it). The caller has checked it: fields valid
    /// (`DirectoryStore.validate`), addresses normalised (`normalizedAddressList`) and free,
    /// alias free. `key` is remembered for the next import when it is not the alias.
    /// `stampedBy` names the policy about to stamp it in this transaction: written with the
    /// row, it saves an UPDATE per recipient (a tenth of a large import's time); the caller
    /// clears it if the stamp fails (`clearStampingPolicy`).
    package func createImported(
        _ recipient: Recipient, key: (name: String, value: String)?, actor: AddressActor,
        history: inout DirectoryStore.HistoryRows, stampedBy policy: String? = nil
    ) throws -> RecipientRecord {
        precondition(isWriting, "createImported in a read transaction")
        var row = recipient
        row.stampedByPolicy = policy
        if let policy {
            try db.cached(DirectoryStore.insertStampedRecipient).bind(DirectoryStore.rowValues(row) + [policy]).run()
        } else {
            try db.cached(DirectoryStore.insertRecipient).bind(DirectoryStore.rowValues(row)).run()
        }
        let id = db.lastInsertRowID
        for address in row.addresses {
            try db.cached(DirectoryStore.insertAddressRow).bind(id, address.type, address.value, address.isPrimary).run()
        }
        for address in row.addresses {
            try history.add(recipientID: id, alias: row.alias, action: .added, address: address, actor: actor)
        }
        if let key { try db.cached(Self.insertImportKey).bind(key.name, key.value, id).run() }
        return RecipientRecord(id: id, recipient: row)
    }

    /// Whether a recipient's primary of `type` is its policy's to choose, not an import's:
    /// SMTP of a policy-managed recipient (policy templates generate SMTP addresses only, so
    /// for X500, SIP, EUM… the file's primary is the only one anyone says).
    package static func policyOwnsPrimary(of recipient: Recipient, type: String) -> Bool {
        recipient.isPolicyManaged && type == ProxyAddress.smtp
    }

    /// Undoes `createImported(stampedBy:)` for a recipient its policy could not stamp.
    package func clearStampingPolicy(recipientID: Int64) throws {
        precondition(isWriting, "clearStampingPolicy in a read transaction")
        try db.cached(Self.clearStampedBy).bind(recipientID).run()
    }

    /// Brings an existing recipient in line with an imported record: `fields` replaces its
    /// attributes, kind, target, source and policy-managed flag (the caller merged them);
    /// each of `addresses` it lacks is added, never one removed. A primary in the file becomes
    /// primary, except an SMTP one of a policy-managed recipient: its policy owns the SMTP
    /// primary (Exchange's rule; templates generate only SMTP), and the file's is kept as a
    /// secondary, so a re-import after the policy ran changes nothing. Returns the recipient
    /// as it now is.
    package func updateImported(
        _ existing: RecipientRecord, fields: Recipient, addresses: [ProxyAddress], key: (name: String, value: String)?,
        actor: AddressActor, batchID: String
    ) throws -> (record: RecipientRecord, change: ImportUpdate) {
        precondition(isWriting, "updateImported in a read transaction")
        let id = existing.id
        var current = existing.recipient
        var changed = false
        var updated = fields
        updated.alias = current.alias
        updated.stampedByPolicy = current.stampedByPolicy
        updated.addresses = current.addresses
        if updated != current {
            try db.cached(DirectoryStore.updateRecipient).bind(DirectoryStore.rowValues(updated) + [id]).run()
            current = updated
            changed = true
        }
        let alias = current.alias
        for address in addresses {
            let policyOwnsPrimary = Self.policyOwnsPrimary(of: current, type: address.type)
            if let have = current.addresses.firstIndex(where: { $0.type == address.type && $0.key == address.key }) {
                guard address.isPrimary, !current.addresses[have].isPrimary, !policyOwnsPrimary else { continue }
                guard let owner = try DirectoryStore.owner(db, type: address.type, value: address.value) else { continue }
                _ = try DirectoryStore.makePrimary(db, owner, alias: alias, actor: actor, batchID: batchID)
                for index in current.addresses.indices where current.addresses[index].type == address.type {
                    current.addresses[index].kind = index == have ? .primary : .secondary
                }
                changed = true
                continue
            }
            var toInsert = address
            let primary = current.addresses.firstIndex { $0.type == address.type && $0.isPrimary }
            if primary == nil {
                toInsert.kind = .primary
            } else if address.isPrimary && !policyOwnsPrimary, let primary,
                let old = try DirectoryStore.primary(db, recipientID: id, type: address.type)
            {
                try DirectoryStore.demote(db, old, recipientID: id, alias: alias, actor: actor, batchID: batchID)
                current.addresses[primary].kind = .secondary
            } else {
                toInsert.kind = .secondary
            }
            try db.cached(DirectoryStore.insertAddressRow).bind(id, toInsert.type, toInsert.value, toInsert.isPrimary).run()
            try DirectoryStore.recordHistory(db, recipientID: id, alias: alias, action: .added, address: toInsert, actor: actor, batchID: batchID, at: timestamp)
            current.addresses.append(toInsert)
            changed = true
        }
        if let key { try db.cached(Self.insertImportKey).bind(key.name, key.value, id).run() }
        current.addresses.sort(by: DirectoryStore.isOrderedBefore)
        return (RecipientRecord(id: id, recipient: current), changed ? .updated : .unchanged)
    }
}
