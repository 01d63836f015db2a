import ArgumentParser
import Foundation
import MailCore
import MailNamespace
import MailPolicy
import MailStore

extension PolicyCommand {
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stamp every policy-managed recipient with its winning policy's addresses (the Recipient Update Service).",
            discussion: """
                Additive: addresses are added, a changed primary demotes the old one to smtp:, nothing is \
                removed. A taken address gets the smallest free suffix (john.doe2@…). A second run with \
                nothing changed writes nothing. Exit 65 when some recipients could not be given addresses.
                """)
        @OptionGroup var store: StoreOptions
        @Flag(help: "Write nothing; print what would change.") var dryRun = false
        @Option(help: "Only the recipients this policy wins (Exchange's \"Apply this policy now\").") var policy: String?
        @Option(help: "Recipients per transaction: a crash keeps whole batches, a re-run finishes the job.") var batchSize = Namespace.batchSize
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if !(1...1_000_000).contains(batchSize) { throw ValidationError("--batch-size must be 1 to 1000000") }
        }

        func run() throws {
            let progress = Progress(label: dryRun ? "policy apply (dry run)" : "policy apply")
            // A dry run's plans are printed as they are made (a directory of a million recipients
            // has a million plans); in JSON they form the "plans" array ahead of the summary.
            var printed = 0
            let streamsJSON = dryRun && output.json
            if streamsJSON { print("{\"plans\":[", terminator: "") }
            // A failure mid-run still leaves one well-formed document: the plans so far and the error.
            var failed: (any Error)?
            defer {
                if streamsJSON, let failed {
                    print("\n],\"error\":" + Output.compactJSON(String(describing: failed)) + "}")
                }
            }
            let report: ApplyReport
            do {
                report = try store.namespace().applyPolicies(ApplyOptions(dryRun: dryRun, policy: policy, batchSize: batchSize)) { done, total in
                    progress.update(done: done, total: total)
                } onPlan: { plan in
                    guard dryRun else { return }
                    if output.json {
                        print((printed == 0 ? "\n" : ",\n") + Output.compactJSON(ApplyReportJSON.Plan(plan)), terminator: "")
                    } else {
                        PolicyCommand.printPlan(plan)
                    }
                    printed += 1
                }
            } catch {
                failed = error
                throw error
            }
            progress.finish()
            if output.json {
                let summary = Output.compactJSON(ApplyReportJSON(report))
                print(streamsJSON ? "\n]," + summary.dropFirst() : summary)
            } else {
                for failure in report.failures { print("error: \(failure.alias): \(failure.reason)") }
                print(PolicyCommand.summary(report))
            }
            if !report.failures.isEmpty { throw ExitCode(ExitStatus.dataError.rawValue) }
        }
    }

    struct Preview: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the recipients a policy wins now, with the primary address each would get.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @OptionGroup var output: OutputOptions

        struct Row: Encodable {
            let alias: String
            let primary: String?
        }

        func run() throws {
            let rows = try store.namespace().preview(policy: name).map { Row(alias: $0.alias, primary: $0.primary.map { "SMTP:\($0)" }) }
            if output.json { return try Output.printJSON(rows) }
            for row in rows { print("\(row.alias)\t\(row.primary ?? "(no usable address)")") }
        }
    }

    static func printPlan(_ plan: StampPlan) {
        print("\(plan.alias) (\(plan.policy))")
        for collision in plan.collisions {
            print("  collision: \(collision.wanted) belongs to \(collision.owner); using \(collision.used)")
        }
        if let demoted = plan.demoted { print("  demote  \(demoted)") }
        if let promoted = plan.promoted { print("  promote \(promoted)") }
        for address in plan.added { print("  add     \(address)") }
    }

    static func summary(_ r: ApplyReport) -> String {
        let changes = r.changed == 1 ? "1 change" : "\(r.changed) changes"
        let detail = "\(r.added) added, \(r.promoted) promoted, \(r.demoted) demoted, \(r.collisions) collisions resolved"
        let errors = r.failures.count == 1 ? "1 error" : "\(r.failures.count) errors"
        let tail = r.dryRun ? "dry run, nothing written" : "batch \(r.batchID)"
        return "\(r.recipients) recipients, \(changes) (\(detail)), \(errors); \(tail)"
    }
}

