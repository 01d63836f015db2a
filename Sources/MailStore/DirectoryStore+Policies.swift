import MailCore

extension DirectoryStore {
    private static let selectPolicies = "SELECT id, name, priority, filter, enabled, is_default FROM recipient_policy ORDER BY priority"
    private static let selectPolicy = "SELECT id, name, priority, filter, enabled, is_default FROM recipient_policy WHERE name = ?"
    private static let selectTemplates = "SELECT type, template, is_primary FROM address_template WHERE policy_id = ? ORDER BY position"
    private static let insertPolicy = "INSERT INTO recipient_policy (name, priority, filter, enabled, is_default) VALUES (?, ?, ?, ?, 0)"
    private static let insertTemplate = "INSERT INTO address_template (policy_id, position, type, template, is_primary) VALUES (?, ?, ?, ?, ?)"
    private static let deleteTemplates = "DELETE FROM address_template WHERE policy_id = ?"
    private static let deletePolicy = "DELETE FROM recipient_policy WHERE id = ?"
    private static let updatePolicy = "UPDATE recipient_policy SET filter = ?, enabled = ? WHERE id = ?"
    // Priorities are UNIQUE and SQLite checks that row by row during an UPDATE, so
    // renumbering first moves every priority out of the way (past any real one), then sets
    // the new ones.
    private static let parkPriorities = "UPDATE recipient_policy SET priority = priority + 1000000"
    private static let setPriority = "UPDATE recipient_policy SET priority = ? WHERE id = ?"

    /// Longest filter text accepted; far beyond any real policy.
    package static let maximumFilterLength = 4096
    package static let maximumPolicyNameLength = 64

    struct StoredPolicy {
        let id: Int64
        var policy: RecipientPolicy
    }

    /// Every recipient policy with its templates, highest priority (1) first; the Default
    /// Policy is last.
    package func policies() throws -> [RecipientPolicy] {
        try read { db in try Self.storedPolicies(db).map(\.policy) }
    }

    /// The policy with this name (case-insensitive), or nil.
    package func policy(named name: String) throws -> RecipientPolicy? {
        try read { db in try Self.storedPolicy(db, named: name)?.policy }
    }

    /// Adds a policy at `priority` (default: just above the Default Policy); the policies at
    /// that priority and below move down by one. Valid priorities are 1…N where N is the
    /// Default Policy's current priority.
    @discardableResult
    package func addPolicy(name: String, priority: Int?, filter: String, templates: [PolicyTemplate], isEnabled: Bool = true) throws -> RecipientPolicy {
        try write { db in
            try Self.checkPolicyName(name)
            try Self.checkFilter(filter, policy: name)
            try Self.checkTemplates(templates, policy: name)
            if let existing = try Self.storedPolicy(db, named: name) {
                throw StoreError.refused("policy \(existing.policy.name) already exists")
            }
            var order = try Self.storedPolicies(db).map(\.id)
            let lowest = order.count  // the Default Policy's priority; a new policy may take it
            let priority = priority ?? lowest
            guard (1...lowest).contains(priority) else {
                throw StoreError.refused("priority \(priority) is out of range for policy \(name): choose 1 to \(lowest) (the Default Policy stays last)")
            }
            // Insert with a free placeholder priority, then renumber densely.
            try db.cached(Self.insertPolicy).bind(name, lowest + 1, filter, isEnabled).run()
            let id = db.lastInsertRowID
            try Self.insertTemplates(db, templates, policyID: id)
            order.insert(id, at: priority - 1)
            try Self.renumber(db, order)
            return try Self.requirePolicy(db, named: name).policy
        }
    }

    /// Moves a policy to `priority`; the others shift to keep 1…N dense. The Default Policy
    /// cannot move.
    @discardableResult
    package func setPolicyPriority(name: String, to priority: Int) throws -> RecipientPolicy {
        try write { db in
            let stored = try Self.requirePolicy(db, named: name)
            if stored.policy.isDefault {
                throw StoreError.refused("the Default Policy cannot be reprioritised; it is always last")
            }
            var order = try Self.storedPolicies(db).map(\.id)
            let highestAllowed = order.count - 1
            guard (1...highestAllowed).contains(priority) else {
                throw StoreError.refused("priority \(priority) is out of range for policy \(stored.policy.name): choose 1 to \(highestAllowed) (the Default Policy stays last at \(order.count))")
            }
            order.removeAll { $0 == stored.id }
            order.insert(stored.id, at: priority - 1)
            try Self.renumber(db, order)
            return try Self.requirePolicy(db, named: name).policy
        }
    }

    /// Replaces a policy's templates (the Default Policy's too). An empty list clears them.
    @discardableResult
    package func setPolicyTemplates(name: String, _ templates: [PolicyTemplate]) throws -> RecipientPolicy {
        try write { db in
            let stored = try Self.requirePolicy(db, named: name)
            try Self.checkTemplates(templates, policy: stored.policy.name)
            try db.cached(Self.deleteTemplates).bind(stored.id).run()
            try Self.insertTemplates(db, templates, policyID: stored.id)
            return try Self.requirePolicy(db, named: name).policy
        }
    }

