import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `mailns serve` (or any long-running `mailns`) running in the background: stderr collected
/// as it comes, stopped by PID. Always `stop()` it in a `defer`.
final class BackgroundMailNS: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var collected = Data()
    private let errPipe = Pipe()

    /// Starts `mailns ARGUMENTS…` in the sandbox (exactly those arguments).
    init(_ sandbox: Sandbox, _ arguments: [String]) throws {
        process.executableURL = try MailNSRunner.binaryURL()
        process.arguments = arguments
        process.currentDirectoryURL = sandbox.directory
        process.environment = Sandbox.environment([:])
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errPipe
        try ChildExit.run(process)
        // A thread of its own reads stderr with read(2) until EOF. (FileHandle's
        // readabilityHandler traps when a read fails, e.g. EINTR, which crashed whole runs.)
        let handle = errPipe.fileHandleForReading
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                lock.lock()
                collected.append(contentsOf: buffer[0..<n])
                lock.unlock()
            }
        }
        thread.start()
    }

    deinit { stop() }

    var pid: Int32 { process.processIdentifier }

    /// Everything written to stderr so far.
    var stderr: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self)
    }

    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }

    /// Waits (polling, off the cooperative pool's back: a short sleep each turn) for a stderr
    /// line containing `fragment`; the line, or nil when the process exited or time ran out.
    /// The limit is generous: on a loaded two-core machine, with every suite of the test
    /// binary running, this task may not be resumed for many seconds.
    func waitForLine(containing fragment: String, timeout: TimeInterval = 90) async -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = stderrLines.first(where: { $0.contains(fragment) }) { return line }
            if !process.isRunning {
                // Read what is left after exit.
                try? await Task.sleep(for: .milliseconds(100))
                return stderrLines.first(where: { $0.contains(fragment) })
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return stderrLines.first(where: { $0.contains(fragment) })
    }

    /// Sends `signal` to the process (by PID, never by name).
    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the process to exit; its status (128 + signal when killed by one), or nil
    /// when it is still running after `timeout`.
    func waitForExit(timeout: TimeInterval = 60) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        var status = ChildExit.status(of: process)
        while status == nil, Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            status = ChildExit.status(of: process)
        }
        guard let status else { return nil }
        // Let the stderr reader drain the pipe.
        try? await Task.sleep(for: .milliseconds(100))
        return status
    }

    /// Kills the process if it still runs (SIGKILL, by PID) and reaps it. Safe to call twice.
    func stop() {
        guard ChildExit.status(of: process) == nil else { return }
        kill(process.processIdentifier, SIGKILL)
        _ = ChildExit.wait(for: process)
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw HarnessError("cannot bind a probe socket: errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A blocking socketmap client over TCP (127.0.0.1) or a unix socket, as Postfix connects.
final class SocketmapWire {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`.
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try finish(rc)
    }

    /// Connects to the unix socket at `path`.
    init(unixPath path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw HarnessError("unix socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try finish(rc)
    }

    private func finish(_ rc: Int32) throws {
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .ECONNREFUSED)
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// The reply's text (`OK value`, `NOTFOUND `, …), or a description of what went wrong.
    func ask(_ map: String, _ key: String) -> String {
        let payload = Array("\(map) \(key)".utf8)
        let frame = Array("\(payload.count):".utf8) + payload + [UInt8(ascii: ",")]
        let sent = frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == frame.count else { return "<send failed: errno \(errno)>" }
        var lengthText = ""
        while true {
            guard let byte = readBytes(1)?.first else { return "<no reply>" }
            if byte == UInt8(ascii: ":") { break }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), lengthText.count < 7 else { return "<not a netstring>" }
            lengthText.append(Character(UnicodeScalar(byte)))
        }
        guard let length = Int(lengthText), let body = readBytes(length + 1), body.last == UInt8(ascii: ",") else { return "<truncated reply>" }
        return String(decoding: body.dropLast(), as: UTF8.self)
    }

    /// True when the server closed the connection (EOF within the receive timeout).
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }

    private func readBytes(_ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var have = 0
        while have < count {
            let n = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + have, count - have, 0) }
            if n <= 0 { return nil }
            have += n
        }
        return out
    }
}
