import MailCore

/// A recipient policy ready to evaluate: its filter and templates parsed.
package struct CompiledPolicy: Sendable {
    package struct Template: Sendable {
        package let template: AddressTemplate
        package let isPrimary: Bool
    }

    package let name: String
    package let priority: Int
    package let isDefault: Bool
    package let filter: RecipientFilter
    /// SMTP templates, the primary one first.
    package let templates: [Template]

    /// Parses the policy's filter and templates. Throws `PolicyError` naming the policy and the
    /// part that is wrong. Only SMTP templates exist in this directory.
    package init(_ policy: RecipientPolicy) throws(PolicyError) {
        name = policy.name
        priority = policy.priority
        isDefault = policy.isDefault
        do {
            filter = try RecipientFilter(parsing: policy.filter)
        } catch {
            throw PolicyError(policy: policy.name, reason: error.description)
        }
        var templates: [Template] = []
        for template in policy.templates {
            guard template.type == ProxyAddress.smtp else {
                throw PolicyError(policy: policy.name, reason: "template \(template): only SMTP templates are supported")
            }
            do {
                templates.append(Template(template: try AddressTemplate(parsing: template.template), isPrimary: template.isPrimary))
            } catch {
                throw PolicyError(policy: policy.name, reason: error.description)
            }
        }
        self.templates = templates.filter(\.isPrimary) + templates.filter { !$0.isPrimary }
    }
}

/// The enabled policies in priority order; answers which one wins a recipient.
package struct PolicySet: Sendable {
    package let policies: [CompiledPolicy]

    /// Compiles every enabled policy. A policy that does not compile is an error: its
    /// recipients would otherwise silently fall to a lower policy.
    package init(_ policies: [RecipientPolicy]) throws(PolicyError) {
        var compiled: [CompiledPolicy] = []
        for policy in policies.sorted(by: { $0.priority < $1.priority }) where policy.isEnabled {
            compiled.append(try CompiledPolicy(policy))
        }
        self.policies = compiled
    }

    /// The best-priority enabled policy whose filter matches; evaluation stops there.
    package func winner(for recipient: Recipient) -> CompiledPolicy? {
        policies.first { $0.filter.matches(recipient) }
    }
}

/// Why a policy cannot be saved or applied; names the policy.
package struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    package let policy: String
    package let reason: String
    package var description: String { "policy \(policy): \(reason)" }

    package init(policy: String, reason: String) {
        self.policy = policy
        self.reason = reason
    }
}
