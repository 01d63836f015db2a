import Logging
import MailCore
import MailRouting
import MailStore
import NIOCore
import NIOPosix
import ServiceLifecycle
import Socketmap
import Synchronization

/// `mailns serve`: the Postfix tables of `PostfixMap`, answered over socketmap from the live
/// directory.
///
/// ## Connections to the directory
/// One SQLite connection per event loop, so lookups on different loops never wait for each
/// other. Each reads through SQLite's page cache (a few MB), not a memory map: a map of a
/// million-recipient directory would count as this long-lived process's resident memory.
/// Lookups share a read transaction while nobody commits (`holdReadsBetweenLookups`), ended
/// every 50 ms by a task on the loop.
///
/// ## Failures
/// A lookup that fails (the file locked past `busyTimeout`, an I/O error) answers `TEMP`:
/// Postfix then replies 451 4.3.0 and the sender retries. Never `NOTFOUND`, which would be a
/// 5xx bounce for a recipient that may well exist.
///
/// ## Shutdown
/// On graceful shutdown (SIGTERM/SIGINT through ServiceLifecycle) it stops accepting, closes
/// the connections (Postfix reconnects to the next instance) and logs a summary.
package final class MapService: Service {
    package struct Configuration: Sendable {
        package var server: SocketmapServer.Configuration
        /// Overrides the directory's delivery-transport setting.
        package var deliveryOverride: DeliveryTransport?
        /// Log every lookup and its answer.
        package var isVerbose: Bool
        /// How often a counter summary is logged while serving (also at shutdown).
        package var summaryInterval: Duration
        package var busyTimeoutMilliseconds: Int32
        package var cacheKibibytesPerConnection: Int
        package var threads: Int

        package init(
            server: SocketmapServer.Configuration, deliveryOverride: DeliveryTransport? = nil, isVerbose: Bool = false,
            summaryInterval: Duration = .seconds(300), busyTimeoutMilliseconds: Int32 = 200, cacheKibibytesPerConnection: Int = 8192,
            threads: Int = System.coreCount
        ) {
            self.server = server
            self.deliveryOverride = deliveryOverride
            self.isVerbose = isVerbose
            self.summaryInterval = summaryInterval
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
            self.cacheKibibytesPerConnection = cacheKibibytesPerConnection
            self.threads = threads
        }
    }

    /// How long a lookup read transaction may stay open at most.
    private static let heldReadRelease = TimeAmount.milliseconds(50)

    private let path: String
    private let configuration: Configuration
    private let logger: Logger
    private let onListening: @Sendable (SocketmapEndpoint) -> Void
    package let answers = AnswerCounters()

    /// Serves the directory at `path`, which must exist. `onListening` is called once bound.
    package init(
        path: String, configuration: Configuration, logger: Logger, onListening: @escaping @Sendable (SocketmapEndpoint) -> Void = { _ in }
    ) {
        self.path = path
        self.configuration = configuration
        self.logger = logger
        self.onListening = onListening
    }

    package func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        do {
            try await serve(on: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    private func serve(on group: MultiThreadedEventLoopGroup) async throws {
        // One router (one connection) per event loop, opened before binding so a bad file
        // fails the start, not the first lookup.
        var routers: [ObjectIdentifier: Router] = [:]
        for loop in group.makeIterator() {
            let directory = try DirectoryStore(path: path)
            try directory.configureForLookups(
                busyTimeoutMilliseconds: configuration.busyTimeoutMilliseconds, cacheKibibytes: configuration.cacheKibibytesPerConnection)
            try directory.holdReadsBetweenLookups()
            routers[ObjectIdentifier(loop)] = try Router(directory: directory, memoryMapped: false, deliveryOverride: configuration.deliveryOverride)
            // Lookups share a read transaction while nothing changes; end it now and then so
            // an idle server never holds back the writers' checkpoints for long.
            loop.scheduleRepeatedTask(initialDelay: Self.heldReadRelease, delay: Self.heldReadRelease) { _ in
                try? directory.releaseHeldRead()
            }
        }
        let table = routers
        let logger = logger
        let verbose = configuration.isVerbose
        let answers = answers
        let server = try await SocketmapServer.start(configuration: configuration.server, group: group, logger: logger) { loop in
            guard let router = table[ObjectIdentifier(loop)] else { preconditionFailure("no router for an event loop of our own group") }
            return PostfixMapResponder(router: router, logger: logger, isVerbose: verbose, answers: answers)
        }
        logger.info("listening on \(server.endpoint)", metadata: ["database": "\(path)", "maps": "\(PostfixMap.names(separator: ","))"])
        onListening(server.endpoint)

        // Summaries until shutdown is asked for; then stop accepting and close.
        let interval = configuration.summaryInterval
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                self.logSummary(server, final: false)
            }
        }
        logger.info("shutting down", metadata: ["open-connections": "\(server.openConnections)"])
        try await server.close()
        logSummary(server, final: true)
    }

    private func logSummary(_ server: SocketmapServer, final: Bool) {
        let statistics = server.statistics
        let counts = answers.snapshot()
        logger.info(
            final ? "summary at exit" : "summary",
            metadata: [
                "connections": "\(statistics.connections)", "refused": "\(statistics.refusedConnections)",
                "idle-closed": "\(statistics.idleClosed)", "malformed": "\(statistics.malformed)", "requests": "\(statistics.requests)",
                "ok": "\(counts.found)", "notfound": "\(counts.notFound)", "temp": "\(counts.temporary)", "perm": "\(counts.permanent)",
            ])
    }
}

