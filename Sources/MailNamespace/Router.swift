import Synchronization
import MailCore
import MailRouting
import MailStore

/// Answers "what happens to this recipient?" against the live directory.
///
/// Each lookup reads one consistent snapshot (the resolver never writes).
/// Domains, connectors and settings are read once and reused until the directory changes
/// (`PRAGMA data_version`), so a change made by `mailns` in another process is seen by the
/// next lookup and an unchanged directory costs one indexed lookup per address.
package final class Router: Sendable {
    package let directory: DirectoryStore
    private let cache = Mutex<(marker: Int64, resolver: Resolver)?>(nil)

    /// A router over `directory`, which it switches to memory-mapped reads (lookups are its
    /// whole job).
    package init(directory: DirectoryStore) throws {
        self.directory = directory
        try directory.enableMemoryMappedReads()
    }

    package func resolve(_ address: String, trusted: Bool, explain: Bool = false) throws -> Decision {
        // Fast path: each lookup is one statement (its own snapshot) that also reads the change
        // marker; while the marker matches the cached routing table, the table is of the same
        // snapshot. A change anywhere sends the lookup down the slow path, which reloads.
        if let cached = cache.withLock({ $0 }) {
            struct Stale: Error {}
            do {
                return try cached.resolver.resolve(address, trusted: trusted, explain: explain) { target in
                    let (marker, recipient) = try directory.routedRecipient(target)
                    guard marker == cached.marker else { throw Stale() }
                    return recipient
                }
            } catch is Stale {}
        }
        return try directory.transaction(writing: false) { tx in
            let resolver = try self.resolver(tx)
            return try resolver.resolve(address, trusted: trusted, explain: explain) { try tx.routedRecipient($0) }
        }
    }

    /// The resolver for the snapshot `tx` reads, rebuilt when the directory changed.
    private func resolver(_ tx: DirectoryTransaction) throws -> Resolver {
        let marker = try tx.changeMarker()
        if let cached = cache.withLock({ $0 }), cached.marker == marker { return cached.resolver }
        let resolver = Resolver(table: RoutingTable(domains: try tx.domains(), connectors: try tx.connectors(), settings: try tx.settings()))
        cache.withLock { $0 = (marker, resolver) }
        return resolver
    }
}

extension Namespace {
    /// A router over this namespace's directory.
    package func router() throws -> Router { try Router(directory: directory) }

    /// Changes an accepted domain (type, subdomains, recipient validation), re-checking the
    /// policies against it in the same transaction.
    @discardableResult
    package func updateDomain(_ name: DomainName, _ change: (inout AcceptedDomain) -> Void) throws -> AcceptedDomain {
        try directory.transaction(writing: true) { tx in
            let domain = try tx.updateDomain(name, change)
            try Self.revalidatePolicies(tx, because: "domain \(name) cannot become \(domain.type.rawValue)")
            return domain
        }
    }
}
