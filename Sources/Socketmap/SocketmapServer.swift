#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// Answers socketmap requests; the server knows nothing of what the maps mean.
package protocol SocketmapResponder {
    /// The reply to one request. Called on the connection's event loop: it must be quick
    /// (a directory lookup), never wait for long.
    func reply(to request: SocketmapRequest) -> SocketmapReply
}

/// Where a socketmap server listens.
package enum SocketmapEndpoint: Hashable, Sendable, CustomStringConvertible {
    case inet(host: String, port: Int)
    case unix(path: String)

    /// As Postfix names it after `socketmap:` (`inet:127.0.0.1:9025`, `unix:/run/mailns.sock`).
    package var description: String {
        switch self {
        case .inet(let host, let port): "inet:\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }
}

/// A socketmap server (socketmap_table(5)) for Postfix's lookups.
///
/// ## Connections
/// Each Postfix process keeps one persistent connection per map endpoint with one request in
/// flight. A connection idle for `idleTimeout` is closed (Postfix reconnects on EOF). Beyond
/// `maximumConnections` a new connection is closed at once; the others are not disturbed.
///
/// ## Bad input
/// A malformed or over-long frame gets `PERM` and the connection is closed: a netstring stream
/// cannot be resynchronised. Other connections are never affected.
///
/// ## Security
/// The protocol has no authentication: bind loopback unless told otherwise (the caller
/// decides). A unix socket is created with `unixSocketMode` (0660 by default).
package final class SocketmapServer: Sendable {
    package struct Configuration: Sendable {
        package var endpoint: SocketmapEndpoint
        package var idleTimeout: TimeAmount
        package var maximumConnections: Int
        package var maximumLength: Int
        package var unixSocketMode: mode_t

        package init(
            endpoint: SocketmapEndpoint = .inet(host: "127.0.0.1", port: 0), idleTimeout: TimeAmount = .seconds(60),
            maximumConnections: Int = 1024, maximumLength: Int = NetstringDecoder.defaultMaximumLength, unixSocketMode: mode_t = 0o660
        ) {
            self.endpoint = endpoint
            self.idleTimeout = idleTimeout
            self.maximumConnections = maximumConnections
            self.maximumLength = maximumLength
            self.unixSocketMode = unixSocketMode
        }

        /// A TCP endpoint.
        package init(
            host: String, port: Int, idleTimeout: TimeAmount = .seconds(60), maximumConnections: Int = 1024,
            maximumLength: Int = NetstringDecoder.defaultMaximumLength
        ) {
            self.init(
                endpoint: .inet(host: host, port: port), idleTimeout: idleTimeout, maximumConnections: maximumConnections,
                maximumLength: maximumLength)
        }
    }

    /// What the server has done so far.
    package struct Statistics: Sendable, Equatable {
        package var connections = 0
        package var refusedConnections = 0
        package var idleClosed = 0
        package var malformed = 0
        package var requests = 0
    }

    private let channel: any Channel
    private let state: SharedState
    private let socketFile: SocketFile?
    package let endpoint: SocketmapEndpoint

    /// The address the server listens on (the real port when 0 was asked).
    package var localAddress: SocketAddress? { channel.localAddress }

    private init(channel: any Channel, state: SharedState, endpoint: SocketmapEndpoint, socketFile: SocketFile?) {
        self.channel = channel
        self.state = state
        self.endpoint = endpoint
        self.socketFile = socketFile
    }

    /// How many connections are open now.
    package var openConnections: Int { state.open.withLockedValue { $0.count } }

    /// Counters since the start.
    package var statistics: Statistics {
        var statistics = state.counters.withLockedValue { $0 }
        statistics.requests = state.requests.load(ordering: .relaxed)
        return statistics
    }

    /// Binds and starts serving on `group`, one responder for all connections.
    package static func start<Responder: SocketmapResponder & Sendable>(
        configuration: Configuration, responder: Responder, group: any EventLoopGroup, logger: Logger = Logger(label: "socketmap", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> SocketmapServer {
        try await start(configuration: configuration, group: group, logger: logger) { _ in responder }
    }

    /// Binds and starts serving on `group`; `makeResponder` gives each connection the responder
    /// of its event loop (one per loop lets each keep its own database connection).
    package static func start<Responder: SocketmapResponder>(
        configuration: Configuration, group: any EventLoopGroup, logger: Logger = Logger(label: "socketmap", factory: { _ in SwiftLogNoOpLogHandler() }),
        makeResponder: @escaping @Sendable (any EventLoop) -> Responder
    ) async throws -> SocketmapServer {
        let state = SharedState()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { child in
                let peer = child.remoteAddress.map(Self.describe) ?? "unix"
                let admitted = state.open.withLockedValue { open -> Bool in
                    guard open.count < configuration.maximumConnections else { return false }
                    open[ObjectIdentifier(child)] = child
                    return true
                }
                guard admitted else {
                    state.counters.withLockedValue { $0.refusedConnections += 1 }
                    logger.warning("connection refused: limit reached", metadata: ["peer": "\(peer)", "limit": "\(configuration.maximumConnections)"])
                    return child.close()
                }
                state.counters.withLockedValue { $0.connections += 1 }
                logger.info("connection opened", metadata: ["peer": "\(peer)"])
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandlers([
                        IdleStateHandler(allTimeout: configuration.idleTimeout),
                        ByteToMessageHandler(NetstringDecoder(maximumLength: configuration.maximumLength)),
                        SocketmapConnectionHandler(
                            responder: makeResponder(child.eventLoop), maximumLength: configuration.maximumLength, peer: peer,
                            state: state, logger: logger),
                    ])
                }
            }
        let channel: any Channel
        var socketFile: SocketFile?
        do {
            switch configuration.endpoint {
            case .inet(let host, let port):
                channel = try await bootstrap.bind(host: host, port: port).get()
            case .unix(let path):
                // A socket file another server still answers on is not ours to take over; one
                // nobody answers on is left by a server that died, and is replaced.
                if Self.someoneListens(onUnixSocket: path) {
                    throw SocketmapServerError(endpoint: configuration.endpoint, reason: "another server is listening on this socket")
                }
                // The socket file takes the umask's mode at bind: narrow it for the bind alone,
                // so the file never exists with wider permissions than asked.
                let previous = umask(~configuration.unixSocketMode & 0o777)
                defer { umask(previous) }
                channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
                socketFile = SocketFile(path: path)
            }
        } catch let error as IOError {
            throw SocketmapServerError(endpoint: configuration.endpoint, reason: String(cString: strerror(error.errnoCode)))
        } catch let error as SocketmapServerError {
            throw error
        } catch {
            throw SocketmapServerError(endpoint: configuration.endpoint, reason: "\(error)")
        }
        var endpoint = configuration.endpoint
        if case .inet(let host, _) = endpoint, let port = channel.localAddress?.port { endpoint = .inet(host: host, port: port) }
        return SocketmapServer(channel: channel, state: state, endpoint: endpoint, socketFile: socketFile)
    }

    /// Whether a server accepts connections on the unix socket at `path` now.
    private static func someoneListens(onUnixSocket path: String) -> Bool {
        var status = stat()
        guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFSOCK else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            let bytes = Array(path.utf8.prefix(buffer.count - 1))
            buffer.copyBytes(from: bytes)
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return connected == 0
    }

    /// Stops accepting, then closes every connection (each has at most a partial request:
    /// replies are written as requests arrive), and removes a unix socket file.
    package func close() async throws {
        try await channel.close()
        let open = state.open.withLockedValue { Array($0.values) }
        for connection in open {
            try? await connection.close()
        }
        socketFile?.removeIfStillOurs()
    }

    fileprivate static func describe(_ address: SocketAddress) -> String {
        if let ip = address.ipAddress, let port = address.port { return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)" }
        return "unix"
    }
}

/// The unix socket file a server created, known by device and inode so that closing removes
/// it only if no other server has replaced it since.
struct SocketFile: Sendable {
    let path: String
    let identity: (device: UInt64, inode: UInt64)?

    init(path: String) {
        self.path = path
        var status = stat()
        identity = lstat(path, &status) == 0 ? (UInt64(status.st_dev), UInt64(status.st_ino)) : nil
    }

    func removeIfStillOurs() {
        var status = stat()
        guard let identity, lstat(path, &status) == 0, UInt64(status.st_dev) == identity.device, UInt64(status.st_ino) == identity.inode
        else { return }
        unlink(path)
    }
}

/// Why a server could not start listening.
package struct SocketmapServerError: Error, CustomStringConvertible {
    package let endpoint: SocketmapEndpoint
    package let reason: String
    package var description: String { "cannot listen on \(endpoint): \(reason)" }
}

/// State every connection of one server shares.
final class SharedState: Sendable {
    let open = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    let counters = NIOLockedValueBox(SocketmapServer.Statistics())
    /// Counted apart: it is the one counter touched per request.
    let requests = Atomic<Int>(0)
}

/// One connection: a request in, a reply out; PERM and close on anything malformed.
final class SocketmapConnectionHandler<Responder: SocketmapResponder>: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let responder: Responder
    private let maximumLength: Int
    private let peer: String
    private let state: SharedState
    private let logger: Logger
    private var requests = 0
    private var closeReason = "closed by the client"
    /// Set once a PERM is on its way: frames already decoded behind the bad one are dropped.
    private var refused = false

    init(responder: Responder, maximumLength: Int, peer: String, state: SharedState, logger: Logger) {
        self.responder = responder
        self.maximumLength = maximumLength
        self.peer = peer
        self.state = state
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        let payload = unwrapInboundIn(data)
        guard let request = SocketmapRequest(payload: payload) else {
            refuse(context: context, "malformed request: expected 'name key'")
            return
        }
        requests += 1
        state.requests.add(1, ordering: .relaxed)
        let reply = responder.reply(to: request)
        context.writeAndFlush(wrapOutboundOut(reply.netstring(maximumLength: maximumLength)), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        _ = state.open.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(context.channel)) }
        logger.info("connection closed", metadata: ["peer": "\(peer)", "requests": "\(requests)", "reason": "\(closeReason)"])
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NetstringError {
            refuse(context: context, error.description)
        } else {
            closeReason = "error: \(error)"
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            closeReason = "idle"
            state.counters.withLockedValue { $0.idleClosed += 1 }
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func refuse(context: ChannelHandlerContext, _ reason: String) {
        guard !refused else { return }
        refused = true
        closeReason = "malformed input: \(reason)"
        state.counters.withLockedValue { $0.malformed += 1 }
        // Close once the PERM is written; the callback runs on this channel's event loop.
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(SocketmapReply.permanentFailure(reason).netstring()))
            .whenComplete { _ in loopBound.value.close(promise: nil) }
    }
}

extension SocketmapEndpoint {
    /// Parses `127.0.0.1:9025`, `[::1]:9025`, `localhost:9025`, `inet:HOST:PORT` (Postfix's
    /// spelling) or `unix:/path`. Hosts are IP addresses (no name lookups), or `localhost`.
    package init(parsing text: String) throws(EndpointError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/") else { throw EndpointError(text, "a unix socket path must be absolute") }
            guard path.utf8.count < 108 else { throw EndpointError(text, "a unix socket path must be shorter than 108 bytes") }
            self = .unix(path: path)
            return
        }
        var rest = Substring(text)
        if rest.hasPrefix("inet:") { rest = rest.dropFirst(5) }
        guard let colon = rest.lastIndex(of: ":") else { throw EndpointError(text, "expected HOST:PORT or unix:PATH") }
        var host = rest[..<colon]
        let portText = rest[rest.index(after: colon)...]
        guard let port = Int(portText), (1...65535).contains(port), portText.allSatisfy(\.isNumber), !portText.hasPrefix("0") else {
            throw EndpointError(text, "the port must be a number from 1 to 65535")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if host == "localhost" { host = "127.0.0.1" }
        guard (try? SocketAddress(ipAddress: String(host), port: port)) != nil else {
            throw EndpointError(text, "the host must be an IP address such as 127.0.0.1 or [::1]")
        }
        self = .inet(host: String(host), port: port)
    }

    /// Only this machine can connect: a unix socket, 127.0.0.0/8 or ::1.
    package var isLoopback: Bool {
        switch self {
        case .unix: return true
        case .inet(let host, _):
            var v6 = in6_addr()
            if inet_pton(AF_INET6, host, &v6) == 1 {
                // ::1 in any of its spellings (0:0:0:0:0:0:0:1 too).
                return withUnsafeBytes(of: &v6) { $0.elementsEqual([UInt8](repeating: 0, count: 15) + [1]) }
            }
            var v4 = in_addr()
            guard inet_pton(AF_INET, host, &v4) == 1 else { return false }
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
    }
}

/// Why a listen address was refused.
package struct EndpointError: Error, CustomStringConvertible {
    package let text: String
    package let reason: String
    init(_ text: String, _ reason: String) {
        self.text = text
        self.reason = reason
    }
    package var description: String { "listen address '\(text)': \(reason)" }
}
