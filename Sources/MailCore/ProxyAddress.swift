/// One of a recipient's addresses, written `TYPE:value` as Exchange writes `proxyAddresses`.
///
/// An upper-case prefix (`SMTP:`) marks the primary address of that type, a lower-case one
/// (`smtp:`) a secondary. The type is stored upper-case; for `SMTP` the value is a canonical
/// `EmailAddress`, for other types (`X500`, `SIP`, custom) any printable text.
package struct ProxyAddress: Hashable, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Hashable { case primary, secondary }

    package static let smtp = "SMTP"
    /// Exchange's limit for a proxy address value; far above any SMTP address.
    package static let maximumValueLength = 1024

    /// Upper-case type name, e.g. `SMTP`.
    package let type: String
    /// The address text (canonical for SMTP).
    package let value: String
    package var kind: Kind

    package var isPrimary: Bool { kind == .primary }
    package var isSMTP: Bool { type == Self.smtp }
    /// Case-folded value, what uniqueness and lookups compare.
    package var key: String { value.lowercased() }
    package var description: String { "\(kind == .primary ? type : type.lowercased()):\(value)" }

    /// The SMTP address, when this is one.
    package var emailAddress: EmailAddress? { isSMTP ? try? EmailAddress(parsing: value) : nil }

    package init(_ address: EmailAddress, kind: Kind) {
        type = Self.smtp
        value = address.description
        self.kind = kind
    }

    /// Wraps a proxy address read back from our database (type upper-case, value canonical)
    /// without parsing it again.
    package init(storedType type: String, value: String, kind: Kind) {
        assert(type == type.uppercased(), "stored proxy type is not upper-case: \(type)")
        self.type = type
        self.value = value
        self.kind = kind
    }

    /// Parses `SMTP:a@b`, `smtp:a@b`, `X500:/o=…`. A prefix in mixed case is refused: it
    /// would be a guess whether the address is primary.
    package init(parsing text: String) throws(AddressError) {
        let (type, kind, rest) = try Self.splitPrefix(text, subject: "proxy address")
        self.type = type
        self.kind = kind
        if type == Self.smtp {
            do {
                value = try EmailAddress(parsing: String(rest)).description
            } catch {
                throw AddressError("proxy address", text, error.reason)
            }
        } else {
            guard !rest.isEmpty else { throw AddressError("proxy address", text, "empty address") }
            guard rest.utf8.count <= Self.maximumValueLength else {
                throw AddressError("proxy address", text, "longer than \(Self.maximumValueLength) octets")
            }
            guard !rest.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw AddressError("proxy address", text, "control character in address")
            }
            value = String(rest)
        }
    }

    /// Splits `TYPE:rest` and reads primary/secondary from the prefix's case. Shared with
    /// policy templates, which use the same prefixes.
    package static func splitPrefix(_ text: String, subject: String) throws(AddressError) -> (type: String, kind: Kind, rest: Substring) {
        guard let colon = text.firstIndex(of: ":") else {
            throw AddressError(subject, text, "missing type prefix: write SMTP:… for the primary or smtp:… for a secondary address")
        }
        let prefix = text[..<colon]
        let isAlphanumeric = prefix.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard (1...16).contains(prefix.utf8.count), isAlphanumeric else {
            throw AddressError(subject, text, "type prefix '\(prefix)' must be 1 to 16 letters or digits")
        }
        let upper = prefix.uppercased()
        let lower = prefix.lowercased()
        let kind: Kind
        if upper == lower {
            throw AddressError(subject, text, "type prefix '\(prefix)' has no letters to mark it primary or secondary")
        } else if prefix == upper {
            kind = .primary
        } else if prefix == lower {
            kind = .secondary
        } else {
            throw AddressError(subject, text, "type prefix '\(prefix)' mixes cases: upper-case marks the primary, lower-case a secondary")
        }
        return (upper, kind, text[text.index(after: colon)...])
    }
}
