import MailCore
import MailPolicy
import MailRouting
import MailStore

extension Namespace {
    /// Checks a policy before it is saved: the filter parses, every template is SMTP, parses,
    /// and names an accepted authoritative or shared domain (spec §2). Throws `PolicyError`.
    package static func validate(name: String, filter: String, templates: [PolicyTemplate], domains: [AcceptedDomain]) throws {
        let compiled = try CompiledPolicy(RecipientPolicy(name: name, priority: 1, filter: filter, templates: templates))
        // The resolver's rule decides which accepted domain covers a template's domain (itself,
        // else the closest parent that includes subdomains), so the two can never disagree.
        let table = RoutingTable(domains: domains, connectors: [], settings: ServerSettings())
        for entry in compiled.templates {
            let domain = entry.template.domain
            guard let accepted = table.acceptedDomain(for: domain) else {
                throw PolicyError(policy: name, reason: "template \(entry.template): \(domain) is not an accepted domain")
            }
            guard accepted.type != .relay else {
                throw PolicyError(policy: name, reason: "template \(entry.template): \(domain) is a relay domain; templates may use authoritative or shared domains only")
            }
        }
    }

    /// Adds a recipient policy after validating it. Existing recipients follow it on the next
    /// `applyPolicies`.
    @discardableResult
    package func addPolicy(name: String, priority: Int?, filter: String, templates: [PolicyTemplate]) throws -> RecipientPolicy {
        try Self.validate(name: name, filter: filter, templates: templates, domains: directory.domains())
        return try directory.addPolicy(name: name, priority: priority, filter: filter, templates: templates)
    }

    /// Replaces a policy's templates after validating them.
    @discardableResult
    package func setPolicyTemplates(name: String, _ templates: [PolicyTemplate]) throws -> RecipientPolicy {
        guard let policy = try directory.policy(named: name) else { throw StoreError.notFound("no recipient policy named \(name)") }
        try Self.validate(name: policy.name, filter: policy.filter, templates: templates, domains: directory.domains())
        return try directory.setPolicyTemplates(name: name, templates)
    }

    /// Changes a policy's filter and/or enabled state. The result is validated as `addPolicy`
    /// validates a new policy (filter and templates), in the same transaction as the change,
    /// so a refusal leaves the policy as it was and no domain can change in between. Existing
    /// recipients follow on the next `applyPolicies`.
    @discardableResult
    package func setPolicy(name: String, filter: String?, isEnabled: Bool?) throws -> RecipientPolicy {
        try directory.transaction(writing: true) { tx in
            let updated = try tx.updatePolicy(named: name, filter: filter, isEnabled: isEnabled)
            try Self.validate(name: updated.name, filter: updated.filter, templates: updated.templates, domains: try tx.domains())
            return updated
        }
    }

    /// Adds an accepted domain unless it would leave a policy template generating addresses in
    /// a domain templates may not use (a relay domain taking over a covered subdomain).
    package func addDomain(_ domain: AcceptedDomain) throws {
        try directory.transaction(writing: true) { tx in
            try tx.addDomain(domain)
            try Self.revalidatePolicies(tx, because: "domain \(domain.name) cannot be added as \(domain.type.rawValue)")
        }
    }

    /// Removes an accepted domain unless a policy template would be left generating addresses
    /// in a domain no longer accepted (the domain itself or a subdomain it covered). Checked
    /// and removed in one transaction, so no policy can slip in between.
    package func removeDomain(_ name: DomainName) throws {
        try directory.transaction(writing: true) { tx in
            try tx.removeDomain(name)
            try Self.revalidatePolicies(tx, because: "domain \(name) cannot be removed")
        }
    }

    /// Checks every policy against the domains as they stand inside `tx`; throws (rolling the
    /// transaction back) on the first policy that no longer holds.
    static func revalidatePolicies(_ tx: DirectoryTransaction, because refusal: String) throws {
        let domains = try tx.domains()
        for policy in try tx.policies() {
            do {
                try validate(name: policy.name, filter: policy.filter, templates: policy.templates, domains: domains)
            } catch let error as PolicyError {
                throw StoreError.refused("\(refusal): policy \(error.policy) generates addresses there (\(error.reason)); change the policy first")
            }
        }
    }

    /// The recipients a policy wins now, with the primary address each would get (before
    /// collisions with other recipients are resolved, which `applyPolicies(dryRun:)` shows).
    package func preview(policy name: String) throws -> [(alias: String, primary: EmailAddress?)] {
        try directory.transaction(writing: false) { tx in
            let policies = try tx.policies()
            guard let stored = policies.first(where: { RecipientPolicy.sameName($0.name, name) }) else {
                throw StoreError.notFound("no recipient policy named \(name)")
            }
            let set = try PolicySet(policies)
            let transliterator = Transliterator()
            var result: [(String, EmailAddress?)] = []
            var after: String?
            while true {
                let page = try tx.recipients(after: after, limit: Self.batchSize, policyManagedOnly: true)
                guard let last = page.last else { break }
                after = last.recipient.alias
                for record in page {
                    guard let winner = set.winner(for: record.recipient), RecipientPolicy.sameName(winner.name, stored.name) else { continue }
                    let primary = winner.templates.first(where: \.isPrimary)?.template.render(for: record.recipient, transliterator: transliterator)
                    result.append((record.recipient.alias, primary))
                }
            }
            return result
        }
    }
}
