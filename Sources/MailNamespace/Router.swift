import Synchronization
import MailCore
import MailRouting
import MailStore

/// Answers "what happens to this recipient?" against the live directory.
///
/// Each lookup is one read transaction (a consistent snapshot; the resolver never writes).
/// Domains, connectors and settings are read once and reused until the directory changes
/// (`PRAGMA data_version`), so a change made by `mailns` in another process is seen by the
/// next lookup and an unchanged directory costs one indexed lookup per address.
package final class Router: Sendable {
    package let directory: DirectoryStore
    private let cache = Mutex<(marker: Int64, resolver: Resolver)?>(nil)

    package init(directory: DirectoryStore) {
        self.directory = directory
    }

    package func resolve(_ address: String, trusted: Bool, explain: Bool = false) throws -> Decision {
        try directory.transaction(writing: false) { tx in
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
    package func router() -> Router { Router(directory: directory) }

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
