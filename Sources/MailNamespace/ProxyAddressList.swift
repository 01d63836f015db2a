/// csvde's way of writing a multi-valued `proxyAddresses` in one CSV field: the addresses
/// separated by `;`. An address may hold `;` itself (Exchange UM's
/// `EUM:4711;phone-context=dp.contoso.com`, SIP URI parameters), and every proxy address
/// starts with a type prefix, so a piece without one is the rest of the address before it.
enum ProxyAddressList {
    /// The addresses of a CSV `proxyAddresses` field: split on `;`, a piece that does not
    /// start with a type prefix joined back to the address before it; blank pieces (a
    /// trailing `;`, `;;`) separate nothing and are dropped.
    static func split(_ field: String) -> [String] {
        var addresses: [String] = []
        for piece in field.split(separator: ";", omittingEmptySubsequences: false) {
            let trimmed = String(piece).trimmingSpaces
            if trimmed.isEmpty { continue }
            if addresses.isEmpty || startsWithTypePrefix(trimmed) {
                addresses.append(trimmed)
            } else {
                addresses[addresses.count - 1] += ";" + piece
            }
        }
        return addresses.map(\.trimmingSpaces)
    }

    /// The first piece of `address` after a `;` that `split` would read as an address of its
    /// own (or drop, when blank), or nil when the address reads back whole.
    static func ambiguousPiece(of address: String) -> String? {
        for piece in address.split(separator: ";", omittingEmptySubsequences: false).dropFirst() {
            let trimmed = String(piece).trimmingSpaces
            if trimmed.isEmpty || startsWithTypePrefix(trimmed) { return String(piece) }
        }
        return nil
    }

    /// 1 to 16 letters, digits or hyphens, then `:` (`SMTP:`, `x500:`, `EUM:`, `MS-Fax:`…).
    static func startsWithTypePrefix(_ text: String) -> Bool {
        var count = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ":") { return count > 0 }
            let isLetter = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
            let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            guard isLetter || isDigit || byte == UInt8(ascii: "-"), count < 16 else { return false }
            count += 1
        }
        return false
    }
}
