import ArgumentParser
import DirectoryFormats
import Foundation
import MailCore
import MailNamespace
import MailPolicy
import MailStore

@main
struct MailNS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailns",
        abstract: "Manage a mail directory shared by two merging organisations, and the policies that address it.",
        discussion: "The database is --db PATH, else $MAILNS_DB, else ./mailns.sqlite; every command creates and migrates it when needed.",
        subcommands: [
            Init.self, DomainCommand.self, RecipientCommand.self, AddressCommand.self, PolicyCommand.self, ConnectorCommand.self,
            SettingsCommand.self, ResolveCommand.self, DoctorCommand.self, ServeCommand.self, PostfixConfigCommand.self,
            ImportCommand.self, ExportCommand.self, CheckCommand.self, BackupCommand.self,
        ]
    )

    /// Runs the command and maps our errors to one stderr line and a sysexits status, as
    /// Postfix's sys_exits.h does: 64 usage, 65 bad data or refused change, 75 busy, 78 config.
    static func main() {
        do {
            var command = try parseAsRoot(hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch {
            guard let known = described(error) else { exit(withError: error) }
            fail(known.message, status: known.status)
        }
    }

    /// Our errors as their one stderr line and status; nil for ArgumentParser's own.
    static func described(_ error: any Error) -> (message: String, status: ExitStatus)? {
        switch error {
        case let error as StoreError: (error.description, ExitStatus.of(error))
        case let error as AddressError: (error.description, .dataError)
        case let error as PolicyError: (error.description, .dataError)
        case let error as TemplateError: (error.description, .dataError)
        case let error as FilterError: (error.description, .dataError)
        case let error as FormatError: (error.description, .dataError)
        case let error as ImportFileError: (error.description, error.status)
        case let error as ServeError: (error.description, .osError)
        // Thrown by run() once the arguments parsed: one line, as our other errors.
        case let error as ValidationError: (error.message, .usage)
        default: nil
        }
    }

    /// `--db PATH` is global: it may stand anywhere along the subcommand path (`mailns --db x
    /// init`, `mailns domain --db x list`). Every leaf command declares it (StoreOptions), so
    /// it is moved behind the path, ahead of any `--` terminator, where ArgumentParser looks.
    static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
        var rest = arguments
        var moved: [String] = []
        var command: any ParsableCommand.Type = MailNS.self
        var index = 0
        while index < rest.count, rest[index] != "--" {
            let token = rest[index]
            if token == "--db", index + 1 < rest.count {
                moved += rest[index...index + 1]
                rest.removeSubrange(index...index + 1)
            } else if token.hasPrefix("--db=") {
                moved.append(rest.remove(at: index))
            } else if let subcommand = command.configuration.subcommands.first(where: { $0._commandName == token }) {
                command = subcommand
                index += 1
            } else if token.hasPrefix("-") {
                index += 1
            } else {
                break  // the leaf command's own arguments begin
            }
        }
        let insertAt = rest.firstIndex(of: "--") ?? rest.endIndex
        rest.insert(contentsOf: moved, at: insertAt)
        return rest
    }

    private static func fail(_ message: String, status: ExitStatus) -> Never {
        FileHandle.standardError.write(Data("mailns: \(message)\n".utf8))
        Foundation.exit(status.rawValue)
    }
}

/// Exit statuses from sysexits(3).
enum ExitStatus: Int32 {
    case usage = 64
    case dataError = 65
    case software = 70
    case osError = 71
    case temporaryFailure = 75
    case configuration = 78

    static func of(_ error: StoreError) -> ExitStatus {
        if error.isTransient { return .temporaryFailure }
        if error.isConfiguration { return .configuration }
        switch error {
        case .notFound, .refused: return .dataError
        default: return .software
        }
    }
}

/// `--db PATH`, shared by every command that opens the directory.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp("Path to the SQLite database (default: $MAILNS_DB, else ./mailns.sqlite).", valueName: "path"))
    var databasePath: String?

    var resolvedPath: String {
        if let databasePath { return databasePath }
        if let fromEnvironment = ProcessInfo.processInfo.environment["MAILNS_DB"], !fromEnvironment.isEmpty { return fromEnvironment }
        return "mailns.sqlite"
    }

    /// Opens (creating and migrating when needed) the directory.
    func open() throws -> DirectoryStore { try DirectoryStore(path: resolvedPath) }

    /// Opens the directory with policies wired in, for changes that stamp addresses.
    func namespace() throws -> Namespace { try Namespace(path: resolvedPath) }
}

/// `--json` for commands a script reads.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON document on stdout.")
    var json = false
}

extension MailNS {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the database, or bring its schema up to date.")
        @OptionGroup var store: StoreOptions

        func run() throws {
            let directory = try store.open()
            print("\(directory.path): schema version \(try directory.schemaVersion()), journal mode \(try directory.journalMode())")
        }
    }
}
