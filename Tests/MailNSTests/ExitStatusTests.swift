import Foundation
import Testing

/// A command the directory must refuse, with what its one stderr line must mention.
struct RefusalCase: Sendable, CustomTestStringConvertible {
    let label: String
    let arguments: [String]
    let mentions: [String]

    var testDescription: String { label }

    static let all: [RefusalCase] = [
        RefusalCase(
            label: "duplicate accepted domain", arguments: ["domain", "add", "Contoso.com", "--type", "shared"],
            mentions: ["domain contoso.com is already accepted"]),
        RefusalCase(
            label: "new recipient with another's address in other letter case",
            arguments: ["recipient", "add", "a3", "--address", "SMTP:A.One@Contoso.COM"],
            mentions: ["address smtp:a.one@contoso.com already belongs to recipient a1"]),
        RefusalCase(
            label: "address add of another's address in other letter case",
            arguments: ["address", "add", "a2", "smtp:A.ONE@contoso.com"],
            mentions: ["address smtp:a.one@contoso.com already belongs to recipient a1"]),
        RefusalCase(
            label: "removing the Default Policy", arguments: ["policy", "remove", "Default Policy"],
            mentions: ["the Default Policy cannot be removed"]),
        RefusalCase(
            label: "policy priority out of range", arguments: ["policy", "add", "Q", "--priority", "5", "--filter", "(company=X)"],
            mentions: ["priority 5", "Q"]),
        RefusalCase(
            label: "invalid address syntax", arguments: ["recipient", "add", "a3", "--address", "SMTP:a3@@contoso.com"],
            mentions: ["SMTP:a3@@contoso.com"]),
        RefusalCase(
            label: "second primary of a type",
            arguments: ["recipient", "add", "a4", "--address", "SMTP:x4@contoso.com", "--address", "SMTP:y4@contoso.com"],
            mentions: ["a4", "x4@contoso.com", "y4@contoso.com"]),
        RefusalCase(
            label: "removing the primary while secondaries remain", arguments: ["address", "remove", "a1", "a1@contoso.com"],
            mentions: ["a1@contoso.com", "a1"]),
        RefusalCase(
            label: "duplicate recipient alias", arguments: ["recipient", "add", "A2"], mentions: ["a2", "already exists"]),
        RefusalCase(label: "unknown recipient", arguments: ["recipient", "remove", "ghost"], mentions: ["ghost"]),
    ]
}

@Suite("mailns exit statuses")
struct ExitStatusTests {
    let sandbox: Sandbox

    init() throws { sandbox = try Sandbox() }

