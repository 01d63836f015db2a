/// How this organisation treats mail for a domain (Exchange 2007+ accepted domain types).
package enum DomainType: String, CaseIterable, Sendable, Codable {
    /// Every recipient lives here; unknown recipients are rejected (or go to the unresolved host).
    case authoritative
    /// Shared with another system; unknown recipients go on to it through a connector.
    case shared
    /// Not local: accepted only to be relayed through a connector.
    case relay
}

package struct AcceptedDomain: Sendable, Equatable {
    package var name: DomainName
    package var type: DomainType
    /// Also accept mail for every subdomain of `name`.
    package var includesSubdomains: Bool
    /// **(ours)** For a shared domain: the directory lists every valid recipient of both
    /// systems, so an address in neither is rejected at once (spec §3 row 7).
    package var validatesRecipients: Bool

    package init(name: DomainName, type: DomainType, includesSubdomains: Bool = false, validatesRecipients: Bool = false) {
        self.name = name
        self.type = type
        self.includesSubdomains = includesSubdomains
        self.validatesRecipients = validatesRecipients
    }
}
