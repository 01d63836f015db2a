/// The domains a connector serves: `fabrikam.com` (that domain), `*.fabrikam.com` (its
/// subdomains, not the domain itself) or `*` (everything).
package enum AddressSpacePattern: Hashable, Sendable, CustomStringConvertible {
    case any
    case domain(DomainName)
    case subdomains(of: DomainName)

    package var description: String {
        switch self {
        case .any: "*"
        case .domain(let d): d.name
        case .subdomains(let d): "*.\(d.name)"
        }
    }

    package init(parsing text: String) throws(AddressError) {
        if text == "*" {
            self = .any
            return
        }
        let isWildcard = text.hasPrefix("*.")
        let rest = isWildcard ? String(text.dropFirst(2)) : text
        if rest.contains("*") {
            throw AddressError("address space", text, "'*' is allowed only alone or as the first label ('*.fabrikam.com')")
        }
        do {
            let domain = try DomainName(parsing: rest)
            self = isWildcard ? .subdomains(of: domain) : .domain(domain)
        } catch {
            throw AddressError("address space", text, error.reason)
        }
    }

    package func matches(_ domain: DomainName) -> Bool {
        switch self {
        case .any: true
        case .domain(let d): d == domain
        case .subdomains(let d): domain.name.hasSuffix("." + d.name)
        }
    }

    /// Larger is more specific: an exact domain beats any wildcard that also matches (a
    /// wildcard's suffix is always shorter than the domain it matches); among wildcards the
    /// longer literal suffix wins; `*` is least specific.
    package var specificity: Int {
        switch self {
        case .any: 0
        case .subdomains(let d): 2 * d.name.utf8.count
        case .domain(let d): 2 * d.name.utf8.count + 1
        }
    }
}

/// An address space on a connector, with its cost (1–100, lower preferred; Exchange's range).
package struct AddressSpace: Hashable, Sendable, CustomStringConvertible {
    package static let costRange = 1...100

    package let pattern: AddressSpacePattern
    package let cost: Int

    package var description: String { cost == 1 ? pattern.description : "\(pattern);\(cost)" }

    package init(pattern: AddressSpacePattern, cost: Int = 1) {
        precondition(Self.costRange.contains(cost), "cost out of range")
        self.pattern = pattern
        self.cost = cost
    }

    /// Parses `PATTERN` or `PATTERN;COST`.
    package init(parsing text: String) throws(AddressError) {
        let parts = text.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
        var cost = 1
        if parts.count == 2 {
            guard parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) }), let value = Int(parts[1]), Self.costRange.contains(value) else {
                throw AddressError("address space", text, "cost must be a number from 1 to 100")
            }
            cost = value
        }
        self.init(pattern: try AddressSpacePattern(parsing: String(parts[0])), cost: cost)
    }
}
