import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import Synchronization
import Testing

@testable import Socketmap

#if canImport(Glibc)
import Glibc
#endif

/// Answers map `echo` with the key upper-cased; everything else is not found.
private struct UpperResponder: SocketmapResponder {
    func reply(to request: SocketmapRequest) -> SocketmapReply {
        request.map == "echo" ? .found((request.keyText ?? "?").uppercased()) : .notFound
    }
}

/// `text` framed as a netstring.
private func netstring(_ text: String) -> String { "\(text.utf8.count):\(text)," }

/// How a read ended.
private enum ReadEnd: Equatable, CustomStringConvertible {
    case eof, reset, timeout, enough
    var description: String {
        switch self {
        case .eof: "EOF"
        case .reset: "connection reset"
        case .timeout: "no EOF within the receive timeout"
        case .enough: "stopped reading (enough bytes)"
        }
    }
}

/// A blocking loopback TCP client writing raw bytes, as a broken or hostile client would.
private final class RawClient: @unchecked Sendable {
    let fd: Int32
    private var isClosed = false

    init(port: Int, receiveTimeoutSeconds: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var noDelay: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .ECONNREFUSED)
        }
    }

    deinit { closeNow() }

    /// Closes the connection (once).
    func closeNow() {
        if !isClosed { close(fd) }
        isClosed = true
    }

    /// Sends all of `bytes` in one call (one segment on loopback).
    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// Sends `text` one byte per write, pausing between writes so that each byte arrives alone.
    func sendBytewise(_ text: String, pauseMicroseconds: UInt32 = 2_000) {
        for byte in text.utf8 {
            send([byte])
            usleep(pauseMicroseconds)
        }
    }

    /// Closes the sending side (the server reads EOF) and keeps reading possible.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads until `limit` bytes, EOF, a reset or the receive timeout; the bytes and how it ended.
    func read(upTo limit: Int = .max) -> (text: String, end: ReadEnd) {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while received.count < limit {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, limit - received.count), 0) }
            if n == 0 { return (String(decoding: received, as: UTF8.self), .eof) }
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                return (String(decoding: received, as: UTF8.self), code == ECONNRESET ? .reset : .timeout)
            }
            received += chunk[0..<n]
        }
        return (String(decoding: received, as: UTF8.self), .enough)
    }

    /// Reads exactly one netstring reply (its text, unframed), or nil when the stream ended or
    /// was not a netstring.
    func readReply() -> String? {
        var lengthText = ""
        while true {
            let (byte, end) = read(upTo: 1)
            guard end == .enough, let character = byte.first else { return nil }
            if character == ":" { break }
            guard character.isNumber, lengthText.count < 7 else { return nil }
            lengthText.append(character)
        }
        guard let length = Int(lengthText) else { return nil }
        let (body, end) = read(upTo: length + 1)
        guard end == .enough, body.hasSuffix(",") else { return nil }
        return String(body.dropLast())
    }
}

/// Runs blocking socket work on a thread of its own, off Swift's cooperative pool (two
/// threads on a two-core machine: a blocked pool would stall the server's tests).
private func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

