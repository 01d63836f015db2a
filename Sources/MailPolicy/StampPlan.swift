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
        var hints = SuffixHints()
        return try plan(for: recipient, under: policy, hints: &hints, owner: owner)
    }

    /// The plan for `recipient` under `policy`, skipping the numbered addresses `hints` knows
    /// are held, and teaching `hints` what this plan finds (only when it has no failure, since
    /// only then are its addresses written). The same answers as without hints, as long as no
    /// address is removed between the plans sharing them.
    package func plan(
        for recipient: Recipient, under policy: CompiledPolicy, hints: inout SuffixHints, owner: (String) throws -> String?
    ) rethrows -> StampPlan {
        var plan = StampPlan(alias: recipient.alias, policy: policy.name)
        var learnt: [(key: String, next: Int)] = []
        plan.changesStampingPolicy = !(recipient.stampedByPolicy.map { RecipientPolicy.sameName($0, policy.name) } ?? false)

        // An SMTP address it owns is never a collision (reruns stay idempotent). A recipient
        // has a handful, so a scan beats hashing lower-cased copies.
        let owned = recipient.addresses
        var generated: [(address: EmailAddress, isPrimary: Bool)] = []
        for entry in policy.templates {
            guard let base = entry.template.render(for: recipient, transliterator: transliterator) else {
                plan.failure = "template \(entry.template) gives no usable local part for \(recipient.alias)"
                break
            }
            guard
                let address = try freeAddress(
                    base, owned: owned, claimed: generated, alias: recipient.alias, plan: &plan, known: hints.known, learnt: &learnt,
                    owner: owner)
            else {
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
        for (key, next) in learnt { hints.known[key] = next }

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
    /// else does. nil when every suffix up to the maximum is taken. Once `base` is found taken,
    /// the suffixes below its hint in `known` are known taken too, so among them only the
    /// recipient's own addresses are looked at; a search that went on past them is `learnt`.
    private func freeAddress(
        _ base: EmailAddress, owned: [ProxyAddress], claimed: [(address: EmailAddress, isPrimary: Bool)], alias: String,
        plan: inout StampPlan, known: [String: Int], learnt: inout [(key: String, next: Int)], owner: (String) throws -> String?
    ) rethrows -> EmailAddress? {
        func isMine(_ text: String) -> Bool {
            owned.contains { $0.isSMTP && EmailAddress.sameText($0.value, text) }
                || claimed.contains { EmailAddress.sameText($0.address.description, text) }
        }
        var candidate = base
        var suffix = 1
        var firstHolder: String?
        var searched = true
        while true {
            if isMine(candidate.description) { break }
            guard let holder = try owner(candidate.key), holder.lowercased() != alias.lowercased() else { break }
            if firstHolder == nil {
                firstHolder = holder
                // Asked only on a collision, so a recipient whose address is free pays nothing.
                if let next = known[base.key] {
                    // Below the hint every number is held by someone; the search would take
                    // the first that is this recipient's SMTP address or that nobody else
                    // holds, and a number held by nobody else is one this recipient holds.
                    var usable: EmailAddress?
                    for mine in ownSuffixes(of: base, below: next, owned: owned, claimed: claimed) {
                        guard let own = Self.suffixed(base, mine) else { continue }
                        if !isMine(own.description), let other = try owner(own.key), other.lowercased() != alias.lowercased() { continue }
                        usable = own
                        break
                    }
                    if let usable {
                        candidate = usable
                        searched = false
                        break
                    }
                    suffix = next - 1
                }
            }
            suffix += 1
            guard suffix <= Self.maximumSuffix, let next = Self.suffixed(base, suffix) else { return nil }
            candidate = next
        }
        // Every suffix below the one used is held by someone, and the one used is this
        // recipient's from now on: the next recipient wanting `base` starts above it.
        if firstHolder != nil, searched { learnt.append((base.key, suffix + 1)) }
        // A candidate an earlier template of this recipient claimed is dropped by the caller;
        // its collision is already recorded.
        if let firstHolder, !claimed.contains(where: { EmailAddress.sameText($0.address.description, candidate.description) }) {
            plan.collisions.append(.init(wanted: base, owner: firstHolder, used: candidate))
        }
        return candidate
    }

    /// Every n in 2..<limit for which the recipient holds (or this plan claimed)
    /// `suffixed(base, n)`, under any type, in ascending order: below the hint every number is
    /// held, and one held by this recipient is the only kind it may use. A handful of
    /// addresses, each split at its trailing digits.
    private func ownSuffixes(
        of base: EmailAddress, below limit: Int, owned: [ProxyAddress], claimed: [(address: EmailAddress, isPrimary: Bool)]
    ) -> [Int] {
        let texts = owned.map(\.value) + claimed.map(\.address.description)
        var found: Set<Int> = []
        for text in texts {
            guard let at = text.utf8.lastIndex(of: UInt8(ascii: "@")) else { continue }
            let local = text.utf8[..<at]
            let digits = local.reversed().prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
            // Each tail of the digits is a possible suffix: "smith12" is smith + 12 or smith1 + 2.
            for length in stride(from: min(digits, String(Self.maximumSuffix).count), through: 1, by: -1) {
                let tail = local.suffix(length)
                guard tail.first != UInt8(ascii: "0"), let n = Int(String(decoding: tail, as: UTF8.self)), n >= 2, n < limit else { continue }
                if let numbered = Self.suffixed(base, n), EmailAddress.sameText(numbered.description, text) { found.insert(n) }
            }
        }
        return found.sorted()
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

/// What the plans of one pass learnt about numbered addresses, so that the thousandth
/// "John Smith" does not probe john.smith2 … john.smith999 again (which made a pass over many
/// equal names quadratic). Only for plans that see addresses added, never removed, between
/// them: one transaction of a policy run or an import.
package struct SuffixHints: Sendable {
    /// Base address key (lower-cased) → the first suffix not known to be held: 5 means base2,
    /// base3 and base4 are all held (and the base itself, whoever holds it now).
    package internal(set) var known: [String: Int] = [:]

    package init() {}
}
