/// One attribute value of an LDIF record.
package struct LDIFValue {
    /// The attribute name as written, options (`;lang-de`) removed.
    package let name: String
    /// The value's bytes (decoded when it was base64).
    package let bytes: [UInt8]
    /// The physical line it starts on.
    package let line: Int

    /// The value as text, or nil when it is not valid UTF-8.
    package var text: String? { String(validating: bytes, as: UTF8.self) }
}

/// One record of an LDIF file (RFC 2849): its attribute values in order, where it starts, its
/// bytes as written.
package struct LDIFRecord {
    /// The physical line of its `dn:`.
    package let line: Int
    /// The record as it stood in the file (comments and folds included), without the blank
    /// line that ends it.
    package let raw: ArraySlice<UInt8>
    package let values: [LDIFValue]
    /// Why the record cannot be read as a whole (a line that is not `name: value`, bad base64).
    package let problem: String?

    /// Every value of `name`, compared case-insensitively (LDAP names are).
    package func values(of name: String) -> [LDIFValue] {
        values.filter { $0.name.lowercased() == name.lowercased() }
    }
}

/// An LDIF reader over bytes, as ldifde writes: records separated by blank lines, `dn:` first,
/// folded lines (a line starting with one space continues the one before, joined as bytes so
/// a fold may split a UTF-8 sequence), `name:: base64`, comments (`#`), and the `version: 1`
/// line. `name:< URL` values are refused (they would read other files).
package final class LDIFReader: ChunkedReader {
    private var line = 1

    package override init(_ source: ByteSource) {
        super.init(source)
    }

    private static let lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r"), space = UInt8(ascii: " "), hash = UInt8(ascii: "#")
    private static let colon = UInt8(ascii: ":")

    package func next() throws(FormatError) -> LDIFRecord? {
        while true {
            guard let (start, end, next, lines, blank) = try recordBounds() else { return nil }
            let startLine = line + blank
            line += lines
            position = next
            if let record = parse(buffer[start..<end], startLine: startLine) { return record }
        }
    }

    /// The next record's bytes: after any blank lines, up to (not including) the blank line
    /// that ends it, or the end of input. Returns start, end, where the following one may
    /// begin, the number of physical lines consumed, and how many of them were blank lines before it.
    private func recordBounds() throws(FormatError) -> (Int, Int, Int, Int, Int)? {
        try skipByteOrderMarkOnce()
        while true {
            // Skip blank lines.
            var i = position
            var lines = 0
            var skipped = position
            while true {
                if i >= buffer.count { break }
                if buffer[i] == Self.lf {
                    i += 1
                    lines += 1
                    skipped = i
                } else if buffer[i] == Self.cr && i + 1 < buffer.count && buffer[i + 1] == Self.lf {
                    i += 2
                    lines += 1
                    skipped = i
                } else {
                    break
                }
            }
            if skipped >= buffer.count {
                if atEnd { return nil }
                try fillForLongerRecord()
                continue
            }
            // Find the blank line that ends the record.
            var j = skipped
            var recordLines = 0
            var needMore = false
            while true {
                guard let newline = buffer[j...].firstIndex(of: Self.lf) else {
                    if atEnd { return (skipped, buffer.count, buffer.count, lines + recordLines + 1, lines) }
                    needMore = true
                    break
                }
                recordLines += 1
                let following = newline + 1
                if following >= buffer.count || (following + 1 >= buffer.count && buffer[following] == Self.cr) {
                    if atEnd { return (skipped, newline, buffer.count, lines + recordLines + (following < buffer.count ? 1 : 0), lines) }
                    needMore = true
                    break
                }
                if buffer[following] == Self.lf { return (skipped, newline, following + 1, lines + recordLines + 1, lines) }
                if buffer[following] == Self.cr && buffer[following + 1] == Self.lf {
                    return (skipped, newline, following + 2, lines + recordLines + 1, lines)
                }
                j = following
            }
            precondition(needMore)
            if buffer.count - skipped > Self.maximumRecordLength {
                throw FormatError(line: line + lines, "a record longer than \(Self.maximumRecordLength >> 20) MiB; stopped")
            }
            try fillForLongerRecord()
        }
    }

    /// A record from its bytes; nil when it holds only comments or the version line.
    private func parse(_ bytes: ArraySlice<UInt8>, startLine: Int) -> LDIFRecord? {
        // Physical lines, unfolded into logical ones (each with the line it starts on).
        var logical: [(line: Int, bytes: [UInt8])] = []
        var inComment = false
        var problem: String?
        var lineNumber = startLine
        var cursor = bytes.startIndex
        while cursor < bytes.endIndex {
            var lineEnd = bytes[cursor...].firstIndex(of: Self.lf) ?? bytes.endIndex
            let next = lineEnd < bytes.endIndex ? lineEnd + 1 : lineEnd
            if lineEnd > cursor && bytes[lineEnd - 1] == Self.cr { lineEnd -= 1 }
            let physical = bytes[cursor..<lineEnd]
            if physical.first == Self.space {
                if inComment {
                } else if logical.isEmpty {
                    problem = problem ?? "line \(lineNumber): a continuation line (starting with a space) with no line before it"
                } else {
                    logical[logical.count - 1].bytes.append(contentsOf: physical.dropFirst())
                }
            } else if physical.first == Self.hash {
                inComment = true
            } else {
                inComment = false
                logical.append((lineNumber, Array(physical)))
            }
            lineNumber += 1
            cursor = next
        }
        // `version: 1` opens the file, before the first record's dn.
        if !sawRecord, let firstLine = logical.first, Self.name(of: firstLine.bytes)?.lowercased() == "version" { logical.removeFirst() }
        if !logical.isEmpty { sawRecord = true }
        guard let firstLine = logical.first else { return nil }
        var values: [LDIFValue] = []
        values.reserveCapacity(logical.count)
        for (number, text) in logical {
            guard let colon = text.firstIndex(of: Self.colon), colon > 0 else {
                problem = problem ?? "line \(number): not an attribute line (name: value)"
                continue
            }
            var name = String(decoding: text[..<colon], as: UTF8.self)
            if let semicolon = name.firstIndex(of: ";") { name = String(name[..<semicolon]) }
            var valueStart = colon + 1
            var kind = UInt8(0)
            if valueStart < text.count && (text[valueStart] == Self.colon || text[valueStart] == UInt8(ascii: "<")) {
                kind = text[valueStart]
                valueStart += 1
            }
            while valueStart < text.count && text[valueStart] == Self.space { valueStart += 1 }
            let value = text[valueStart...]
            switch kind {
            case Self.colon:
                guard let decoded = Base64.decode(value) else {
                    problem = problem ?? "line \(number): the value of \(name) is not valid base64"
                    continue
                }
                values.append(LDIFValue(name: name, bytes: decoded, line: number))
            case UInt8(ascii: "<"):
                problem = problem ?? "line \(number): \(name):< reads a value from a URL, which import does not do; put the value in the file"
            default:
                values.append(LDIFValue(name: name, bytes: Array(value), line: number))
            }
        }
        if problem == nil, values.first?.name.lowercased() != "dn" {
            problem = "line \(firstLine.line): a record must start with dn:"
        }
        return LDIFRecord(line: firstLine.line, raw: bytes, values: values, problem: problem)
    }

    private var sawRecord = false

    private static func name(of line: [UInt8]) -> String? {
        guard let colon = line.firstIndex(of: colon) else { return nil }
        return String(decoding: line[..<colon], as: UTF8.self)
    }
}

