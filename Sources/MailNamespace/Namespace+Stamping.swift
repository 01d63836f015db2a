import MailCore
import MailPolicy
import MailStore

/// Options of one policy run (`mailns policy apply`).
package struct ApplyOptions: Sendable {
    package var dryRun = false
    /// Only recipients this policy wins (Exchange's "Apply this policy now").
    package var policy: String?
    /// Recipients per write transaction.
    package var batchSize = Namespace.batchSize
    package init(dryRun: Bool = false, policy: String? = nil, batchSize: Int = Namespace.batchSize) {
        self.dryRun = dryRun
        self.policy = policy
        self.batchSize = batchSize
    }
}

/// What a policy run did (or, dry, would do).
package struct ApplyReport: Sendable {
    package var batchID: String
    package var dryRun: Bool
    /// Policy-managed recipients looked at.
    package var recipients = 0
    /// Recipients whose addresses changed.
    package var changed = 0
    package var added = 0
    package var promoted = 0
    package var demoted = 0
    package var collisions = 0
    /// Recipients that got nothing, with the reason.
    package var failures: [(alias: String, reason: String)] = []
    /// Per-recipient plans with address changes: dry runs without an `onPlan` handler only
    /// (a handler streams them instead, so a million plans need not sit in memory).
    package var plans: [StampPlan] = []
}

extension Namespace {
    /// Recipients per write transaction: large enough that commits are cheap, small enough
    /// that a concurrent `mailns` command waits well under the 5 s busy timeout.
    package static let batchSize = 50_000

    /// Applies the recipient policies to every policy-managed recipient, in alias order (spec §2):
    /// the winning policy's addresses are added, a changed primary demotes the old one,
    /// nothing is removed, collisions take the smallest free numeric suffix. One transaction
    /// per batch; every change goes to the address history under the policy's name and one
    /// batch id. A dry run reads one snapshot and writes nothing.
    ///
    /// `progress(done, total)` is called after each batch; `onPlan`, when given, with each
    /// plan that changes addresses, in alias order, as it is made.
    package func applyPolicies(
        _ options: ApplyOptions, progress: (Int, Int) -> Void = { _, _ in }, onPlan: ((StampPlan) -> Void)? = nil
    ) throws -> ApplyReport {
        let policies = try directory.policies()
        if let only = options.policy, !policies.contains(where: { RecipientPolicy.sameName($0.name, only) }) {
            throw StoreError.notFound("no recipient policy named \(only)")
        }
        var report = ApplyReport(batchID: DirectoryStore.makeBatchID(), dryRun: options.dryRun)
        let total = try directory.transaction(writing: false) { try $0.policyManagedCount() }

        // A dry run keeps its claims for the whole run, since nothing reaches the database: by
        // hash, naming the claiming recipient by its place in `dryRunOwners` (a million claims
        // as Strings took 400 MB).
        var claimedByDryRun = ClaimTable()
        var dryRunOwners: [String] = []
        var after: String?
        var done = 0
        while true {
            let more = try directory.transaction(writing: !options.dryRun) { tx -> Bool in
                let page = try tx.recipients(after: after, limit: options.batchSize, policyManagedOnly: true)
                guard let last = page.last else { return false }
                after = last.recipient.alias
                // Read with the page: a policy changed by another process mid-run applies from
                // the next page on, never half-read.
                var pass = try StampingPass(tx)
                for record in page {
                    report.recipients += 1
                    guard let winner = pass.winner(for: record.recipient) else { continue }
                    if let only = options.policy, !RecipientPolicy.sameName(winner.name, only) { continue }
                    let plan = try pass.plan(record, under: winner, tx) { key in
                        claimedByDryRun[ClaimTable.hash("", key)].map { dryRunOwners[Int($0)] }
                    }
                    guard tally(plan, of: record, into: &report, keepingPlans: onPlan == nil) else { continue }
                    if plan.changesAddresses { onPlan?(plan) }
                }
                if options.dryRun {
                    var owners: [String: UInt32] = [:]
                    for (key, alias) in pass.claimed {
                        let owner: UInt32
                        if let known = owners[alias] {
                            owner = known
                        } else {
                            owner = UInt32(dryRunOwners.count)
                            owners[alias] = owner
                            dryRunOwners.append(alias)
                        }
                        claimedByDryRun[ClaimTable.hash("", key)] = owner
                    }
                } else {
                    try pass.write(tx, batchID: report.batchID)
                }
                done += page.count
                return page.count == options.batchSize
            }
            progress(done, total)
            if !more { break }
        }
        return report
    }

    /// Counts a plan into the report; true when it has anything to write.
    private func tally(_ plan: StampPlan, of record: RecipientRecord, into report: inout ApplyReport, keepingPlans: Bool) -> Bool {
        if let failure = plan.failure {
            report.failures.append((record.recipient.alias, failure))
            return false
        }
        guard !plan.isEmpty else { return false }
        if plan.changesAddresses {
            report.changed += 1
            report.added += plan.added.count
            report.promoted += plan.promoted == nil ? 0 : 1
            report.demoted += plan.demoted == nil ? 0 : 1
            report.collisions += plan.collisions.count
            if report.dryRun && keepingPlans { report.plans.append(plan) }
        }
        return true
    }

