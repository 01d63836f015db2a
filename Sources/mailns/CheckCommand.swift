import ArgumentParser
import Foundation
import MailStore

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the database: SQLite's integrity and foreign keys, and the directory's invariants. Exit 65 on any finding.",
        discussion: """
            Invariants: exactly one primary address per type per recipient, every address unique \
            (any letter case), the address history agrees with the addresses, policy priorities 1..N.
            """)
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        struct Item: Encodable {
            let check: String
            let message: String
        }
        let findings: [Item]
    }

    func run() throws {
        let findings = try store.open().check()
        if output.json {
            try Output.printJSON(Report(findings: findings.map { .init(check: $0.check, message: $0.message) }))
        } else {
            for finding in findings { print("\(finding.check): \(finding.message)") }
            print(findings.isEmpty ? "ok: no findings" : "\(findings.count) finding\(findings.count == 1 ? "" : "s")")
        }
        if !findings.isEmpty { throw ExitCode(ExitStatus.dataError.rawValue) }
    }
}

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent copy of the database to PATH while it stays in use (readers and writers go on).")
    @OptionGroup var store: StoreOptions
    @Argument(help: ArgumentHelp("Where to write the copy; must not exist.", valueName: "path")) var path: String

    func run() throws {
        let directory = try store.open()
        try directory.backup(to: path)
        let findings = try DirectoryStore(path: path).check()
        guard findings.isEmpty else {
            throw StoreError.refused("the backup at \(path) fails its check: \(findings[0].check): \(findings[0].message)")
        }
        print("\(path): a consistent copy of \(directory.path), checked")
    }
}
