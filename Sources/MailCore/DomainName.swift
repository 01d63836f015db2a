import Foundation  // NFC normalisation of internationalised labels (precomposedStringWithCanonicalMapping)

/// A DNS domain name as the directory stores it: lower-case, IDNA A-labels, no trailing dot.
///
/// ## Syntax
/// RFC 5321 `Domain` (sub-domains of letters, digits and hyphens, a hyphen never first or last),
/// each label at most 63 octets, the whole name at most 255 octets. One trailing dot is
/// accepted and dropped, as Postfix does. A label with non-ASCII letters is lower-cased,
/// NFC-normalised and stored as its A-label (`bücher` → `xn--bcher-kva`), so matching is
/// byte equality on the stored form.
///
/// ## Not supported
/// Address literals (`[192.0.2.1]`) are not domain names here; full UTS #46 mapping is
/// approximated by Unicode lower-casing plus NFC.
package struct DomainName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// RFC 5321 §4.5.3.1.2.
    package static let maximumLength = 255
    /// RFC 1035 §2.3.4.
    package static let maximumLabelLength = 63

    /// The stored form: lower-case ASCII, A-labels, no trailing dot.
    package let name: String

    package var description: String { name }
    package var labels: [Substring] { name.split(separator: ".", omittingEmptySubsequences: false) }

    package static func < (lhs: DomainName, rhs: DomainName) -> Bool { lhs.name < rhs.name }

    /// Parses and normalises `text`; throws with the first reason it is not a domain name.
    package init(parsing text: String) throws(AddressError) {
        // Plain ASCII names (nearly every key a mail server asks about) are checked and
        // lower-cased in one pass over the bytes; anything else takes the general path below.
        if let name = Self.plainASCII(text) {
            self.name = name
            return
        }
        func fail(_ reason: String) -> AddressError { AddressError("domain", text, reason) }
        var body = Substring(text)
        if body.hasSuffix(".") { body = body.dropLast() }
        guard !body.isEmpty else { throw fail("empty") }
        if body.hasPrefix("[") { throw fail("address literals are not supported") }

        var labels: [String] = []
        for rawLabel in body.split(separator: ".", omittingEmptySubsequences: false) {
            guard !rawLabel.isEmpty else { throw fail("empty label") }
            labels.append(try Self.normalizedLabel(rawLabel, fail: fail))
        }
        let name = labels.joined(separator: ".")
        guard name.utf8.count <= Self.maximumLength else {
            throw fail("longer than \(Self.maximumLength) octets")
        }
        self.name = name
    }

    /// The normalised name when `text` is a valid all-ASCII LDH name (one trailing dot
    /// allowed), else nil, leaving errors and IDN to the general path.
    private static func plainASCII(_ text: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var labelLength = 0
        var previous: UInt8 = UInt8(ascii: ".")
        var isNormal = true  // already lower-case with no trailing dot: `text` itself is the name
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                bytes.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                bytes.append(byte | 0x20)
                isNormal = false
            case UInt8(ascii: "-"):
                guard labelLength > 0 else { return nil }
                bytes.append(byte)
            case UInt8(ascii: "."):
                guard labelLength > 0, previous != UInt8(ascii: "-") else { return nil }
                bytes.append(byte)
                labelLength = 0
                previous = byte
                continue
            default:
                return nil
            }
            labelLength += 1
            guard labelLength <= maximumLabelLength else { return nil }
            previous = byte
        }
        if bytes.last == UInt8(ascii: ".") {
            bytes.removeLast()
            isNormal = false
        } else if previous == UInt8(ascii: "-") {
            return nil
        }
        guard !bytes.isEmpty, bytes.count <= maximumLength, bytes.last != UInt8(ascii: "."), bytes.last != UInt8(ascii: "-") else { return nil }
        return isNormal ? text : String(decoding: bytes, as: UTF8.self)
    }

    /// Wraps text already in stored form (from our own database, written by this type), without
    /// parsing it again: rows are read on hot paths. Debug builds check the form.
    package init(stored: String) {
        assert((try? DomainName(parsing: stored))?.name == stored, "stored domain is not normalised: \(stored)")
        name = stored
    }

    /// True if this is `other` or a subdomain of it.
    package func isEqualOrSubdomain(of other: DomainName) -> Bool {
        name == other.name || name.hasSuffix("." + other.name)
    }

    private static func normalizedLabel(_ label: Substring, fail: (String) -> AddressError) throws(AddressError) -> String {
        if label.utf8.allSatisfy({ $0 < 0x80 }) {
            let lower = label.lowercased()
            try checkLDH(lower, fail: fail)
            return lower
        }
        // Internationalised label: map to its A-label.
        let mapped = label.lowercased().precomposedStringWithCanonicalMapping
        for scalar in mapped.unicodeScalars where !isAllowedInULabel(scalar) {
            throw fail("character \(AddressError.shown(scalar)) is not allowed in a domain name")
        }
        if mapped.hasPrefix("-") || mapped.hasSuffix("-") { throw fail("label '\(label)' starts or ends with a hyphen") }
        guard let encoded = Punycode.encode(Array(mapped.unicodeScalars)) else { throw fail("label '\(label)' cannot be encoded") }
        let aLabel = "xn--" + encoded
        guard aLabel.utf8.count <= maximumLabelLength else {
            throw fail("label '\(label)' is longer than \(maximumLabelLength) octets as an A-label")
        }
        return aLabel
    }

    /// Parses a domain an operator names for the directory to serve (`domain add`): as
    /// `init(parsing:)`, and an `xn--` label must be the A-label of a U-label we accept, exactly
    /// as we would write it, so one visible name cannot be added twice. Only for input: names
    /// in mail (lookup keys) and rows an older binary stored are parsed as they always were,
    /// since IDNA allows some characters in context that our U-label rule does not.
    package static func typed(_ text: String) throws(AddressError) -> DomainName {
        let domain = try DomainName(parsing: text)
        for label in domain.labels where label.hasPrefix("xn--") {
            var uLabel = ""
            if let scalars = Punycode.decode(label.dropFirst(4)), scalars.contains(where: { !$0.isASCII }) {
                uLabel.unicodeScalars.append(contentsOf: scalars)
            }
            let fail = { (reason: String) in AddressError("domain", text, reason) }
            guard !uLabel.isEmpty, (try? normalizedLabel(Substring(uLabel), fail: fail)) == String(label) else {
                throw fail("label '\(label)' is not a valid IDNA A-label")
            }
        }
        return domain
    }

    private static func checkLDH(_ label: String, fail: (String) -> AddressError) throws(AddressError) {
        guard label.utf8.count <= maximumLabelLength else {
            throw fail("label '\(label)' is longer than \(maximumLabelLength) octets")
        }
        for byte in label.utf8 {
            let isLetterOrDigit = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
            guard isLetterOrDigit || byte == UInt8(ascii: "-") else {
                throw fail("character \(AddressError.shown(Unicode.Scalar(byte))) is not allowed in a domain name")
            }
        }
        if label.hasPrefix("-") || label.hasSuffix("-") { throw fail("label '\(label)' starts or ends with a hyphen") }
    }

    /// Letters, marks and digits of any script, plus the hyphen (an approximation of IDNA2008's PVALID).
    private static func isAllowedInULabel(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (v >= 0x61 && v <= 0x7A) || (v >= 0x30 && v <= 0x39) || v == 0x2D
        }
        switch scalar.properties.generalCategory {
        case .lowercaseLetter, .otherLetter, .modifierLetter, .nonspacingMark, .spacingMark, .decimalNumber:
            return true
        default:
            return false
        }
    }
}
