/// The part of a mailbox before the `@`, in canonical RFC 5321 form.
///
/// ## Syntax (RFC 5321 §4.1.2)
/// A `Dot-string` (atoms of `atext` joined by single dots) or a `Quoted-string`. A quoted
/// form whose content is a valid dot-string is the same mailbox, so it is stored unquoted
/// (`"john"` → `john`); any other quoted form is stored with the minimal escapes (`\"`, `\\`).
/// At most 64 octets in canonical form. Case is kept; comparison is done case-insensitively
/// by the directory. An empty local part (`""`) is refused: no directory mailbox can have it.
package struct LocalPart: Hashable, Sendable, CustomStringConvertible {
    /// RFC 5321 §4.5.3.1.1.
    package static let maximumLength = 64

    /// The canonical text, quoted when it must be.
    package let text: String
    package var description: String { text }
    package var isQuoted: Bool { text.hasPrefix("\"") }

    /// Wraps text already in canonical form (stored by this type, or built only of atext and
    /// single inner dots) without parsing it again. Debug builds check it.
    package init(canonical text: String) {
        assert((try? LocalPart(parsing: text[...], for: text))?.text == text, "not a canonical local part: \(text)")
        self.text = text
    }

    /// Parses `raw` (a dot-string, or a quoted string including its quotes).
    package init(parsing raw: Substring, for input: String) throws(AddressError) {
        func fail(_ reason: String) -> AddressError { AddressError("address", input, reason) }
        guard !raw.isEmpty else { throw fail("empty local part") }
        if raw.utf8.first == UInt8(ascii: "\"") {
            let content = try Self.unquote(raw, fail: fail)
            guard !content.isEmpty else { throw fail("empty local part") }
            text = Self.isDotString(content[...]) ? content : Self.quote(content)
        } else {
            try Self.checkDotString(raw, fail: fail)
            text = String(raw)
        }
        guard text.utf8.count <= Self.maximumLength else {
            throw fail("local part longer than \(Self.maximumLength) octets")
        }
    }

    /// `atext` of RFC 5322 §3.2.3, which RFC 5321 uses for atoms.
    package static func isAtomCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"),
            UInt8(ascii: "="), UInt8(ascii: "?"), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"),
            UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// True if `text` is a non-empty RFC 5321 `Dot-string`.
    package static func isDotString(_ text: Substring) -> Bool {
        var previousWasDot = true  // a leading dot is as bad as a doubled one
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                if previousWasDot { return false }
                previousWasDot = true
            } else if isAtomCharacter(byte) {
                previousWasDot = false
            } else {
                return false
            }
        }
        return !previousWasDot
    }

    private static func checkDotString(_ text: Substring, fail: (String) -> AddressError) throws(AddressError) {
        if isDotString(text) { return }
        if text.hasPrefix(".") || text.hasSuffix(".") { throw fail("local part starts or ends with a dot") }
        if text.contains("..") { throw fail("local part has two dots in a row") }
        let bad = text.unicodeScalars.first { !($0.isASCII && (isAtomCharacter(UInt8($0.value)) || $0 == ".")) }
        if let bad {
            throw fail("character \(AddressError.shown(bad)) is not allowed in an unquoted local part")
        }
        throw fail("malformed local part")
    }

    /// The content of a quoted string (without quotes and escapes). The closing quote must end `raw`.
    private static func unquote(_ raw: Substring, fail: (String) -> AddressError) throws(AddressError) -> String {
        var bytes: [UInt8] = []
        var iterator = raw.utf8.dropFirst().makeIterator()
        var closed = false
        while let byte = iterator.next() {
            if closed { throw fail("text after the closing quote of the local part") }
            switch byte {
            case UInt8(ascii: "\""):
                closed = true
            case UInt8(ascii: "\\"):
                // quoted-pairSMTP = "\" %d32-126
                guard let escaped = iterator.next(), escaped >= 32, escaped <= 126 else {
                    throw fail("bad escape in quoted local part")
                }
                bytes.append(escaped)
            case 32...126:
                bytes.append(byte)
            default:
                throw fail("control or non-ASCII character in quoted local part")
            }
        }
        guard closed else { throw fail("unterminated quoted local part") }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func quote(_ content: String) -> String {
        var out = "\""
        for ch in content {
            if ch == "\"" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        out.append("\"")
        return out
    }
}
