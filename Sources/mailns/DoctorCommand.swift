import ArgumentParser
import Foundation
import MailNamespace

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the configuration for lost or looping mail (spec §4). Exit 65 when there are errors.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        struct Item: Encodable {
            let severity: String
            let check: String
            let objects: [String]
            let message: String
            let remedy: String
        }
        let errors: Int
        let warnings: Int
        let findings: [Item]
    }

    func run() throws {
        let findings = try store.namespace().doctor()
        let errors = findings.filter { $0.severity == .error }.count
        if output.json {
            try Output.printJSON(Report(
                errors: errors, warnings: findings.count - errors,
                findings: findings.map { .init(severity: $0.severity.rawValue, check: $0.check, objects: $0.objects, message: $0.message, remedy: $0.remedy) }))
        } else {
            for f in findings {
                print("\(f.severity.rawValue): \(f.message)")
                print("  do: \(f.remedy)")
            }
            print("\(errors) error\(errors == 1 ? "" : "s"), \(findings.count - errors) warning\(findings.count - errors == 1 ? "" : "s")")
        }
        if errors > 0 { throw ExitCode(ExitStatus.dataError.rawValue) }
    }
}
