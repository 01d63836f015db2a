import MailCore

/// Recursive-descent parser for RecipientFilter. Works on Unicode scalars so columns count
/// characters as an operator sees them.
struct FilterParser {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var depth = 0

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    mutating func parseWhole() throws(FilterError) -> RecipientFilter {
        guard scalars.count <= RecipientFilter.maximumLength else {
            throw FilterError(message: "longer than \(RecipientFilter.maximumLength) characters", column: RecipientFilter.maximumLength + 1)
        }
        guard !scalars.isEmpty else { throw FilterError(message: "empty filter; expected '('", column: 1) }
        let filter = try parseFilter()
        guard position == scalars.count else { throw error("unexpected text after the filter") }
        return filter
    }

    private var column: Int { position + 1 }
    private var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private func error(_ message: String) -> FilterError { FilterError(message: message, column: column) }

    private mutating func expect(_ scalar: Unicode.Scalar) throws(FilterError) {
        guard current == scalar else {
            throw error(current == nil ? "expected '\(scalar)', found the end" : "expected '\(scalar)'")
        }
        position += 1
    }

    private mutating func parseFilter() throws(FilterError) -> RecipientFilter {
        try expect("(")
        depth += 1
        guard depth <= RecipientFilter.maximumDepth else {
            throw error("nested deeper than \(RecipientFilter.maximumDepth) levels")
        }
        let result: RecipientFilter
        switch current {
        case "&":
            position += 1
            result = .and(try parseList("&"))
        case "|":
            position += 1
            result = .or(try parseList("|"))
        case "!":
            position += 1
            result = .not(try parseFilter())
        case nil:
            throw error("expected a filter, found the end")
        default:
            result = try parseItem()
        }
        try expect(")")
        depth -= 1
        return result
    }

    private mutating func parseList(_ op: Character) throws(FilterError) -> [RecipientFilter] {
        var list: [RecipientFilter] = []
        while current == "(" { list.append(try parseFilter()) }
        if list.isEmpty { throw error("expected '(' after '\(op)': it needs at least one filter") }
        return list
    }

    private mutating func parseItem() throws(FilterError) -> RecipientFilter {
        let attributeColumn = column
        let name = parseAttributeName()
        guard !name.isEmpty else { throw error("expected an attribute name") }
        if current == ":" { throw error("extensible match filters are not supported") }
        let attribute = try resolve(name, column: attributeColumn)

        switch current {
        case "~":
            position += 1
            try expect("=")
            return .approximate(attribute, try parsePlainValue())
        case ">":
            position += 1
            try expect("=")
            return .greaterOrEqual(attribute, try parsePlainValue())
        case "<":
            position += 1
            try expect("=")
            return .lessOrEqual(attribute, try parsePlainValue())
        case "=":
            position += 1
        case nil:
            throw error("expected '=', '~=', '>=' or '<=', found the end")
        default:
            throw error("expected '=', '~=', '>=' or '<=' after attribute \(name)")
        }

        // '=' : equality, presence or substrings, told apart by unescaped '*'.
        var pieces: [String] = []
        var piece = try parseValue()
        var sawStar = false
        while current == "*" {
            sawStar = true
            position += 1
            pieces.append(piece)
            // Two '*' in a row: an empty middle substring, reported at the second '*'.
            if current == "*" { throw error("empty substring between two '*'") }
            piece = try parseValue()
        }
        if !sawStar { return .equal(attribute, RecipientFilter.fold(piece)) }
        pieces.append(piece)
        if pieces.count == 2 && pieces[0].isEmpty && pieces[1].isEmpty { return .present(attribute) }
        let folded = pieces.map(RecipientFilter.fold)
        let middle = Array(folded.dropFirst().dropLast())  // never empty strings: '**' is refused above
        return .substrings(attribute, initial: folded.first ?? "", any: middle, final: folded.last ?? "")
    }

    /// `attributedescription`: a descriptor (letters, digits, hyphens) or an OID.
    private mutating func parseAttributeName() -> String {
        var name = ""
        while let scalar = current, scalar.isASCII,
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "." || scalar == ";"
        {
            name.unicodeScalars.append(scalar)
            position += 1
        }
        return name
    }

    private func resolve(_ name: String, column: Int) throws(FilterError) -> FilterAttribute {
        let lower = name.lowercased()
        if FilterAttribute.derived.contains(lower) {
            throw FilterError(message: "\(name) is derived from the addresses policies stamp and cannot be filtered on", column: column)
        }
        guard let attribute = FilterAttribute.known[lower] else {
            throw FilterError(message: "unknown attribute \(name)", column: column)
        }
        return attribute
    }

    /// A value with no unescaped '*' allowed (for ~=, >=, <=), folded for comparison.
    private mutating func parsePlainValue() throws(FilterError) -> String {
        let value = try parseValue()
        if current == "*" { throw error("'*' is only allowed with '='; write \\2a for a literal '*'") }
        return RecipientFilter.fold(value)
    }

    /// An assertion value up to ')' or an unescaped '*', with `\XX` escapes decoded as UTF-8.
    private mutating func parseValue() throws(FilterError) -> String {
        let startColumn = column
        var bytes: [UInt8] = []
        while let scalar = current, scalar != ")", scalar != "*" {
            switch scalar {
            case "(":
                throw error("'(' must be escaped as \\28 in a value")
            case "\0":
                throw error("NUL must be escaped as \\00 in a value")
            case "\\":
                let escapeColumn = column
                guard let high = hexValue(at: position + 1), let low = hexValue(at: position + 2) else {
                    throw FilterError(message: "'\\' must be followed by two hex digits", column: escapeColumn)
                }
                bytes.append(high << 4 | low)
                position += 3
            default:
                bytes.append(contentsOf: String(scalar).utf8)
                position += 1
            }
        }
        guard let value = String(validating: bytes, as: UTF8.self) else {
            throw FilterError(message: "escaped value is not valid UTF-8", column: startColumn)
        }
        return value
    }

    private func hexValue(at index: Int) -> UInt8? {
        guard index < scalars.count else { return nil }
        let v = scalars[index].value
        switch v {
        case 0x30...0x39: return UInt8(v - 0x30)
        case 0x41...0x46: return UInt8(v - 0x41 + 10)
        case 0x61...0x66: return UInt8(v - 0x61 + 10)
        default: return nil
        }
    }
}