/// A policy run's summary as `--json` prints it (a dry run's plans stream ahead of it).
struct ApplyReportJSON: Encodable {
    struct Plan: Encodable {
        struct Collision: Encodable {
            let wanted: String
            let owner: String
            let used: String
        }
        let alias: String
        let policy: String
        let added: [String]
        let promoted: String?
        let demoted: String?
        let collisions: [Collision]

        init(_ p: StampPlan) {
            alias = p.alias
            policy = p.policy
            added = p.added.map(\.description)
            promoted = p.promoted?.description
            demoted = p.demoted?.description
            collisions = p.collisions.map { Collision(wanted: $0.wanted.description, owner: $0.owner, used: $0.used.description) }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(alias, forKey: .alias)
            try c.encode(policy, forKey: .policy)
            try c.encode(added, forKey: .added)
            try c.encode(promoted, forKey: .promoted)  // null, not absent
            try c.encode(demoted, forKey: .demoted)
            try c.encode(collisions, forKey: .collisions)
        }
        private enum CodingKeys: String, CodingKey { case alias, policy, added, promoted, demoted, collisions }
    }
    struct Failure: Encodable {
        let alias: String
        let reason: String
    }

    let dryRun: Bool
    let batch: String?
    let recipients: Int
    let changes: Int
    let added: Int
    let promoted: Int
    let demoted: Int
    let collisions: Int
    let failures: [Failure]

    init(_ r: ApplyReport) {
        dryRun = r.dryRun
        batch = r.dryRun ? nil : r.batchID
        recipients = r.recipients
        changes = r.changed
        added = r.added
        promoted = r.promoted
        demoted = r.demoted
        collisions = r.collisions
        failures = r.failures.map { Failure(alias: $0.alias, reason: $0.reason) }
    }
}

/// Progress on stderr while a long run works: only on a terminal, at most five times a second,
/// so piped output and logs stay clean.
final class Progress {
    private let label: String
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drew = false

    init(label: String) { self.label = label }

    func update(done: Int, total: Int) {
        guard isTerminal else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.2 || done >= total else { return }
        lastDraw = now
        let elapsed = max(now.timeIntervalSince(start), 0.001)
        let rate = Double(done) / elapsed
        let percent = total > 0 ? done * 100 / total : 100
        let eta = rate > 0 && total > done ? String(format: ", ETA %.0fs", Double(total - done) / rate) : ""
        FileHandle.standardError.write(Data("\r\(label): \(done)/\(total) recipients (\(percent)%), \(Int(rate))/s\(eta)\u{1B}[K".utf8))
        drew = true
    }

    /// Import's progress: records so far and their rate, the ETA from the file's size.
    func update(records: Int, bytes: Int, totalBytes: Int?) {
        guard isTerminal else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.2 else { return }
        lastDraw = now
        let elapsed = max(now.timeIntervalSince(start), 0.001)
        let rate = Double(records) / elapsed
        var line = "\r\(label): \(records) records, \(Int(rate))/s"
        if let totalBytes, totalBytes > 0, bytes > 0 {
            let fraction = min(Double(bytes) / Double(totalBytes), 1)
            let width = 24
            let filled = Int(fraction * Double(width))
            line += " [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
            line += String(format: " %.0f%%, ETA %.0fs", fraction * 100, elapsed / fraction - elapsed)
        }
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
        drew = true
    }

    /// Clears the bar so a message can take the line; the next update draws it again.
    func clearLine() {
        guard isTerminal, drew else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        lastDraw = .distantPast
    }

    func finish() {
        if drew { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