    /// A directory with something in every table a refusal could touch.
    private func populate() async throws {
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "authoritative")
        try await sandbox.ok("recipient", "add", "a1", "--given", "A", "--surname", "One", "--address", "SMTP:a1@contoso.com", "--address", "smtp:a.one@contoso.com")
        try await sandbox.ok("recipient", "add", "a2", "--address", "SMTP:a2@contoso.com")
        try await sandbox.ok("policy", "add", "P", "--filter", "(company=Contoso)", "--template", "SMTP:%g.%s@contoso.com")
        try await sandbox.ok("connector", "add", "out", "--address-space", "*", "--dns")
        try await sandbox.ok("settings", "set", "local-hosts", "mx.contoso.com")
    }

    // MARK: 64 usage

    @Test("usage errors exit 64 and print nothing on stdout", arguments: [
        ["domain", "add", "contoso.com", "--type", "foo"],
        ["domain", "add", "contoso.com"],
        ["connector", "add", "c", "--address-space", "fabrikam.com"],
        ["connector", "add", "c", "--address-space", "fabrikam.com", "--smart-host", "[10.0.0.5]", "--dns"],
        ["recipient", "add", "a1", "--kind", "robot"],
        ["recipient", "set", "a1", "--policy-managed", "maybe"],
        ["policy", "add", "P"],
        ["policy", "set-priority", "P", "high"],
        ["frobnicate"],
        ["domain", "list", "--no-such-option"],
    ])
    func usageErrorsExit64(_ arguments: [String]) async throws {
        let result = try await sandbox.raw(arguments + ["--db", sandbox.database.path])
        #expect(result.status == 64, "\(result)")
        #expect(result.stdout.isEmpty, "\(result)")
        #expect(!result.stderr.isEmpty, "\(result)")
    }

    // MARK: 65 refused changes

    @Test("a refused change exits 65 with one stderr line naming the object, and the database is exactly as it was",
          arguments: RefusalCase.all)
    func refusedChangeExits65(_ refusal: RefusalCase) async throws {
        try await populate()
        let before = try await sandbox.snapshot()
        let history = try await sandbox.json("recipient", "history", "a1", "--json") as? [Any]

        let result = try await sandbox.raw(refusal.arguments + ["--db", sandbox.database.path])
        expectOneLineError(result, status: 65, mentioning: refusal.mentions)
        #expect(result.stdout.isEmpty, "\(result)")

        #expect(try await sandbox.snapshot() == before)
        let historyAfter = try await sandbox.json("recipient", "history", "a1", "--json") as? [Any]
        #expect(historyAfter?.count == history?.count)
    }

    @Test(
        "a refused change leaves the database file's content identical (sqlite3 .dump)",
        .enabled(if: MailNSRunner.hasSQLite3, "needs /usr/bin/sqlite3"))
    func refusedChangesLeaveDumpIdentical() async throws {
        try await populate()
        let name = sandbox.database.lastPathComponent
        let before = try await sandbox.sqlite3(name, ".dump")
        try #require(before.status == 0, "\(before)")
        for refusal in RefusalCase.all {
            let result = try await sandbox.raw(refusal.arguments + ["--db", sandbox.database.path])
            #expect(result.status == 65, "\(refusal.label): \(result)")
        }
        let after = try await sandbox.sqlite3(name, ".dump")
        #expect(after.stdout == before.stdout)
    }

    // MARK: 78 configuration

    @Test(
        "a database whose schema is newer than the binary exits 78 and is left untouched",
        .enabled(if: MailNSRunner.hasSQLite3, "needs /usr/bin/sqlite3"))
    func schemaTooNewExits78() async throws {
        try await sandbox.raw(["--db", "future.sqlite", "init"]).expectSuccess()
        let bump = try await sandbox.sqlite3("future.sqlite", "PRAGMA user_version = 999;")
        try #require(bump.status == 0, "\(bump)")
        let filesBefore = try sandbox.files()
        let bytesBefore = try sandbox.contents("future.sqlite")

        for arguments in [["init"], ["domain", "add", "contoso.com", "--type", "authoritative"], ["domain", "list", "--json"]] {
            let result = try await sandbox.raw(["--db", "future.sqlite"] + arguments)
            expectOneLineError(result, status: 78, mentioning: ["future.sqlite", "999"])
            #expect(result.stdout.isEmpty)
        }
        #expect(try sandbox.contents("future.sqlite") == bytesBefore)
        #expect(try sandbox.files() == filesBefore)
        let version = try await sandbox.sqlite3("future.sqlite", "PRAGMA user_version;")
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "999")
    }

    @Test("a file that is not a SQLite database exits 78, keeps its bytes, and gets no -wal/-shm files")
    func notADatabaseExits78() async throws {
        let text = String(repeating: "These are my notes, not a database.\n", count: 40)
        try Data(text.utf8).write(to: sandbox.directory.appendingPathComponent("notes.sqlite"))
        let bytesBefore = try sandbox.contents("notes.sqlite")

        for arguments in [["init"], ["domain", "add", "contoso.com", "--type", "authoritative"], ["recipient", "list", "--json"]] {
            let result = try await sandbox.raw(["--db", "notes.sqlite"] + arguments)
            expectOneLineError(result, status: 78, mentioning: ["notes.sqlite"])
            #expect(result.stdout.isEmpty)
        }
        #expect(try sandbox.contents("notes.sqlite") == bytesBefore)
        #expect(try sandbox.files() == ["notes.sqlite"])
    }

    @Test("a short text file is refused the same way")
    func shortTextFileExits78() async throws {
        try Data("hello\n".utf8).write(to: sandbox.directory.appendingPathComponent("hello.sqlite"))
        let result = try await sandbox.raw(["--db", "hello.sqlite", "domain", "list"])
        expectOneLineError(result, status: 78, mentioning: ["hello.sqlite"])
        #expect(try sandbox.contents("hello.sqlite") == Data("hello\n".utf8))
        #expect(try sandbox.files() == ["hello.sqlite"])
    }

    @Test(
        "a SQLite database that is not a MailNamespace directory exits 78 and is left untouched",
        .enabled(if: MailNSRunner.hasSQLite3, "needs /usr/bin/sqlite3"))
    func foreignSQLiteDatabaseExits78() async throws {
        let create = try await sandbox.sqlite3("other.sqlite", "CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        try #require(create.status == 0, "\(create)")
        let filesBefore = try sandbox.files()
        let bytesBefore = try sandbox.contents("other.sqlite")
        let result = try await sandbox.raw(["--db", "other.sqlite", "init"])
        expectOneLineError(result, status: 78, mentioning: ["other.sqlite"])
        #expect(try sandbox.contents("other.sqlite") == bytesBefore)
        #expect(try sandbox.files() == filesBefore)
    }

    @Test(
        "another program's SQLite file that numbers its schema (user_version 3) exits 78 and is left untouched",
        .enabled(if: MailNSRunner.hasSQLite3, "needs /usr/bin/sqlite3"))
    func foreignSQLiteDatabaseWithASchemaVersionExits78() async throws {
        let create = try await sandbox.sqlite3("app.sqlite", "CREATE TABLE recipient (x); PRAGMA user_version = 3;")
        try #require(create.status == 0, "\(create)")
        let filesBefore = try sandbox.files()
        let bytesBefore = try sandbox.contents("app.sqlite")
        for command in [["init"], ["domain", "list"]] {
            let result = try await sandbox.raw(["--db", "app.sqlite"] + command)
            expectOneLineError(result, status: 78, mentioning: ["app.sqlite", "not a MailNamespace directory"])
        }
        #expect(try sandbox.contents("app.sqlite") == bytesBefore)
        #expect(try sandbox.files() == filesBefore)
    }

    @Test("an empty --db or :memory: is refused at once with 78: nothing written there would be kept", arguments: ["", ":memory:"])
    func temporaryDatabaseNamesExit78(name: String) async throws {
        let result = try await sandbox.raw(["--db", name, "domain", "add", "contoso.com", "--type", "authoritative"])
        expectOneLineError(result, status: 78, mentioning: ["a database file is needed"])
        #expect(try sandbox.files().isEmpty)
    }

    // MARK: 75 busy

    // The time limits below only guard against a lock holder that never lets go: each process
    // is bounded on its own, and on a loaded 2-core CI machine, with every suite spawning
    // processes at once, these tests took 60-90 s in all (one minute was too tight).

    @Test(
        "a write while another process holds the write lock exits 75 after the busy timeout, and succeeds once it is released",
        .enabled(if: MailNSRunner.hasSQLite3, "needs /usr/bin/sqlite3"), .timeLimit(.minutes(5)))
    func busyDatabaseExits75() async throws {
        try await sandbox.ok("init")
        let before = try await sandbox.snapshot()

        let holder = try await WriteLockHolder.acquire(database: sandbox.database, in: sandbox.directory)
        defer { holder.release() }

        let started = Date()
        let result = try await sandbox.run("domain", "add", "contoso.com", "--type", "authoritative", timeout: 40)
        let elapsed = Date().timeIntervalSince(started)
        expectOneLineError(result, status: 75, mentioning: ["busy"])
        // It waited for the lock (5 s busy timeout) rather than failing at once.
        #expect(elapsed >= 4, "gave up after \(elapsed) s")

        holder.release()
        #expect(try await sandbox.snapshot() == before)
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "authoritative")
        #expect(try await sandbox.array("domain", "list", "--json").map { $0["name"] as? String } == ["contoso.com"])
    }

    @Test(
        "a read while another process holds the write lock does not wait: it exits 0 with the last committed state",
        .enabled(if: MailNSRunner.hasSQLite3, "needs /usr/bin/sqlite3"), .timeLimit(.minutes(5)))
    func readDuringWriteLockSucceeds() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:a1@contoso.com")
        let holder = try await WriteLockHolder.acquire(database: sandbox.database, in: sandbox.directory)
        defer { holder.release() }

        // No clock here (a loaded CI machine makes any bound flaky): a reader that needed the
        // lock would wait out the busy timeout and exit 75, and the holder still holds it after.
        let list = try await sandbox.run("recipient", "list", "--json", timeout: 40)
        #expect(list.status == 0, "\(list)")
        #expect(list.stdout.contains("a1"), "\(list)")
        #expect(holder.isHolding, "the writer lost its lock while the reader ran")
        let show = try await sandbox.run("recipient", "show", "A1@contoso.com", "--json", timeout: 40)
        #expect(show.status == 0, "\(show)")
        #expect(show.stdout.contains("SMTP:a1@contoso.com"), "\(show)")
    }
}

