import Foundation
import DirectoryFormats
import MailCore
import MailPolicy
import MailStore

/// Options of one `mailns import`.
package struct ImportOptions: Sendable {
    /// Which organisation the records come from (the recipients' `source`, the history's actor).
    package var source: String?
    /// The kind of every record; nil: `mailnsKind`, else `objectClass` (contact or not) decides.
    package var kind: RecipientKind?
    /// The attribute records are matched on: `mailNickname` (the alias), `objectGUID` or any column.
    package var key = "mailNickname"
    package var dryRun = false
    /// All or nothing: one rejected record rolls the whole import back.
    package var atomic = false
    /// Whether new recipients are policy-managed (`--no-policy` turns it off).
    package var policyManaged = true
    /// Records per transaction.
    package var batchSize = ImportOptions.defaultBatchSize
    /// Measured on a million records with the reading thread a batch ahead: 2,000 took 34 s
    /// at 188 MB, 10,000 took 42 s at 226 MB (two large batches in flight thrash the caches).
    package static let defaultBatchSize = 2_000

    package init() {}

    var keysOnAlias: Bool { key.lowercased() == "mailnickname" }

    /// Why `key` cannot be what records are matched on, or nil. A multi-valued attribute
    /// (each record holds a list) names no one recipient; `changetype` is the same on every
    /// record; a reject file's reason column is not the record's own.
    package static func keyProblem(_ key: String) -> String? {
        switch key.lowercased() {
        case "proxyaddresses", "objectclass": "\(key) holds several values per record, so it cannot say which recipient a record is"
        case "changetype": "changetype says what to do with a record, not which recipient it is"
        case "mailnsrejectreason": "mailnsRejectReason is a reject file's reason, which import ignores"
        default: nil
        }
    }
}

/// A record that was not imported: where it starts, why, and its bytes as written.
package struct ImportRejection: Sendable {
    package let line: Int
    package let reason: String
    package let raw: [UInt8]

    package var description: String { "line \(line): \(reason)" }
}

/// The merge report of a dry run: what collides between the file and the directory and
/// within the file, and the primary address each new recipient would get.
package struct MergeReport: Sendable {
    package struct Collision: Sendable {
        /// The file's line.
        package let line: Int
        /// What collides: the alias, the address or the display name (with its company).
        package let value: String
        /// The directory's recipient, or the earlier line of the file, it collides with.
        package let with: String
    }

    package struct NewPrimary: Sendable {
        package let line: Int
        package let alias: String
        package let primary: String?
        /// The policy's address was taken and a numeric suffix used (john.doe2@…).
        package let suffixed: Bool
        package let policy: String
    }

    /// One kind of finding: its exact count, and the first `MergeReport.listed` of them, so a
    /// dry run over a million records stays within bounded memory.
    package struct Section<Item: Sendable>: Sendable {
        package private(set) var count = 0
        package private(set) var items: [Item] = []
        /// Findings counted but not listed.
        package var omitted: Int { count - items.count }

        mutating func append(_ item: Item) {
            count += 1
            if items.count < MergeReport.listed { items.append(item) }
        }
    }

    /// How many findings of each kind a report lists (all are counted).
    package static let listed = 10_000

    /// File against directory: a record's key names an existing recipient (it would update).
    package var sameAlias = Section<Collision>()
    /// File against directory: an address another recipient holds (it would be rejected).
    package var sameAddress = Section<Collision>()
    /// File against directory: a new record with the display name of a recipient in the same company.
    package var sameDisplayName = Section<Collision>()
    /// Within the file: a key, an address or a display name (same company) a record repeats.
    package var fileSameKey = Section<Collision>()
    /// Keyed on another attribute than the alias: two new records with the same alias.
    package var fileSameAlias = Section<Collision>()
    package var fileSameAddress = Section<Collision>()
    package var fileSameDisplayName = Section<Collision>()
    /// New policy-managed recipients and the primary their policy would give them.
    package var newPrimaries = Section<NewPrimary>()
    /// How many of the new primaries took a numeric suffix (counted over all, listed or not).
    package private(set) var suffixed = 0

    mutating func addNewPrimary(_ item: NewPrimary) {
        newPrimaries.append(item)
        if item.suffixed { suffixed += 1 }
    }
}

