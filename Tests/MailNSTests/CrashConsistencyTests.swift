import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SIGKILL in the middle of `mailns import` and `mailns policy apply`, at a point each seed
/// picks: the database must pass `mailns check`, and a re-run must give the same directory as
/// a run that was never interrupted.
@Suite("crash consistency: kill -9 mid-write, check, re-run")
struct CrashConsistencyTests {
    static let records = 12_000
    static let batch = 1_000

    static func csv() -> String {
        var text = "mailNickname,givenName,sn,displayName,company,proxyAddresses\n"
        // Pairs of equal names, so the policy's addresses collide and take suffixes.
        for i in 0..<records {
            text += "u\(i),Given\(i / 2),Sur\(i / 2),User \(i),Fabrikam,SMTP:u\(i)@fabrikam.com;smtp:user.\(i)@fabrikam.com\n"
        }
        return text
    }

    /// A directory with the domains, a policy and the file, in `sandbox` as `name`.
    static func prepare(_ sandbox: Sandbox, _ name: String) async throws {
        let db = sandbox.path(name)
        for command in [
            ["domain", "add", "fabrikam.com", "--type", "authoritative"], ["domain", "add", "contoso.com", "--type", "shared"],
            ["policy", "set-templates", "Default Policy", "--template", "SMTP:%m@fabrikam.com"],
        ] {
            let result = try await sandbox.raw(command + ["--db", db])
            try #require(result.status == 0, "\(result)")
        }
        if !sandbox.exists("users.csv") { try Data(csv().utf8).write(to: sandbox.directory.appendingPathComponent("users.csv")) }
    }

    /// What must be equal between an interrupted-and-finished run and an uninterrupted one.
    static let compared = [
        "SELECT r.id, r.alias, r.given_name, r.stamped_by_policy_id, a.type, a.address, a.is_primary FROM recipient r JOIN proxy_address a ON a.recipient_id = r.id ORDER BY r.id, a.type, a.address",
        "SELECT recipient_id, alias, action, type, address, actor, actor_name FROM address_history ORDER BY id",
    ]

    static func count(_ sandbox: Sandbox, _ name: String, _ sql: String) async throws -> Int {
        Int(try await sandbox.sqlite3(name, sql).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Runs `arguments` against `name`, kills it once `progress` (an SQL count) reaches `at`,
    /// then checks, re-runs and compares with `reference`.
    static func killAndFinish(
        _ sandbox: Sandbox, _ name: String, _ arguments: [String], progress: String, at threshold: Int, reference: String
    ) async throws {
        let child = try BackgroundMailNS(sandbox, arguments + ["--db", sandbox.path(name)])
        defer { child.stop() }
        let deadline = Date().addingTimeInterval(120)
        var reached = 0
        // The child runs in short slices and is stopped while its progress is read: on a loaded
        // machine reading the count (a sqlite3 process) is slow, and a child left running
        // finished before the kill (CI saw "killed at 11000" for a threshold of 3548).
        child.signal(SIGSTOP)
        while reached < threshold && Date() < deadline && ChildExit.status(of: child.process) == nil {
            child.signal(SIGCONT)
            try await Task.sleep(for: .milliseconds(20))
            child.signal(SIGSTOP)
            reached = try await count(sandbox, name, progress)
        }
        child.signal(SIGKILL)
        let status = await child.waitForExit()
        #expect(status == 128 + SIGKILL, "it finished before the kill; pick a lower threshold")

        let check = try await sandbox.raw(["check", "--db", sandbox.path(name)])
        #expect(check.status == 0, "after the kill: \(check)")
        let rerun = try await sandbox.raw(arguments + ["--db", sandbox.path(name)], timeout: 300)
        #expect(rerun.status == 0, "\(rerun)")
        var rows = 0, equal = true
        for sql in compared {
            let mine = try await sandbox.sqlite3(name, sql).stdout
            let theirs = try await sandbox.sqlite3(reference, sql).stdout
            rows += mine.split(separator: "\n").count
            equal = equal && mine == theirs
            #expect(mine == theirs, "after re-run, differs from the uninterrupted run: \(sql)")
        }
        let checkAfter = try await sandbox.raw(["check", "--db", sandbox.path(name)])
        #expect(checkAfter.status == 0, "after the re-run: \(checkAfter)")
        // What was checked, for the log: scripts/test's output is the record of it.
        print("""
            \(arguments.prefix(2).joined(separator: " ")): killed at \(reached) (threshold \(threshold)), exit \(status.map(String.init) ?? "?"); \
            check after the kill: exit \(check.status); re-run: exit \(rerun.status); \
            \(rows) address and history rows \(equal ? "equal to" : "DIFFERENT from") the uninterrupted run; check after: exit \(checkAfter.status)
            """)
    }

    @Test("import killed at a seeded point", arguments: [1, 2, 3])
    func importKilled(seed: Int) async throws {
        try #require(MailNSRunner.hasSQLite3)
        let sandbox = try Sandbox()
        try await Self.prepare(sandbox, "reference.sqlite")
        try await Self.prepare(sandbox, "killed.sqlite")
        let importing = ["import", "users.csv", "--batch-size", "\(Self.batch)"]
        let whole = try await sandbox.raw(importing + ["--db", sandbox.path("reference.sqlite")], timeout: 300)
        #expect(whole.status == 0, "\(whole)")
        var generator = SeededGenerator(seed: UInt64(seed))
        let threshold = Int.random(in: 1...(Self.records / 2), using: &generator)
        try await Self.killAndFinish(
            sandbox, "killed.sqlite", importing, progress: "SELECT count(*) FROM recipient", at: threshold, reference: "reference.sqlite")
    }

    @Test("policy apply killed at a seeded point", arguments: [1, 2, 3])
    func applyKilled(seed: Int) async throws {
        try #require(MailNSRunner.hasSQLite3)
        let sandbox = try Sandbox()
        try await Self.prepare(sandbox, "reference.sqlite")
        let load = try await sandbox.raw(["import", "users.csv", "--db", sandbox.path("reference.sqlite")], timeout: 300)
        try #require(load.status == 0, "\(load)")
        let template = ["policy", "set-templates", "Default Policy", "--template", "SMTP:%g.%s@contoso.com", "--template", "smtp:%m@fabrikam.com"]
        try #require(try await sandbox.raw(template + ["--db", sandbox.path("reference.sqlite")]).status == 0)
        // The same state twice: a copy to kill, the original to apply uninterrupted.
        try #require(try await sandbox.raw(["backup", sandbox.path("killed.sqlite"), "--db", sandbox.path("reference.sqlite")]).status == 0)
        let applying = ["policy", "apply", "--batch-size", "\(Self.batch)"]
        let whole = try await sandbox.raw(applying + ["--db", sandbox.path("reference.sqlite")], timeout: 300)
        #expect(whole.status == 0, "\(whole)")
        var generator = SeededGenerator(seed: UInt64(seed) + 100)
        let threshold = Int.random(in: 1...(Self.records / 2), using: &generator)
        try await Self.killAndFinish(
            sandbox, "killed.sqlite", applying, progress: "SELECT count(*) FROM address_history WHERE actor = 'policy' AND action = 'added'",
            at: threshold, reference: "reference.sqlite")
    }
}

/// splitmix64: the same thresholds on every run of a seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
