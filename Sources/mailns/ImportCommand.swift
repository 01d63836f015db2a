import ArgumentParser
import DirectoryFormats
import Foundation
import MailCore
import MailNamespace
import MailStore

extension DirectoryFileFormat: ExpressibleByArgument {}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load recipients from a CSV (csvde) or LDIF (ldifde) file: create new ones, update existing ones by key.",
        discussion: """
            A record whose key exists updates that recipient: the attributes it speaks for are replaced, \
            its addresses added (never removed). A record that cannot be imported is rejected with its line \
            and the reason, and the records around it are imported; --reject-file gets every rejected record \
            in the file's own format, ready to fix and import again. Policy-managed recipients that were \
            created or changed get their policy's addresses in the same run. Exit 0 when nothing was \
            rejected, 65 otherwise.
            """)

    @OptionGroup var store: StoreOptions
    @Argument(help: ArgumentHelp("The file to read; - reads standard input.", valueName: "file")) var file: String
    @Option(help: "csv or ldif (default: from the file's extension, else its first line).") var format: DirectoryFileFormat?
    @Option(help: "Which organisation the records come from (the recipients' source).") var source: String?
    @Option(help: "The kind of every record (default: mailnsKind, else objectClass: contact or mailbox).") var kind: RecipientKind?
    @Option(help: "The attribute records are matched on: mailNickname, objectGUID or any column.") var key = "mailNickname"
    @Flag(help: "Write nothing; print the merge report: collisions with the directory and within the file, and the addresses policies would give.")
    var dryRun = false
    @Flag(help: "All or nothing: any rejected record rolls the whole import back.") var atomic = false
    @Option(help: ArgumentHelp("Write rejected records here, with their line and reason.", valueName: "path")) var rejectFile: String?
    @Flag(help: "New recipients are not managed by recipient policies, whatever a mailnsPolicyManaged column says.") var noPolicy = false
    @Option(help: "Records per transaction: a crash keeps whole batches, a re-run finishes the job.") var batchSize = ImportOptions.defaultBatchSize
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if dryRun && atomic { throw ValidationError("--dry-run writes nothing; --atomic has nothing to roll back") }
        if let source, source.isEmpty || source.count > DirectoryStore.maximumSourceLength {
            throw ValidationError("--source must be 1 to \(DirectoryStore.maximumSourceLength) characters")
        }
        if key.isEmpty || key.count > 64 { throw ValidationError("--key must name an attribute") }
        if let problem = ImportOptions.keyProblem(key) {
            throw ValidationError("--key \(key): \(problem); use mailNickname (the default), objectGUID or another single-valued column")
        }
        if !(1...1_000_000).contains(batchSize) { throw ValidationError("--batch-size must be 1 to 1000000") }
    }

    func run() throws {
        let reader: ImportReader
        do {
            reader = try ImportReader(try ByteSource(path: file), format: format, keyAttribute: key)
        } catch {
            throw ImportFileError(file: file, error: error)
        }
        // CSV names its columns in the header; LDIF attributes are known once the records are read.
        if reader.format == .csv { warnUnknown("columns", reader.unknownAttributes) }
        var options = ImportOptions()
        options.source = source
        options.kind = kind
        options.key = key
        options.dryRun = dryRun
        options.atomic = atomic
        options.policyManaged = !noPolicy
        options.batchSize = batchSize

        let rejects = try rejectFile.map { try RejectFileWriter(path: $0, reader: reader) }
        // Whatever stops the import, the rejections found so far reach the file.
        defer { try? rejects?.close() }
        let progress = Progress(label: dryRun ? "import (dry run)" : "import")
        let quiet = output.json
        let summary: ImportSummary
        do {
            summary = try store.namespace().importRecipients(reader, options) { bytes, records in
                progress.update(records: records, bytes: bytes, totalBytes: reader.size)
            } onReject: { rejection in
                rejects?.write(rejection)
                if !quiet && !dryRun {
                    progress.clearLine()
                    FileHandle.standardError.write(Data("mailns: \(file) \(rejection.description)\n".utf8))
                }
            }
        } catch let stopped as ImportStopped {
            progress.finish()
            try rejects?.close()
            let error = ImportFileError(file: file, stopped: stopped)
            try printSummary(stopped.summary, stoppedBy: error)
            throw error
        }
        progress.finish()
        try rejects?.close()

        if reader.format == .ldif { warnUnknown("attributes", summary.unknownAttributes) }
        try printSummary(summary, stoppedBy: nil)
        if summary.rejected > 0 || !summary.policyFailures.isEmpty { throw ExitCode(ExitStatus.dataError.rawValue) }
    }

    /// What the file holds that import ignores, once, on stderr (`--json` lists it in the summary).
    private func warnUnknown(_ what: String, _ names: [String]) {
        guard !names.isEmpty && !output.json else { return }
        FileHandle.standardError.write(Data("mailns: \(file): ignoring unknown \(what): \(names.joined(separator: ", "))\n".utf8))
    }

    /// The summary (and a dry run's report) on stdout; for an import that stopped, the counts
    /// of what it did before (the error itself goes to stderr).
    private func printSummary(_ summary: ImportSummary, stoppedBy error: ImportFileError?) throws {
        if output.json {
            try Output.printJSON(
                ImportSummaryJSON(summary, file: file, rejectFile: summary.rejected > 0 ? rejectFile : nil, error: error?.description))
        } else {
            // A stopped dry run's report would cover part of the file: the counts say as much.
            if error == nil, let report = summary.report { Self.printReport(report, summary) }
            for failure in summary.policyFailures { print("error: \(failure.alias): \(failure.reason)") }
            print(Self.summaryLine(summary, file: file, rejectFile: rejectFile))
        }
    }

    static func summaryLine(_ s: ImportSummary, file: String, rejectFile: String?) -> String {
        let rejected = s.rejected > 0 && rejectFile != nil ? " (written to \(rejectFile!))" : ""
        if s.dryRun {
            return "dry run of \(file): would create \(s.created), update \(s.updated), leave \(s.unchanged) unchanged, reject \(s.rejected)\(rejected); nothing written"
        }
        if s.rolledBack {
            return "\(file): \(s.rejected) rejected\(rejected); --atomic: nothing imported"
        }
        let stamped = s.stamped > 0 ? "; \(s.stamped) given policy addresses" : ""
        return "imported \(file): \(s.created) created, \(s.updated) updated, \(s.unchanged) unchanged, \(s.rejected) rejected\(rejected)\(stamped) (batch \(s.batchID))"
    }

    static func printReport(_ report: MergeReport, _ summary: ImportSummary) {
        print("Merge report (dry run: nothing written)")
        func more(_ omitted: Int) {
            if omitted > 0 { print("  … and \(omitted) more (a report lists the first \(MergeReport.listed) of each kind)") }
        }
        func group(_ title: String, _ section: MergeReport.Section<MergeReport.Collision>, _ render: (MergeReport.Collision) -> String) {
            print("\n\(title): \(section.count)")
            for item in section.items { print("  line \(item.line): \(render(item))") }
            more(section.omitted)
        }
        print("\nAgainst the directory")
        group("  same alias (keyed on the alias the record updates that recipient; on another key it is rejected)", report.sameAlias) { "\($0.value) = recipient \($0.with)" }
        group("  same address (the record is rejected)", report.sameAddress) { "\($0.value) belongs to \($0.with)" }
        group("  same display name in the same company", report.sameDisplayName) { "\($0.value) = recipient \($0.with)" }
        print("\nWithin the file (the first record is imported, the later ones rejected)")
        group("  same key", report.fileSameKey) { "\($0.value), first on \($0.with)" }
        // Only found when keyed on another attribute (on the alias it is "same key").
        if report.fileSameAlias.count > 0 {
            group("  same alias of new recipients (keyed on another attribute)", report.fileSameAlias) { "\($0.value), first on \($0.with)" }
        }
        group("  same address", report.fileSameAddress) { "\($0.value), first on \($0.with)" }
        group("  same display name in the same company (both imported)", report.fileSameDisplayName) { "\($0.value), first on \($0.with)" }
        print("\nNew recipients and the primary address their policy gives: \(report.newPrimaries.count), suffixed: \(report.suffixed)")
        for item in report.newPrimaries.items {
            print("  line \(item.line): \(item.alias) -> \(item.primary.map { "SMTP:\($0)" } ?? "(no SMTP address)") [\(item.policy)]\(item.suffixed ? " SUFFIXED" : "")")
        }
        more(report.newPrimaries.omitted)
        print("\nRejected: \(summary.rejected)")
        for rejection in summary.rejections { print("  \(rejection.description)") }
        if summary.rejected > summary.rejections.count { print("  … and \(summary.rejected - summary.rejections.count) more") }
        print("")
    }
}

