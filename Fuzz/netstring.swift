// libFuzzer target: the netstring framing. Properties: the frames read off a stream, framed
// again, give back exactly the bytes they were read from (a netstring has one spelling); no
// payload exceeds the limit; and feeding the same bytes in small pieces, as a socket does,
// gives the same frames and the same error at the same place as reading them all at once.
import Socketmap

struct Outcome: Equatable {
    var payloads: [[UInt8]] = []
    var consumed = 0
    var error: NetstringError?
}

/// Reads frames off `bytes` until one is incomplete or malformed; `available` bytes arrive at a time.
func read(_ bytes: [UInt8], maximumLength: Int, chunk: Int) -> Outcome {
    let digits = Netstring.maximumDigits(for: maximumLength)
    var outcome = Outcome()
    var available = min(chunk, bytes.count)
    while true {
        let scan: Netstring.Scan
        do {
            scan = try bytes[outcome.consumed..<available].withUnsafeBytes { window throws(NetstringError) in
                try Netstring.scan(window, maximumLength: maximumLength, maximumDigits: digits)
            }
        } catch {
            // withUnsafeBytes rethrows untyped; scan throws nothing but NetstringError.
            guard let error = error as? NetstringError else { fatalError("unexpected error \(error)") }
            outcome.error = error
            return outcome
        }
        switch scan {
        case .frame(let payload, let next):
            let start = outcome.consumed
            outcome.payloads.append(Array(bytes[(start + payload.lowerBound)..<(start + payload.upperBound)]))
            outcome.consumed += next
        case .needMoreData:
            if available == bytes.count { return outcome }
            available = min(available + chunk, bytes.count)
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    // The first byte picks the limit and the piece size, so both vary with the input.
    let control = Int(data[0])
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let maximumLength = [1, 9, 10, 99, 100, 1000, 100_000][control % 7]
    let whole = read(bytes, maximumLength: maximumLength, chunk: max(bytes.count, 1))

    let reframed = whole.payloads.flatMap { Netstring.encode($0) }
    precondition(reframed == Array(bytes[..<whole.consumed]), "frames \(whole.payloads) do not reframe to the bytes they came from")
    precondition(whole.payloads.allSatisfy { $0.count <= maximumLength }, "a payload over the limit \(maximumLength)")
    if whole.error == nil && whole.consumed < bytes.count {
        // What is left must be a true prefix of a frame: completing it gives one more frame.
        let rest = Array(bytes[whole.consumed...])
        if let colon = rest.firstIndex(of: UInt8(ascii: ":")), let length = Int(String(decoding: rest[..<colon], as: UTF8.self)) {
            precondition(rest.count < colon + length + 2, "a whole frame was left unread: \(rest)")
        }
    }

    let piecewise = read(bytes, maximumLength: maximumLength, chunk: 1 + control / 7 % 7)
    precondition(piecewise == whole, "in pieces: \(piecewise), at once: \(whole)")
    return 0
}