    /// Stamps one recipient with its winning policy inside the caller's write transaction
    /// (a new or changed policy-managed recipient gets its addresses at once, as Exchange
    /// 2007+ does). Returns the plan, or nil when the recipient is not policy-managed.
    @discardableResult
    static func stampNow(_ record: RecipientRecord, tx: DirectoryTransaction) throws -> StampPlan? {
        guard record.recipient.isPolicyManaged else { return nil }
        var pass = try StampingPass(tx)
        guard let winner = pass.winner(for: record.recipient) else { return nil }
        let plan = try pass.plan(record, under: winner, tx)
        if let failure = plan.failure { throw StoreError.refused("recipient \(record.recipient.alias): \(failure)") }
        try pass.write(tx, batchID: DirectoryStore.makeBatchID())
        return plan
    }

    /// Adds a recipient; a policy-managed one is stamped by its winning policy in the same
    /// transaction, so it is never visible without its policy addresses.
    @discardableResult
    package func addRecipient(_ recipient: Recipient, actor: AddressActor = .manual) throws -> Recipient {
        try directory.transaction(writing: true) { tx in
            let record = try tx.addRecipient(recipient, actor: actor)
            try Self.stampNow(record, tx: tx)
            return try tx.recipient(alias: record.recipient.alias)?.recipient ?? record.recipient
        }
    }

    /// Changes a recipient's fields, then re-stamps it when policy-managed (its attributes may
    /// now generate other addresses, or another policy may win).
    @discardableResult
    package func updateRecipient(alias: String, _ change: (inout Recipient) throws -> Void) throws -> Recipient {
        try directory.transaction(writing: true) { tx in
            let updated = try tx.updateRecipient(alias: alias, change)
            try Self.stampNow(updated, tx: tx)
            return try tx.recipient(alias: updated.recipient.alias)?.recipient ?? updated.recipient
        }
    }
}

/// One transaction's worth of stamping, shared by `policy apply`, `import` and single changes:
/// the policies as read in that transaction, and the addresses its earlier plans add, so that
/// later recipients see them taken before anything is written, as they would be in the database.
struct StampingPass {
    private let policies: PolicySet
    private let stamper = Stamper()
    /// Address keys (lower-cased) this pass's plans add, with the alias adding each.
    private(set) var claimed: [String: String] = [:]
    /// Numbered addresses earlier plans found held: valid for the pass, since its transaction
    /// only adds addresses.
    private var suffixHints = SuffixHints()
    private var stamps: [AddressStamp] = []

    init(_ tx: DirectoryTransaction) throws {
        policies = try PolicySet(try tx.policies())
    }

    func winner(for recipient: Recipient) -> CompiledPolicy? {
        policies.winner(for: recipient)
    }

    /// Plans `record` under `winner`. An address is taken when an earlier plan of this pass
    /// claimed it, when `alsoTaken` names an owner (a dry run's earlier claims), or when another
    /// recipient holds it in the database. A plan without a failure claims what it adds and,
    /// when it has anything to write, is queued for `write`.
    mutating func plan(
        _ record: RecipientRecord, under winner: CompiledPolicy, _ tx: DirectoryTransaction,
        alsoTaken: (String) -> String? = { _ in nil }
    ) throws -> StampPlan {
        let alias = record.recipient.alias
        // Moved out while the plan runs (its closure reads `self`), not copied: a copy would
        // make every hint learnt copy the whole table.
        var hints = SuffixHints()
        swap(&hints, &suffixHints)
        defer { swap(&hints, &suffixHints) }
        let plan = try stamper.plan(for: record.recipient, under: winner, hints: &hints) { key in
            if let owner = claimed[key] ?? alsoTaken(key), owner != alias { return owner }
            // A record not yet written (a dry run's new recipient) has no id to exclude.
            return try tx.owner(ofAddress: key, otherThan: record.id < 0 ? nil : record.id)
        }
        guard plan.failure == nil, !plan.isEmpty else { return plan }
        for address in plan.added { claimed[address.key] = alias }
        var stamp = AddressStamp(record: record, policy: plan.policy)
        stamp.added = plan.added
        stamp.promoted = plan.promoted
        stamp.demoted = plan.demoted
        stamp.updatesStampingPolicy = plan.changesStampingPolicy
        stamps.append(stamp)
        return plan
    }

    /// Writes the queued stamps in `tx` (a dry run never calls this).
    mutating func write(_ tx: DirectoryTransaction, batchID: String) throws {
        guard !stamps.isEmpty else { return }
        try tx.write(stamps, batchID: batchID)
        stamps.removeAll()
    }
}
