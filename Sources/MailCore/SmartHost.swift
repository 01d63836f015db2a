#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A next hop as Postfix writes it in `relayhost` or a transport table.
///
/// `[10.0.0.5]`, `[relay.example.net]`, `[2001:db8::1]` (brackets: use the host as-is, no MX
/// lookup), `relay.example.net` (look up its MX records), each with an optional `:port`.
/// An unbracketed IP address is refused with the bracketed spelling as the hint, because
/// Postfix would look up MX records for it.
package struct SmartHost: Hashable, Sendable, CustomStringConvertible {
    /// A host name (normalised) or an IP address.
    package let host: String
    /// Brackets: connect to the host itself, no MX lookup.
    package let isLiteral: Bool
    package let port: Int?

    package var description: String {
        let base = isLiteral ? "[\(host)]" : host
        return port.map { "\(base):\($0)" } ?? base
    }

    package init(parsing text: String) throws(AddressError) {
        func fail(_ reason: String) -> AddressError { AddressError("smart host", text, reason) }
        guard !text.isEmpty else { throw fail("empty") }
        var hostPart: Substring
        var portPart: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("missing ']'") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after ']'") }
                portPart = after.dropFirst()
            }
            isLiteral = true
        } else {
            if Self.canonicalIP(text) != nil {
                throw fail("an IP address must be written in brackets, [\(text)]")
            }
            if let colon = text.firstIndex(of: ":") {
                hostPart = text[..<colon]
                portPart = text[text.index(after: colon)...]
            } else {
                hostPart = text[...]
            }
            isLiteral = false
        }
        if let portPart {
            guard !portPart.isEmpty, portPart.utf8.count <= 5, portPart.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let port = Int(portPart),
                (1...65535).contains(port), !portPart.hasPrefix("0")
            else { throw fail("port must be a number from 1 to 65535") }
            self.port = port
        } else {
            port = nil
        }
        if isLiteral, hostPart.lowercased().hasPrefix("ipv6:") { hostPart = hostPart.dropFirst(5) }
        guard !hostPart.isEmpty else { throw fail("empty host") }

        if let ip = Self.canonicalIP(String(hostPart)) {
            guard isLiteral else { throw fail("an IP address must be written in brackets, [\(hostPart)]") }
            host = ip
        } else {
            do {
                host = try DomainName(parsing: String(hostPart)).name
            } catch {
                throw fail(error.reason)
            }
        }
    }

    /// Parses a smart host as an operator types it: as `init(parsing:)`, and a host name whose
    /// last label is all digits is refused, since no top-level domain is (RFC 3696 §2): it is a
    /// mistyped IPv4 address ([10.0.0], [999.0.0.1], [10.0.0.05]) that Postfix could only fail
    /// to resolve. Stored rows are read with `init(parsing:)`, which an older binary's pass.
    package static func typed(_ text: String) throws(AddressError) -> SmartHost {
        let smartHost = try SmartHost(parsing: text)
        if !isIPAddress(smartHost.host), let last = smartHost.host.split(separator: ".").last,
            last.utf8.allSatisfy({ (0x30...0x39).contains($0) })
        {
            throw AddressError("smart host", text, "not a valid IPv4 address, and a host name's last label is never all digits")
        }
        return smartHost
    }

    /// Whether `text` is an IPv4 or IPv6 address.
    package static func isIPAddress(_ text: String) -> Bool { canonicalIP(text) != nil }

    /// The canonical text of an IPv4 or IPv6 address, or nil if `text` is neither.
    private static func canonicalIP(_ text: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return text }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
