import MailCore

/// What `addAddress` did.
package enum AddressChange: Sendable, Equatable {
    /// Added as given.
    case added
    /// Added, and made primary because the recipient had no address of that type.
    case addedAsFirstPrimary
    /// Added as primary; the previous primary became a secondary.
    case addedReplacingPrimary(previous: ProxyAddress)
    /// The recipient already had it as a secondary; now it is the primary.
    case promoted(previous: ProxyAddress?)
    /// The recipient already had it exactly so.
    case unchanged
}

extension DirectoryStore {
    private static let selectOwner = """
        SELECT r.id, r.alias, a.type, a.address, a.is_primary FROM proxy_address AS a
        JOIN recipient AS r ON r.id = a.recipient_id WHERE a.type = ? AND a.address = ?
        """
    static let insertAddressRow = "INSERT INTO proxy_address (recipient_id, type, address, is_primary) VALUES (?, ?, ?, ?)"
    private static let setPrimaryFlag = "UPDATE proxy_address SET is_primary = ? WHERE address = ? AND type = ?"
    private static let selectPrimary = "SELECT type, address, is_primary FROM proxy_address WHERE recipient_id = ? AND type = ? AND is_primary = 1"
    private static let countOfType = "SELECT count(*) FROM proxy_address WHERE recipient_id = ? AND type = ?"
    private static let deleteAddress = "DELETE FROM proxy_address WHERE address = ? AND type = ?"

    /// Who owns an address: recipient id and alias, and the address row as stored (its value,
    /// in the stored letter case, and type are the row's key).
    struct AddressOwner {
        let recipientID: Int64
        let alias: String
        let address: ProxyAddress
    }

    static func owner(_ db: Connection, type: String, value: String) throws -> AddressOwner? {
        try db.cached(selectOwner).bind(type, value).first { row in
            AddressOwner(recipientID: row.int64(0), alias: row.text(1), address: proxyAddress(row, from: 2))
        }
    }

    /// The owner of `address`, as a short sentence for errors.
    private static func takenMessage(_ owner: AddressOwner) -> String {
        "address \(owner.address) already belongs to recipient \(owner.alias)"
    }

    /// Adds `address` to the recipient. A primary (`SMTP:`) address demotes the current primary
    /// of its type; the first address of a type becomes primary whatever its prefix, so every
    /// type in use keeps exactly one primary. Refused when another recipient owns the address.
    @discardableResult
    package func addAddress(_ address: ProxyAddress, to alias: String, actor: AddressActor = .manual) throws -> AddressChange {
        try write { db in
            let stored = try Self.requireRecipient(db, alias: alias)
            let alias = stored.recipient.alias
            let batchID = Self.makeBatchID()
            if let owner = try Self.owner(db, type: address.type, value: address.value) {
                guard owner.recipientID == stored.id else { throw StoreError.refused(Self.takenMessage(owner)) }
                if owner.address.isPrimary || !address.isPrimary { return .unchanged }
                let previous = try Self.makePrimary(db, owner, alias: alias, actor: actor, batchID: batchID)
                return .promoted(previous: previous)
            }
            let current = try Self.primary(db, recipientID: stored.id, type: address.type)
            var toInsert = address
            let change: AddressChange
            switch (current, address.kind) {
            case (nil, _):
                toInsert.kind = .primary
                change = address.isPrimary ? .added : .addedAsFirstPrimary
            case (let old?, .primary):
                try Self.demote(db, old, recipientID: stored.id, alias: alias, actor: actor, batchID: batchID)
                change = .addedReplacingPrimary(previous: old.address)
            case (_, .secondary):
                change = .added
            }
            try Self.insertAddress(db, toInsert, recipientID: stored.id, alias: alias, actor: actor, batchID: batchID)
            return change
        }
    }

    /// Makes an address the recipient already has its primary of that type; returns the
    /// address that was primary before, or nil when it already was the primary.
    @discardableResult
    package func setPrimary(type: String, value: String, for alias: String, actor: AddressActor = .manual) throws -> ProxyAddress? {
        try write { db in
            let stored = try Self.requireRecipient(db, alias: alias)
            guard let owner = try Self.owner(db, type: type, value: value) else {
                throw StoreError.notFound("recipient \(stored.recipient.alias) has no address \(type.lowercased()):\(value)")
            }
            guard owner.recipientID == stored.id else { throw StoreError.refused(Self.takenMessage(owner)) }
            if owner.address.isPrimary { return nil }
            return try Self.makePrimary(db, owner, alias: stored.recipient.alias, actor: actor, batchID: Self.makeBatchID())
        }
    }

