import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Starting, waiting for and reading children in tests, around swift-corelibs-foundation's
/// rough edges under a full parallel run: FileHandle reads trap on EINTR (read(2) here), and
/// Process.run() is started one child at a time.
enum ChildExit {
    /// Process.run() is not safe to call from several threads at once in
    /// swift-corelibs-foundation (a full parallel run crashed inside it): start children one at
    /// a time.
    private static let spawnLock = NSLock()

    static func run(_ process: Process) throws {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        try process.run()
    }

    /// nil while the child runs; its status once it has exited: the exit code, or 128 + the
    /// signal that killed it.
    static func status(of process: Process) -> Int32? {
        // Under a loaded parallel run Foundation can miss a child's exit and report it running
        // for ever (a test then hung in waitUntilExit on a zombie): ask the kernel as well,
        // without reaping, which stays Foundation's job.
        if process.isRunning { return exitedStatus(process.processIdentifier) }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Blocks until the child has exited; its status as `status(of:)` gives it.
    static func wait(for process: Process) -> Int32 {
        while true {
            if let status = status(of: process) { return status }
            usleep(10_000)
        }
    }

    /// The status of child `pid` if it has exited (a zombie not yet reaped), from waitid(2)
    /// with WNOWAIT: the kernel keeps it for Foundation to reap. nil while it runs, or once it
    /// has been reaped.
    private static func exitedStatus(_ pid: pid_t) -> Int32? {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT | WNOHANG) == 0 else { return nil }
        let child = info._sifields._sigchld
        guard child.si_pid == pid else { return nil }
        return info.si_code == CLD_EXITED ? child.si_status : 128 + child.si_status
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
}
