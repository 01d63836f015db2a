import Foundation
import Testing

/// What one run of a program left behind.
struct RunResult: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String

    /// The non-empty lines of stderr.
    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }

    var description: String { "exit \(status)\n--- stdout ---\n\(stdout)--- stderr ---\n\(stderr)" }
}

/// A failure of the harness itself (binary missing, a run timing out, output not JSON), with a
/// message that says what to do.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Finds and runs the built `mailns` binary.
enum MailNSRunner {
    /// `mailns` in the build configuration directory (`.build/debug`,
    /// `.build/x86_64-unknown-linux-gnu/debug`, …) that holds the running test executable.
    /// `MAILNS_BINARY` overrides the search.
    static let binary: Result<URL, HarnessError> = locateBinary()

    static func binaryURL() throws -> URL { try binary.get() }

    private static func locateBinary() -> Result<URL, HarnessError> {
        let fileManager = FileManager.default
        if let override = ProcessInfo.processInfo.environment["MAILNS_BINARY"], !override.isEmpty {
            return fileManager.isExecutableFile(atPath: override)
                ? .success(URL(fileURLWithPath: override))
                : .failure(HarnessError("MAILNS_BINARY=\(override) is not an executable file"))
        }
        var starts: [URL] = []
        if let exe = try? fileManager.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append(URL(fileURLWithPath: exe))
        }
        if let first = CommandLine.arguments.first, !first.isEmpty {
            starts.append(URL(fileURLWithPath: first).resolvingSymlinksInPath())
        }
        starts.append(Bundle.main.executableURL ?? Bundle.main.bundleURL)
        var looked: [String] = []
        for start in starts {
            // The test executable (or the .xctest bundle holding it) sits in the configuration
            // directory; look there and a few levels up.
            var directory = start.deletingLastPathComponent()
            for _ in 0..<5 {
                let candidate = directory.appendingPathComponent("mailns")
                looked.append(candidate.path)
                var isDirectory: ObjCBool = false
                if fileManager.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                    fileManager.isExecutableFile(atPath: candidate.path)
                {
                    return .success(candidate)
                }
                if directory.path == "/" { break }
                directory = directory.deletingLastPathComponent()
            }
        }
        return .failure(
            HarnessError(
                "cannot find the mailns executable next to the test executable; build it first "
                    + "(swift build --build-tests), or set MAILNS_BINARY. Looked at: "
                    + looked.joined(separator: ", ")))
    }

    /// Runs `executable` with `arguments` in `directory`, with exactly `environment`, and waits
    /// for it (killing it after `timeout` seconds). Never runs on the cooperative thread pool.
    /// `input`, when given, is the child's whole stdin; otherwise stdin is the null device.
    static func run(
        _ executable: URL, _ arguments: [String], in directory: URL, environment: [String: String],
        timeout: TimeInterval = 30, input: String? = nil
    ) async throws -> RunResult {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        try runBlocking(executable, arguments, in: directory, environment: environment, timeout: timeout, input: input)
                    })
            }
        }
    }

    static func runBlocking(
        _ executable: URL, _ arguments: [String], in directory: URL, environment: [String: String],
        timeout: TimeInterval, input: String? = nil
    ) throws -> RunResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = environment
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        // Input comes from a temporary file: no pipe to keep fed, no SIGPIPE if the child
        // never reads it.
        var inputFile: URL?
        defer { if let inputFile { try? FileManager.default.removeItem(at: inputFile) } }
        if let input {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("mailns-stdin-\(UUID().uuidString)")
            try Data(input.utf8).write(to: file)
            inputFile = file
            process.standardInput = try FileHandle(forReadingFrom: file)
        } else {
            process.standardInput = FileHandle.nullDevice
        }

        try ChildExit.run(process)

        // Drain both pipes at once so a chatty child never blocks on a full pipe.
        let collected = Collected()
        let group = DispatchGroup()
        for (pipe, isOut) in [(outPipe, true), (errPipe, false)] {
            group.enter()
            DispatchQueue.global().async {
                let data = ChildExit.readToEnd(pipe.fileHandleForReading.fileDescriptor)
                collected.set(data, isOut: isOut)
                group.leave()
            }
        }
        let timedOut = group.wait(timeout: .now() + timeout) == .timedOut
        if timedOut {
            process.terminate()
            _ = group.wait(timeout: .now() + 5)
        }
        let status = ChildExit.wait(for: process)
        if timedOut {
            throw HarnessError(
                "\(executable.lastPathComponent) \(arguments.joined(separator: " ")) did not finish within \(Int(timeout)) s")
        }
        return RunResult(status: status, stdout: collected.text(isOut: true), stderr: collected.text(isOut: false))
    }

    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var out = Data()
        private var err = Data()

        func set(_ data: Data, isOut: Bool) {
            lock.lock()
            defer { lock.unlock() }
            if isOut { out = data } else { err = data }
        }

        func text(isOut: Bool) -> String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: isOut ? out : err, as: UTF8.self)
        }
    }

    /// `/usr/bin/sqlite3`, when installed; tests that need it are skipped otherwise.
    static let sqlite3Path = "/usr/bin/sqlite3"
    static var hasSQLite3: Bool { FileManager.default.isExecutableFile(atPath: sqlite3Path) }
}