    /// Removes an address from the recipient. The primary of a type cannot be removed while
    /// other addresses of that type remain: make one of them primary first.
    package func removeAddress(type: String, value: String, from alias: String, actor: AddressActor = .manual) throws {
        try write { db in
            let stored = try Self.requireRecipient(db, alias: alias)
            guard let owner = try Self.owner(db, type: type, value: value), owner.recipientID == stored.id else {
                throw StoreError.notFound("recipient \(stored.recipient.alias) has no address \(type.lowercased()):\(value)")
            }
            if owner.address.isPrimary {
                let count = try db.cached(Self.countOfType).bind(stored.id, type).first { $0.int(0) } ?? 0
                if count > 1 {
                    throw StoreError.refused("\(owner.address) is the primary \(type) address of \(stored.recipient.alias); make another address primary first")
                }
            }
            try db.cached(Self.deleteAddress).bind(owner.address.value, owner.address.type).run()
            try Self.recordHistory(db, recipientID: stored.id, alias: stored.recipient.alias, action: .removed, address: owner.address, actor: actor, batchID: Self.makeBatchID())
        }
    }

    // MARK: - Shared steps (inside a write transaction)

    static func insertAddress(_ db: Connection, _ address: ProxyAddress, recipientID: Int64, alias: String, actor: AddressActor, batchID: String) throws {
        if let owner = try owner(db, type: address.type, value: address.value) {
            throw StoreError.refused(takenMessage(owner))
        }
        try db.cached(insertAddressRow).bind(recipientID, address.type, address.value, address.isPrimary).run()
        try recordHistory(db, recipientID: recipientID, alias: alias, action: .added, address: address, actor: actor, batchID: batchID)
    }

    static func primary(_ db: Connection, recipientID: Int64, type: String) throws -> AddressOwner? {
        try db.cached(selectPrimary).bind(recipientID, type).first { row in
            AddressOwner(recipientID: recipientID, alias: "", address: proxyAddress(row, from: 0))
        }
    }

    static func demote(_ db: Connection, _ old: AddressOwner, recipientID: Int64, alias: String, actor: AddressActor, batchID: String) throws {
        try db.cached(setPrimaryFlag).bind(false, old.address.value, old.address.type).run()
        var demoted = old.address
        demoted.kind = .secondary
        try recordHistory(db, recipientID: recipientID, alias: alias, action: .demoted, address: demoted, actor: actor, batchID: batchID)
    }

    /// Demotes the current primary of the owner's type (the partial unique index allows one
    /// primary at a time, so demote first), then promotes the owner's address.
    static func makePrimary(_ db: Connection, _ owner: AddressOwner, alias: String, actor: AddressActor, batchID: String) throws -> ProxyAddress? {
        let old = try primary(db, recipientID: owner.recipientID, type: owner.address.type)
        if let old { try demote(db, old, recipientID: owner.recipientID, alias: alias, actor: actor, batchID: batchID) }
        try db.cached(setPrimaryFlag).bind(true, owner.address.value, owner.address.type).run()
        var promoted = owner.address
        promoted.kind = .primary
        try recordHistory(db, recipientID: owner.recipientID, alias: alias, action: .promoted, address: promoted, actor: actor, batchID: batchID)
        return old?.address
    }

    /// Checks a new recipient's address list: no address twice, at most one primary per type;
    /// the first address of a type with no primary becomes primary.
    package static func normalizedAddressList(_ addresses: [ProxyAddress], alias: String) throws -> [ProxyAddress] {
        var seen: Set<String> = []
        var primaries: [String: ProxyAddress] = [:]
        for address in addresses {
            guard seen.insert(address.type + ":" + address.key).inserted else {
                throw StoreError.refused("address \(address.value) is given twice for recipient \(alias)")
            }
            if address.isPrimary {
                if let first = primaries[address.type] {
                    throw StoreError.refused("recipient \(alias) cannot have two primary \(address.type) addresses (\(first.value) and \(address.value))")
                }
                primaries[address.type] = address
            }
        }
        var result = addresses
        for index in result.indices where primaries[result[index].type] == nil {
            primaries[result[index].type] = result[index]
            result[index].kind = .primary
        }
        return result
    }
}