/// What an import did (or, dry, would do).
package struct ImportSummary: Sendable {
    package var dryRun = false
    package var atomic = false
    package var batchID = ""
    package var format: DirectoryFileFormat = .csv
    package var created = 0
    package var updated = 0
    package var unchanged = 0
    package var rejected = 0
    /// Rejections, first ones (the reject file has them all).
    package var rejections: [ImportRejection] = []
    package var unknownAttributes: [String] = []
    /// Recipients that got addresses from their policy in this run.
    package var stamped = 0
    /// Imported recipients their policy could not give addresses.
    package var policyFailures: [(alias: String, reason: String)] = []
    /// `--atomic` with a rejection (or stopped by an error): nothing was written.
    package var rolledBack = false
    /// Dry runs only.
    package var report: MergeReport?

    /// How many rejections the summary keeps; the reject file and `onReject` see every one.
    package static let keptRejections = 1_000

    /// Records the counts cover: those of the committed batches (of every batch in a dry run).
    package var processed: Int { created + updated + unchanged + rejected }
}

/// An import that could not go on (a record past the reader's limit, a read error, a busy
/// or failing database): why, and what it had done by then. In a plain import the batches
/// committed before the error stay committed and `summary` counts them; an atomic import
/// rolled everything back, and a dry run wrote nothing anyway.
package struct ImportStopped: Error {
    package let error: any Error
    package let summary: ImportSummary

    /// Whether anything stays in the directory.
    package var committedAnything: Bool { !summary.dryRun && !summary.atomic && summary.processed > 0 }
}

extension Namespace {
    /// Imports the records `reader` yields (spec: issue 6). A record whose key exists updates
    /// that recipient (attributes it speaks for replaced, addresses added, never removed); a
    /// new key creates one. A record that cannot be imported is rejected with its line and the
    /// reason, and the records around it are imported. When two records claim one key or
    /// address, the first is imported. Batches of `batchSize` records commit one transaction
    /// each (an interrupted import leaves whole batches, and a re-run finds them unchanged);
    /// new and updated policy-managed recipients are stamped by their policy in the same
    /// transaction. A dry run writes nothing and fills the merge report.
    ///
    /// `progress(bytes, records)` is called after each batch; `onReject` with every rejection,
    /// in file order, as it is found.
    package func importRecipients(
        _ reader: ImportReader, _ options: ImportOptions,
        progress: (Int, Int) -> Void = { _, _ in }, onReject: @escaping (ImportRejection) -> Void = { _ in }
    ) throws -> ImportSummary {
        let run = ImportRun(reader: reader, options: options, onReject: onReject)
        // On an error the reading thread is told to stop but not waited for: it may be
        // blocked reading stdin, and it holds the reader until it ends.
        defer { run.prefetcher.stop(waiting: false) }
        do {
            try run.all(directory, progress: progress)
        } catch {
            // The caller must not say "nothing imported" when batches were committed.
            var summary = run.summary
            if summary.atomic {
                summary.rolledBack = true
                summary.zeroWrites()
            }
            throw ImportStopped(error: error, summary: summary)
        }
        // Every batch was taken, so the reading thread has ended or is about to.
        run.prefetcher.stop(waiting: true)
        run.summary.unknownAttributes = reader.unknownAttributes
        if run.summary.rolledBack { run.summary.zeroWrites() }
        return run.summary
    }
}

extension ImportSummary {
    /// An atomic import that rolled back wrote nothing: only its rejections count.
    fileprivate mutating func zeroWrites() {
        created = 0
        updated = 0
        unchanged = 0
        stamped = 0
    }
}

private struct RollBack: Error {}