/// RFC 4648 base64, strict: the standard alphabet, `=` padding only at the end.
package enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// The decoded bytes, or nil when `text` is not base64 (trailing spaces are ignored).
    package static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var symbols = Array(text)
        while symbols.last == UInt8(ascii: " ") { symbols.removeLast() }
        guard symbols.count % 4 == 0 else { return nil }
        var padding = 0
        while padding < 2, symbols.last == UInt8(ascii: "=") {
            symbols.removeLast()
            padding += 1
        }
        var output: [UInt8] = []
        output.reserveCapacity(symbols.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for symbol in symbols {
            let value = values[Int(symbol)]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero padding (canonical encoding).
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }

    package static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index < input.count {
            let b0 = UInt32(input[index])
            let b1 = index + 1 < input.count ? UInt32(input[index + 1]) : 0
            let b2 = index + 2 < input.count ? UInt32(input[index + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            output.append(alphabet[Int(triple >> 18 & 63)])
            output.append(alphabet[Int(triple >> 12 & 63)])
            output.append(index + 1 < input.count ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            output.append(index + 2 < input.count ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// Writes LDIF the way `LDIFReader` and ldifde read it: values that are not safe strings in
/// base64, lines folded at 76 columns.
package enum LDIFWriter {
    /// `name: value` or `name:: base64`, folded.
    package static func line(_ name: String, _ value: String) -> String {
        let bytes = Array(value.utf8)
        let safe = !bytes.isEmpty
            ? bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && bytes.first != UInt8(ascii: " ")
                && bytes.first != UInt8(ascii: ":") && bytes.first != UInt8(ascii: "<") && bytes.last != UInt8(ascii: " ")
            : true
        return fold(safe ? "\(name): \(value)" : "\(name):: \(Base64.encode(bytes))")
    }

    /// Folds an ASCII line at 76 columns (continuations start with one space).
    static func fold(_ line: String) -> String {
        let bytes = Array(line.utf8)
        guard bytes.count > 76 else { return line }
        var result = String(decoding: bytes[0..<76], as: UTF8.self)
        var index = 76
        while index < bytes.count {
            let end = min(index + 75, bytes.count)
            result += "\n " + String(decoding: bytes[index..<end], as: UTF8.self)
            index = end
        }
        return result
    }
}