    /// Changes a policy's filter (when given) and enabled state (when given); nil leaves that
    /// field as it is. The Default Policy keeps its filter and stays enabled: it is what every
    /// recipient falls back to (the schema's trigger says so too; this says it by name first).
    static func updatePolicy(_ db: Connection, named name: String, filter: String?, isEnabled: Bool?) throws -> RecipientPolicy {
        let stored = try requirePolicy(db, named: name)
        if stored.policy.isDefault {
            if filter != nil {
                throw StoreError.refused("the Default Policy's filter cannot be changed: it matches every recipient")
            }
            if isEnabled == false {
                throw StoreError.refused("the Default Policy cannot be disabled: it is what every recipient falls back to")
            }
        }
        if let filter { try checkFilter(filter, policy: stored.policy.name) }
        try db.cached(updatePolicy).bind(filter ?? stored.policy.filter, isEnabled ?? stored.policy.isEnabled, stored.id).run()
        return try requirePolicy(db, named: name).policy
    }

    /// Removes a policy; the ones below move up. The Default Policy cannot be removed.
    package func removePolicy(name: String) throws {
        try write { db in
            let stored = try Self.requirePolicy(db, named: name)
            if stored.policy.isDefault { throw StoreError.refused("the Default Policy cannot be removed") }
            try db.cached(Self.deletePolicy).bind(stored.id).run()
            try Self.renumber(db, try Self.storedPolicies(db).map(\.id))
        }
    }

    // MARK: - Helpers

    private static func renumber(_ db: Connection, _ order: [Int64]) throws {
        try db.cached(parkPriorities).bind().run()
        for (index, id) in order.enumerated() {
            try db.cached(setPriority).bind(index + 1, id).run()
        }
    }

    private static func insertTemplates(_ db: Connection, _ templates: [PolicyTemplate], policyID: Int64) throws {
        for (index, template) in templates.enumerated() {
            try db.cached(insertTemplate).bind(policyID, index + 1, template.type, template.template, template.isPrimary).run()
        }
    }

    static func storedPolicies(_ db: Connection) throws -> [StoredPolicy] {
        let rows = try db.cached(selectPolicies).map(policyRow)
        return try rows.map { try withTemplates(db, $0) }
    }

    static func storedPolicy(_ db: Connection, named name: String) throws -> StoredPolicy? {
        guard let row = try db.cached(selectPolicy).bind(name).first(policyRow) else { return nil }
        return try withTemplates(db, row)
    }

    private static func requirePolicy(_ db: Connection, named name: String) throws -> StoredPolicy {
        guard let stored = try storedPolicy(db, named: name) else { throw StoreError.notFound("no recipient policy named \(name)") }
        return stored
    }

    private static func policyRow(_ row: Row) -> StoredPolicy {
        StoredPolicy(
            id: row.int64(0),
            policy: RecipientPolicy(
                name: row.text(1), priority: row.int(2), filter: row.text(3), isEnabled: row.bool(4),
                isDefault: row.bool(5), templates: []))
    }

    private static func withTemplates(_ db: Connection, _ stored: StoredPolicy) throws -> StoredPolicy {
        var stored = stored
        stored.policy.templates = try db.cached(selectTemplates).bind(stored.id).map { row in
            PolicyTemplate(type: row.text(0), template: row.text(1), isPrimary: row.bool(2))
        }
        return stored
    }

    private static func checkPolicyName(_ name: String) throws {
        let length = name.unicodeScalars.count
        guard (1...maximumPolicyNameLength).contains(length) else {
            throw StoreError.refused("policy name must be 1 to \(maximumPolicyNameLength) characters")
        }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw StoreError.refused("policy name contains a control character")
        }
    }

    private static func checkFilter(_ filter: String, policy: String) throws {
        guard !filter.isEmpty else { throw StoreError.refused("policy \(policy) needs a filter") }
        guard filter.utf8.count <= maximumFilterLength else {
            throw StoreError.refused("the filter of policy \(policy) is longer than \(maximumFilterLength) octets")
        }
    }

    /// Each type used needs exactly one primary template (it makes the primary address), and
    /// no template may appear twice.
    private static func checkTemplates(_ templates: [PolicyTemplate], policy: String) throws {
        var seen: Set<String> = []
        var primaries: [String: Int] = [:]
        for template in templates {
            guard seen.insert(template.type + ":" + template.template).inserted else {
                throw StoreError.refused("policy \(policy) lists template \(template) twice")
            }
            primaries[template.type, default: 0] += template.isPrimary ? 1 : 0
        }
        for (type, count) in primaries.sorted(by: { $0.key < $1.key }) where count != 1 {
            throw StoreError.refused(
                count == 0
                    ? "policy \(policy) has \(type.lowercased()): templates but no primary \(type): template"
                    : "policy \(policy) has \(count) primary \(type): templates; exactly one makes the primary address")
        }
    }
}