extension ImportRun {
    /// Every batch of the file, in the transactions `options` asks for.
    func all(_ directory: DirectoryStore, progress: (Int, Int) -> Void) throws {
        if options.dryRun {
            try directory.transaction(writing: false) { tx in
                loadDisplayNames(tx)
                while let batch = try readBatch() {
                    try process(batch, tx)
                    progress(bytesRead, records)
                }
            }
        } else if options.atomic {
            do {
                try directory.transaction(writing: true) { tx in
                    while let batch = try readBatch() {
                        try process(batch, tx)
                        progress(bytesRead, records)
                    }
                    if summary.rejected > 0 { throw RollBack() }
                }
            } catch is RollBack {
                summary.rolledBack = true
            }
        } else {
            while let batch = try readBatch() {
                let before = summary
                do {
                    try directory.transaction(writing: true) { tx in try process(batch, tx) }
                } catch {
                    // The batch rolled back: its counts, claims and rejections did not happen.
                    summary = before
                    pendingRejections.removeAll()
                    throw error
                }
                // Reported once committed, so the reject file holds what the counts say.
                for rejection in pendingRejections { onReject(rejection) }
                pendingRejections.removeAll()
                progress(bytesRead, records)
            }
        }
    }
}

/// The state of one import: claims of keys and addresses across batches, counts, the report.
private final class ImportRun {
    let reader: ImportReader
    let options: ImportOptions
    let onReject: (ImportRejection) -> Void
    var summary = ImportSummary()
    var records = 0
    let actor: AddressActor
    let keyName: String
    /// Keys and addresses (type:address) that imported records claimed, by 64-bit hash, with
    /// the line that claimed them: a million-record file's claims in about 50 MB. Two
    /// different keys sharing a hash is far below any real chance (about 10⁻⁷ for 3 million).
    var claims = ClaimTable()
    /// Dry runs: addresses (any type) that new records and their policy plans would hold, by
    /// hash, with the line of the record holding each, so later plans see them taken.
    var plannedAddresses = ClaimTable()
    /// A dry run's SMTP addresses that policy stamps of earlier records take, by line.
    var plannedStamps = ClaimTable()
    /// Dry runs: display name and company (lower-cased) → the directory's alias, and by hash
    /// the file's first line with them.
    var directoryDisplayNames: [String: String] = [:]
    var fileDisplayNames = ClaimTable()
    /// The batch's stamping pass, while `process` runs.
    var pass: StampingPass?
    /// The batch's history lines of new recipients, while `process` runs.
    private var history: DirectoryStore.HistoryRows?
    /// A plain import's rejections of the batch being written, reported when it commits.
    var pendingRejections: [ImportRejection] = []
    let prefetcher: BatchPrefetcher
    /// How far into the file the batches handed out so far reach, for progress.
    private(set) var bytesRead = 0

    init(reader: ImportReader, options: ImportOptions, onReject: @escaping (ImportRejection) -> Void) {
        self.reader = reader
        self.options = options
        self.onReject = onReject
        actor = .import(source: options.source)
        keyName = options.keysOnAlias ? "mailNickname" : options.key
        summary.dryRun = options.dryRun
        summary.atomic = options.atomic
        summary.format = reader.format
        summary.batchID = DirectoryStore.makeBatchID()
        if options.dryRun { summary.report = MergeReport() }
        // Last: from here on the reading thread owns `reader` until it is stopped.
        prefetcher = BatchPrefetcher(reader: reader, options: options)
    }

    /// The next batch, read and checked ahead by `prefetcher`; nil at the end of the file.
    func readBatch() throws(FormatError) -> [PreparedEntry]? {
        guard let batch = try prefetcher.next() else { return nil }
        bytesRead = batch.bytesRead
        return batch.entries
    }

    func loadDisplayNames(_ tx: DirectoryTransaction) {
        guard let rows = try? tx.displayNames() else { return }
        for row in rows { directoryDisplayNames[Self.displayKey(row.displayName, row.company)] = row.alias }
    }

    static func displayKey(_ name: String, _ company: String?) -> String {
        name.lowercased() + "\u{1}" + (company ?? "").lowercased()
    }

    // MARK: - One batch

