import MailCore

extension RecipientAttribute {
    /// The `recipient` table's column for this attribute.
    var column: String {
        switch self {
        case .givenName: "given_name"
        case .sn: "sn"
        case .initials: "initials"
        case .displayName: "display_name"
        case .company: "company"
        case .department: "department"
        case .title: "title"
        case .physicalDeliveryOfficeName: "office"
        default: "extension_attribute_" + rawValue.dropFirst("extensionAttribute".count)
        }
    }
}

/// A recipient row with its database id, for use inside one transaction.
struct StoredRecipient {
    let id: Int64
    var recipient: Recipient
}

extension DirectoryStore {
    // Column lists come from our own attribute table, never from input.
    private static let attributes = RecipientAttribute.allCases
    static let recipientColumns =
        "r.id, r.alias, r.kind, r.target_address, r.policy_managed, r.source, p.name, "
        + attributes.map { "r.\($0.column)" }.joined(separator: ", ")
    private static let firstAttributeColumn: Int32 = 7
    static let recipientFrom = "FROM recipient AS r LEFT JOIN recipient_policy AS p ON p.id = r.stamped_by_policy_id"

    private static let selectRecipientByAlias = "SELECT \(recipientColumns) \(recipientFrom) WHERE r.alias = ?"
    private static let selectRecipientByAddress = """
        SELECT \(recipientColumns) \(recipientFrom)
        JOIN proxy_address AS a ON a.recipient_id = r.id WHERE a.type = ? AND a.address = ?
        """
    private static let selectAllRecipients = "SELECT \(recipientColumns) \(recipientFrom) ORDER BY r.alias"
    /// Primary SMTP first, then SMTP secondaries, then other types, each group by address.
    static let addressOrder = "type <> 'SMTP', type, is_primary DESC, address"
    private static let selectAddresses = "SELECT type, address, is_primary FROM proxy_address WHERE recipient_id = ? ORDER BY \(addressOrder)"
    private static let selectAllAddresses = "SELECT recipient_id, type, address, is_primary FROM proxy_address ORDER BY recipient_id, \(addressOrder)"

    static let insertRecipient =
        "INSERT INTO recipient (alias, kind, target_address, policy_managed, source, "
        + attributes.map(\.column).joined(separator: ", ") + ") VALUES (?, ?, ?, ?, ?"
        + String(repeating: ", ?", count: attributes.count) + ")"
    /// The same with the stamping policy, by name (an import knows its winner before the insert).
    static let insertStampedRecipient =
        "INSERT INTO recipient (alias, kind, target_address, policy_managed, source, "
        + attributes.map(\.column).joined(separator: ", ") + ", stamped_by_policy_id) VALUES (?, ?, ?, ?, ?"
        + String(repeating: ", ?", count: attributes.count) + ", (SELECT id FROM recipient_policy WHERE name = ?))"
    static let updateRecipient =
        "UPDATE recipient SET alias = ?, kind = ?, target_address = ?, policy_managed = ?, source = ?, "
        + attributes.map { "\($0.column) = ?" }.joined(separator: ", ") + " WHERE id = ?"
    private static let deleteRecipient = "DELETE FROM recipient WHERE id = ?"

    /// The longest `source` name; AD-sized like the other short attributes.
    package static let maximumSourceLength = 64

    // MARK: - Queries

    /// The recipient with this alias (case-insensitive), or nil.
    package func recipient(alias: String) throws -> Recipient? {
        try read { db in try Self.storedRecipient(db, alias: alias)?.recipient }
    }

    /// The recipient owning this SMTP address (any letter case), or nil.
    package func recipient(owning address: EmailAddress) throws -> Recipient? {
        try read { db in
            guard let row = try db.cached(Self.selectRecipientByAddress).bind(ProxyAddress.smtp, address.description).first(Self.recipientRow)
            else { return nil }
            return try Self.withAddresses(db, row).recipient
        }
    }

    /// Every recipient, by alias, with its addresses.
    package func recipients() throws -> [Recipient] {
        try read { db in
            var byID: [Int64: [ProxyAddress]] = [:]
            try db.cached(Self.selectAllAddresses).forEach { row in
                byID[row.int64(0), default: []].append(Self.proxyAddress(row, from: 1))
            }
            return try db.cached(Self.selectAllRecipients).map { row in
                var stored = Self.recipientRow(row)
                stored.recipient.addresses = byID[stored.id] ?? []
                return stored.recipient
            }
        }
    }

    // MARK: - Changes

