import MailCore

extension DirectoryStore {
    private static let insertDomain = "INSERT INTO accepted_domain (name, type, include_subdomains) VALUES (?, ?, ?)"
    private static let selectDomains = "SELECT name, type, include_subdomains FROM accepted_domain ORDER BY name"
    private static let selectDomain = "SELECT name, type, include_subdomains FROM accepted_domain WHERE name = ?"
    private static let deleteDomain = "DELETE FROM accepted_domain WHERE name = ?"

    /// Adds an accepted domain. Refused if the domain is already accepted (with any type).
    package func addDomain(_ domain: AcceptedDomain) throws {
        try write { db in try Self.insertDomain(db, domain) }
    }

    static func insertDomain(_ db: Connection, _ domain: AcceptedDomain) throws {
        if let existing = try Self.domain(db, named: domain.name) {
            throw StoreError.refused("domain \(domain.name) is already accepted (\(existing.type.rawValue))")
        }
        try db.cached(Self.insertDomain).bind(domain.name.name, domain.type.rawValue, domain.includesSubdomains).run()
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
            includesSubdomains: row.bool(2))
    }
}