    func process(_ batch: [PreparedEntry], _ tx: DirectoryTransaction) throws {
        // The policies as this batch's transaction reads them, for the rows and their stamps.
        pass = try StampingPass(tx)
        defer { pass = nil; history = nil }
        for prepared in batch {
            let entry = prepared.entry
            records += 1
            // Each record's stamp is planned before the next record is looked at, so a later
            // record sees the addresses it takes whether or not they are written yet: the
            // same file gives the same result whatever the batch size.
            switch try importOne(prepared, tx) {
            case .rejected(let reason):
                reject(entry, reason)
            case .created(let record):
                summary.created += 1
                if record.recipient.isPolicyManaged { try planStamp(record, line: entry.line, isNew: true, tx) }
            case .updated(let record):
                summary.updated += 1
                if record.recipient.isPolicyManaged { try planStamp(record, line: entry.line, isNew: false, tx) }
            case .unchanged:
                summary.unchanged += 1
            }
        }
        try history?.flush()
        // After the rows' own history lines, so a recipient's history reads in order.
        if !options.dryRun { try pass?.write(tx, batchID: summary.batchID) }
    }

    private enum Outcome {
        case rejected(String)
        case created(RecipientRecord)
        case updated(RecipientRecord)
        case unchanged
    }

    private func reject(_ entry: ImportEntry, _ reason: String) {
        summary.rejected += 1
        let rejection = ImportRejection(line: entry.line, reason: reason, raw: Array(entry.raw))
        if summary.rejections.count < ImportSummary.keptRejections { summary.rejections.append(rejection) }
        if options.dryRun || options.atomic { onReject(rejection) } else { pendingRejections.append(rejection) }
    }