    /// Adds a recipient with the addresses it carries. Within one type, the first address
    /// becomes primary when none is marked primary. Refused, with nothing written, when the
    /// alias or any address is taken or the recipient breaks a rule of the directory.
    @discardableResult
    package func addRecipient(_ recipient: Recipient, actor: AddressActor = .manual) throws -> Recipient {
        try write { db in try Self.insertRecipient(db, recipient, actor: actor).recipient }
    }

    /// Inserts a recipient and its addresses inside the caller's write transaction.
    static func insertRecipient(_ db: Connection, _ recipient: Recipient, actor: AddressActor) throws -> StoredRecipient {
        try validate(recipient)
        if let existing = try storedRecipient(db, alias: recipient.alias) {
            throw StoreError.refused("recipient \(existing.recipient.alias) already exists")
        }
        let addresses = try normalizedAddressList(recipient.addresses, alias: recipient.alias)
        var row = recipient
        row.stampedByPolicy = nil  // set only by stamping
        try db.cached(insertRecipient).bind(rowValues(row)).run()
        let id = db.lastInsertRowID
        let batchID = makeBatchID()
        for address in addresses {
            try insertAddress(db, address, recipientID: id, alias: recipient.alias, actor: actor, batchID: batchID)
        }
        return try withAddresses(db, StoredRecipient(id: id, recipient: row))
    }

    // Keyset pagination on the alias index: `alias > ?1` ('' before the first page) and, for the
    // addresses, the page's own alias range. An `?1 IS NULL OR …` form would defeat the index
    // and turn every page into a full scan and sort.
    private static let selectPage = """
        SELECT \(recipientColumns) \(recipientFrom)
        WHERE r.alias > ?1 AND (?2 = 0 OR r.policy_managed = 1) ORDER BY r.alias LIMIT ?3
        """
    private static let selectPageAddresses = """
        SELECT a.recipient_id, a.type, a.address, a.is_primary
        FROM recipient AS r JOIN proxy_address AS a ON a.recipient_id = r.id
        WHERE r.alias > ?1 AND r.alias <= ?2 AND (?3 = 0 OR r.policy_managed = 1)
        """

    /// One page of recipients in alias order, with their addresses, for batch work.
    static func recipientPage(_ db: Connection, after alias: String?, limit: Int, policyManagedOnly: Bool) throws -> [RecipientRecord] {
        let start = alias ?? ""
        var records = try db.cached(selectPage).bind(start, policyManagedOnly, limit).map { row in
            let stored = recipientRow(row)
            return RecipientRecord(id: stored.id, recipient: stored.recipient)
        }
        guard let last = records.last?.recipient.alias else { return records }
        var index: [Int64: Int] = [:]
        index.reserveCapacity(records.count)
        for (offset, record) in records.enumerated() { index[record.id] = offset }
        try db.cached(selectPageAddresses).bind(start, last, policyManagedOnly).forEach { row in
            if let offset = index[row.int64(0)] { records[offset].recipient.addresses.append(proxyAddress(row, from: 1)) }
        }
        // Sorting a recipient's two or three addresses here is far cheaper than a temporary
        // B-tree sort of the whole page in SQL.
        for offset in records.indices where records[offset].recipient.addresses.count > 1 {
            records[offset].recipient.addresses.sort(by: isOrderedBefore)
        }
        return records
    }

    /// Changes a recipient's attributes, kind, target, policy-managed flag or source. Addresses
    /// are changed through the address methods; changes to them here are ignored.
    @discardableResult
    package func updateRecipient(alias: String, _ change: (inout Recipient) throws -> Void) throws -> Recipient {
        try write { db in try Self.updateRecipient(db, alias: alias, change).recipient }
    }

    static func updateRecipient(_ db: Connection, alias: String, _ change: (inout Recipient) throws -> Void) throws -> StoredRecipient {
        let stored = try requireRecipient(db, alias: alias)
        var updated = stored.recipient
        try change(&updated)
        updated.addresses = stored.recipient.addresses
        updated.alias = stored.recipient.alias
        updated.stampedByPolicy = stored.recipient.stampedByPolicy
        try validate(updated)
        try db.cached(updateRecipient).bind(rowValues(updated) + [stored.id]).run()
        return StoredRecipient(id: stored.id, recipient: updated)
    }

    /// Removes a recipient and its addresses; the address history keeps a `removed` line for each.
    package func removeRecipient(alias: String, actor: AddressActor = .manual) throws {
        try write { db in
            let stored = try Self.requireRecipient(db, alias: alias)
            let batchID = Self.makeBatchID()
            for address in stored.recipient.addresses {
                try Self.recordHistory(db, recipientID: stored.id, alias: stored.recipient.alias, action: .removed, address: address, actor: actor, batchID: batchID)
            }
            try db.cached(Self.deleteRecipient).bind(stored.id).run()
        }
    }

