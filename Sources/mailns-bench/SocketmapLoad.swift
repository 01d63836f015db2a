// `mailns-bench socketmap-load --connect 127.0.0.1:PORT --map NAME --keys FILE --connections N
//  [--requests TOTAL] [--seconds MAX]`: a socketmap load client.
//
// N persistent connections, each on its own thread with blocking sockets and one request in
// flight at a time, as each Postfix process has: send `len:NAME KEY,`, read the whole reply
// netstring, next key. Connection c takes keys c, c+N, c+2N, … round-robin over the file (wrapping),
// and stops after its share of TOTAL requests (default 200,000) or MAX seconds (default 10),
// whichever comes first. Connections are opened before the clock starts.
//
// Prints one line of JSON: connections, requests, seconds, lookupsPerSecond, p50us, p99us,
// p999us, replies by kind (OK, NOTFOUND, TEMP, TIMEOUT, PERM, other) and errors (connections
// that failed or were closed by the server before their share was done).
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private enum ReplyKind: Int, CaseIterable {
    case ok, notFound, temp, timeout, perm, other
    var name: String {
        switch self {
        case .ok: "OK"
        case .notFound: "NOTFOUND"
        case .temp: "TEMP"
        case .timeout: "TIMEOUT"
        case .perm: "PERM"
        case .other: "other"
        }
    }

    init(payload: UnsafeRawBufferPointer) {
        func starts(_ prefix: String) -> Bool {
            let p = Array(prefix.utf8)
            return payload.count >= p.count && zip(payload, p).allSatisfy { $0 == $1 }
        }
        self = starts("OK ") ? .ok : starts("NOTFOUND ") ? .notFound : starts("TEMP ") ? .temp
            : starts("TIMEOUT ") ? .timeout : starts("PERM ") ? .perm : .other
    }
}

/// What one connection did; written by its thread only, read after it has finished.
private final class ConnectionResult: @unchecked Sendable {
    var latencies: [UInt64] = []
    var replies = [Int](repeating: 0, count: ReplyKind.allCases.count)
    var error: String?
}