    private func importOne(_ prepared: PreparedEntry, _ tx: DirectoryTransaction) throws -> Outcome {
        let entry = prepared.entry
        let candidate: Candidate
        switch prepared.candidate {
        case .failure(let reason): return .rejected(reason.text)
        case .success(let made): candidate = made
        }
        let line = UInt32(clamping: entry.line)
        let keyHash = ClaimTable.hash("k", candidate.keyValue)
        // Keyed on the alias, the key claim covers it; proxy types are upper-case, so "a" is no type.
        let aliasHash = ClaimTable.hash("a", candidate.recipient.alias)
        if let first = claims[keyHash] {
            summary.report?.fileSameKey.append(.init(line: entry.line, value: candidate.keyValue, with: "line \(first)"))
            return .rejected("\(keyName) \(candidate.keyValue) is also on line \(first); the first record with it is imported")
        }
        let addressHashes = candidate.addresses.map { ClaimTable.hash($0.type, $0.value) }
        for (address, hash) in zip(candidate.addresses, addressHashes) {
            if let first = claims[hash] {
                summary.report?.fileSameAddress.append(.init(line: entry.line, value: address.description, with: "line \(first)"))
                return .rejected("address \(address) is also on line \(first); the first record with it is imported")
            }
        }

        // Which recipient the record is.
        let existing: RecipientRecord?
        if options.keysOnAlias {
            existing = try tx.recipient(alias: candidate.recipient.alias)
        } else {
            existing = try tx.recipient(importKey: options.key, value: candidate.keyValue)
            // An earlier record of the file creating a recipient with this alias: named by its
            // line (a dry run has no row to find, a real run's row is this run's own).
            if existing == nil, let first = claims[aliasHash] {
                summary.report?.fileSameAlias.append(.init(line: entry.line, value: candidate.recipient.alias, with: "line \(first)"))
                return .rejected("alias \(candidate.recipient.alias) is also on line \(first), a new recipient's; the first record with it is imported")
            }
            if existing == nil, let other = try tx.recipient(alias: candidate.recipient.alias) {
                summary.report?.sameAlias.append(.init(line: entry.line, value: candidate.recipient.alias, with: other.recipient.alias))
                return .rejected("alias \(candidate.recipient.alias) belongs to recipient \(other.recipient.alias), which no earlier import matched on \(keyName) \(candidate.keyValue)")
            }
        }
        for address in candidate.addresses {
            if let owner = try tx.addressOwner(type: address.type, value: address.value), owner.id != existing?.id {
                summary.report?.sameAddress.append(.init(line: entry.line, value: address.description, with: owner.alias))
                return .rejected("address \(address) belongs to recipient \(owner.alias)")
            }
            // Taken by an earlier record's policy stamp not written yet (this batch's, or any
            // of a dry run's): as taken as a written one.
            if let holder = stampedEarlier(address, otherThan: existing?.recipient.alias) {
                summary.report?.sameAddress.append(.init(line: entry.line, value: address.description, with: holder.name))
                return .rejected("address \(address) belongs to \(holder.who)")
            }
        }

        let outcome: Outcome
        if let existing {
            let fields: Recipient
            switch candidate.merged(into: existing.recipient, options) {
            case .failure(let reason): return .rejected(reason.text)
            case .success(let merged): fields = merged
            }
            summary.report?.sameAlias.append(.init(line: entry.line, value: candidate.keyValue, with: existing.recipient.alias))
            if options.dryRun {
                // The addresses the update would add are taken for the records after it, as
                // a real run's written ones are.
                for address in candidate.addresses { plannedAddresses[ClaimTable.hash("", address.key)] = line }
                outcome = Self.wouldChange(existing.recipient, fields, candidate.addresses) ? .updated(RecipientRecord(id: existing.id, recipient: fields)) : .unchanged
            } else {
                let (record, change) = try tx.updateImported(
                    existing, fields: fields, addresses: candidate.addresses, key: candidate.storedKey, actor: actor, batchID: summary.batchID)
                outcome = change == .updated ? .updated(record) : .unchanged
            }
        } else {
            if options.dryRun {
                noteDisplayName(candidate.recipient, line: entry.line)
                for address in candidate.addresses { plannedAddresses[ClaimTable.hash("", address.key)] = line }
                outcome = .created(RecipientRecord(id: -1, recipient: candidate.recipient))
            } else {
                // The winner is known now: the row carries it, and the stamp below then has
                // only addresses to write (or nothing).
                let winner = candidate.recipient.isPolicyManaged ? pass?.winner(for: candidate.recipient)?.name : nil
                if history == nil { history = try tx.historyRows(batchID: summary.batchID) }
                outcome = .created(try tx.createImported(
                    candidate.recipient, key: candidate.storedKey, actor: actor, history: &history!, stampedBy: winner))
            }
        }
        claims[keyHash] = line
        for hash in addressHashes { claims[hash] = line }
        // Only a new recipient takes the file's alias (an update keeps the recipient's own).
        if case .created = outcome, !options.keysOnAlias { claims[aliasHash] = line }
        return outcome
    }

    /// Whether updating `old` to `fields` with `addresses` would write anything (dry runs), as
    /// `updateImported` decides it.
    private static func wouldChange(_ old: Recipient, _ fields: Recipient, _ addresses: [ProxyAddress]) -> Bool {
        var compared = fields
        compared.alias = old.alias
        compared.stampedByPolicy = old.stampedByPolicy
        compared.addresses = old.addresses
        if compared != old { return true }
        for address in addresses {
            guard let have = old.addresses.first(where: { $0.type == address.type && $0.key == address.key }) else { return true }
            if address.isPrimary && !have.isPrimary && !DirectoryTransaction.policyOwnsPrimary(of: fields, type: address.type) { return true }
        }
        return false
    }

    private func noteDisplayName(_ recipient: Recipient, line: Int) {
        guard let name = recipient.attributes[.displayName] else { return }
        let company = recipient.attributes[.company]
        let key = Self.displayKey(name, company)
        let shown = company.map { "\(name) (\($0))" } ?? name
        if let alias = directoryDisplayNames[key] {
            summary.report?.sameDisplayName.append(.init(line: line, value: shown, with: alias))
        }
        let hash = ClaimTable.hash("", key)
        if let first = fileDisplayNames[hash] {
            summary.report?.fileSameDisplayName.append(.init(line: line, value: shown, with: "line \(first)"))
        } else {
            fileDisplayNames[hash] = UInt32(clamping: line)
        }
    }

