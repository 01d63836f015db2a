import MailCore
import MailPolicy
import MailRouting
import MailStore

/// One finding of `mailns doctor` (spec §4).
package struct Finding: Sendable, Equatable {
    package enum Severity: String, Sendable {
        /// Mail is certainly lost or loops.
        case error
        /// A loop or a surprise is possible.
        case warning
    }

    package let severity: Severity
    /// A stable name for the check, for scripts.
    package let check: String
    /// The objects involved, as `kind:name`.
    package let objects: [String]
    package let message: String
    /// What to do about it.
    package let remedy: String
}

extension Namespace {
    /// The consistency checks of spec §4 over one snapshot of the directory, errors first.
    package func doctor() throws -> [Finding] {
        try directory.transaction(writing: false) { tx in
            let table = RoutingTable(domains: try tx.domains(), connectors: try tx.connectors(), settings: try tx.settings())
            var findings: [Finding] = []
            Self.checkLoops(table, into: &findings)
            for contact in try tx.contacts() {
                if let domain = table.acceptedDomain(for: contact.target.domain), domain.type == .authoritative {
                    findings.append(Finding(
                        severity: .error, check: "contact-target-authoritative",
                        objects: ["recipient:\(contact.alias)", "domain:\(domain.name)"],
                        message: "contact \(contact.alias) forwards to \(contact.target), in authoritative domain \(domain.name): mail to it is rejected with 5.4.6 (it would loop)",
                        remedy: "point the contact at an address outside our authoritative domains, or make it a mailbox"))
                }
            }
            for remote in try tx.remotePrimaries() {
                if let domain = table.acceptedDomain(for: remote.primary.domain), domain.type == .authoritative {
                    findings.append(Finding(
                        severity: .error, check: "remote-primary-authoritative",
                        objects: ["recipient:\(remote.alias)", "domain:\(domain.name)"],
                        message: "remote recipient \(remote.alias) has its primary address \(remote.primary) in authoritative domain \(domain.name), which the other system does not serve: mail to it, and to its other addresses in our authoritative domains, cannot reach the other system",
                        remedy: "make the remote recipient's primary its address on the other system (in a shared or relay domain), or make it a mailbox"))
                }
            }
            let policies = try tx.policies()
            for policy in policies {
                do {
                    try Self.validate(name: policy.name, filter: policy.filter, templates: policy.templates, domains: table.domains)
                } catch let error as PolicyError {
                    findings.append(Finding(
                        severity: .error, check: "policy-template-domain", objects: ["policy:\(policy.name)"],
                        message: error.description, remedy: "change the policy's templates or accept the domain as authoritative or shared"))
                }
            }
            for domain in table.domains where domain.type == .relay {
                if table.candidates(for: domain.name).isEmpty && !table.settings.isDNSDeliveryEnabled {
                    findings.append(Finding(
                        severity: .error, check: "relay-domain-no-route", objects: ["domain:\(domain.name)"],
                        message: "relay domain \(domain.name) has no connector and DNS delivery is off: its mail is rejected with 5.4.0",
                        remedy: "add a connector with address space \(domain.name), or turn DNS delivery on"))
                }
            }
            try Self.checkSharedDomains(table, tx: tx, into: &findings)
            Self.checkPoliciesThatCannotWin(policies, into: &findings)
            return findings.filter { $0.severity == .error } + findings.filter { $0.severity == .warning }
        }
    }

    /// The unresolved-recipients host or a smart host that is this server itself.
    private static func checkLoops(_ table: RoutingTable, into findings: inout [Finding]) {
        let local = Set(table.settings.localHosts.map(\.name))
        if let host = table.settings.unresolvedHost, local.contains(host.host) {
            findings.append(Finding(
                severity: .error, check: "unresolved-host-is-local", objects: ["setting:unresolved-host"],
                message: "the unresolved-recipients host \(host) is this server: unknown recipients loop",
                remedy: "set unresolved-host to the other system, or none"))
        }
        for connector in table.connectors {
            guard case .smartHosts(let hosts) = connector.delivery else { continue }
            for host in hosts where local.contains(host.host) {
                findings.append(Finding(
                    severity: .error, check: "smart-host-is-local", objects: ["connector:\(connector.name)"],
                    message: "connector \(connector.name) sends to \(host), which is this server: its mail loops",
                    remedy: "point the connector at the next hop, not at this server"))
            }
        }
    }