extension RunResult {
    func expectSuccess(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try #require(status == 0, "\(self)", sourceLocation: sourceLocation)
    }
}

/// A `sqlite3` process holding `BEGIN IMMEDIATE` on a database until released. It reports
/// `locked` on stdout once the lock is held, so the test never races it; closing its stdin
/// ends it and rolls the transaction back.
final class WriteLockHolder: @unchecked Sendable {
    private let process: Process
    private let input: Pipe
    private let lock = NSLock()
    private var released = false

    private init(process: Process, input: Pipe) {
        self.process = process
        self.input = input
    }

    static func acquire(database: URL, in directory: URL) async throws -> WriteLockHolder {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: MailNSRunner.sqlite3Path)
        process.arguments = ["-bail", "-batch", database.path]
        process.currentDirectoryURL = directory
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try ChildExit.run(process)
        let holder = WriteLockHolder(process: process, input: input)

        input.fileHandleForWriting.write(Data("BEGIN IMMEDIATE;\nSELECT 'locked';\n".utf8))
        let locked = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            DispatchQueue.global().async {
                var seen = Data()
                var buffer = [UInt8](repeating: 0, count: 4096)
                let fd = output.fileHandleForReading.fileDescriptor
                while true {
                    // read(2), not availableData: FileHandle traps on EINTR.
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }  // sqlite3 exited (-bail on an error)
                    seen.append(contentsOf: buffer[0..<n])
                    if String(decoding: seen, as: UTF8.self).contains("locked") { break }
                }
                continuation.resume(returning: String(decoding: seen, as: UTF8.self).contains("locked"))
            }
        }
        guard locked else {
            holder.release()
            throw HarnessError("sqlite3 could not take the write lock on \(database.path)")
        }
        return holder
    }

    /// Whether the transaction is still open: the process has not exited and was not released.
    var isHolding: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !released && ChildExit.status(of: process) == nil
    }

    /// Ends the transaction and the process; safe to call more than once.
    func release() {
        lock.lock()
        defer { lock.unlock() }
        guard !released else { return }
        released = true
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(5)
        while ChildExit.status(of: process) == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if ChildExit.status(of: process) == nil {
            process.terminate()
            _ = ChildExit.wait(for: process)
        }
    }
}
