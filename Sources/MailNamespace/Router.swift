import Synchronization
import MailCore
import MailRouting
import MailStore

/// Answers "what happens to this recipient?" against the live directory.
///
/// Each lookup reads one consistent snapshot (the resolver never writes).
/// Domains, connectors and settings are read once and reused until the directory changes
/// (SQLite's data version), so a change made by `mailns` in another process is seen by the
/// next lookup and an unchanged directory costs one indexed lookup per address.
package final class Router: Sendable {
    package let directory: DirectoryStore
    private let cache = Mutex<(marker: Int64, resolver: Resolver)?>(nil)
    private let deliveryOverride: DeliveryTransport?

    /// A router over `directory`. `memoryMapped` switches the connection to memory-mapped
    /// reads: faster lookups, but mapped pages count as this process's resident memory.
    /// `deliveryOverride` replaces the directory's delivery-transport setting.
    package init(directory: DirectoryStore, memoryMapped: Bool = true, deliveryOverride: DeliveryTransport? = nil) throws {
        self.directory = directory
        self.deliveryOverride = deliveryOverride
        if memoryMapped { try directory.enableMemoryMappedReads() }
    }

    package func resolve(_ address: String, trusted: Bool, explain: Bool = false) throws -> Decision {
        try withResolver { resolver, lookup in try resolver.resolve(address, trusted: trusted, explain: explain, lookup: lookup) }
    }

    /// The answer of Postfix table `map` for `key`, or nil for "not found".
    package func answer(_ map: PostfixMap, _ key: String) throws -> String? {
        switch map {
        case .mailboxDomains, .relayDomains:
            // No recipient lookup to carry the change marker: read it on its own.
            let marker = try directory.changeMarker()
            if let cached = cache.withLock({ $0 }), cached.marker == marker {
                return map.answer(key, resolver: cached.resolver) { _ in nil }
            }
            return try directory.transaction(writing: false) { tx in map.answer(key, resolver: try resolver(tx)) { _ in nil } }
        default:
            // Only the aliases map answers with the primary address.
            return try withResolver(withPrimary: map == .aliases) { resolver, lookup in try map.answer(key, resolver: resolver, lookup: lookup) }
        }
    }

    /// Runs `body` with the resolver of the current directory and a lookup in the same snapshot.
    private func withResolver<T>(
        withPrimary: Bool = true, _ body: (Resolver, (EmailAddress) throws -> RoutedRecipient?) throws -> T
    ) throws -> T {
        // Fast path: each lookup is one statement (its own snapshot) that also reads the change
        // marker; while the marker matches the cached routing table, the table is of the same
        // snapshot. A change anywhere sends the lookup down the slow path, which reloads.
        if let cached = cache.withLock({ $0 }) {
            do {
                return try body(cached.resolver) { target in
                    let (marker, recipient) = try directory.routedRecipient(target, withPrimary: withPrimary)
                    guard marker == cached.marker else { throw Stale() }
                    return recipient
                }
            } catch is Stale {}
        }
        return try directory.transaction(writing: false) { tx in
            try body(try resolver(tx)) { try tx.routedRecipient($0, withPrimary: withPrimary) }
        }
    }

    /// The resolver for the snapshot `tx` reads, rebuilt when the directory changed.
    private func resolver(_ tx: DirectoryTransaction) throws -> Resolver {
        let marker = try tx.changeMarker()
        if let cached = cache.withLock({ $0 }), cached.marker == marker { return cached.resolver }
        var settings = try tx.settings()
        if let deliveryOverride { settings.deliveryTransport = deliveryOverride }
        let resolver = Resolver(table: RoutingTable(domains: try tx.domains(), connectors: try tx.connectors(), settings: settings))
        cache.withLock { $0 = (marker, resolver) }
        return resolver
    }
}

/// The routing table changed under a fast-path lookup.
private struct Stale: Error {}

extension Namespace {
    /// A router over this namespace's directory.
    package func router() throws -> Router { try Router(directory: directory) }

    /// Changes an accepted domain (type, subdomains, recipient validation), re-checking the
    /// policies against it in the same transaction.
    @discardableResult
    package func updateDomain(_ name: DomainName, _ change: (inout AcceptedDomain) -> Void) throws -> AcceptedDomain {
        try directory.transaction(writing: true) { tx in
            let before = try tx.domains().first { $0.name == name }
            let domain = try tx.updateDomain(name, change)
            // Name what changed: the type, or the subdomains it no longer covers.
            let refusal =
                before.map { $0.type != domain.type } ?? true
                ? "domain \(name) cannot become \(domain.type.rawValue)"
                : before?.includesSubdomains == true && !domain.includesSubdomains
                    ? "domain \(name) cannot stop including its subdomains" : "domain \(name) cannot change so"
            try Self.revalidatePolicies(tx, because: refusal)
            return domain
        }
    }
}