    // MARK: - Policies

    /// Plans the stamp of a new or updated policy-managed recipient with its winning policy, as
    /// `policy apply` would; the batch writes the plans at its end. A dry run records the
    /// primaries, and the addresses each plan takes for the records after it.
    private func planStamp(_ record: RecipientRecord, line: Int, isNew: Bool, _ tx: DirectoryTransaction) throws {
        // Moved out while it plans, not copied: a copy would copy the pass's tables per record.
        guard var pass else { return }
        self.pass = nil
        defer { self.pass = pass }
        guard let winner = pass.winner(for: record.recipient) else { return }
        // A dry run's earlier records hold their addresses only here; the owner is named by
        // its line (a plan uses it only to see the address is taken by someone else).
        let ownLine = UInt32(clamping: line)
        let plan = try pass.plan(record, under: winner, tx) { key in
            guard let holder = plannedAddresses[ClaimTable.hash("", key)], holder != ownLine else { return nil }
            return "line \(holder)"
        }
        if let failure = plan.failure {
            summary.policyFailures.append((record.recipient.alias, failure))
            // The row was written as this policy's (createImported): it is not.
            if isNew && !options.dryRun { try tx.clearStampingPolicy(recipientID: record.id) }
            return
        }
        if options.dryRun {
            if isNew {
                let primary = plan.added.first { $0.isSMTP && $0.isPrimary }?.value ?? plan.promoted?.value
                    ?? record.recipient.primaryAddress()?.value
                summary.report?.addNewPrimary(
                    .init(line: line, alias: record.recipient.alias, primary: primary, suffixed: !plan.collisions.isEmpty, policy: plan.policy))
            }
            for address in plan.added {
                plannedAddresses[ClaimTable.hash("", address.key)] = ownLine
                plannedStamps[ClaimTable.hash(address.type, address.key)] = ownLine
            }
        }
        if plan.changesAddresses { summary.stamped += 1 }
    }

    /// Who an earlier record's stamp in this import gives `address` to, when it is not
    /// `alias`: this batch's plans by alias; a dry run's earlier batches by line.
    private func stampedEarlier(_ address: ProxyAddress, otherThan alias: String?) -> (name: String, who: String)? {
        guard address.isSMTP else { return nil }
        if let holder = pass?.claimed[address.key], holder.lowercased() != alias?.lowercased() { return (holder, "recipient \(holder)") }
        if options.dryRun, let line = plannedStamps[ClaimTable.hash(address.type, address.key)] {
            return ("line \(line)", "the record on line \(line) (its policy gives it)")
        }
        return nil
    }
}

/// Why a record cannot be imported, as the message says it.
private struct Refusal: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

/// A record as read, with what it would become (or why it cannot be imported whatever the
/// directory holds).
private struct PreparedEntry {
    let entry: ImportEntry
    let candidate: Result<Candidate, Refusal>
}

private struct PreparedBatch {
    var entries: [PreparedEntry]
    /// The reader's position after the batch's last record.
    var bytesRead: Int
    /// Why the file cannot be read on after this batch: the records before the error are
    /// imported, then the import stops.
    var stoppedBy: FormatError?
}

/// Reads, parses and checks the next batch on a thread of its own while the importing thread
/// writes the current one. That work needs no database and is about a third of an import's
/// time, so on a machine with two cores it overlaps the writes. It stays one batch ahead at
/// most, so two batches are in memory, never more.
///
/// `@unchecked Sendable`: the reader and options are used only by the reading thread once it
/// has started (the importing thread reads the reader again only after `stop()`), and a batch
/// changes hands under `condition`, which also guards every `var` here.
private final class BatchPrefetcher: @unchecked Sendable {
    private let reader: ImportReader
    private let options: ImportOptions
    private let keySlot: Int
    private let condition = NSCondition()
    /// The batch read ahead; `.success(nil)` at the end of the file, `.failure` once the file
    /// cannot be read on. Both end the reading and stay for every later `next()`.
    private var ready: Result<PreparedBatch?, FormatError>?
    private var stopping = false
    private var running = true

