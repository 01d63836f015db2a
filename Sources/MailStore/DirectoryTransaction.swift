import MailCore

/// A recipient with the identity the store needs to change it within one transaction.
package struct RecipientRecord: Sendable {
    package let id: Int64
    package var recipient: Recipient

    package init(id: Int64, recipient: Recipient) {
        self.id = id
        self.recipient = recipient
    }
}

/// What a policy stamps on one recipient, as the store writes it (built by the caller from a
/// `StampPlan`; the store knows nothing of policies' logic).
package struct AddressStamp: Sendable {
    package let record: RecipientRecord
    package let policy: String
    package var added: [ProxyAddress] = []
    package var promoted: ProxyAddress?
    package var demoted: ProxyAddress?
    package var updatesStampingPolicy = false

    package init(record: RecipientRecord, policy: String) {
        self.record = record
        self.policy = policy
    }
}

/// Directory operations inside one open transaction, for work that reads and writes as one
/// unit (policy application, a recipient added and stamped at once). Obtained only through
/// `DirectoryStore.transaction`; never outlives it.
package struct DirectoryTransaction {
    let db: Connection
    package let isWriting: Bool
    /// When this transaction's history lines happened: one commit, one time.
    let timestamp: String

    init(db: Connection, isWriting: Bool) throws {
        self.db = db
        self.isWriting = isWriting
        timestamp = try db.cached(DirectoryStore.currentTimestamp).first { $0.text(0) } ?? ""
    }

    private static let ownerOfAddress = """
        SELECT r.alias FROM proxy_address AS a JOIN recipient AS r ON r.id = a.recipient_id
        WHERE a.address = ?1 AND a.recipient_id IS NOT ?2 LIMIT 1
        """
    private static let countManaged = "SELECT count(*) FROM recipient WHERE policy_managed = 1"
    /// The recipient owning the SMTP address `address` (any letter case), as the resolver
    /// needs it; nil when nobody does. One indexed lookup.
    package func routedRecipient(_ address: EmailAddress, withPrimary: Bool = true) throws -> RoutedRecipient? {
        try DirectoryStore.routedRecipient(db, address, withPrimary: withPrimary) { _, recipient in recipient }
    }

    /// Changes whenever the database changed: another process committed (`PRAGMA
    /// data_version`) or this store wrote. For caches of configuration that must see `mailns`
    /// changes without a restart.
    package func changeMarker() throws -> Int64 {
        // A deferred transaction has no snapshot until its first read; read the header so the
        // pager's data version is this transaction's, not the previous one's.
        _ = try db.cached("PRAGMA schema_version").first { $0.int(0) }
        return DirectoryStore.changeMarker(dataVersion: db.dataVersion, db)
    }

    package func connectors() throws -> [Connector] { try DirectoryStore.allConnectors(db) }

    private static let selectContacts = "SELECT alias, target_address FROM recipient WHERE kind = 'contact' ORDER BY alias"
    private static let countRemoteInDomain = """
        SELECT count(DISTINCT r.id) FROM recipient AS r JOIN proxy_address AS a ON a.recipient_id = r.id
        WHERE r.kind = 'remote' AND a.type = 'SMTP' AND (a.address LIKE ?1 OR a.address LIKE ?2)
        """
    private static let selectRemotePrimaries = """
        SELECT r.alias, p.address FROM recipient AS r
        JOIN proxy_address AS p ON p.recipient_id = r.id AND p.type = 'SMTP' AND p.is_primary = 1
        WHERE r.kind = 'remote' ORDER BY r.alias
        """

    /// Every contact with its target address, by alias.
    package func contacts() throws -> [(alias: String, target: EmailAddress)] {
        try db.cached(Self.selectContacts).map { ($0.text(0), EmailAddress(stored: $0.text(1))) }
    }

    /// Every remote recipient that has a primary SMTP address, with it, by alias.
    package func remotePrimaries() throws -> [(alias: String, primary: EmailAddress)] {
        try db.cached(Self.selectRemotePrimaries).map { ($0.text(0), EmailAddress(stored: $0.text(1))) }
    }

    /// How many remote recipients have an SMTP address in `domain`, or in its subdomains too
    /// when `includingSubdomains`.
    package func remoteRecipientCount(in domain: DomainName, includingSubdomains: Bool) throws -> Int {
        // Domain names hold no LIKE wildcards (only letters, digits, hyphens and dots); a NULL
        // pattern matches nothing.
        try db.cached(Self.countRemoteInDomain).bind("%@" + domain.name, includingSubdomains ? "%." + domain.name : nil).first { $0.int(0) } ?? 0
    }
    package func settings() throws -> ServerSettings { try DirectoryStore.currentSettings(db) }

    /// The alias of a recipient other than `recipientID` holding `address` under any type,
    /// case-insensitively; nil when nobody else does. The recipient's own addresses of other
    /// types must not hide another holder of the same text.
    package func owner(ofAddress address: String, otherThan recipientID: Int64?) throws -> String? {
        try db.cached(Self.ownerOfAddress).bind(address, recipientID).first { $0.text(0) }
    }

    /// The next `limit` recipients after `alias` in alias order (from the start when nil),
    /// with their addresses.
    package func recipients(after alias: String?, limit: Int, policyManagedOnly: Bool) throws -> [RecipientRecord] {
        try DirectoryStore.recipientPage(db, after: alias, limit: limit, policyManagedOnly: policyManagedOnly)
    }

    package func recipient(alias: String) throws -> RecipientRecord? {
        try DirectoryStore.storedRecipient(db, alias: alias).map { RecipientRecord(id: $0.id, recipient: $0.recipient) }
    }

    package func policyManagedCount() throws -> Int {
        try db.cached(Self.countManaged).first { $0.int(0) } ?? 0
    }

    package func policies() throws -> [RecipientPolicy] { try DirectoryStore.storedPolicies(db).map(\.policy) }
    package func domains() throws -> [AcceptedDomain] { try DirectoryStore.allDomains(db) }

    /// Changes a policy's filter and enabled state (the rules of
    /// `DirectoryStore.updatePolicy`); the caller validates the result in this transaction.
    package func updatePolicy(named name: String, filter: String?, isEnabled: Bool?) throws -> RecipientPolicy {
        precondition(isWriting, "updatePolicy in a read transaction")
        return try DirectoryStore.updatePolicy(db, named: name, filter: filter, isEnabled: isEnabled)
    }

    /// Adds an accepted domain (the rules of `DirectoryStore.addDomain`).
    package func addDomain(_ domain: AcceptedDomain) throws {
        precondition(isWriting, "addDomain in a read transaction")
        try DirectoryStore.insertDomain(db, domain)
    }

    /// Changes an accepted domain (type, subdomains, recipient validation).
    @discardableResult
    package func updateDomain(_ name: DomainName, _ change: (inout AcceptedDomain) -> Void) throws -> AcceptedDomain {
        precondition(isWriting, "updateDomain in a read transaction")
        return try DirectoryStore.updateDomain(db, name, change)
    }

    /// Removes an accepted domain (the rules of `DirectoryStore.removeDomain`).
    package func removeDomain(_ name: DomainName) throws {
        precondition(isWriting, "removeDomain in a read transaction")
        try DirectoryStore.deleteDomain(db, name)
    }

    /// Adds a recipient (the rules of `DirectoryStore.addRecipient`).
    package func addRecipient(_ recipient: Recipient, actor: AddressActor) throws -> RecipientRecord {
        precondition(isWriting, "addRecipient in a read transaction")
        let stored = try DirectoryStore.insertRecipient(db, recipient, actor: actor)
        return RecipientRecord(id: stored.id, recipient: stored.recipient)
    }

    /// Changes a recipient's fields (the rules of `DirectoryStore.updateRecipient`).
    package func updateRecipient(alias: String, _ change: (inout Recipient) throws -> Void) throws -> RecipientRecord {
        precondition(isWriting, "updateRecipient in a read transaction")
        let stored = try DirectoryStore.updateRecipient(db, alias: alias, change)
        return RecipientRecord(id: stored.id, recipient: stored.recipient)
    }

    /// Writes stamps: demotions, promotions and additions, each with a history line under the
    /// policy's name, `batchID` and this transaction's time, and remembers the policy that
    /// stamped each recipient. The stamps must not collide with each other or the directory.
    package func write(_ stamps: [AddressStamp], batchID: String) throws {
        precondition(isWriting, "stamps written in a read transaction")
        try DirectoryStore.writeStamps(db, stamps, batchID: batchID, at: timestamp)
    }
}

extension DirectoryStore {
    /// Runs `body` in one transaction: `BEGIN IMMEDIATE` when `writing`, else a read snapshot.
    /// Anything thrown rolls the whole transaction back.
    package func transaction<T>(writing: Bool, _ body: (DirectoryTransaction) throws -> T) throws -> T {
        if writing {
            return try write { db in try body(try DirectoryTransaction(db: db, isWriting: true)) }
        }
        return try read { db in try body(try DirectoryTransaction(db: db, isWriting: false)) }
    }
}
