import MailCore
import Synchronization

/// The routing configuration the resolver decides with: accepted domains, connectors and
/// server settings, read once and reused until the directory changes. A class: the resolver
/// passes it around on every lookup, and one reference is cheaper to copy than its tables.
package final class RoutingTable: Sendable {
    package let domains: [AcceptedDomain]
    package let connectors: [Connector]
    package let settings: ServerSettings
    private let domainsByName: [String: AcceptedDomain]
    // Address spaces of enabled connectors indexed by their literal domain, so choosing a
    // connector walks the domain's labels instead of every connector's every pattern.
    private let exactSpaces: [String: [Candidate]]
    private let wildcardSpaces: [String: [Candidate]]
    private let anySpaces: [Candidate]
    /// Connector choices already made, by domain: mail goes to few domains, and a choice
    /// depends only on this (immutable) table. Bounded; emptied when full.
    private let chosen = Mutex<[String: [Candidate]]>([:])
    private static let maximumChosen = 10_000

    package init(domains: [AcceptedDomain], connectors: [Connector], settings: ServerSettings) {
        self.domains = domains
        self.connectors = connectors
        self.settings = settings
        domainsByName = Dictionary(domains.map { ($0.name.name, $0) }, uniquingKeysWith: { first, _ in first })
        var exact: [String: [Candidate]] = [:]
        var wildcard: [String: [Candidate]] = [:]
        var any: [Candidate] = []
        for connector in connectors where connector.isEnabled {
            for space in connector.addressSpaces {
                let candidate = Candidate(connector: connector, space: space)
                switch space.pattern {
                case .domain(let d): exact[d.name, default: []].append(candidate)
                case .subdomains(let d): wildcard[d.name, default: []].append(candidate)
                case .any: any.append(candidate)
                }
            }
        }
        exactSpaces = exact
        wildcardSpaces = wildcard
        anySpaces = any
    }

    /// The accepted domain deciding for `domain`: itself, else the closest parent that includes
    /// subdomains; nil when the domain is not accepted.
    package func acceptedDomain(for domain: DomainName) -> AcceptedDomain? {
        if let exact = domainsByName[domain.name] { return exact }
        var rest = Substring(domain.name)
        while let dot = rest.utf8.firstIndex(of: UInt8(ascii: ".")) {
            rest = rest[rest.utf8.index(after: dot)...]
            if let parent = domainsByName[String(rest)], parent.includesSubdomains { return parent }
        }
        return nil
    }

    /// A connector's claim on a domain: the most specific of its address spaces that matches.
    package struct Candidate: Sendable {
        package let connector: Connector
        package let space: AddressSpace
    }

    /// Every enabled connector whose address spaces match `domain`, best first: the most
    /// specific address space, then the lowest cost, then the name (spec §3). A connector
    /// appears once, with its most specific matching space (its cheapest among equals).
    package func candidates(for domain: DomainName, relayOnly: Bool = false) -> [Candidate] {
        let key = relayOnly ? "relay " + domain.name : domain.name
        if let known = chosen.withLock({ $0[key] }) { return known }
        let result = choose(for: domain, relayOnly: relayOnly)
        chosen.withLock { cache in
            if cache.count >= Self.maximumChosen { cache.removeAll(keepingCapacity: true) }
            cache[key] = result
        }
        return result
    }

    private func choose(for domain: DomainName, relayOnly: Bool) -> [Candidate] {
        var found: [Candidate] = []
        func take(_ list: [Candidate]?) {
            for candidate in list ?? [] where !relayOnly || candidate.connector.allowsRelay {
                if let index = found.firstIndex(where: { $0.connector.name == candidate.connector.name }) {
                    if Self.isBetter(candidate, found[index]) { found[index] = candidate }
                } else {
                    found.append(candidate)
                }
            }
        }
        // Most specific first: the domain itself, then `*.parent` for each parent, then `*`.
        take(exactSpaces[domain.name])
        var rest = Substring(domain.name)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            take(wildcardSpaces[String(rest)])
        }
        take(anySpaces)
        return found.count > 1 ? found.sorted(by: Self.isBetter) : found
    }

    static func isBetter(_ a: Candidate, _ b: Candidate) -> Bool {
        if a.space.pattern.specificity != b.space.pattern.specificity { return a.space.pattern.specificity > b.space.pattern.specificity }
        if a.space.cost != b.space.cost { return a.space.cost < b.space.cost }
        return a.connector.name.lowercased() < b.connector.name.lowercased()
    }
}
