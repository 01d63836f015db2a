import MailCore

extension DirectoryStore {
    private static let insertDomain = "INSERT INTO accepted_domain (name, type, include_subdomains, validate_recipients) VALUES (?, ?, ?, ?)"
    private static let selectDomains = "SELECT name, type, include_subdomains, validate_recipients FROM accepted_domain ORDER BY name"
    private static let selectDomain = "SELECT name, type, include_subdomains, validate_recipients FROM accepted_domain WHERE name = ?"
    private static let updateDomain = "UPDATE accepted_domain SET type = ?, include_subdomains = ?, validate_recipients = ? WHERE name = ?"
    private static let deleteDomain = "DELETE FROM accepted_domain WHERE name = ?"

    /// Adds an accepted domain. Refused if the domain is already accepted (with any type).
    package func addDomain(_ domain: AcceptedDomain) throws {
        try write { db in try Self.insertDomain(db, domain) }
    }

    static func insertDomain(_ db: Connection, _ domain: AcceptedDomain) throws {
        if let existing = try Self.domain(db, named: domain.name) {
            throw StoreError.refused("domain \(domain.name) is already accepted (\(existing.type.rawValue))")
        }
        try checkValidation(domain)
        try db.cached(Self.insertDomain).bind(domain.name.name, domain.type.rawValue, domain.includesSubdomains, domain.validatesRecipients).run()
    }

    /// Every accepted domain, by name.
    package func domains() throws -> [AcceptedDomain] {
        try read { db in try Self.allDomains(db) }
    }

    static func allDomains(_ db: Connection) throws -> [AcceptedDomain] {
        try db.cached(selectDomains).map(acceptedDomain)
    }

    /// The accepted domain with exactly this name, or nil.
    package func domain(named name: DomainName) throws -> AcceptedDomain? {
        try read { db in try Self.domain(db, named: name) }
    }

    /// Recipient validation means something only for a shared domain.
    private static func checkValidation(_ domain: AcceptedDomain) throws {
        if domain.validatesRecipients && domain.type != .shared {
            throw StoreError.refused("domain \(domain.name) is \(domain.type.rawValue); recipient validation applies to shared domains only")
        }
    }

    /// Changes an accepted domain's type, subdomain flag or recipient validation.
    static func updateDomain(_ db: Connection, _ name: DomainName, _ change: (inout AcceptedDomain) -> Void) throws -> AcceptedDomain {
        guard var domain = try Self.domain(db, named: name) else { throw StoreError.notFound("domain \(name) is not an accepted domain") }
        change(&domain)
        domain.name = name
        try checkValidation(domain)
        try db.cached(updateDomain).bind(domain.type.rawValue, domain.includesSubdomains, domain.validatesRecipients, name.name).run()
        return domain
    }

    package func removeDomain(_ name: DomainName) throws {
        try write { db in try Self.deleteDomain(db, name) }
    }

    static func deleteDomain(_ db: Connection, _ name: DomainName) throws {
        try db.cached(Self.deleteDomain).bind(name.name).run()
        if db.changes == 0 { throw StoreError.notFound("domain \(name) is not an accepted domain") }
    }

    static func domain(_ db: Connection, named name: DomainName) throws -> AcceptedDomain? {
        try db.cached(selectDomain).bind(name.name).first(acceptedDomain)
    }

    private static func acceptedDomain(_ row: Row) -> AcceptedDomain {
        AcceptedDomain(
            name: DomainName(stored: row.text(0)),
            type: row.value(1, as: DomainType.self),
            includesSubdomains: row.bool(2), validatesRecipients: row.bool(3))
    }
}
