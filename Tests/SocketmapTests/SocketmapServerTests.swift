import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import Socketmap

#if canImport(Glibc)
import Glibc
#endif

/// Answers map `echo` with the key upper-cased, `busy` with TEMP, and nothing else.
private struct EchoResponder: SocketmapResponder {
    func reply(to request: SocketmapRequest) -> SocketmapReply {
        switch request.map {
        case "echo": .found((request.keyText ?? "?").uppercased())
        case "busy": .temporaryFailure("try later")
        default: .notFound
        }
    }
}

/// `text` framed as a netstring.
private func ns(_ text: String) -> String { "\(text.utf8.count):\(text)," }

/// A blocking loopback client speaking raw bytes, as Postfix's would.
private final class Client {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until `count` bytes or EOF; the text read.
    func receive(atLeast count: Int) -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while received.count < count {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += chunk[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// True when the server has closed the connection (EOF within the receive timeout).
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }
}

@Suite(.serialized) struct SocketmapServerTests {
    private func withServer(_ configuration: SocketmapServer.Configuration = .init(), _ body: (Int, SocketmapServer) throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await SocketmapServer.start(configuration: configuration, responder: EchoResponder(), group: group)
        do {
            let port = try #require(server.localAddress?.port)
            try body(port, server)
        } catch {
            try await server.close()
            try await group.shutdownGracefully()
            throw error
        }
        try await server.close()
        try await group.shutdownGracefully()
    }

    @Test func answersManyRequestsOnOnePersistentConnection() async throws {
        try await withServer { port, _ in
            let client = try Client(port: port)
            client.send(ns("echo a@b.com"))
            #expect(client.receive(atLeast: ns("OK A@B.COM").utf8.count) == ns("OK A@B.COM"))
            client.send(ns("virtual x@y.z") + ns("busy k@"))
            let expected = ns("NOTFOUND ") + ns("TEMP try later")
            #expect(client.receive(atLeast: expected.utf8.count) == expected)
        }
    }

    @Test func aMalformedFrameGetsPERMAndClosesOnlyThatConnection() async throws {
        try await withServer { port, _ in
            let good = try Client(port: port)
            let bad = try Client(port: port)
            bad.send("12x:garbage")
            let reply = bad.receive(atLeast: 1000)
            #expect(reply.contains("PERM malformed netstring"), "\(reply)")
            #expect(bad.isClosedByPeer())
            good.send(ns("echo ok"))
            #expect(good.receive(atLeast: ns("OK OK").utf8.count) == ns("OK OK"))
        }
    }

    @Test func anOverlongLengthIsRefusedWithoutWaitingForThePayload() async throws {
        try await withServer { port, _ in
            let client = try Client(port: port)
            client.send("100001:")
            let reply = client.receive(atLeast: 1000)
            #expect(reply.contains("PERM netstring longer than 100000 bytes"), "\(reply)")
            #expect(client.isClosedByPeer())
        }
    }

    @Test func connectionsBeyondTheLimitAreClosedAtOnce() async throws {
        try await withServer(.init(maximumConnections: 2)) { port, server in
            let first = try Client(port: port)
            let second = try Client(port: port)
            first.send(ns("echo a"))
            second.send(ns("echo b"))
            #expect(first.receive(atLeast: ns("OK A").utf8.count) == ns("OK A"))
            #expect(second.receive(atLeast: ns("OK B").utf8.count) == ns("OK B"))
            let third = try Client(port: port)
            #expect(third.isClosedByPeer())
            first.send(ns("echo c"))
            #expect(first.receive(atLeast: ns("OK C").utf8.count) == ns("OK C"))
            #expect(server.openConnections == 2)
        }
    }

    @Test func anIdleConnectionIsClosed() async throws {
        try await withServer(.init(idleTimeout: .milliseconds(200))) { port, _ in
            let client = try Client(port: port)
            #expect(client.isClosedByPeer())
        }
    }
}

@Suite("Socketmap endpoints")
struct SocketmapEndpointTests {
    /// Only this machine can connect: unix sockets, 127.0.0.0/8 and ::1 in any spelling.
    @Test(arguments: [
        ("127.0.0.1:9025", true), ("127.1.2.3:9025", true), ("[::1]:9025", true), ("[0:0:0:0:0:0:0:1]:9025", true),
        ("localhost:9025", true), ("unix:/run/mailns.sock", true),
        ("0.0.0.0:9025", false), ("192.0.2.1:25", false), ("[::]:9025", false), ("[::2]:9025", false), ("[::ffff:127.0.0.1]:9025", false),
    ])
    func loopback(listen: String, isLoopback: Bool) throws {
        #expect(try SocketmapEndpoint(parsing: listen).isLoopback == isLoopback)
    }
}