    init(reader: ImportReader, options: ImportOptions) {
        self.reader = reader
        self.options = options
        keySlot = reader.keySlot
        let thread = Thread { [self] in readAhead() }
        thread.name = "mailns import reader"
        thread.start()
    }

    /// The next batch, waiting for it if the reading thread is still at it.
    func next() throws(FormatError) -> PreparedBatch? {
        condition.lock()
        defer { condition.unlock() }
        while ready == nil { condition.wait() }
        let result = ready!
        if case .success(.some(let batch)) = result {
            // A batch cut short by an error hands over the error next, and for good.
            ready = batch.stoppedBy.map { .failure($0) }
            condition.broadcast()
        }
        return try result.get()
    }

    /// Tells the reading thread to stop after the record it is reading, and waits until it
    /// has if `waiting`. Idempotent.
    func stop(waiting: Bool) {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        while waiting && running { condition.wait() }
    }

    private func readAhead() {
        defer {
            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }
        while true {
            condition.lock()
            while ready != nil && !stopping { condition.wait() }
            let stop = stopping
            condition.unlock()
            if stop { return }
            let result: Result<PreparedBatch?, FormatError>
            do throws(FormatError) {
                result = .success(try read())
            } catch {
                result = .failure(error)
            }
            condition.lock()
            ready = result
            condition.broadcast()
            condition.unlock()
            guard case .success(.some(let batch)) = result, batch.stoppedBy == nil else { return }
        }
    }

    /// The next batch; one the reader failed in holds the records before the error, so that
    /// they are imported as they would have been without it.
    private func read() throws(FormatError) -> PreparedBatch? {
        var entries: [PreparedEntry] = []
        entries.reserveCapacity(min(options.batchSize, ImportOptions.defaultBatchSize))
        var stoppedBy: FormatError?
        do throws(FormatError) {
            while entries.count < options.batchSize, let entry = try reader.next() {
                let candidate: Result<Candidate, Refusal> = if let problem = entry.problem {
                    .failure(Refusal(problem))
                } else {
                    Candidate.make(entry, options, keySlot: keySlot)
                }
                entries.append(PreparedEntry(entry: entry, candidate: candidate))
            }
        } catch {
            if entries.isEmpty { throw error }
            stoppedBy = error
        }
        return entries.isEmpty ? nil : PreparedBatch(entries: entries, bytesRead: reader.bytesRead, stoppedBy: stoppedBy)
    }
}

/// A record turned into a recipient, checked against everything that does not need the
/// directory.
private struct Candidate {
    var recipient: Recipient
    var addresses: [ProxyAddress]
    var keyValue: String
    /// The import key to remember (nil when records are matched on the alias).
    var storedKey: (name: String, value: String)?
    let entry: ImportEntry
    let kindGiven: Bool
    /// What the record's `mailnsPolicyManaged` says, as far as it counts (nil: nothing).
    let policyManagedGiven: Bool?