/// Polls `condition` until it holds or `seconds` pass; whether it held.
private func eventually(within seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// What the test itself did, to compare with the server's statistics.
private final class Counts: Sendable {
    /// Every TCP connection this test makes, refused or not.
    let connectionsMade = Atomic<Int>(0)
    /// Every complete, well-formed request sent (each must be counted by the server).
    let validRequests = Atomic<Int>(0)
}

/// What the well-behaved clients saw while the others misbehaved.
private final class GoodClientLog: Sendable {
    private let state = Mutex<(replies: Int, failures: [String])>((0, []))
    let stop = Atomic<Bool>(false)

    func record(reply ok: Bool, _ failure: @autoclosure () -> String) {
        state.withLock {
            if ok { $0.replies += 1 } else if $0.failures.count < 20 { $0.failures.append(failure()) }
        }
    }

    var replies: Int { state.withLock { $0.replies } }
    var failures: [String] { state.withLock { $0.failures } }
}

@Suite("Socketmap server: malformed input and connection floods over real loopback sockets", .serialized)
struct SocketmapRobustnessTests {
    /// Well-behaved clients (persistent connections, like Postfix's processes).
    static let goodClients = 3
    /// The connection limit: the good clients, plus room for one misbehaving client at a time.
    static let limit = 6

    @Test("while good clients are answered correctly, garbage, truncated, oversized, comma-less, space-less, drip-fed and flooding clients each get PERM and EOF or are closed at once")
    func misbehavingClientsNeverDisturbGoodOnes() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = try await SocketmapServer.start(
            configuration: .init(idleTimeout: .seconds(30), maximumConnections: Self.limit), responder: UpperResponder(), group: group)
        do {
            try await exercise(server)
        } catch {
            try? await server.close()
            try? await group.shutdownGracefully()
            throw error
        }
        try await server.close()
        try await group.shutdownGracefully()
    }

    private func exercise(_ server: SocketmapServer) async throws {
        let port = try #require(server.localAddress?.port)
        let counts = Counts()

        // The good clients: connect first, then ask and check every reply until told to stop.
        let log = GoodClientLog()
        var goodConnections: [RawClient] = []
        for _ in 0..<Self.goodClients {
            goodConnections.append(try RawClient(port: port))
            counts.connectionsMade.add(1, ordering: .relaxed)
        }
        #expect(await eventually { server.openConnections == Self.goodClients }, "the good clients are admitted")
        let good = goodConnections
        let goodRuns = (0..<Self.goodClients).map { index in
            Task {
                try await onThread {
                    let client = good[index]
                    var n = 0
                    while !log.stop.load(ordering: .relaxed) {
                        n += 1
                        let key = "c\(index)-k\(n)@Example.com"
                        client.send(netstring("echo \(key)"))
                        counts.validRequests.add(1, ordering: .relaxed)
                        let reply = client.readReply()
                        log.record(reply: reply == "OK " + key.uppercased(), "client \(index) asked \(key), got \(reply ?? "<no reply>")")
                        if reply == nil { return }
                    }
                }
            }
        }

        /// One misbehaving client: its whole input in one write, then what came back.
        @Sendable func misbehave(_ input: String) throws -> (text: String, end: ReadEnd) {
            let client = try RawClient(port: port)
            counts.connectionsMade.add(1, ordering: .relaxed)
            client.send(input)
            return client.read()
        }

        // Each malformed input gets exactly one PERM naming the fault, then EOF.
        let malformed: [(label: String, input: String, reply: String)] = [
            ("garbage (an HTTP request)", "GET / HTTP/1.0\r\nHost: x\r\n\r\n", "PERM malformed netstring: non-digit in the length"),
            ("binary garbage", "\u{0}\u{1}\u{7F}\u{1B}[2J", "PERM malformed netstring: non-digit in the length"),
            ("an oversized length", "999999999:", "PERM netstring longer than 100000 bytes"),
            ("a frame without its comma", "11:echo abcdefX" + netstring("echo next"), "PERM malformed netstring: missing ',' after the payload"),
            ("a request without a space", "5:abcde,", "PERM malformed request: expected 'name key'"),
        ]
        for bad in malformed {
            let (text, end) = try await onThread { try misbehave(bad.input) }
            #expect(text == netstring(bad.reply), "\(bad.label): reply")
            #expect(end == .eof, "\(bad.label): the server closes after its PERM")
        }

        // A bad frame drip-fed one byte per write: still one PERM, then EOF.
        let dripped = try await onThread { () throws -> (String, ReadEnd) in
            let client = try RawClient(port: port)
            counts.connectionsMade.add(1, ordering: .relaxed)
            client.sendBytewise("9:echo abcdX")  // the 9-byte payload ends at 'd'; 'X' is not ','
            return client.read()
        }
        #expect(dripped.0 == netstring("PERM malformed netstring: missing ',' after the payload"), "drip-fed bad frame")
        #expect(dripped.1 == .eof, "drip-fed bad frame: EOF after PERM")

        // A valid request drip-fed one byte per write is answered once, correctly.
        let dripValid = try await onThread { () throws -> (String?, String?) in
            let client = try RawClient(port: port, receiveTimeoutSeconds: 1)
            counts.connectionsMade.add(1, ordering: .relaxed)
            client.sendBytewise(netstring("echo drip+Fed@Example.COM"))
            counts.validRequests.add(1, ordering: .relaxed)
            let reply = client.readReply()
            let extra = client.read(upTo: 1)  // nothing more, and the connection stays open
            return (reply, extra.end == .timeout ? nil : "\(extra.end) \(extra.text)")
        }
        #expect(dripValid.0 == "OK DRIP+FED@EXAMPLE.COM")
        #expect(dripValid.1 == nil, "a drip-fed request gets one reply and the connection stays open: \(dripValid.1 ?? "")")

        // A truncated frame, then a full close: nothing to answer; the server lets go.
        try await onThread {
            let client = try RawClient(port: port)
            counts.connectionsMade.add(1, ordering: .relaxed)
            client.send("20:echo trunc")
        }
        // A complete request and a truncated one, then a half-close: the complete one is
        // answered, the partial one dropped, and the server closes.
        let halfClosed = try await onThread { () throws -> (String, ReadEnd) in
            let client = try RawClient(port: port)
            counts.connectionsMade.add(1, ordering: .relaxed)
            client.send(netstring("echo last") + "20:echo trunc")
            counts.validRequests.add(1, ordering: .relaxed)
            client.shutdownWrite()
            return client.read()
        }
        #expect(halfClosed.0 == netstring("OK LAST"), "the complete request before the truncated one is answered")
        #expect(halfClosed.1 == .eof)

        #expect(await eventually { server.openConnections == Self.goodClients }, "misbehaving clients are all gone: \(server.openConnections) open")

        // The flood: fill the limit with held connections (each proven admitted by a reply),
        // then more held connections and quick open/close ones beyond it.
        let room = Self.limit - Self.goodClients
        let held = try await onThread { () throws -> [RawClient] in
            var held: [RawClient] = []
            for index in 0..<room {
                let client = try RawClient(port: port)
                counts.connectionsMade.add(1, ordering: .relaxed)
                client.send(netstring("echo held\(index)"))
                counts.validRequests.add(1, ordering: .relaxed)
                guard client.readReply() == "OK HELD\(index)" else { throw POSIXError(.EPROTO) }
                held.append(client)
            }
            return held
        }
        #expect(server.openConnections == Self.limit)
        let refusedBefore = server.statistics.refusedConnections
        let beyond = 20
        let overLimit = try await onThread { () throws -> [String] in
            var problems: [String] = []
            var holding: [RawClient] = []
            for index in 0..<beyond {
                let client = try RawClient(port: port)
                counts.connectionsMade.add(1, ordering: .relaxed)
                if index % 2 == 0 {
                    // Opened and held: closed at once, without a byte.
                    let (text, end) = client.read()
                    if end != .eof || !text.isEmpty { problems.append("held connection \(index) beyond the limit: \(end), read '\(text)'") }
                    holding.append(client)
                }
                // Odd ones are opened and closed at once (deinit).
            }
            return problems
        }
        #expect(overLimit.isEmpty, "\(overLimit)")
        #expect(await eventually { server.statistics.refusedConnections - refusedBefore == beyond }, "every connection beyond the limit is refused: \(server.statistics.refusedConnections - refusedBefore) of \(beyond)")
        #expect(server.openConnections == Self.limit, "refused connections never count as open")

        // Release the held ones; then a burst of quick open/close connections below the limit.
        try await onThread { for client in held { client.closeNow() } }
        #expect(await eventually { server.openConnections == Self.goodClients }, "held connections released: \(server.openConnections) open")
        try await onThread {
            for _ in 0..<50 {
                let client = try RawClient(port: port)
                counts.connectionsMade.add(1, ordering: .relaxed)
                _ = client
            }
        }

        // Let the good clients run a little longer, then stop them.
        try await Task.sleep(for: .milliseconds(200))
        log.stop.store(true, ordering: .relaxed)
        for run in goodRuns { try await run.value }

        #expect(log.failures.isEmpty, "good clients saw wrong replies: \(log.failures)")
        #expect(log.replies > 20, "the good clients kept being answered throughout (\(log.replies) replies)")
        #expect(await eventually { server.openConnections == Self.goodClients }, "after the storm only the good clients remain: \(server.openConnections) open")
        let made = counts.connectionsMade.load(ordering: .relaxed)
        let settled = await eventually { server.statistics.connections + server.statistics.refusedConnections == made }
        let statistics = server.statistics
        #expect(settled, "every connection is accounted for, admitted or refused: \(statistics) of \(made) made")
        #expect(statistics.malformed == malformed.count + 1, "malformed counts the PERM-and-close clients: \(statistics)")
        #expect(statistics.refusedConnections >= beyond, "\(statistics)")
        #expect(statistics.requests == counts.validRequests.load(ordering: .relaxed), "requests counts every well-formed request: \(statistics)")
        #expect(statistics.idleClosed == 0)
        withExtendedLifetime(goodConnections) {}
    }
}