/// A file import cannot read, or an import that could not go on: which file, where, why, and
/// what was imported before ("nothing imported" only when that is so).
struct ImportFileError: Error, CustomStringConvertible {
    let file: String
    let reason: String
    var outcome = "nothing imported"
    var status = ExitStatus.dataError

    var description: String { "\(file): \(reason); \(outcome)" }

    /// A file that cannot be opened or has an unusable header: nothing was read.
    init(file: String, error: FormatError) {
        self.file = file
        reason = error.description
    }

    /// An import stopped by `stopped.error`: the batches committed before it stay, and the
    /// message says how many records they held. The status is the error's own (75 for a busy
    /// database, 65 for a file that cannot be read on).
    init(file: String, stopped: ImportStopped) {
        self.file = file
        if let known = MailNS.described(stopped.error) {
            reason = known.message
            status = known.status
        } else {
            reason = String(describing: stopped.error)
            status = .software
        }
        let s = stopped.summary
        if stopped.committedAnything {
            outcome = "the first \(s.processed) records were committed (\(s.created) created, \(s.updated) updated, "
                + "\(s.unchanged) unchanged, \(s.rejected) rejected); nothing after them is imported"
        }
    }
}

/// The reject file: every rejected record in the input's own format, its line and reason
/// beside it (CSV: a `mailnsRejectReason` column, which import ignores; LDIF: a comment).
/// Importing a reject file again writes each record's new reason in place of the old one.
final class RejectFileWriter {
    private let handle: FileHandle
    private let path: String
    private let format: DirectoryFileFormat
    private var buffer: [UInt8] = []
    /// CSV: the input's reason column (it is a reject file itself), and its column count.
    private let reasonColumn: Int?
    private let columnCount: Int
    private var closed = false