    static func make(_ entry: ImportEntry, _ options: ImportOptions, keySlot: Int) -> Result<Candidate, Refusal> {
        guard let alias = entry.value(ImportField.mailNickname) else {
            return .failure(Refusal("the required field mailNickname (the alias) is missing"))
        }
        do {
            try RecipientAlias.validate(alias)
        } catch {
            return .failure(Refusal(error.description))
        }
        var keyValue = alias
        var storedKey: (name: String, value: String)?
        if keySlot != ImportField.mailNickname {
            guard let value = entry.value(keySlot) else {
                return .failure(Refusal("the required field \(options.key) (the key records are matched on) is missing"))
            }
            keyValue = value
            storedKey = (options.key, value)
        }

        // Kind: --kind, else our own column, else objectClass.
        var kind = RecipientKind.mailbox
        var kindGiven = false
        if let forced = options.kind {
            kind = forced
            kindGiven = true
        } else if let text = entry.value(ImportField.mailnsKind) {
            guard let parsed = RecipientKind(rawValue: text.lowercased()) else {
                return .failure(Refusal("mailnsKind \(text) is not mailbox, contact or remote"))
            }
            kind = parsed
            kindGiven = true
        } else if !entry.objectClasses.isEmpty {
            kind = entry.objectClasses.contains { $0.lowercased() == "contact" } ? .contact : .mailbox
            kindGiven = true
        }

        var attributes: [RecipientAttribute: String] = Dictionary(minimumCapacity: 8)
        for (offset, attribute) in RecipientAttribute.allCases.enumerated() {
            if let value = entry.values[ImportField.firstAttribute + offset] { attributes[attribute] = value }
        }

        var target: EmailAddress?
        if let text = entry.value(ImportField.targetAddress) {
            // AD stores targetAddress with its type: SMTP:jane@partner.example.
            var bare = Substring(text)
            if bare.lowercased().hasPrefix("smtp:") { bare = bare.dropFirst(5) }
            do {
                target = try EmailAddress(parsing: String(bare))
            } catch {
                return .failure(Refusal("targetAddress \(text): \(error.reason)"))
            }
        }

        var addresses: [ProxyAddress] = []
        for text in entry.proxyAddresses {
            do {
                addresses.append(try ProxyAddress(parsing: text))
            } catch {
                return .failure(Refusal(error.description))
            }
        }

        var policyManagedGiven: Bool?
        if let text = entry.value(ImportField.mailnsPolicyManaged) {
            switch text.lowercased() {
            case "true", "yes", "1": policyManagedGiven = true
            case "false", "no", "0": policyManagedGiven = false
            default: return .failure(Refusal("mailnsPolicyManaged \(text) is not TRUE or FALSE"))
            }
        }
        // --no-policy wins over the file, as --kind and --source do: this import makes no one
        // policy-managed (the file may still turn it off). Export always writes the column.
        if !options.policyManaged && policyManagedGiven == true { policyManagedGiven = nil }
        let policyManaged = policyManagedGiven ?? options.policyManaged
        let source = options.source ?? entry.value(ImportField.mailnsSource)
        var recipient = Recipient(
            alias: alias, kind: kind, attributes: attributes, targetAddress: target, isPolicyManaged: policyManaged, source: source)
        do {
            recipient.addresses = try DirectoryStore.normalizedAddressList(addresses, alias: alias)
            try DirectoryStore.validate(recipient)
        } catch let error as StoreError {
            return .failure(Refusal(error.description))
        } catch {
            return .failure(Refusal(String(describing: error)))
        }
        return .success(Candidate(recipient: recipient, addresses: addresses, keyValue: keyValue, storedKey: storedKey, entry: entry, kindGiven: kindGiven,
            policyManagedGiven: policyManagedGiven))
    }

    /// The existing recipient with this record's fields: attributes the record speaks for
    /// replaced (an empty CSV field clears), kind and target when the record gives them, the
    /// source when given; the policy-managed flag stays unless the record sets it (and
    /// `--no-policy` lets it only turn the flag off).
    func merged(into old: Recipient, _ options: ImportOptions) -> Result<Recipient, Refusal> {
        var updated = old
        for (offset, attribute) in RecipientAttribute.allCases.enumerated() where entry.speaks(for: ImportField.firstAttribute + offset) {
            updated.attributes[attribute] = recipient.attributes[attribute]
        }
        if kindGiven { updated.kind = recipient.kind }
        if entry.speaks(for: ImportField.targetAddress) {
            updated.targetAddress = recipient.targetAddress
        } else if updated.kind != .contact {
            updated.targetAddress = nil  // no longer a contact: nothing to forward to
        }
        if let source = recipient.source { updated.source = source }
        if let policyManagedGiven { updated.isPolicyManaged = policyManagedGiven }
        do {
            try DirectoryStore.validate(updated)
        } catch let error as StoreError {
            return .failure(Refusal(error.description))
        } catch {
            return .failure(Refusal(String(describing: error)))
        }
        return .success(updated)
    }
}
