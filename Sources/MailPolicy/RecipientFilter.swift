import MailCore

/// An RFC 4515 LDAP filter over recipient attributes, as a recipient policy's selector.
///
/// ## Grammar (RFC 4515 §3)
/// `(&…)`, `(|…)`, `(!…)`, `(attr=value)`, `(attr=*)` (presence), `(attr=a*b*c)` (substrings),
/// `(attr>=value)`, `(attr<=value)`, `(attr~=value)`, with `\XX` escapes in values. Extensible
/// matches (`attr:rule:=value`) are refused.
///
/// ## Matching
/// Attribute names and values compare case-insensitively, as AD's directory strings do.
/// `~=` is case-insensitive equality; `>=`/`<=` compare the case-folded strings. An attribute
/// the recipient lacks makes every item on it false (so `(!(department=Temp))` matches a
/// recipient without a department, as in AD).
///
/// ## Attributes
/// AD's names for what the directory stores (`mailNickname`, `givenName`, `sn`, `company`, …,
/// `targetAddress`) and `objectClass` (`user` for mailboxes and remote recipients, `contact` for
/// contacts). Derived attributes (`proxyAddresses`, `mail`) are refused: a policy that selects
/// on the addresses it stamps would change its own selection.
///
/// ## Limits
/// Nesting deeper than `maximumDepth` and filters longer than `maximumLength` are refused, so
/// no input can exhaust the stack or run long.
package indirect enum RecipientFilter: Equatable, Sendable, CustomStringConvertible {
    case and([RecipientFilter])
    case or([RecipientFilter])
    case not(RecipientFilter)
    case equal(FilterAttribute, String)
    case approximate(FilterAttribute, String)
    case greaterOrEqual(FilterAttribute, String)
    case lessOrEqual(FilterAttribute, String)
    case present(FilterAttribute)
    /// `initial*any*…*final`; empty initial/final mean none.
    case substrings(FilterAttribute, initial: String, any: [String], final: String)

    package static let maximumDepth = 32
    package static let maximumLength = 4096

    /// Parses `text`; throws `FilterError` naming what was expected and the 1-based column.
    package init(parsing text: String) throws(FilterError) {
        var parser = FilterParser(text)
        self = try parser.parseWhole()
    }

    /// The filter in RFC 4515 text, values re-escaped; parses back to an equal filter.
    package var description: String {
        switch self {
        case .and(let list): "(&" + list.map(\.description).joined() + ")"
        case .or(let list): "(|" + list.map(\.description).joined() + ")"
        case .not(let inner): "(!" + inner.description + ")"
        case .equal(let a, let v): "(\(a.name)=\(Self.escape(v)))"
        case .approximate(let a, let v): "(\(a.name)~=\(Self.escape(v)))"
        case .greaterOrEqual(let a, let v): "(\(a.name)>=\(Self.escape(v)))"
        case .lessOrEqual(let a, let v): "(\(a.name)<=\(Self.escape(v)))"
        case .present(let a): "(\(a.name)=*)"
        case .substrings(let a, let initial, let any, let final):
            "(\(a.name)=" + Self.escape(initial) + "*" + any.map { Self.escape($0) + "*" }.joined() + Self.escape(final) + ")"
        }
    }

    /// Escapes the characters RFC 4515 requires escaped in an assertion value.
    static func escape(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "*": out += "\\2a"
            case "(": out += "\\28"
            case ")": out += "\\29"
            case "\\": out += "\\5c"
            case "\0": out += "\\00"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    // MARK: - Matching

    /// True if `recipient` is selected by this filter.
    package func matches(_ recipient: Recipient) -> Bool {
        switch self {
        case .and(let list): return list.allSatisfy { $0.matches(recipient) }
        case .or(let list): return list.contains { $0.matches(recipient) }
        case .not(let inner): return !inner.matches(recipient)
        case .present(let attribute): return attribute.value(of: recipient) != nil
        case .equal(let attribute, let folded), .approximate(let attribute, let folded):
            guard let value = attribute.value(of: recipient) else { return false }
            return Self.fold(value) == folded
        case .greaterOrEqual(let attribute, let folded):
            guard let value = attribute.value(of: recipient) else { return false }
            return Self.fold(value) >= folded
        case .lessOrEqual(let attribute, let folded):
            guard let value = attribute.value(of: recipient) else { return false }
            return Self.fold(value) <= folded
        case .substrings(let attribute, let initial, let any, let final):
            guard let value = attribute.value(of: recipient) else { return false }
            return Self.matchesSubstrings(Self.fold(value), initial: initial, any: any, final: final)
        }
    }

    /// Case folding for comparison; assertion values are folded once, at parse time.
    static func fold(_ value: String) -> String {
        value.lowercased()
    }

    private static func matchesSubstrings(_ value: String, initial: String, any: [String], final: String) -> Bool {
        var rest = Substring(value)
        if !initial.isEmpty {
            guard rest.hasPrefix(initial) else { return false }
            rest = rest.dropFirst(initial.count)
        }
        for piece in any {
            guard let range = rest.range(of: piece) else { return false }
            rest = rest[range.upperBound...]
        }
        if !final.isEmpty { return rest.hasSuffix(final) }
        return true
    }
}

/// Why a filter did not parse, with the 1-based character column where it went wrong.
package struct FilterError: Error, Sendable, Equatable, CustomStringConvertible {
    package let message: String
    package let column: Int

    package var description: String { "filter: \(message) at column \(column)" }
}

/// An attribute a filter may test, resolved once at parse time.
package struct FilterAttribute: Equatable, Sendable {
    package enum Source: Equatable, Sendable {
        case alias
        case objectClass
        case targetAddress
        case attribute(RecipientAttribute)
    }

    /// The canonical AD spelling, for printing.
    package let name: String
    package let source: Source

    /// The recipient's value, or nil when it has none.
    func value(of recipient: Recipient) -> String? {
        switch source {
        case .alias: recipient.alias
        case .objectClass: recipient.kind == .contact ? "contact" : "user"
        case .targetAddress: recipient.targetAddress?.description
        case .attribute(let attribute): recipient.attributes[attribute]
        }
    }

    /// Names a filter may use, lower-cased, to their resolution.
    static let known: [String: FilterAttribute] = {
        var table: [String: FilterAttribute] = [
            "mailnickname": FilterAttribute(name: "mailNickname", source: .alias),
            "objectclass": FilterAttribute(name: "objectClass", source: .objectClass),
            "targetaddress": FilterAttribute(name: "targetAddress", source: .targetAddress),
        ]
        for attribute in RecipientAttribute.allCases {
            table[attribute.adName.lowercased()] = FilterAttribute(name: attribute.adName, source: .attribute(attribute))
        }
        return table
    }()

    /// Attributes computed from others; refused in filters.
    static let derived: Set<String> = ["proxyaddresses", "mail"]
}
