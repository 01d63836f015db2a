/// One record of a CSV file: its fields, where it starts, and its bytes as written (so a
/// rejected record can be written back out unchanged for fixing).
package struct CSVRecord {
    /// The physical line the record starts on (1 is the header).
    package let line: Int
    /// The record as it stood in the file, without its line ending.
    package let raw: ArraySlice<UInt8>
    /// Unquoted field contents, back to back; `ends[i]` is where field i ends.
    private let contents: [UInt8]
    private let ends: [Int]
    /// Why the record could not be split into fields (an open quote, text after a closing
    /// quote); its fields are then unreliable.
    package let problem: String?

    init(line: Int, raw: ArraySlice<UInt8>, contents: [UInt8], ends: [Int], problem: String?) {
        self.line = line
        self.raw = raw
        self.contents = contents
        self.ends = ends
        self.problem = problem
    }

    package var count: Int { ends.count }

    /// Field `index` as bytes.
    package func bytes(_ index: Int) -> ArraySlice<UInt8> {
        contents[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
    }

    /// Field `index` as text, or nil when it is not valid UTF-8.
    package func text(_ index: Int) -> String? {
        String(validating: bytes(index), as: UTF8.self)
    }

    /// A record that is one empty field: a blank line.
    var isBlank: Bool { ends.count == 1 && ends[0] == 0 && raw.isEmpty }
}

/// An RFC 4180 reader over bytes, as csvde writes and people hand-edit: fields separated by
/// commas, quoted with `"` when they hold commas, quotes (doubled) or line breaks; CRLF or LF
/// line endings; a UTF-8 byte order mark is skipped. A quote inside an unquoted field is kept
/// as text, as spreadsheets write it. Blank lines are skipped.
///
/// Streams: it holds the current record and at most one chunk of input ahead.
package final class CSVReader: ChunkedReader {
    private var line = 1

    package override init(_ source: ByteSource) {
        super.init(source)
    }

    /// The next record, or nil at end of input. Throws only when the input cannot be read
    /// on (read error, a record over `maximumRecordLength`).
    package func next() throws(FormatError) -> CSVRecord? {
        try skipByteOrderMarkOnce()
        while true {
            if position >= buffer.count {
                if atEnd { return nil }
                try fill(minimum: 1)
                if position >= buffer.count { return nil }
            }
            if let record = try parseRecord(), !record.isBlank { return record }
        }
    }

    private static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

    /// Parses the record at `position`; when the buffer ends inside it, reads more and starts
    /// the record over (only records straddling a chunk boundary pay for that).
    private func parseRecord() throws(FormatError) -> CSVRecord? {
        while true {
            if let record = scan() { return record }
            if buffer.count - position > Self.maximumRecordLength {
                throw FormatError(line: line, "a record longer than \(Self.maximumRecordLength >> 20) MiB (an unclosed quote?); stopped")
            }
            try fillForLongerRecord()
        }
    }

    /// One pass over the record at `position`; nil when the buffer ends before the record
    /// does and more input may follow.
    private func scan() -> CSVRecord? {
        let start = position
        var i = position
        let end = buffer.count
        var contents: [UInt8] = []
        contents.reserveCapacity(128)
        var ends: [Int] = []
        ends.reserveCapacity(16)
        var lines = 0
        var problem: String?
        var rawEnd = end
        var next = end
        var incomplete = false
        buffer.withUnsafeBufferPointer { b in
            fields: while true {
                // At the start of a field.
                if i < end && b[i] == Self.quote {
                    let openedOn = line + lines
                    i += 1
                    var closed = false
                    while i < end {
                        let c = b[i]
                        if c == Self.quote {
                            if i + 1 < end && b[i + 1] == Self.quote {
                                contents.append(Self.quote)
                                i += 2
                                continue
                            }
                            if i + 1 == end && !atEnd { incomplete = true; return }  // is the next byte a quote?
                            i += 1
                            closed = true
                            break
                        }
                        if c == Self.lf { lines += 1 }
                        contents.append(c)
                        i += 1
                    }
                    if !closed {
                        if !atEnd { incomplete = true; return }
                        problem = "the quote opened in field \(ends.count + 1) on line \(openedOn) is never closed"
                        ends.append(contents.count)
                        rawEnd = end
                        next = end
                        break fields
                    }
                    // After a closing quote: a separator, a line end or the end of input.
                    if i < end && b[i] != Self.comma && b[i] != Self.lf && !(b[i] == Self.cr && (i + 1 >= end || b[i + 1] == Self.lf)) {
                        problem = "text after the closing quote of field \(ends.count + 1)"
                        // Skip to the end of this physical line and give up on the record.
                        while i < end && b[i] != Self.lf { i += 1 }
                        if i >= end && !atEnd { incomplete = true; return }
                        ends.append(contents.count)
                        rawEnd = i > start && b[i - 1] == Self.cr ? i - 1 : i
                        next = min(i + 1, end)
                        if i < end { lines += 1 }
                        break fields
                    }
                } else {
                    while i < end {
                        let c = b[i]
                        if c == Self.comma || c == Self.lf { break }
                        if c == Self.cr && (i + 1 < end ? b[i + 1] == Self.lf : !atEnd) { break }
                        contents.append(c)
                        i += 1
                    }
                }
                ends.append(contents.count)
                if i >= end {
                    if !atEnd { incomplete = true; return }
                    rawEnd = end
                    next = end
                    break fields
                }
                let c = b[i]
                if c == Self.comma {
                    i += 1
                    continue fields
                }
                // A line end: CRLF or LF.
                if c == Self.cr {
                    if i + 1 >= end && !atEnd { incomplete = true; return }
                    rawEnd = i
                    next = min(i + 2, end)
                } else {
                    rawEnd = i
                    next = i + 1
                }
                lines += 1
                break fields
            }
        }
        if incomplete { return nil }
        if ends.isEmpty { return nil }
        let record = CSVRecord(line: line, raw: buffer[start..<rawEnd], contents: contents, ends: ends, problem: problem)
        line += lines
        position = next
        return record
    }
}

/// Writes CSV fields the way `CSVReader` reads them back: quoted only when needed.
package enum CSVWriter {
    /// One field, quoted when it holds a comma, a quote, a line break, edge spaces or starts
    /// with U+FEFF.
    package static func field(_ text: String) -> String {
        // Bytes and scalars, not Characters: a quote or space followed by a combining mark is one
        // Character that is not equal to "\"" or " ", yet the reader sees the quote byte.
        let needsQuotes = text.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
            || text.utf8.first == UInt8(ascii: " ") || text.utf8.last == UInt8(ascii: " ")
            // A leading U+FEFF would read back as a byte order mark at the start of a file.
            || text.unicodeScalars.first == "\u{FEFF}"
        guard needsQuotes else { return text }
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in text.unicodeScalars {
            if scalar == "\"" { quoted.append("\"") }
            quoted.append(scalar)
        }
        quoted.append("\"")
        return String(quoted)
    }

    /// One record, without its line ending.
    package static func record(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",")
    }

    /// `raw`, one record as `CSVReader` read it, with field `index` replaced by `text` and every
    /// other byte as written; nil unless the record splits into `count` fields (then which one
    /// is field `index` would be a guess).
    package static func replacingField(_ index: Int, of raw: ArraySlice<UInt8>, count: Int, with text: String) -> [UInt8]? {
        let ranges = fieldRanges(raw)
        guard ranges.count == count, ranges.indices.contains(index) else { return nil }
        return Array(raw[..<ranges[index].lowerBound]) + Array(field(text).utf8) + raw[ranges[index].upperBound...]
    }

    /// Where each field of `raw` lies, its quotes included, split as `CSVReader` splits it: a
    /// field that starts with a quote runs to its closing quote (`""` is a quote inside it).
    static func fieldRanges(_ raw: ArraySlice<UInt8>) -> [Range<Int>] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
        var ranges: [Range<Int>] = []
        var start = raw.startIndex
        var i = start
        while true {
            if i < raw.endIndex && raw[i] == quote {
                i += 1
                while i < raw.endIndex {
                    if raw[i] != quote {
                        i += 1
                    } else if i + 1 < raw.endIndex && raw[i + 1] == quote {
                        i += 2
                    } else {
                        i += 1
                        break
                    }
                }
            }
            while i < raw.endIndex && raw[i] != comma { i += 1 }
            ranges.append(start..<i)
            if i == raw.endIndex { return ranges }
            i += 1
            start = i
        }
    }
}
