import Foundation
import Testing

@Suite("mailns init and choosing the database")
struct InitTests {
    let sandbox: Sandbox

    init() throws { sandbox = try Sandbox() }

    @Test("`mailns --db x.sqlite init` exits 0, creates the file and reports a WAL database")
    func initCreatesWALDatabase() async throws {
        let result = try await sandbox.raw(["--db", "x.sqlite", "init"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
        #expect(sandbox.exists("x.sqlite"))
        #expect(result.stdout.contains("journal mode wal"), "\(result)")
        #expect(result.stdout.contains("schema version "), "\(result)")
    }

    @Test(
        "init leaves PRAGMA user_version ≥ 1 and journal_mode = wal",
        .enabled(if: MailNSRunner.hasSQLite3, "needs /usr/bin/sqlite3"))
    func initSetsUserVersionAndWAL() async throws {
        let result = try await sandbox.raw(["--db", "x.sqlite", "init"])
        try #require(result.status == 0, "\(result)")
        let pragmas = try await sandbox.sqlite3("x.sqlite", "pragma user_version; pragma journal_mode;")
        try #require(pragmas.status == 0, "\(pragmas)")
        let lines = pragmas.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        try #require(lines.count == 2, "\(pragmas)")
        let version = try #require(Int(lines[0]), "\(pragmas)")
        #expect(version >= 1)
        #expect(lines[1] == "wal")
    }

    @Test("--db after the subcommand works as well as before it")
    func dbOptionAfterSubcommand() async throws {
        let after = try await sandbox.raw(["init", "--db", "after.sqlite"])
        #expect(after.status == 0, "\(after)")
        let before = try await sandbox.raw(["--db", "before.sqlite", "init"])
        #expect(before.status == 0, "\(before)")
        let equals = try await sandbox.raw(["--db=equals.sqlite", "domain", "add", "contoso.com", "--type", "authoritative"])
        #expect(equals.status == 0, "\(equals)")
        #expect(sandbox.exists("after.sqlite"))
        #expect(sandbox.exists("before.sqlite"))
        #expect(sandbox.exists("equals.sqlite"))
        #expect(!sandbox.exists("mailns.sqlite"))

        // The domain went into the database named before the subcommand, and only there.
        let inEquals = try await sandbox.raw(["domain", "list", "--json", "--db", "equals.sqlite"])
        #expect(inEquals.stdout.contains("contoso.com"), "\(inEquals)")
        let inAfter = try await sandbox.raw(["--db", "after.sqlite", "domain", "list", "--json"])
        #expect(!inAfter.stdout.contains("contoso.com"), "\(inAfter)")
        // Between a command group and its subcommand too.
        let between = try await sandbox.raw(["domain", "--db", "equals.sqlite", "list", "--json"])
        #expect(between.status == 0, "\(between)")
        #expect(between.stdout.contains("contoso.com"), "\(between)")
        let betweenEquals = try await sandbox.raw(["recipient", "--db=equals.sqlite", "add", "ann", "--no-policy"])
        #expect(betweenEquals.status == 0, "\(betweenEquals)")
        #expect(!sandbox.exists("mailns.sqlite"))
    }

    @Test("$MAILNS_DB names the database when --db is absent")
    func environmentVariableNamesDatabase() async throws {
        let result = try await sandbox.raw(["init"], environment: ["MAILNS_DB": "from-env.sqlite"])
        #expect(result.status == 0, "\(result)")
        #expect(sandbox.exists("from-env.sqlite"))
        #expect(!sandbox.exists("mailns.sqlite"))

        let add = try await sandbox.raw(
            ["domain", "add", "contoso.com", "--type", "authoritative"], environment: ["MAILNS_DB": sandbox.path("from-env.sqlite")])
        #expect(add.status == 0, "\(add)")
        let list = try await sandbox.raw(["--db", "from-env.sqlite", "domain", "list", "--json"])
        #expect(list.stdout.contains("contoso.com"), "\(list)")
    }

    @Test("--db wins over $MAILNS_DB")
    func dbOptionWinsOverEnvironment() async throws {
        let result = try await sandbox.raw(["--db", "option.sqlite", "init"], environment: ["MAILNS_DB": "env.sqlite"])
        #expect(result.status == 0, "\(result)")
        #expect(sandbox.exists("option.sqlite"))
        #expect(!sandbox.exists("env.sqlite"))
    }

    @Test("without --db or $MAILNS_DB the database is ./mailns.sqlite in the working directory")
    func defaultDatabaseInWorkingDirectory() async throws {
        let result = try await sandbox.raw(["init"])
        #expect(result.status == 0, "\(result)")
        #expect(sandbox.exists("mailns.sqlite"))
        #expect(result.stdout.contains("mailns.sqlite"), "\(result)")
    }

    @Test("an empty $MAILNS_DB falls back to ./mailns.sqlite")
    func emptyEnvironmentVariableFallsBack() async throws {
        let result = try await sandbox.raw(["init"], environment: ["MAILNS_DB": ""])
        #expect(result.status == 0, "\(result)")
        #expect(sandbox.exists("mailns.sqlite"))
    }

    @Test("any command creates and migrates a missing database")
    func anyCommandCreatesDatabase() async throws {
        #expect(!FileManager.default.fileExists(atPath: sandbox.database.path))
        let domains = try await sandbox.json("domain", "list", "--json")
        #expect((domains as? [Any])?.isEmpty == true)
        #expect(FileManager.default.fileExists(atPath: sandbox.database.path))
        // Migrated: the Default Policy of the first migration is there.
        let policies = try await sandbox.array("policy", "list", "--json")
        #expect(policies.map { $0["name"] as? String } == ["Default Policy"])
    }

    @Test("running init again on an existing database succeeds and keeps its contents")
    func initIsIdempotent() async throws {
        try await sandbox.ok("init")
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "authoritative")
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:a1@contoso.com")
        let before = try await sandbox.snapshot()
        let again = try await sandbox.ok("init")
        #expect(again.stdout.contains("journal mode wal"))
        let after = try await sandbox.snapshot()
        #expect(before == after)
    }

    @Test("several processes creating and migrating the same new database at once all succeed")
    func concurrentFirstOpens() async throws {
        let results = try await withThrowingTaskGroup(of: RunResult.self) { group in
            for _ in 0..<6 {
                group.addTask { try await sandbox.raw(["--db", "shared.sqlite", "init"]) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for result in results { #expect(result.status == 0, "\(result)") }
        let policies = try await sandbox.raw(["--db", "shared.sqlite", "policy", "list", "--json"])
        #expect(policies.status == 0)
        #expect(policies.stdout.components(separatedBy: "Default Policy").count == 2, "\(policies)")
    }

    @Test("concurrent writers queue on the lock: every one of them succeeds")
    func concurrentWritersAllSucceed() async throws {
        try await sandbox.ok("init")
        let count = 8
        let results = try await withThrowingTaskGroup(of: RunResult.self) { group in
            for index in 0..<count {
                group.addTask {
                    try await sandbox.raw(
                        ["recipient", "add", "r\(index)", "--address", "SMTP:r\(index)@contoso.com", "--db", sandbox.database.path])
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for result in results { #expect(result.status == 0, "\(result)") }
        let aliases = try await sandbox.array("recipient", "list", "--json").compactMap { $0["alias"] as? String }
        #expect(Set(aliases) == Set((0..<count).map { "r\($0)" }))
    }
}
