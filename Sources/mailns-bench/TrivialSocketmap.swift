// `mailns-bench trivial-socketmap [--listen 127.0.0.1:PORT | unix:PATH] [--threads N]`: the
// loopback floor for `mailns serve`. The same SocketmapServer (same pipeline: idle handler,
// netstring decoder, connection handler; as many event loops as serve), with a responder that
// looks nothing up: `OK x` for a key with an `@`, `NOTFOUND ` otherwise. Logs
// `listening on inet:HOST:PORT` on stderr once bound, runs until SIGTERM or SIGINT.
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import Socketmap

struct TrivialResponder: SocketmapResponder {
    func reply(to request: SocketmapRequest) -> SocketmapReply {
        request.key.contains(UInt8(ascii: "@")) ? .found("x") : .notFound
    }
}

func runTrivialSocketmap(_ arguments: ArraySlice<String>) async throws {
    let options = options(arguments, allowed: ["--listen", "--threads"])
    let endpoint: SocketmapEndpoint
    do {
        endpoint = try SocketmapEndpoint(parsing: options["--listen"] ?? "127.0.0.1:9026")
    } catch {
        fail("\(error)")
    }
    // As many event loops as `mailns serve` runs (MapService: System.coreCount).
    let threads = options["--threads"].map { Int($0) ?? 0 } ?? System.coreCount
    guard threads > 0 else { usage() }

    var logger = Logger(label: "mailns-bench.trivial-socketmap") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = .warning
    let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    let server = try await SocketmapServer.start(
        configuration: .init(endpoint: endpoint), responder: TrivialResponder(), group: group, logger: logger)
    FileHandle.standardError.write(Data("mailns-bench trivial-socketmap: listening on \(server.endpoint) (\(threads) threads)\n".utf8))

    let signal = await terminationSignal()
    FileHandle.standardError.write(Data("mailns-bench trivial-socketmap: signal \(signal), stopping\n".utf8))
    try await server.close()
    try await group.shutdownGracefully()
}

/// Waits for SIGTERM or SIGINT, and returns which.
func terminationSignal() async -> Int32 {
    final class Watch: @unchecked Sendable {  // touched only on `queue`
        var sources: [any DispatchSourceSignal] = []
        var resumed = false
    }
    return await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
        let queue = DispatchQueue(label: "mailns-bench.signals")
        let watch = Watch()
        queue.sync {
            for number in [SIGTERM, SIGINT] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler {
                    guard !watch.resumed else { return }
                    watch.resumed = true
                    continuation.resume(returning: number)
                }
                source.resume()
                watch.sources.append(source)
            }
        }
    }
}
