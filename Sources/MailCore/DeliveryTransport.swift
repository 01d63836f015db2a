/// How mailboxes are delivered: Postfix's virtual(8) into Maildirs, or LMTP to a mailbox server.
///
/// Written `virtual` or `lmtp:HOST:PORT` (`lmtp:[::1]:24` for IPv6); stored as that text.
package enum DeliveryTransport: Hashable, Sendable, CustomStringConvertible {
    case virtual
    case lmtp(host: String, port: Int)

    package var description: String {
        switch self {
        case .virtual: "virtual"
        case .lmtp(let host, let port): "lmtp:\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
    }

    /// The transport as a Postfix transport table (transport(5)) writes it.
    package var postfixTransport: String {
        switch self {
        case .virtual: "virtual:"
        case .lmtp(let host, let port): "lmtp:inet:\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
    }

    package init(parsing text: String) throws(AddressError) {
        func fail(_ reason: String) -> AddressError { AddressError("delivery transport", text, reason) }
        if text == "virtual" {
            self = .virtual
            return
        }
        guard text.hasPrefix("lmtp:") else { throw fail("use virtual or lmtp:HOST:PORT") }
        let rest = text.dropFirst(5)
        guard let colon = rest.lastIndex(of: ":") else { throw fail("lmtp needs a port: lmtp:HOST:PORT") }
        var host = String(rest[..<colon])
        let portText = rest[rest.index(after: colon)...]
        guard let port = Int(portText), (1...65535).contains(port), !portText.hasPrefix("0"), !portText.hasPrefix("+") else {
            throw fail("port must be a number from 1 to 65535")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // Reuse the smart-host rules for the host: a name or an IP literal.
        let parsed: SmartHost
        do {
            parsed = try SmartHost(parsing: host.contains(":") || SmartHost.isIPAddress(host) ? "[\(host)]" : host)
        } catch {
            throw fail(error.reason)
        }
        guard text.utf8.count <= 300 else { throw fail("longer than 300 characters") }
        self = .lmtp(host: parsed.host, port: port)
    }
}
