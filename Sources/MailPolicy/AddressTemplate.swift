import MailCore

/// A recipient policy's address template: `[local-part-format]@domain`, e.g. `%g.%s@contoso.com`.
///
/// ## Tokens (spec §2)
/// `%g %s %i %d %m` (givenName, sn, initials, displayName, alias), `%Ng` (first N characters,
/// N = 1–99, of any token), `%rxy` (from here on replace x by y in the token values that
/// follow; `%rxx` deletes x), `%%` (a literal %). An empty format means `%m`.
///
/// ## Sanitising a token value
/// Pending `%r` rules, then transliteration to ASCII, then the first N characters, then removal
/// of everything a dot-atom cannot hold and of dots that came from the attribute (a dot a `%r`
/// rule put there stays; so do the alias's own dots **(ours)**: `%m` is the alias, already a
/// local part, and `j.doe` stays `j.doe` as Exchange stamps it). Literal text is kept as written. Finally runs of dots collapse and
/// leading/trailing dots go. An empty result falls back to the alias; a result longer than 64
/// octets is cut to 64 **(ours)**, so a long name still gets an address.
package struct AddressTemplate: Sendable, CustomStringConvertible {
    enum Token: Character, Sendable {
        case givenName = "g", surname = "s", initials = "i", displayName = "d", alias = "m"

        func value(of recipient: Recipient) -> String {
            switch self {
            case .givenName: recipient.attributes[.givenName] ?? ""
            case .surname: recipient.attributes[.sn] ?? ""
            case .initials: recipient.attributes[.initials] ?? ""
            case .displayName: recipient.attributes[.displayName] ?? ""
            case .alias: recipient.alias
            }
        }
    }

    /// A `%rxy` rule: replace `from` by `to`, or delete `from` when `to` is nil.
    struct Replacement: Sendable {
        let from: Character
        let to: Character?
    }

    enum Part: Sendable {
        case literal(String)
        case token(Token, limit: Int?, replacements: [Replacement])
    }

    /// The template as written after the type prefix.
    package let text: String
    package let domain: DomainName
    let parts: [Part]

    package var description: String { text }

    /// Parses a template; the error names the template and the reason.
    package init(parsing text: String) throws(TemplateError) {
        func fail(_ reason: String) -> TemplateError { TemplateError(template: text, reason: reason) }
        guard let at = text.lastIndex(of: "@") else { throw fail("missing @domain") }
        let domainText = String(text[text.index(after: at)...])
        guard !domainText.isEmpty else { throw fail("missing domain after '@'") }
        do {
            domain = try DomainName(parsing: domainText)
        } catch {
            throw fail("domain: \(error.reason)")
        }
        let format = Array(text[..<at])
        var parts: [Part] = []
        var replacements: [Replacement] = []
        var literal = ""
        var index = 0
        func flushLiteral() {
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = ""
        }
        while index < format.count {
            let ch = format[index]
            guard ch == "%" else {
                guard ch.isASCII, let byte = ch.asciiValue, LocalPart.isAtomCharacter(byte) || ch == "." else {
                    throw fail("character '\(ch)' at position \(index + 1) cannot appear in an address")
                }
                literal.append(ch)
                index += 1
                continue
            }
            index += 1
            guard index < format.count else { throw fail("'%' at the end of the format; write %% for a literal %") }
            var limit: Int?
            var digits = ""
            while index < format.count, let digit = format[index].wholeNumberValue, format[index].isASCII, digits.count < 3 {
                digits.append(format[index])
                limit = (limit ?? 0) * 10 + digit
                index += 1
            }
            if let n = limit, !(1...99).contains(n) { throw fail("%\(digits): the length must be 1 to 99") }
            guard index < format.count else { throw fail("'%\(digits)' at the end of the format needs a token (g, s, i, d or m)") }
            let code = format[index]
            index += 1
            if code == "%" && limit == nil {
                literal.append("%")
            } else if code == "r" && limit == nil {
                guard index + 1 < format.count else { throw fail("%r needs two characters: %rxy replaces x by y, %rxx deletes x") }
                let from = format[index]
                let to = format[index + 1]
                replacements.append(Replacement(from: from, to: from == to ? nil : to))
                index += 2
            } else if let token = Token(rawValue: code) {
                flushLiteral()
                parts.append(.token(token, limit: limit, replacements: replacements))
            } else {
                throw fail("unknown token %\(digits)\(code); use %g %s %i %d %m, %Ng, %rxy or %%")
            }
        }
        flushLiteral()
        if parts.isEmpty { parts = [.token(.alias, limit: nil, replacements: [])] }  // empty format means %m
        self.text = text
        self.parts = parts
    }

    /// The address this template gives `recipient`, or nil when no usable local part results
    /// (not even the alias).
    package func render(for recipient: Recipient, transliterator: Transliterator) -> EmailAddress? {
        // Built as bytes: after sanitising only atext and dots remain, all ASCII. Dots are
        // tidied as they are appended (no leading dot, no two in a row), the trailing one last.
        var local = LocalBuffer()
        for part in parts {
            switch part {
            case .literal(let text):
                local.append(contentsOf: text)
            case .token(let token, let limit, let replacements):
                Self.appendSanitised(
                    token.value(of: recipient), limit: limit, replacements: replacements, keepsDots: token == .alias,
                    transliterator: transliterator, to: &local)
            }
        }
        local.finish()
        if local.bytes.isEmpty, LocalPart.isDotString(recipient.alias[...]) {
            local = LocalBuffer()
            local.append(contentsOf: recipient.alias)
            local.finish()
        }
        guard !local.bytes.isEmpty else { return nil }
        // Literals are atext or dots (checked at parse), token output is atext, the alias is a
        // dot-string, and dots are tidied: a canonical dot-string by construction.
        return EmailAddress(localPart: LocalPart(canonical: String(decoding: local.bytes, as: UTF8.self)), domain: domain)
    }

    /// A local part under construction: collapses dots as it goes and stops at 64 octets.
    struct LocalBuffer {
        private(set) var bytes: [UInt8] = []

        init() { bytes.reserveCapacity(LocalPart.maximumLength + 1) }

        mutating func append(_ byte: UInt8) {
            if byte == UInt8(ascii: ".") {
                guard let last = bytes.last, last != byte else { return }
            }
            // One past the limit, so a dot that is cut off there is told from a letter.
            if bytes.count <= LocalPart.maximumLength { bytes.append(byte) }
        }

        mutating func append(contentsOf text: String) {
            for byte in text.utf8 { append(byte) }
        }

        /// Cuts to 64 octets and drops a trailing dot (spec: no leading or trailing dots).
        mutating func finish() {
            if bytes.count > LocalPart.maximumLength { bytes.removeLast(bytes.count - LocalPart.maximumLength) }
            while bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        }
    }

    /// One token value through the steps of spec §2, appended to `output`.
    static func appendSanitised(
        _ value: String, limit: Int?, replacements: [Replacement], keepsDots: Bool = false, transliterator: Transliterator,
        to output: inout LocalBuffer
    ) {
        guard !value.isEmpty else { return }
        let dot = UInt8(ascii: ".")
        // The common case (ASCII, no %r rules) is a byte loop: no transliteration, no runs.
        if replacements.isEmpty {
            var value = value
            let handled = value.withUTF8 { bytes -> Bool in
                for byte in bytes where byte >= 0x80 { return false }
                let count = min(bytes.count, limit ?? Int.max)
                for i in 0..<count where LocalPart.isAtomCharacter(bytes[i]) || (keepsDots && bytes[i] == dot) {
                    output.append(bytes[i])
                }
                return true
            }
            if handled { return }
        }
        // Runs of text, each marked as from the attribute (dots removed) or from a %r rule (dots kept).
        var runs: [(text: String, fromRule: Bool)] = []
        for ch in value {
            var out: Character? = ch
            var replaced = false
            for rule in replacements where out == rule.from {
                out = rule.to
                replaced = true
            }
            guard let out else { continue }
            if let last = runs.last, last.fromRule == replaced {
                runs[runs.count - 1].text.append(out)
            } else {
                runs.append((String(out), replaced))
            }
        }
        var budget = limit ?? Int.max
        for run in runs where budget > 0 {
            var text = transliterator.ascii(run.text)
            if text.count > budget { text = String(text.prefix(budget)) }
            budget -= text.count
            for byte in text.utf8 where LocalPart.isAtomCharacter(byte) || ((run.fromRule || keepsDots) && byte == dot) {
                output.append(byte)
            }
        }
    }
}

/// Why a template cannot be saved or used; names the template.
package struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    package let template: String
    package let reason: String
    package var description: String { "template \(template): \(reason)" }
}
