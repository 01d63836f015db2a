import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Answers socketmap requests; the server knows nothing of what the maps mean.
package protocol SocketmapResponder: Sendable {
    /// The reply to one request. Called on the connection's event loop: it must be quick
    /// (a directory lookup), never wait for long.
    func reply(to request: SocketmapRequest) -> SocketmapReply
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
/// The protocol has no authentication: bind loopback unless told otherwise (the caller decides).
package final class SocketmapServer: Sendable {
    package struct Configuration: Sendable {
        package var host: String
        package var port: Int
        package var idleTimeout: TimeAmount
        package var maximumConnections: Int
        package var maximumLength: Int

        package init(
            host: String = "127.0.0.1", port: Int = 0, idleTimeout: TimeAmount = .seconds(60), maximumConnections: Int = 1024,
            maximumLength: Int = NetstringDecoder.defaultMaximumLength
        ) {
            self.host = host
            self.port = port
            self.idleTimeout = idleTimeout
            self.maximumConnections = maximumConnections
            self.maximumLength = maximumLength
        }
    }

    private let channel: any Channel
    private let connections: NIOLockedValueBox<Int>

    /// The address the server listens on (the real port when 0 was asked).
    package var localAddress: SocketAddress? { channel.localAddress }

    private init(channel: any Channel, connections: NIOLockedValueBox<Int>) {
        self.channel = channel
        self.connections = connections
    }

    /// How many connections are open now.
    package var openConnections: Int { connections.withLockedValue { $0 } }

    /// Binds and starts serving on `group`.
    package static func start(
        configuration: Configuration, responder: some SocketmapResponder, group: any EventLoopGroup
    ) async throws -> SocketmapServer {
        let connections = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                let admitted = connections.withLockedValue { count -> Bool in
                    guard count < configuration.maximumConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else { return child.close() }
                child.closeFuture.whenComplete { _ in connections.withLockedValue { $0 -= 1 } }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandlers([
                        IdleStateHandler(allTimeout: configuration.idleTimeout),
                        ByteToMessageHandler(NetstringDecoder(maximumLength: configuration.maximumLength)),
                        SocketmapConnectionHandler(responder: responder, maximumLength: configuration.maximumLength),
                    ])
                }
            }
            .bind(host: configuration.host, port: configuration.port).get()
        return SocketmapServer(channel: channel, connections: connections)
    }

    /// Stops accepting connections; open connections end when their clients close or idle out.
    package func close() async throws {
        try await channel.close()
    }
}

/// One connection: a request in, a reply out; PERM and close on anything malformed.
final class SocketmapConnectionHandler<Responder: SocketmapResponder>: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let responder: Responder
    private let maximumLength: Int

    init(responder: Responder, maximumLength: Int) {
        self.responder = responder
        self.maximumLength = maximumLength
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        guard let request = SocketmapRequest(payload: payload) else {
            refuse(context: context, "malformed request: expected 'name key'")
            return
        }
        let reply = responder.reply(to: request)
        context.writeAndFlush(wrapOutboundOut(reply.netstring(maximumLength: maximumLength)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NetstringError {
            refuse(context: context, error.description)
        } else {
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func refuse(context: ChannelHandlerContext, _ reason: String) {
        context.writeAndFlush(wrapOutboundOut(SocketmapReply.permanentFailure(reason).netstring()))
            .whenComplete { _ in context.close(promise: nil) }
    }
}
