import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The exit of a child `Process`, robust to Foundation missing it.
///
/// swift-corelibs-foundation learns of a child's exit from a SIGCHLD source that can lose the
/// race when many children exit at once: `isRunning` then stays true and `waitUntilExit()`
/// blocks forever on a zombie (seen once in a full parallel run). A child that has been a
/// zombie for a while is reaped here instead.
enum ChildExit {
    /// nil while the child runs (or Foundation is about to notice its exit); its status once
    /// it has exited: the exit code, or 128 + the signal that killed it.
    static func status(of process: Process) -> Int32? {
        if !process.isRunning {
            return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        }
        let pid = process.processIdentifier
        guard isZombie(pid) else { return nil }
        // Give Foundation its chance first: reaping now would race its own waitpid.
        usleep(500_000)
        if !process.isRunning { return status(of: process) }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return process.isRunning ? nil : status(of: process) }
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    /// Blocks until the child has exited; its status as `status(of:)` gives it.
    static func wait(for process: Process) -> Int32 {
        while true {
            if let status = status(of: process) { return status }
            usleep(10_000)
        }
    }

    /// Everything readable from `fd` until EOF, with read(2): FileHandle's readDataToEndOfFile
    /// traps when a read is interrupted by a signal (EINTR), which crashed whole test runs.
    static func readToEnd(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return data }
            data.append(contentsOf: buffer[0..<n])
        }
    }

    private static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        // "pid (comm) S …": the state follows the command name's closing parenthesis.
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}
