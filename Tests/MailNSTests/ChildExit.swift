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
        if process.isRunning { return nil }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Blocks until the child has exited; its status as `status(of:)` gives it.
    static func wait(for process: Process) -> Int32 {
        process.waitUntilExit()
        return status(of: process) ?? -1
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