func runSocketmapLoad(_ arguments: ArraySlice<String>) throws {
    let options = options(arguments, allowed: ["--connect", "--map", "--keys", "--connections", "--requests", "--seconds"])
    guard let connect = options["--connect"], let map = options["--map"], let keysPath = options["--keys"],
        let connections = options["--connections"].flatMap({ Int($0) }), connections > 0
    else { usage() }
    let (host, port) = hostAndPort(connect)
    guard let total = Int(options["--requests"] ?? "200000"), total > 0,
        let maxSeconds = Double(options["--seconds"] ?? "10"), maxSeconds > 0
    else { usage() }

    // Every request framed once, up front: the client's own work per request is a send and a recv.
    let keys = try String(contentsOfFile: keysPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true)
    guard !keys.isEmpty else { fail("no keys in \(keysPath)") }
    let requests: [[UInt8]] = keys.map { key in
        let payload = Array("\(map) \(key)".utf8)
        return Array("\(payload.count):".utf8) + payload + [UInt8(ascii: ",")]
    }

    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { fail("not an IPv4 address: \(host)") }

    let results = (0..<connections).map { _ in ConnectionResult() }
    let ready = DispatchSemaphore(value: 0)
    let go = DispatchSemaphore(value: 0)
    let done = DispatchGroup()
    let start = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)  // written before `go`, read after
    start.initialize(to: 0)
    defer { start.deallocate() }
    nonisolated(unsafe) let startTime = start
    let deadlineNanoseconds = UInt64(maxSeconds * 1e9)

    for c in 0..<connections {
        let share = total / connections + (c < total % connections ? 1 : 0)
        let result = results[c]
        let peer = address
        done.enter()
        let thread = Thread {
            defer { done.leave() }
            let fd = openConnection(to: peer)
            ready.signal()
            go.wait()
            guard fd >= 0 else {
                result.error = "connect: \(String(cString: strerror(-fd)))"
                return
            }
            defer { close(fd) }
            result.latencies.reserveCapacity(share)
            let deadline = startTime.pointee + deadlineNanoseconds
            var reader = NetstringReader()
            var index = c % requests.count
            for _ in 0..<share {
                let t0 = nanoseconds()
                if t0 >= deadline { break }
                let request = requests[index]
                index = (index + connections) % requests.count
                if let error = request.withUnsafeBytes({ sendAll(fd, $0) }) {
                    result.error = error
                    return
                }
                do {
                    let kind = try reader.next(fd)
                    result.latencies.append(nanoseconds() - t0)
                    result.replies[kind.rawValue] += 1
                } catch {
                    result.error = "\(error)"
                    return
                }
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    for _ in 0..<connections { ready.wait() }
    start.pointee = nanoseconds()
    for _ in 0..<connections { go.signal() }
    done.wait()
    let seconds = Double(nanoseconds() - start.pointee) / 1e9

    var latencies = results.flatMap(\.latencies)
    latencies.sort()
    let count = latencies.count
    let percentile = { (p: Double) -> Double in
        count == 0 ? 0 : (Double(latencies[min(count - 1, Int(Double(count) * p))]) / 1000 * 10).rounded() / 10
    }
    var replies: [String: Int] = [:]
    for kind in ReplyKind.allCases { replies[kind.name] = results.reduce(0) { $0 + $1.replies[kind.rawValue] } }
    let errors = results.compactMap(\.error)
    var output: [String: Any] = [
        "map": map, "connections": connections, "requests": count,
        "seconds": (seconds * 1000).rounded() / 1000,
        "lookupsPerSecond": Int(Double(count) / seconds),
        "p50us": percentile(0.50), "p99us": percentile(0.99), "p999us": percentile(0.999),
        "maxus": percentile(1.0), "replies": replies, "errors": errors.count,
    ]
    if let first = errors.first { output["firstError"] = first }
    let data = try JSONSerialization.data(withJSONObject: output, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
    if !errors.isEmpty { exit(1) }
}

/// A connected TCP socket with TCP_NODELAY, or -errno.
private func openConnection(to address: sockaddr_in) -> Int32 {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { return -errno }
    var one: Int32 = 1
    _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    var peer = address
    let status = withUnsafePointer(to: &peer) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard status == 0 else {
        let code = errno
        close(fd)
        return -code
    }
    return fd
}

/// Writes all of `bytes`; an error message, or nil.
private func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> String? {
    var offset = 0
    while offset < bytes.count {
        #if canImport(Glibc)
        let n = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
        #else
        let n = send(fd, bytes.baseAddress! + offset, bytes.count - offset, 0)
        #endif
        if n < 0 {
            if errno == EINTR { continue }
            return "send: \(String(cString: strerror(errno)))"
        }
        offset += n
    }
    return nil
}

private struct ReadError: Error, CustomStringConvertible {
    var description: String
}

/// Reads reply netstrings off a blocking socket through one buffer.
private struct NetstringReader {
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0
    private var end = 0

    /// The next reply's kind. Throws on EOF, a socket error or a malformed frame.
    mutating func next(_ fd: Int32) throws -> ReplyKind {
        while true {
            if let kind = try frame() { return kind }
            if start > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            }
            guard end < buffer.count else { throw ReadError(description: "reply longer than \(buffer.count) bytes") }
            let n = buffer.withUnsafeMutableBytes { raw in recv(fd, raw.baseAddress! + end, raw.count - end, 0) }
            if n == 0 { throw ReadError(description: "connection closed by the server") }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(description: "recv: \(String(cString: strerror(errno)))")
            }
            end += n
        }
    }

    /// One whole frame off the buffer, or nil when it has not all arrived.
    private mutating func frame() throws -> ReplyKind? {
        var index = start
        var length = 0
        while index < end {
            let byte = buffer[index]
            if byte == UInt8(ascii: ":") { break }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), index - start < 6 else {
                throw ReadError(description: "malformed reply netstring")
            }
            length = length * 10 + Int(byte - UInt8(ascii: "0"))
            index += 1
        }
        guard index < end, index > start else { return nil }
        let payload = index + 1
        guard end - payload >= length + 1 else { return nil }
        guard buffer[payload + length] == UInt8(ascii: ",") else { throw ReadError(description: "reply netstring without ','") }
        let kind = buffer.withUnsafeBytes { ReplyKind(payload: UnsafeRawBufferPointer(rebasing: $0[payload..<(payload + length)])) }
        start = payload + length + 1
        return kind
    }
}
