import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real `mailns serve` against hostile clients: it keeps answering well-formed clients, with
/// bounded memory, and treats every key as data.
@Suite("mailns serve against hostile clients")
struct HostileClientTests {
    static func residentKB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return -1 }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    /// A raw loopback connection's descriptor (kept open by `wires`), or -1 when refused.
    static func connectRaw(_ port: Int, keeping wires: inout [SocketmapWire]) -> Int32 {
        guard let wire = try? SocketmapWire(port: port) else { return -1 }
        wires.append(wire)
        return wire.fd
    }

    @Test("slow-loris frames, connections beyond the limit, maximum-size frames, invalid UTF-8 and SQL metacharacters")
    func keepsServing() async throws {
        let sandbox = try Sandbox()
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "authoritative")
        try await sandbox.ok("recipient", "add", "alice", "--no-policy", "--address", "SMTP:alice@contoso.com")
        let port = try freeLoopbackPort()
        let limit = 200
        let serve = try BackgroundMailNS(sandbox, [
            "serve", "--db", sandbox.database.path, "--listen", "127.0.0.1:\(port)", "--max-connections", "\(limit)", "--idle-timeout", "30",
        ])
        defer { serve.stop() }
        try #require(await serve.waitForLine(containing: "listening on ") != nil, "\(serve.stderr)")
        let good = try SocketmapWire(port: port)
        #expect(good.ask("mailboxes", "alice@contoso.com").hasPrefix("OK "))
        let baseline = Self.residentKB(serve.pid)
        var wires: [SocketmapWire] = []
        // Connected before the flood below takes every free slot.
        let maxWire = try SocketmapWire(port: port)
        let overWire = try SocketmapWire(port: port)
        let rawFD = Self.connectRaw(port, keeping: &wires)

        // Slow loris: many connections that send half a frame and stall.
        var stalled: [Int32] = []
        for _ in 0..<50 {
            let fd = Self.connectRaw(port, keeping: &wires)
            if fd >= 0 {
                _ = "30:mailboxes ali".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                stalled.append(fd)
            }
        }
        // Idle connections far beyond the limit: the extra ones are closed, the good client is not.
        var idle: [Int32] = []
        for _ in 0..<(limit * 5) {
            let fd = Self.connectRaw(port, keeping: &wires)
            if fd >= 0 { idle.append(fd) }
        }
        #expect(good.ask("mailboxes", "alice@contoso.com").hasPrefix("OK "), "the good client lost its answer with \(idle.count) idle connections")
        // One more beyond the limit is closed at once.
        let refused = try SocketmapWire(port: port)
        #expect(refused.ask("mailboxes", "alice@contoso.com").hasPrefix("<"), "a connection beyond the limit was served")

        // Maximum-size frames: a 100,000-byte key is answered (not found), one byte more is refused.
        let big = String(repeating: "a", count: 100_000 - "mailboxes ".utf8.count - "@contoso.com".utf8.count) + "@contoso.com"
        let reply = maxWire.ask("mailboxes", big)
        #expect(reply.hasPrefix("NOTFOUND") || reply.hasPrefix("PERM"), "a maximum-size frame: \(reply.prefix(60))")
        #expect(overWire.ask("mailboxes", big + "x").hasPrefix("PERM"))

        // Keys are data: SQL metacharacters, LIKE wildcards and invalid UTF-8 never match alice.
        for key in ["alice@contoso.com' OR '1'='1", "%@contoso.com", "_lice@contoso.com", "alice@contoso.com;--", "a'; DROP TABLE recipient; --@contoso.com", "alic%@contoso.com"] {
            let answer = good.ask("mailboxes", key)
            #expect(answer.hasPrefix("NOTFOUND") || answer.hasPrefix("PERM"), "\(key): \(answer)")
        }
        let invalid: [UInt8] = Array("mailboxes al".utf8) + [0xC3, 0x28, 0xFF] + Array("ice@contoso.com".utf8)
        let frame = Array("\(invalid.count):".utf8) + invalid + [UInt8(ascii: ",")]
        #expect(frame.withUnsafeBytes { send(rawFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == frame.count)
        var buffer = [UInt8](repeating: 0, count: 512)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(rawFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let n = recv(rawFD, &buffer, buffer.count, 0)
        let invalidReply = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : "<nothing>"
        #expect(invalidReply.contains("NOTFOUND") || invalidReply.contains("PERM"), "invalid UTF-8 key: \(invalidReply)")

        // Once the flood goes away, new clients are served again.
        let keep = Set([rawFD])
        wires.removeAll { !keep.contains($0.fd) }
        try await Task.sleep(for: .milliseconds(500))
        let later = try SocketmapWire(port: port)
        #expect(later.ask("mailboxes", "alice@contoso.com").hasPrefix("OK "))

        // The directory is untouched, the good client still answered, memory bounded.
        #expect(good.ask("mailboxes", "Alice@Contoso.com").hasPrefix("OK "))
        #expect(try await sandbox.ok("recipient", "list", "--json").stdout.contains("\"alice\""))
        let after = Self.residentKB(serve.pid)
        print("hostile clients: \(stalled.count) slow-loris and \(idle.count) idle connections (limit \(limit)); serve RSS \(baseline / 1024) MB -> \(after / 1024) MB")
        #expect(after - baseline < 50 * 1024, "resident memory grew from \(baseline) kB to \(after) kB")
    }
}