/// The server's per-connection pipeline (the netstring decoder, then the connection handler)
/// on an `EmbeddedChannel`, fed one byte at a time.
@Suite("Socketmap connection pipeline on an EmbeddedChannel")
struct SocketmapPipelineTests {
    private func pipeline() throws -> (EmbeddedChannel, SharedState) {
        let state = SharedState()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(NetstringDecoder()),
            SocketmapConnectionHandler(
                responder: UpperResponder(), maximumLength: NetstringDecoder.defaultMaximumLength, peer: "embedded", state: state,
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })),
        ])
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1), promise: nil)
        return (channel, state)
    }

    /// Everything written so far, as text.
    private func written(_ channel: EmbeddedChannel) throws -> String {
        var out = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out += String(buffer: buffer) }
        return out
    }

    @Test("a request fed one byte at a time is answered once, after its last byte, and the connection stays open")
    func byteAtATime() throws {
        let (channel, state) = try pipeline()
        let request = Array(netstring("echo User+Tag@Contoso.com").utf8)
        for (index, byte) in request.enumerated() {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            if index < request.count - 1 {
                #expect(try written(channel).isEmpty, "no reply before the frame is complete (after byte \(index))")
            }
        }
        #expect(try written(channel) == netstring("OK USER+TAG@CONTOSO.COM"))
        #expect(channel.isActive)
        #expect(state.requests.load(ordering: .relaxed) == 1)
        // The next request, again byte by byte, on the same connection.
        for byte in netstring("other k").utf8 { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        #expect(try written(channel) == netstring("NOTFOUND "))
        #expect(state.requests.load(ordering: .relaxed) == 2)
        #expect(state.counters.withLockedValue { $0.malformed } == 0)
        _ = try channel.finish()
    }

    @Test("two requests in one write get two replies, in order")
    func pipelinedRequests() throws {
        let (channel, _) = try pipeline()
        try channel.writeInbound(ByteBuffer(string: netstring("echo a") + netstring("nope b") + netstring("echo c")))
        #expect(try written(channel) == netstring("OK A") + netstring("NOTFOUND ") + netstring("OK C"))
        _ = try channel.finish()
    }

    /// Regression (review): requests decoded behind a bad one were looked up and counted,
    /// their replies never sent, and the malformed count went up for each.
    @Test("requests written behind a malformed one are dropped: one PERM, nothing looked up, one malformed")
    func requestsBehindAMalformedOneAreDropped() throws {
        let (channel, state) = try pipeline()
        _ = try? channel.writeInbound(ByteBuffer(string: "5:abcde," + netstring("echo late") + "x:" + netstring("echo later")))
        channel.embeddedEventLoop.run()
        #expect(try written(channel) == netstring("PERM malformed request: expected 'name key'"))
        #expect(!channel.isActive)
        #expect(state.requests.load(ordering: .relaxed) == 0)
        #expect(state.counters.withLockedValue { $0.malformed } == 1)
    }

    @Test("a malformed frame fed one byte at a time: the good request before it is answered, then one PERM, then the channel closes")
    func malformedByteAtATime() throws {
        let (channel, state) = try pipeline()
        let input = netstring("echo ok") + "5:abcdeX"
        for byte in input.utf8 where channel.isActive {
            // Once the channel closed, the decoder has thrown; writing on is the peer's problem.
            _ = try? channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        channel.embeddedEventLoop.run()
        #expect(try written(channel) == netstring("OK OK") + netstring("PERM malformed netstring: missing ',' after the payload"))
        #expect(!channel.isActive, "the connection is closed after the PERM")
        #expect(state.counters.withLockedValue { $0.malformed } == 1)
        #expect(state.requests.load(ordering: .relaxed) == 1)
    }
}