    private static func checkSharedDomains(_ table: RoutingTable, tx: DirectoryTransaction, into findings: inout [Finding]) throws {
        let shared = table.domains.filter { $0.type == .shared }
        if let host = table.settings.unresolvedHost, !shared.isEmpty {
            findings.append(Finding(
                severity: .warning, check: "unresolved-host-with-shared-domains",
                objects: ["setting:unresolved-host"] + shared.map { "domain:\($0.name)" },
                message: "unknown recipients go to \(host) while shared domains exist: a message routing loop may exist if that system sends unknowns back",
                remedy: "make sure the other system is the one that rejects unknown recipients"))
        }
        for domain in shared {
            let best = table.candidates(for: domain.name).first
            let viaDNS = best.map { $0.connector.delivery == .dns } ?? table.settings.isDNSDeliveryEnabled
            // Unknown recipients take the domain's route unless validation or the
            // unresolved-recipients host decides them; remote recipients always take it.
            let unknownsToo = table.settings.unresolvedHost == nil && !domain.validatesRecipients
            // A scan of the addresses: counted only where a finding depends on it.
            let remoteCount =
                domain.validatesRecipients || (viaDNS && !unknownsToo)
                ? try tx.remoteRecipientCount(in: domain.name, includingSubdomains: domain.includesSubdomains) : 0
            if viaDNS && (unknownsToo || remoteCount > 0) {
                let whose = unknownsToo ? "unknown recipients" : "remote recipients"
                findings.append(Finding(
                    severity: .warning, check: "shared-domain-to-dns", objects: ["domain:\(domain.name)"],
                    message: "\(whose) of shared domain \(domain.name) go out by DNS, whose MX for it is normally this server",
                    remedy: "add a connector with address space \(domain.name) to the other system's smart host"))
            }
            if domain.validatesRecipients, remoteCount == 0 {
                findings.append(Finding(
                    severity: .warning, check: "validation-without-remote-recipients", objects: ["domain:\(domain.name)"],
                    message: "shared domain \(domain.name) validates recipients but lists no remote recipients: every address of the other system is rejected",
                    remedy: "import the other system's recipients as remote, or turn recipient validation off"))
            }
        }
    }

    /// A policy below one whose filter selects everyone, or the very same recipients, never wins.
    /// (Deciding filter containment in general is out of reach; these two cases are the ones
    /// operators make.) The Default Policy is exempt.
    private static func checkPoliciesThatCannotWin(_ policies: [RecipientPolicy], into findings: inout [Finding]) {
        let enabled = policies.filter(\.isEnabled).sorted { $0.priority < $1.priority }
        var above: [(name: String, filter: RecipientFilter)] = []
        for policy in enabled {
            guard let filter = try? RecipientFilter(parsing: policy.filter) else { continue }
            if !policy.isDefault, let cover = above.first(where: { $0.filter.selectsEveryone || $0.filter == filter }) {
                findings.append(Finding(
                    severity: .warning, check: "policy-never-wins", objects: ["policy:\(policy.name)", "policy:\(cover.name)"],
                    message: "policy \(policy.name) can never win: \(cover.name), above it, selects \(cover.filter.selectsEveryone ? "every recipient" : "the same recipients")",
                    remedy: "move \(policy.name) above \(cover.name), or narrow \(cover.name)'s filter"))
            }
            above.append((policy.name, filter))
        }
    }
}

extension RecipientFilter {
    /// True for filters every recipient matches: presence of the alias or objectClass.
    var selectsEveryone: Bool {
        switch self {
        case .present(let attribute): attribute.name == "mailNickname" || attribute.name == "objectClass"
        case .or(let list): list.contains { $0.selectsEveryone }
        case .and(let list): list.allSatisfy { $0.selectsEveryone }
        default: false
        }
    }
}
