import Glibc

/// A file (or standard input) read in large chunks, never whole: the readers keep only the
/// record they are on, so memory stays flat however large the file.
package final class ByteSource {
    private let descriptor: Int32
    private let closesDescriptor: Bool
    /// Bytes handed out so far, for progress.
    package private(set) var bytesRead = 0
    /// The file's size when it is a regular file (nil for a pipe), for an ETA.
    package let size: Int?
    /// Where the bytes come from, for messages.
    package let name: String

    static let chunkSize = 1 << 20

    /// Opens `path`; `-` is standard input.
    package init(path: String) throws(FormatError) {
        if path == "-" {
            descriptor = STDIN_FILENO
            closesDescriptor = false
            name = "standard input"
        } else {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw FormatError(line: nil, "cannot open \(path): \(String(cString: strerror(errno)))") }
            descriptor = fd
            closesDescriptor = true
            name = path
        }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
            size = Int(info.st_size)
        } else {
            size = nil
        }
    }

    /// Bytes already in memory (tests, small inputs).
    package init(bytes: [UInt8], name: String = "input") {
        descriptor = -1
        closesDescriptor = false
        self.name = name
        size = bytes.count
        pending = bytes
    }

    private var pending: [UInt8]?

    /// The first `count` bytes (fewer at end of input), read without consuming them: the
    /// next read hands them out again.
    package func peek(count: Int) throws(FormatError) -> [UInt8] {
        precondition(bytesRead == 0, "peek after reading")
        var bytes = pending ?? []
        while bytes.count < count {
            let before = bytes.count
            pending = nil
            if !(try read(appendingTo: &bytes)) { break }
            bytesRead -= bytes.count - before
            if bytes.count == before { break }
        }
        pending = bytes
        return Array(bytes.prefix(count))
    }

    deinit {
        if closesDescriptor { close(descriptor) }
    }

    /// Appends up to one chunk to `buffer`; false at end of input.
    func read(appendingTo buffer: inout [UInt8]) throws(FormatError) -> Bool {
        if let bytes = pending {
            pending = nil
            buffer.append(contentsOf: bytes)
            bytesRead += bytes.count
            return !bytes.isEmpty
        }
        guard descriptor >= 0 else { return false }
        let start = buffer.count
        buffer.reserveCapacity(start + Self.chunkSize)
        var got = 0
        buffer.append(contentsOf: repeatElement(0, count: Self.chunkSize))
        while true {
            got = buffer.withUnsafeMutableBytes { raw in
                Glibc.read(descriptor, raw.baseAddress! + start, Self.chunkSize)
            }
            if got < 0 && errno == EINTR { continue }
            break
        }
        buffer.removeLast(Self.chunkSize - max(got, 0))
        guard got >= 0 else { throw FormatError(line: nil, "cannot read \(name): \(String(cString: strerror(errno)))") }
        bytesRead += got
        return got > 0
    }
}

/// What both readers share: the input in chunks, a window of it in memory, the byte order
/// mark skipped. A reader keeps `position` at the start of its next record.
package class ChunkedReader {
    let source: ByteSource
    var buffer: [UInt8] = []
    var position = 0
    var atEnd = false
    private var started = false
    /// A record longer than this is not a record but a broken file (an unclosed quote
    /// swallowing the rest): stop rather than hold it all in memory.
    package static let maximumRecordLength = 16 << 20

    init(_ source: ByteSource) {
        self.source = source
    }

    /// Bytes consumed from the input, for progress.
    package var bytesRead: Int { source.bytesRead - (buffer.count - position) }

    /// On the first call, reads the first chunk and steps over a UTF-8 byte order mark.
    func skipByteOrderMarkOnce() throws(FormatError) {
        guard !started else { return }
        started = true
        try fill(minimum: 3)
        if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { position = 3 }
    }

    /// More input for a record the window ends inside: at least as much again as is pending,
    /// capped one byte past the longest record. The record is scanned again from its start,
    /// so growing geometrically keeps a long record's rescans linear in its length (one
    /// chunk at a time rescanned a 16 MiB record about 250 times).
    func fillForLongerRecord() throws(FormatError) {
        let pending = buffer.count - position
        // Always one byte more than pending, whatever the cap: a caller past it (blank lines
        // before an LDIF record) must still move on.
        try fill(minimum: max(pending + 1, min(2 * pending + 1, Self.maximumRecordLength + 1)))
    }

    /// Reads until at least `minimum` unread bytes are buffered or the input ends, first
    /// dropping the consumed half of the window.
    func fill(minimum: Int) throws(FormatError) {
        if position > 0 && position >= buffer.count / 2 {
            buffer.removeSubrange(0..<position)
            position = 0
        }
        while !atEnd && buffer.count - position < minimum {
            if !(try source.read(appendingTo: &buffer)) { atEnd = true }
        }
    }
}

/// Input that cannot be read on at all (a header that makes no sense, a read error). Record
/// level problems are not errors: the record carries them and the reader goes on.
package struct FormatError: Error, CustomStringConvertible, Equatable {
    package let line: Int?
    package let reason: String

    package init(line: Int?, _ reason: String) {
        self.line = line
        self.reason = reason
    }

    package var description: String { line.map { "line \($0): \(reason)" } ?? reason }
}
