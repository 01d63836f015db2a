import NIOCore

/// One socketmap request: `name key`, the map Postfix asks and the key it looks up.
package struct SocketmapRequest: Equatable, Sendable {
    package let map: String
    /// The key as Postfix sent it (mixed case, full address); bytes, since nothing promises UTF-8.
    package let key: [UInt8]

    /// The key as text, or nil when it is not valid UTF-8.
    package var keyText: String? { String(validating: key, as: UTF8.self) }

    /// Parses a netstring payload; nil when it is not `name SP key` with a printable ASCII name.
    package init?(payload: ByteBuffer) {
        let bytes = payload.readableBytesView
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")), space > bytes.startIndex else { return nil }
        let name = bytes[..<space]
        guard name.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        map = String(decoding: name, as: UTF8.self)
        key = Array(bytes[bytes.index(after: space)...])
    }

    package init(map: String, key: String) {
        self.map = map
        self.key = Array(key.utf8)
    }
}

/// A socketmap reply (socketmap_table(5)).
package enum SocketmapReply: Equatable, Sendable {
    /// `OK data`: the key was found.
    case found(String)
    /// `NOTFOUND `: the key does not exist. The only reply Postfix turns into a 5xx.
    case notFound
    /// `TEMP reason`: try again later (Postfix answers 451 4.3.0 and retries).
    case temporaryFailure(String)
    /// `TIMEOUT reason`: the lookup took too long (Postfix treats it as TEMP).
    case timeout(String)
    /// `PERM reason`: a configuration error, or a request that cannot be served.
    case permanentFailure(String)

    /// The reply's text, before netstring framing.
    package var text: String { status + detail }

    private var status: String {
        switch self {
        case .found: "OK "
        case .notFound: "NOTFOUND "
        case .temporaryFailure: "TEMP "
        case .timeout: "TIMEOUT "
        case .permanentFailure: "PERM "
        }
    }

    private var detail: String {
        switch self {
        case .found(let text), .temporaryFailure(let text), .timeout(let text), .permanentFailure(let text): text
        case .notFound: ""
        }
    }

    /// The reply framed as a netstring; a reply over `maximumLength` becomes a PERM, which
    /// Postfix would refuse to read anyway. Written straight into one buffer: this runs once
    /// per lookup.
    package func netstring(maximumLength: Int = NetstringDecoder.defaultMaximumLength) -> ByteBuffer {
        let status = self.status
        let detail = self.detail
        let length = status.utf8.count + detail.utf8.count
        if length > maximumLength {
            // Framed without the limit: the fallback itself must not be refused again.
            return SocketmapReply.permanentFailure("reply too long").netstring(maximumLength: .max)
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(length + 8)
        buffer.writeString(String(length))
        buffer.writeInteger(UInt8(ascii: ":"))
        buffer.writeString(status)
        buffer.writeString(detail)
        buffer.writeInteger(UInt8(ascii: ","))
        return buffer
    }
}