    init(path: String, reader: ImportReader) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw ValidationError("cannot create the reject file \(path)") }
        self.handle = handle
        self.path = path
        format = reader.format
        reasonColumn = reader.rejectReasonColumn
        columnCount = reader.columnCount
        if let headerBytes = reader.header {
            buffer += headerBytes
            if reasonColumn == nil { buffer += Array(",mailnsRejectReason".utf8) }
            buffer.append(UInt8(ascii: "\n"))
        }
    }

    func write(_ rejection: ImportRejection) {
        switch format {
        case .csv:
            let reason = CSVWriter.field(rejection.description)
            // A record of a reject file gets the new reason in its reason field; one that does
            // not split into the header's columns (that is its problem) gets it at the end.
            if let reasonColumn,
                let replaced = CSVWriter.replacingField(reasonColumn, of: rejection.raw[...], count: columnCount, with: rejection.description)
            {
                buffer += replaced
            } else {
                buffer += rejection.raw
                buffer += Array(("," + reason).utf8)
            }
            buffer.append(UInt8(ascii: "\n"))
        case .ldif:
            buffer += Array("# \(rejection.description.replacingOccurrences(of: "\n", with: " "))\n".utf8)
            buffer += Self.withoutReasonComments(rejection.raw[...])
            buffer += Array("\n\n".utf8)
        }
        if buffer.count > 1 << 16 { flush() }
    }

    /// An LDIF record without the reason comments a reject file wrote before it (`# line N: …`,
    /// one line each), which the new reason replaces; the operator's own comments stay.
    static func withoutReasonComments(_ raw: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var rest = raw
        while isReasonComment(rest), let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
            rest = rest[(newline + 1)...]
        }
        return rest
    }

    private static func isReasonComment(_ text: ArraySlice<UInt8>) -> Bool {
        let prefix = Array("# line ".utf8)
        guard text.starts(with: prefix) else { return false }
        let digits = text.dropFirst(prefix.count).prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        return !digits.isEmpty && text.dropFirst(prefix.count + digits.count).starts(with: Array(": ".utf8))
    }

    private func flush() {
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered and closes the file; idempotent, so every path may call it.
    func close() throws {
        guard !closed else { return }
        closed = true
        flush()
        try handle.close()
    }
}

