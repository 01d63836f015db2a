/// An RFC 5321 mailbox (`local-part@domain`) in canonical form.
///
/// The domain is normalised (lower-case A-labels); the local part keeps its case. `key` is the
/// case-folded form the directory matches on, so `John.Doe@Contoso.COM` and `john.doe@contoso.com`
/// are one address.
package struct EmailAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    package let localPart: LocalPart
    package let domain: DomainName
    /// `local@domain`, built once: addresses are printed and compared far more than made.
    package let description: String

    /// Lower-cased text for case-insensitive comparison (ASCII only: local parts are ASCII).
    package var key: String { description.lowercased() }

    package static func < (lhs: EmailAddress, rhs: EmailAddress) -> Bool { lhs.key < rhs.key }

    /// True when two address texts are the same address, ignoring ASCII letter case (addresses
    /// are ASCII), without allocating lower-cased copies.
    package static func sameText(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        var a = a
        var b = b
        // withUTF8 gives the contiguous bytes of a native string without copying.
        return a.withUTF8 { x in
            b.withUTF8 { y in
                for i in 0..<x.count where x[i] != y[i] {
                    let lx = x[i] &- 0x41 < 26 ? x[i] | 0x20 : x[i]
                    let ly = y[i] &- 0x41 < 26 ? y[i] | 0x20 : y[i]
                    if lx != ly { return false }
                }
                return true
            }
        }
    }

    package init(localPart: LocalPart, domain: DomainName) {
        self.localPart = localPart
        self.domain = domain
        description = localPart.text + "@" + domain.name
    }

    /// Wraps an address this type rendered earlier (read back from our database) without
    /// parsing it again. The domain holds no '@', so the last one separates.
    package init(stored text: String) {
        guard let at = text.lastIndex(of: "@") else { preconditionFailure("stored address without '@': \(text)") }
        self.init(localPart: LocalPart(canonical: String(text[..<at])), domain: DomainName(stored: String(text[text.index(after: at)...])))
    }

    /// Parses `text` as a mailbox. No angle brackets, no comments, no surrounding space.
    package init(parsing text: String) throws(AddressError) {
        guard !text.isEmpty else { throw AddressError("address", text, "empty") }
        guard let at = Self.separatorIndex(in: text) else {
            // A quoted local part that never closes explains a missing '@' better.
            if text.first == "\"" { _ = try LocalPart(parsing: text[...], for: text) }
            throw AddressError("address", text, "missing '@'")
        }
        let local = try LocalPart(parsing: text[..<at], for: text)
        let domainText = String(text[text.utf8.index(after: at)...])
        guard !domainText.isEmpty else { throw AddressError("address", text, "missing domain") }
        do {
            domain = try DomainName(parsing: domainText)
        } catch {
            throw AddressError("address", text, error.reason)
        }
        localPart = local
        description = local.text + "@" + domain.name
    }

    /// The `@` that separates local part and domain: the first one after a quoted local part's
    /// closing quote, or the first one at all for a dot-string.
    private static func separatorIndex(in text: String) -> String.Index? {
        let utf8 = text.utf8
        guard utf8.first == UInt8(ascii: "\"") else { return utf8.firstIndex(of: UInt8(ascii: "@")) }
        var escaped = false
        var index = utf8.index(after: utf8.startIndex)
        while index < utf8.endIndex {
            let byte = utf8[index]
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                return utf8[index...].firstIndex(of: UInt8(ascii: "@"))
            }
            index = utf8.index(after: index)
        }
        return nil
    }
}
