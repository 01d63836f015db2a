import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Logging
import NIOCore
import MailCore
import MailNamespace
import MailRouting
import MailStore
import ServiceLifecycle
import Socketmap
import Synchronization

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Answer Postfix's table lookups over socketmap from the live directory.",
        discussion: """
            Maps: \(PostfixMap.names()). `mailns postfix-config` prints the main.cf lines that use them.
            Changes made by other mailns commands are seen by the next lookup. SIGTERM or SIGINT stops
            serving and exits 0. A lookup the directory cannot answer now gets TEMP (Postfix: 451 4.3.0).
            """)

    @OptionGroup var store: StoreOptions

    @Option(help: ArgumentHelp("Where to listen: HOST:PORT (an IP address) or unix:PATH.", valueName: "address"))
    var listen = ServeDefaults.listen

    @Flag(help: "Allow a listen address other than loopback (the protocol has no authentication).")
    var allowRemote = false

    @Option(help: ArgumentHelp("Close a connection idle this long.", valueName: "seconds"))
    var idleTimeout = 60

    @Option(help: ArgumentHelp("Refuse connections beyond this many.", valueName: "count"))
    var maxConnections = 1024

    @Option(help: ArgumentHelp("Override the delivery-transport setting: virtual or lmtp:HOST:PORT.", valueName: "transport"))
    var delivery: String?

    @Option(help: ArgumentHelp("Log a counter summary this often while serving.", valueName: "seconds"))
    var summaryInterval = 300

    @Flag(help: "Log every lookup and its answer.")
    var verbose = false

    @Option(help: ArgumentHelp("Event loop threads, each with its own database connection (default: one per CPU).", valueName: "count"))
    var threads = min(System.coreCount, 64)

    func validate() throws {
        guard idleTimeout >= 1, idleTimeout <= 86_400 else { throw ValidationError("--idle-timeout must be from 1 to 86400 seconds") }
        guard maxConnections >= 1, maxConnections <= 65_536 else { throw ValidationError("--max-connections must be from 1 to 65536") }
        guard summaryInterval >= 1 else { throw ValidationError("--summary-interval must be at least 1 second") }
        guard threads >= 1, threads <= 64 else { throw ValidationError("--threads must be from 1 to 64") }
    }

    func run() throws {
        let endpoint = try ServeDefaults.endpoint(listen)
        guard endpoint.isLoopback || allowRemote else {
            throw ValidationError("--listen \(listen) is not a loopback address; the socketmap protocol has no authentication, so add --allow-remote if every host that can reach it may read the directory")
        }
        let deliveryOverride: DeliveryTransport?
        do {
            deliveryOverride = try delivery.map { try DeliveryTransport(parsing: $0) }
        } catch {
            throw ValidationError("--delivery: \(error)")
        }
        try Self.allowOpenFiles(for: maxConnections, threads: threads)
        let path = store.resolvedPath
        // Serving an empty, just-created file would reject every recipient: require a directory.
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.cannotOpen(path: path, reason: "no such file (create the directory with `mailns init` first)")
        }
        // Opening migrates, once, before the per-loop connections open.
        _ = try store.open()

        var logger = Logger(label: "mailns.serve") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .info
        let service = MapService(
            path: path,
            configuration: .init(
                server: .init(endpoint: endpoint, idleTimeout: .seconds(Int64(idleTimeout)), maximumConnections: maxConnections),
                deliveryOverride: deliveryOverride, isVerbose: verbose, summaryInterval: .seconds(summaryInterval), threads: threads),
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))

        // ArgumentParser runs this synchronously; the service is async. Wait here for it.
        let outcome = Mutex<(any Error)??>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await group.run()
                outcome.withLock { $0 = .some(nil) }
            } catch {
                outcome.withLock { $0 = .some(error) }
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.withLock({ $0 }) ?? nil {
            if error is StoreError { throw error }
            throw ServeError.failed(error)
        }
    }
}

extension ServeCommand {
    /// Each connection is a file descriptor: raise the soft limit towards the hard one so that
    /// `--max-connections` is what refuses connections, not a failing accept(2).
    static func allowOpenFiles(for connections: Int, threads: Int) throws {
        // Each event loop holds its epoll and wake-up descriptors and a database connection
        // with its -wal and -shm (about 8 a loop); then stdio and the listening socket.
        let needed = rlim_t(connections + 8 * threads + 64)
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < needed else { return }
        if limit.rlim_max >= needed {
            limit.rlim_cur = needed
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 { return }
        }
        throw ValidationError(
            "--max-connections \(connections) needs \(needed) open files, and the limit is \(limit.rlim_max); lower --max-connections or raise the limit (ulimit -n)")
    }
}

enum ServeDefaults {
    static let listen = "127.0.0.1:9025"

    /// `--listen` as an endpoint; a bad one is a usage error naming it.
    static func endpoint(_ listen: String) throws -> SocketmapEndpoint {
        do {
            return try SocketmapEndpoint(parsing: listen)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// `mailns serve` could not start or stopped on an error.
enum ServeError: Error, CustomStringConvertible {
    case failed(any Error)
    var description: String {
        switch self {
        case .failed(let error): "serve: \(error)"
        }
    }
}