struct ImportSummaryJSON: Encodable {
    struct Rejection: Encodable {
        let line: Int
        let reason: String
    }
    struct Failure: Encodable {
        let alias: String
        let reason: String
    }
    struct Collision: Encodable {
        let line: Int
        let value: String
        let with: String
        init(_ c: MergeReport.Collision) {
            line = c.line
            value = c.value
            with = c.with
        }
    }
    struct NewPrimary: Encodable {
        let line: Int
        let alias: String
        let primary: String?
        let suffixed: Bool
        let policy: String
    }
    struct Report: Encodable {
        let sameAlias, sameAddress, sameDisplayName, fileSameKey, fileSameAlias, fileSameAddress, fileSameDisplayName: [Collision]
        let newPrimaries: [NewPrimary]
        /// Every finding is counted; each array lists at most `listedPerKind` of them.
        let counts: [String: Int]
        let suffixed: Int
        let listedPerKind: Int
        init(_ r: MergeReport) {
            sameAlias = r.sameAlias.items.map(Collision.init)
            sameAddress = r.sameAddress.items.map(Collision.init)
            sameDisplayName = r.sameDisplayName.items.map(Collision.init)
            fileSameKey = r.fileSameKey.items.map(Collision.init)
            fileSameAlias = r.fileSameAlias.items.map(Collision.init)
            fileSameAddress = r.fileSameAddress.items.map(Collision.init)
            fileSameDisplayName = r.fileSameDisplayName.items.map(Collision.init)
            newPrimaries = r.newPrimaries.items.map { NewPrimary(line: $0.line, alias: $0.alias, primary: $0.primary, suffixed: $0.suffixed, policy: $0.policy) }
            counts = [
                "sameAlias": r.sameAlias.count, "sameAddress": r.sameAddress.count, "sameDisplayName": r.sameDisplayName.count,
                "fileSameKey": r.fileSameKey.count, "fileSameAlias": r.fileSameAlias.count, "fileSameAddress": r.fileSameAddress.count,
                "fileSameDisplayName": r.fileSameDisplayName.count, "newPrimaries": r.newPrimaries.count,
            ]
            suffixed = r.suffixed
            listedPerKind = MergeReport.listed
        }
    }
    let file: String
    let format: String
    let dryRun: Bool
    let atomic: Bool
    let rolledBack: Bool
    let batch: String?
    let created, updated, unchanged, rejected, stamped: Int
    let rejections: [Rejection]
    let rejectFile: String?
    let unknownColumns: [String]
    let policyFailures: [Failure]
    let report: Report?

    /// Why the import stopped before the end of the file, with what it committed; nil when it did not.
    let error: String?

    init(_ s: ImportSummary, file: String, rejectFile: String?, error: String? = nil) {
        self.file = file
        self.error = error
        format = s.format.rawValue
        dryRun = s.dryRun
        atomic = s.atomic
        rolledBack = s.rolledBack
        batch = s.dryRun || s.rolledBack ? nil : s.batchID
        created = s.created
        updated = s.updated
        unchanged = s.unchanged
        rejected = s.rejected
        stamped = s.stamped
        rejections = s.rejections.map { Rejection(line: $0.line, reason: $0.reason) }
        self.rejectFile = rejectFile
        unknownColumns = s.unknownAttributes
        policyFailures = s.policyFailures.map { Failure(alias: $0.alias, reason: $0.reason) }
        report = s.report.map(Report.init)
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the directory's recipients as CSV or LDIF, in the form import reads back.")
    @OptionGroup var store: StoreOptions
    @Option(help: "csv (default) or ldif.") var format: DirectoryFileFormat = .csv
    @Option(help: "Only recipients from this organisation (their source).") var source: String?

    func run() throws {
        var buffer = ""
        buffer.reserveCapacity(1 << 17)
        let out = FileHandle.standardOutput
        try store.namespace().export(format: format, source: source) { text in
            buffer += text
            if buffer.utf8.count > 1 << 16 {
                out.write(Data(buffer.utf8))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        out.write(Data(buffer.utf8))
    }
}
