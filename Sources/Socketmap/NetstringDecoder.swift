import NIOCore

/// Splits a byte stream into netstrings (`len:payload,`), the framing of Postfix's socketmap
/// protocol.
///
/// ## Protocol
/// socketmap_table(5): each request and reply is a netstring (D. J. Bernstein,
/// https://cr.yp.to/proto/netstrings.txt): decimal length, `:`, that many bytes, `,`.
///
/// ## Limits
/// A length above `maximumLength` (Postfix's 100,000-byte socketmap limit) is refused as soon
/// as its digits are read, before anything is buffered, as Postfix's `netstring_get_length`
/// does; so is a length with more digits than the limit has.
///
/// ## Errors
/// A malformed frame (a non-digit in the length, a leading zero, a missing `:` or `,`) cannot be
/// resynchronised: the decoder throws `NetstringError`, and the connection is to be closed.
package struct NetstringDecoder: ByteToMessageDecoder {
    package typealias InboundOut = ByteBuffer

    /// Postfix's socketmap request and reply limit (socketmap_max_reply_size, 100000).
    package static let defaultMaximumLength = 100_000

    package let maximumLength: Int
    private let maximumDigits: Int

    package init(maximumLength: Int = NetstringDecoder.defaultMaximumLength) {
        precondition(maximumLength > 0)
        self.maximumLength = maximumLength
        maximumDigits = String(maximumLength).count
    }

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let payload = try Self.frame(in: &buffer, maximumLength: maximumLength, maximumDigits: maximumDigits) else {
            return .needMoreData
        }
        context.fireChannelRead(wrapInboundOut(payload))
        return .continue
    }

    package mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at EOF is the client's loss; complete frames are still served.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    /// Takes one whole netstring's payload off `buffer`, or returns nil (leaving `buffer` as it
    /// was) when the frame has not fully arrived. Peeks until then, so the reader index moves
    /// only for a whole frame.
    static func frame(in buffer: inout ByteBuffer, maximumLength: Int, maximumDigits: Int) throws(NetstringError) -> ByteBuffer? {
        let start = buffer.readerIndex
        var length = 0
        var digits = 0
        var index = start
        while true {
            guard let byte = buffer.getInteger(at: index, as: UInt8.self) else { return nil }
            if byte == UInt8(ascii: ":") { break }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { throw .badLength("non-digit in the length") }
            if digits == 1 && length == 0 { throw .badLength("leading zero in the length") }
            digits += 1
            length = length * 10 + Int(byte - UInt8(ascii: "0"))
            guard digits <= maximumDigits, length <= maximumLength else { throw .tooLong(limit: maximumLength) }
            index += 1
        }
        guard digits > 0 else { throw .badLength("empty length") }
        let payloadStart = index + 1
        guard buffer.writerIndex - payloadStart >= length + 1 else { return nil }
        guard buffer.getInteger(at: payloadStart + length, as: UInt8.self) == UInt8(ascii: ",") else {
            throw .missingComma
        }
        buffer.moveReaderIndex(to: payloadStart)
        let payload = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        return payload
    }
}

/// Why a netstring stream cannot go on.
package enum NetstringError: Error, Equatable, Sendable, CustomStringConvertible {
    case badLength(String)
    case tooLong(limit: Int)
    case missingComma

    package var description: String {
        switch self {
        case .badLength(let why): "malformed netstring: \(why)"
        case .tooLong(let limit): "netstring longer than \(limit) bytes"
        case .missingComma: "malformed netstring: missing ',' after the payload"
        }
    }
}

extension ByteBuffer {
    /// Appends `payload` as one netstring.
    package mutating func writeNetstring(_ payload: some Collection<UInt8>) {
        writeString(String(payload.count))
        writeInteger(UInt8(ascii: ":"))
        writeBytes(payload)
        writeInteger(UInt8(ascii: ","))
    }
}
