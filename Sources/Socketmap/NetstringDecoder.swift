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
        maximumDigits = Netstring.maximumDigits(for: maximumLength)
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
    /// was) when the frame has not fully arrived: the reader index moves only for a whole frame.
    static func frame(in buffer: inout ByteBuffer, maximumLength: Int, maximumDigits: Int) throws(NetstringError) -> ByteBuffer? {
        let scan = try buffer.withUnsafeReadableBytes { bytes throws(NetstringError) in
            try Netstring.scan(bytes, maximumLength: maximumLength, maximumDigits: maximumDigits)
        }
        guard case .frame(let payload, let next) = scan else { return nil }
        let start = buffer.readerIndex
        buffer.moveReaderIndex(forwardBy: payload.lowerBound)
        let slice = buffer.readSlice(length: payload.count)!
        buffer.moveReaderIndex(to: start + next)
        return slice
    }
}
