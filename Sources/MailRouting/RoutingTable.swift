import MailCore

/// The routing configuration the resolver decides with: accepted domains, connectors and
/// server settings, read once and reused until the directory changes.
package struct RoutingTable: Sendable {
    package let domains: [AcceptedDomain]
    package let connectors: [Connector]
    package let settings: ServerSettings
    private let domainsByName: [DomainName: AcceptedDomain]

    package init(domains: [AcceptedDomain], connectors: [Connector], settings: ServerSettings) {
        self.domains = domains
        self.connectors = connectors
        self.settings = settings
        domainsByName = Dictionary(domains.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The accepted domain deciding for `domain`: itself, else the closest parent that includes
    /// subdomains; nil when the domain is not accepted.
    package func acceptedDomain(for domain: DomainName) -> AcceptedDomain? {
        if let exact = domainsByName[domain] { return exact }
        var labels = domain.labels.dropFirst()
        while !labels.isEmpty {
            if let parent = domainsByName[DomainName(stored: labels.joined(separator: "."))], parent.includesSubdomains {
                return parent
            }
            labels = labels.dropFirst()
        }
        return nil
    }

    /// A connector's claim on a domain: the most specific of its address spaces that matches.
    package struct Candidate: Sendable {
        package let connector: Connector
        package let space: AddressSpace
    }

    /// Every enabled connector whose address spaces match `domain`, best first: the most
    /// specific address space, then the lowest cost, then the name (spec §3).
    package func candidates(for domain: DomainName, relayOnly: Bool = false) -> [Candidate] {
        var result: [Candidate] = []
        for connector in connectors where connector.isEnabled && (!relayOnly || connector.allowsRelay) {
            let best = connector.addressSpaces.filter { $0.pattern.matches(domain) }
                .max { ($0.pattern.specificity, -$0.cost) < ($1.pattern.specificity, -$1.cost) }
            if let best { result.append(Candidate(connector: connector, space: best)) }
        }
        return result.sorted(by: Self.isBetter)
    }

    static func isBetter(_ a: Candidate, _ b: Candidate) -> Bool {
        if a.space.pattern.specificity != b.space.pattern.specificity { return a.space.pattern.specificity > b.space.pattern.specificity }
        if a.space.cost != b.space.cost { return a.space.cost < b.space.cost }
        return a.connector.name.lowercased() < b.connector.name.lowercased()
    }
}
