/// An RFC 5321 mailbox (`local-part@domain`) in canonical form.
///
/// The domain is normalised (lower-case A-labels); the local part keeps its case. `key` is the
/// case-folded form the directory matches on, so `John.Doe@Contoso.COM` and `john.doe@contoso.com`
/// are one address.
package struct EmailAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    package let localPart: LocalPart
    package let domain: DomainName

    package var description: String { "\(localPart.text)@\(domain.name)" }
    /// Lower-cased text for case-insensitive comparison (ASCII only: local parts are ASCII).
    package var key: String { description.lowercased() }

    package static func < (lhs: EmailAddress, rhs: EmailAddress) -> Bool { lhs.key < rhs.key }

    package init(localPart: LocalPart, domain: DomainName) {
        self.localPart = localPart
        self.domain = domain
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
        let domainText = String(text[text.index(after: at)...])
        guard !domainText.isEmpty else { throw AddressError("address", text, "missing domain") }
        do {
            domain = try DomainName(parsing: domainText)
        } catch {
            throw AddressError("address", text, error.reason)
        }
        localPart = local
    }

    /// The `@` that separates local part and domain: the first one after a quoted local part's
    /// closing quote, or the first one at all for a dot-string.
    private static func separatorIndex(in text: String) -> String.Index? {
        guard text.first == "\"" else { return text.firstIndex(of: "@") }
        var escaped = false
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let ch = text[index]
            if escaped {
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if ch == "\"" {
                return text[index...].firstIndex(of: "@")
            }
            index = text.index(after: index)
        }
        return nil
    }
}
