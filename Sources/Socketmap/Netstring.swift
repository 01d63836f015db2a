/// The netstring framing rules over plain bytes, apart from NIO so that they can be fuzzed on
/// their own (scripts/fuzz compiles this file alone) and the decoder stays a thin adapter.
///
/// A netstring is `len:payload,` (https://cr.yp.to/proto/netstrings.txt): decimal length with
/// no leading zero, `:`, that many bytes, `,`.
package enum Netstring {
    /// What the start of a byte stream holds.
    package enum Scan: Equatable, Sendable {
        /// Not a whole frame yet, and nothing wrong so far.
        case needMoreData
        /// One whole frame: its payload's range in the scanned bytes, and where the next frame starts.
        case frame(payload: Range<Int>, next: Int)
    }

    /// The number of digits of the longest length allowed, so that a too-long length is refused
    /// after at most that many digits, before anything is buffered.
    package static func maximumDigits(for maximumLength: Int) -> Int {
        precondition(maximumLength > 0)
        var digits = 1
        var rest = maximumLength
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }

    /// Scans the first frame of `bytes`. Throws as soon as the bytes seen prove the stream
    /// malformed: a stream cannot be resynchronised after a bad frame.
    package static func scan(
        _ bytes: UnsafeRawBufferPointer, maximumLength: Int, maximumDigits: Int
    ) throws(NetstringError) -> Scan {
        var length = 0
        var digits = 0
        var index = 0
        while true {
            guard index < bytes.count else { return .needMoreData }
            let byte = bytes[index]
            if byte == UInt8(ascii: ":") { break }
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { throw .badLength("non-digit in the length") }
            if digits == 1 && length == 0 { throw .badLength("leading zero in the length") }
            digits += 1
            length = length * 10 + Int(byte - UInt8(ascii: "0"))
            guard digits <= maximumDigits, length <= maximumLength else { throw .tooLong(limit: maximumLength) }
            index += 1
        }
        guard digits > 0 else { throw .badLength("empty length") }
        let payloadStart = index + 1
        guard bytes.count - payloadStart >= length + 1 else { return .needMoreData }
        guard bytes[payloadStart + length] == UInt8(ascii: ",") else { throw .missingComma }
        return .frame(payload: payloadStart..<(payloadStart + length), next: payloadStart + length + 1)
    }

    /// `payload` framed as one netstring.
    package static func encode(_ payload: some Collection<UInt8>) -> [UInt8] {
        var bytes = Array(String(payload.count).utf8)
        bytes.reserveCapacity(bytes.count + payload.count + 2)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: payload)
        bytes.append(UInt8(ascii: ","))
        return bytes
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
