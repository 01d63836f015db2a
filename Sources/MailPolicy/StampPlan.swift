import MailCore

/// What applying its winning policy changes on one recipient (the Recipient Update Service's
/// work for that recipient), computed before anything is written.
package struct StampPlan: Sendable, Equatable {
    /// A generated address that was taken, and the free one used instead.
    package struct Collision: Sendable, Equatable {
        package let wanted: EmailAddress
        package let owner: String
        package let used: EmailAddress
    }

    package let alias: String
    package let policy: String
    /// New addresses, primary or secondary as they will be stored.
    package var added: [ProxyAddress] = []
    /// An address the recipient had as a secondary that becomes its primary.
    package var promoted: ProxyAddress?
    /// The old primary that becomes a secondary.
    package var demoted: ProxyAddress?
    package var collisions: [Collision] = []
    /// Why nothing could be generated, when so; the recipient then gets nothing.
    package var failure: String?
    /// True when the recipient was last stamped by another policy (or none).
    package var changesStampingPolicy = false

    /// True when an address is added, promoted or demoted.
    package var changesAddresses: Bool { !added.isEmpty || promoted != nil || demoted != nil }
    /// True when applying writes anything at all.
    package var isEmpty: Bool { !changesAddresses && !changesStampingPolicy }

    package init(alias: String, policy: String) {
        self.alias = alias
        self.policy = policy
    }
}

/// Computes stamp plans (spec §2: additive, never removes, demotes the old primary, resolves
/// collisions with the smallest free numeric suffix ≥ 2).
///
/// Pure over values: who owns an address is asked through `owner`, which the caller answers
/// from the directory (and, in a dry run, from the addresses earlier plans of the run claimed).
package struct Stamper {
    /// Highest suffix tried before the recipient is reported; far beyond real name clashes.
    package static let maximumSuffix = 10_000

    package let transliterator: Transliterator

    package init(transliterator: Transliterator = Transliterator()) {
        self.transliterator = transliterator
    }

    /// The plan for `recipient` under `policy`. `owner(key)` returns the alias of another
    /// recipient holding the address with that lower-cased key (any type), or nil when no
    /// other recipient does.
    package func plan(for recipient: Recipient, under policy: CompiledPolicy, owner: (String) throws -> String?) rethrows -> StampPlan {
        var plan = StampPlan(alias: recipient.alias, policy: policy.name)
        plan.changesStampingPolicy = recipient.stampedByPolicy != policy.name

        // An SMTP address it owns is never a collision (reruns stay idempotent). A recipient
        // has a handful, so a scan beats hashing lower-cased copies.
        let owned = recipient.addresses
        var generated: [(address: EmailAddress, isPrimary: Bool)] = []
        for entry in policy.templates {
            guard let base = entry.template.render(for: recipient, transliterator: transliterator) else {
                plan.failure = "template \(entry.template) gives no usable local part for \(recipient.alias)"
                break
            }
            guard let address = try freeAddress(base, owned: owned, claimed: generated, alias: recipient.alias, plan: &plan, owner: owner) else {
                plan.failure = "no free address for \(base) up to suffix \(Self.maximumSuffix)"
                break
            }
            // Two templates giving one address: the first (the primary) keeps it.
            if generated.contains(where: { EmailAddress.sameText($0.address.description, address.description) }) { continue }
            generated.append((address, entry.isPrimary))
        }
        if plan.failure != nil {
            plan.collisions = []
            return plan
        }

        let currentPrimary = recipient.primaryAddress()
        for (address, isPrimary) in generated {
            if let existing = owned.first(where: { $0.isSMTP && EmailAddress.sameText($0.value, address.description) }) {
                if isPrimary && !existing.isPrimary {
                    var promoted = existing
                    promoted.kind = .primary
                    plan.promoted = promoted
                }
                continue
            }
            // A new primary replaces the old one; a new secondary is only added.
            plan.added.append(ProxyAddress(address, kind: isPrimary ? .primary : .secondary))
        }
        let primaryChanges = plan.promoted != nil || plan.added.contains(where: \.isPrimary)
        if primaryChanges, var old = currentPrimary {
            old.kind = .secondary
            plan.demoted = old
        }
        return plan
    }

    /// `base`, or `local2@domain`, `local3@domain`, … the first the recipient owns or nobody
    /// else does. nil when every suffix up to the maximum is taken.
    private func freeAddress(
        _ base: EmailAddress, owned: [ProxyAddress], claimed: [(address: EmailAddress, isPrimary: Bool)], alias: String,
        plan: inout StampPlan, owner: (String) throws -> String?
    ) rethrows -> EmailAddress? {
        var candidate = base
        var suffix = 1
        var firstHolder: String?
        func isMine(_ text: String) -> Bool {
            owned.contains { $0.isSMTP && EmailAddress.sameText($0.value, text) }
                || claimed.contains { EmailAddress.sameText($0.address.description, text) }
        }
        while true {
            if isMine(candidate.description) { break }
            guard let holder = try owner(candidate.key), holder.lowercased() != alias.lowercased() else { break }
            if firstHolder == nil { firstHolder = holder }
            suffix += 1
            guard suffix <= Self.maximumSuffix, let next = Self.suffixed(base, suffix) else { return nil }
            candidate = next
        }
        // A candidate an earlier template of this recipient claimed is dropped by the caller;
        // its collision is already recorded.
        if let firstHolder, !claimed.contains(where: { EmailAddress.sameText($0.address.description, candidate.description) }) {
            plan.collisions.append(.init(wanted: base, owner: firstHolder, used: candidate))
        }
        return candidate
    }

    /// `local` + `n` @ domain, cutting the local part so the whole stays within 64 octets.
    static func suffixed(_ base: EmailAddress, _ n: Int) -> EmailAddress? {
        let digits = String(n)
        var local = base.localPart.text
        let room = LocalPart.maximumLength - digits.utf8.count
        if local.utf8.count > room { local = String(local.utf8.prefix(room))! }
        guard let part = try? LocalPart(parsing: (local + digits)[...], for: local + digits) else { return nil }
        return EmailAddress(localPart: part, domain: base.domain)
    }
}