/// A fresh temporary directory for one test, removed when the test lets go of it, with helpers
/// to run `mailns` (and `sqlite3`) inside it.
final class Sandbox: Sendable {
    let directory: URL
    /// The database most tests use: `test.sqlite` in the sandbox, passed as `--db`.
    let database: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mailns-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = directory.appendingPathComponent("test.sqlite")
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

    /// The environment a child sees: ours without `MAILNS_DB`, plus `overrides`.
    static func environment(_ overrides: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["MAILNS_DB"] = nil
        environment.merge(overrides) { _, new in new }
        return environment
    }

    /// `mailns ARGUMENTS…` exactly as given, in the sandbox.
    func raw(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 30, input: String? = nil) async throws -> RunResult {
        try await MailNSRunner.run(
            try MailNSRunner.binaryURL(), arguments, in: directory, environment: Self.environment(environment), timeout: timeout, input: input)
    }

    /// `mailns ARGUMENTS… --db test.sqlite`.
    func run(_ arguments: String..., timeout: TimeInterval = 30) async throws -> RunResult {
        try await raw(arguments + ["--db", database.path], timeout: timeout)
    }

    /// Runs a command that must succeed; records the output as the failure message otherwise.
    @discardableResult
    func ok(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws -> RunResult {
        let result = try await raw(arguments + ["--db", database.path])
        #expect(result.status == 0, "mailns \(arguments.joined(separator: " ")): \(result)", sourceLocation: sourceLocation)
        return result
    }

    /// Runs a command that must succeed and print one JSON document; returns it parsed.
    func json(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws -> Any {
        try await parsedJSON(arguments, sourceLocation: sourceLocation)
    }

    /// A `--json` object.
    func object(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let value = try await parsedJSON(arguments, sourceLocation: sourceLocation)
        return try #require(value as? [String: Any], "expected a JSON object from \(arguments)", sourceLocation: sourceLocation)
    }

    /// A `--json` array of objects.
    func array(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws -> [[String: Any]] {
        let value = try await parsedJSON(arguments, sourceLocation: sourceLocation)
        return try #require(value as? [[String: Any]], "expected a JSON array of objects from \(arguments)", sourceLocation: sourceLocation)
    }

    private func parsedJSON(_ arguments: [String], sourceLocation: SourceLocation) async throws -> Any {
        let result = try await raw(arguments + ["--db", database.path])
        try #require(result.status == 0, "mailns \(arguments.joined(separator: " ")): \(result)", sourceLocation: sourceLocation)
        do {
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8), options: [.fragmentsAllowed])
        } catch {
            throw HarnessError("mailns \(arguments.joined(separator: " ")) did not print JSON: \(error)\n\(result.stdout)")
        }
    }

    /// The raw stdout of a `--json` listing, for before/after comparisons.
    func snapshot(sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        var parts: [String] = []
        for command in [["domain", "list"], ["recipient", "list"], ["policy", "list"], ["connector", "list"], ["settings", "show"]] {
            let result = try await raw(command + ["--json", "--db", database.path])
            try #require(result.status == 0, "mailns \(command.joined(separator: " ")) --json: \(result)", sourceLocation: sourceLocation)
            parts.append(result.stdout)
        }
        return parts.joined(separator: "\n")
    }

    /// `sqlite3 FILE SQL` (the file relative to the sandbox). Gate callers on `MailNSRunner.hasSQLite3`.
    func sqlite3(_ file: String, _ sql: String) async throws -> RunResult {
        try await MailNSRunner.run(
            URL(fileURLWithPath: MailNSRunner.sqlite3Path), ["-batch", file, sql], in: directory,
            environment: Self.environment([:]))
    }

    /// The bytes of a file in the sandbox.
    func contents(_ name: String) throws -> Data { try Data(contentsOf: directory.appendingPathComponent(name)) }

    /// The names of the files in the sandbox, sorted.
    func files() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() }
}

/// A refusal must be one line on stderr that starts `mailns: ` and names what was refused.
func expectOneLineError(
    _ result: RunResult, status: Int32, mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(result.status == status, "\(result)", sourceLocation: sourceLocation)
    let lines = result.stderrLines
    #expect(lines.count == 1, "expected one stderr line: \(result)", sourceLocation: sourceLocation)
    let line = lines.first ?? ""
    #expect(line.hasPrefix("mailns: "), "\(result)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(line.contains(fragment), "stderr should mention \(fragment): \(line)", sourceLocation: sourceLocation)
    }
}

extension Dictionary where Key == String, Value == Any {
    /// True when the key is present with JSON null.
    func isNull(_ key: String) -> Bool { self[key] is NSNull }
}