    // MARK: - Helpers shared with the address methods

    static func storedRecipient(_ db: Connection, alias: String) throws -> StoredRecipient? {
        guard let row = try db.cached(selectRecipientByAlias).bind(alias).first(recipientRow) else { return nil }
        return try withAddresses(db, row)
    }

    static func requireRecipient(_ db: Connection, alias: String) throws -> StoredRecipient {
        guard let stored = try storedRecipient(db, alias: alias) else {
            throw StoreError.notFound("no recipient with alias \(alias)")
        }
        return stored
    }

    /// The order of `addressOrder` (primary SMTP first, then SMTP secondaries, then other
    /// types; each group by address), for addresses sorted in Swift.
    static func isOrderedBefore(_ a: ProxyAddress, _ b: ProxyAddress) -> Bool {
        if a.isSMTP != b.isSMTP { return a.isSMTP }
        if a.type != b.type { return a.type < b.type }
        if a.isPrimary != b.isPrimary { return a.isPrimary }
        return a.value.lowercased() < b.value.lowercased()
    }

    static func proxyAddress(_ row: Row, from column: Int32) -> ProxyAddress {
        ProxyAddress(storedType: row.text(column), value: row.text(column + 1), kind: row.bool(column + 2) ? .primary : .secondary)
    }

    static func withAddresses(_ db: Connection, _ stored: StoredRecipient) throws -> StoredRecipient {
        var stored = stored
        stored.recipient.addresses = try db.cached(selectAddresses).bind(stored.id).map { proxyAddress($0, from: 0) }
        return stored
    }

    static func recipientRow(_ row: Row) -> StoredRecipient {
        var attributes: [RecipientAttribute: String] = Dictionary(minimumCapacity: 8)
        for (offset, attribute) in Self.attributes.enumerated() {
            if let value = row.optionalText(firstAttributeColumn + Int32(offset)) { attributes[attribute] = value }
        }
        let target = row.optionalText(3).map(EmailAddress.init(stored:))
        let recipient = Recipient(
            alias: row.text(1), kind: row.value(2, as: RecipientKind.self), attributes: attributes,
            targetAddress: target, isPolicyManaged: row.bool(4), source: row.optionalText(5),
            stampedByPolicy: row.optionalText(6))
        return StoredRecipient(id: row.int64(0), recipient: recipient)
    }

    static func rowValues(_ r: Recipient) -> [any SQLBindable] {
        var values: [any SQLBindable] = [r.alias, r.kind.rawValue, r.targetAddress?.description, r.isPolicyManaged, r.source]
        for attribute in attributes { values.append(r.attributes[attribute]) }
        return values
    }

    /// The rules of spec §1 that are about one recipient's own fields.
    package static func validate(_ r: Recipient) throws {
        do {
            try RecipientAlias.validate(r.alias)
        } catch {
            throw StoreError.refused(error.description)
        }
        for (attribute, value) in r.attributes {
            try checkText(value, field: attribute.adName, alias: r.alias, maximum: attribute.maximumLength)
        }
        if let source = r.source {
            try checkText(source, field: "source", alias: r.alias, maximum: maximumSourceLength)
        }
        switch (r.kind, r.targetAddress) {
        case (.contact, nil):
            throw StoreError.refused("contact \(r.alias) needs a target address (targetAddress)")
        case (.mailbox, .some), (.remote, .some):
            throw StoreError.refused("recipient \(r.alias) is a \(r.kind.rawValue); only contacts have a target address")
        default:
            break
        }
    }

    /// Refuses empty values, control characters and values longer than the directory allows
    /// (counted in Unicode code points, as SQLite's length() and AD count).
    private static func checkText(_ value: String, field: String, alias: String, maximum: Int) throws {
        if value.isEmpty {
            throw StoreError.refused("\(field) of \(alias) is empty; leave it out instead")
        }
        // Printable ASCII, most values of a bulk import: no control character, one scalar a byte.
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            if value.utf8.count > maximum {
                throw StoreError.refused("\(field) of \(alias) is \(value.utf8.count) characters long; the directory allows \(maximum)")
            }
            return
        }
        let length = value.unicodeScalars.count
        if length > maximum {
            throw StoreError.refused("\(field) of \(alias) is \(length) characters long; the directory allows \(maximum)")
        }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw StoreError.refused("\(field) of \(alias) contains a control character")
        }
    }
}
