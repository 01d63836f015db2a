import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `mailns serve` under a steady lookup load while another process imports and applies
/// policies: no address that exists before and after the writes may be answered NOTFOUND.
@Suite("mailns serve while another process writes")
struct ServeWhileWritingTests {
    /// What the lookup threads saw in one phase.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var replies: [String: Int] = [:]
        private var latencies: [Double] = []
        private var wrong: [String] = []

        func record(_ reply: String, key: String, microseconds: Double) {
            lock.lock()
            defer { lock.unlock() }
            let kind = String(reply.prefix { $0 != " " })
            replies[kind, default: 0] += 1
            latencies.append(microseconds)
            if kind != "OK" && wrong.count < 10 { wrong.append("\(key): \(reply)") }
        }

        var snapshot: (replies: [String: Int], latencies: [Double], wrong: [String]) {
            lock.lock()
            defer { lock.unlock() }
            return (replies, latencies.sorted(), wrong)
        }
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    @Test("a large import and a full policy apply while serve answers 3 connections: no NOTFOUND for an existing address")
    func noWrongNotFound() async throws {
        let sandbox = try Sandbox()
        try await sandbox.ok("domain", "add", "fabrikam.com", "--type", "authoritative")
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "shared")
        let count = 4_000
        func file(_ prefix: String) -> String {
            var text = "mailNickname,givenName,sn,proxyAddresses\n"
            for i in 0..<count { text += "\(prefix)\(i),Given\(prefix)\(i),Sur\(i),SMTP:\(prefix)\(i)@fabrikam.com;smtp:\(prefix).\(i)@fabrikam.com\n" }
            return text
        }
        try Data(file("u").utf8).write(to: sandbox.directory.appendingPathComponent("before.csv"))
        try Data(file("v").utf8).write(to: sandbox.directory.appendingPathComponent("more.csv"))
        try await sandbox.ok("import", "before.csv")

        let port = try freeLoopbackPort()
        let serve = try BackgroundMailNS(sandbox, ["serve", "--db", sandbox.database.path, "--listen", "127.0.0.1:\(port)"])
        defer { serve.stop() }
        try #require(await serve.waitForLine(containing: "listening on ") != nil, "\(serve.stderr)")

        // Three connections ask for addresses that exist before the writes and after them.
        let idle = Tally(), busy = Tally()
        let phase = Mutex(0)  // 0 idle, 1 writing, 2 stop
        let threads = (0..<3).map { n in
            Thread {
                guard let wire = try? SocketmapWire(port: port) else { return }
                var i = n
                while true {
                    let now = phase.withLock { $0 }
                    if now == 2 { break }
                    let key = i % 2 == 0 ? "u\(i % count)@fabrikam.com" : "U.\(i % count)@Fabrikam.COM"
                    let start = DispatchTime.now().uptimeNanoseconds
                    let reply = wire.ask("mailboxes", key)
                    let us = Double(DispatchTime.now().uptimeNanoseconds - start) / 1000
                    (now == 0 ? idle : busy).record(reply, key: key, microseconds: us)
                    i += 3
                }
            }
        }
        for thread in threads { thread.start() }
        try await Task.sleep(for: .seconds(1))
        phase.withLock { $0 = 1 }
        let imported = try await sandbox.raw(["import", "more.csv", "--batch-size", "500", "--db", sandbox.database.path], timeout: 300)
        try await sandbox.ok("policy", "set-templates", "Default Policy", "--template", "SMTP:%g.%s@contoso.com")
        let applied = try await sandbox.raw(["policy", "apply", "--db", sandbox.database.path], timeout: 300)
        phase.withLock { $0 = 2 }
        try await Task.sleep(for: .milliseconds(300))
        #expect(imported.status == 0, "\(imported)")
        #expect(applied.status == 0, "\(applied)")

        let before = idle.snapshot, during = busy.snapshot
        #expect(before.replies.keys.sorted() == ["OK"], "idle: \(before.replies) \(before.wrong)")
        #expect(during.replies["NOTFOUND", default: 0] == 0, "NOTFOUND while writing: \(during.wrong)")
        #expect(during.replies["OK", default: 0] > 100, "too few lookups while writing: \(during.replies)")
        let temp = during.replies["TEMP", default: 0]
        print("""
            serve while writing (3 connections, \(count) recipients, import of \(count) more and a full policy apply):
              idle:    \(before.latencies.count) lookups, p50 \(Int(Self.percentile(before.latencies, 0.5))) µs, p99 \(Int(Self.percentile(before.latencies, 0.99))) µs
              writing: \(during.latencies.count) lookups, p50 \(Int(Self.percentile(during.latencies, 0.5))) µs, p99 \(Int(Self.percentile(during.latencies, 0.99))) µs, TEMP \(temp), NOTFOUND \(during.replies["NOTFOUND", default: 0])
            """)
        #expect(temp == 0, "TEMP answers while writing: \(during.wrong)")
    }
}
