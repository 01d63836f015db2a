/// Why a piece of mail syntax (address, domain, proxy address, smart host, address space) was refused.
///
/// One error type for every MailCore parser, so callers can say "field X: <reason>" without
/// knowing which parser ran. `description` names the input and the reason in one line.
package struct AddressError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was being parsed, in the words a user knows ("address", "domain", "smart host").
    package let subject: String
    /// The text as given.
    package let input: String
    /// Why it was refused, lower-case, no trailing period.
    package let reason: String

    package init(_ subject: String, _ input: String, _ reason: String) {
        self.subject = subject
        self.input = input
        self.reason = reason
    }

    package var description: String { "invalid \(subject) '\(input)': \(reason)" }

    /// A character for a message: quoted when printable ASCII, else its code point, so a
    /// control character never breaks the one-line error.
    static func shown(_ scalar: Unicode.Scalar) -> String {
        scalar.value >= 0x20 && scalar.value < 0x7F ? "'\(scalar)'" : "U+" + String(scalar.value, radix: 16, uppercase: true)
    }
}