/// Replies by kind, for the summary.
package final class AnswerCounters: Sendable {
    package struct Snapshot: Sendable, Equatable {
        package var found = 0, notFound = 0, temporary = 0, permanent = 0
    }

    private let found = Atomic<Int>(0)
    private let notFound = Atomic<Int>(0)
    private let temporary = Atomic<Int>(0)
    private let permanent = Atomic<Int>(0)

    package init() {}

    func count(_ reply: SocketmapReply) {
        switch reply {
        case .found: found.add(1, ordering: .relaxed)
        case .notFound: notFound.add(1, ordering: .relaxed)
        case .temporaryFailure, .timeout: temporary.add(1, ordering: .relaxed)
        case .permanentFailure: permanent.add(1, ordering: .relaxed)
        }
    }

    package func snapshot() -> Snapshot {
        Snapshot(
            found: found.load(ordering: .relaxed), notFound: notFound.load(ordering: .relaxed), temporary: temporary.load(ordering: .relaxed),
            permanent: permanent.load(ordering: .relaxed))
    }
}

/// Answers one socketmap request from a router: map name → `PostfixMap`, key → its answer.
package struct PostfixMapResponder: SocketmapResponder {
    let router: Router
    let logger: Logger
    let isVerbose: Bool
    let answers: AnswerCounters

    package init(router: Router, logger: Logger, isVerbose: Bool = false, answers: AnswerCounters = AnswerCounters()) {
        self.router = router
        self.logger = logger
        self.isVerbose = isVerbose
        self.answers = answers
    }

    package func reply(to request: SocketmapRequest) -> SocketmapReply {
        let reply = answer(request)
        answers.count(reply)
        if isVerbose {
            // Quoted and escaped: a key is client input, and a newline in it must not make a log line.
            logger.info("lookup", metadata: ["map": "\(request.map.debugDescription)", "key": "\(request.keyText?.debugDescription ?? "<not UTF-8>")", "reply": "\(reply.text.debugDescription)"])
        }
        return reply
    }

    private func answer(_ request: SocketmapRequest) -> SocketmapReply {
        guard let map = PostfixMap(rawValue: request.map) else {
            // A configuration error on the Postfix side: PERM makes Postfix log it and defer.
            return .permanentFailure("unknown map name '\(request.map)' (mailns serve answers \(PostfixMap.names()))")
        }
        // Nothing of ours is named by bytes that are not UTF-8.
        guard let key = request.keyText else { return .notFound }
        do {
            return try router.answer(map, key).map(SocketmapReply.found) ?? .notFound
        } catch {
            logger.warning("lookup failed, answered TEMP", metadata: ["map": "\(request.map)", "error": "\(error)"])
            return .temporaryFailure("directory unavailable, try again later")
        }
    }
}
