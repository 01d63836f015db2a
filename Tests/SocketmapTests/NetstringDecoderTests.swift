import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import Socketmap

@Suite struct NetstringDecoderTests {
    /// Feeds `input` to a fresh decoder in chunks of `chunk` bytes; returns the payloads read
    /// and the error the channel raised, if any.
    private func decode(_ input: String, chunk: Int, maximumLength: Int = NetstringDecoder.defaultMaximumLength) throws -> (payloads: [String], error: (any Error)?) {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(NetstringDecoder(maximumLength: maximumLength)))
        var payloads: [String] = []
        var failure: (any Error)?
        let bytes = Array(input.utf8)
        var offset = 0
        while offset < bytes.count, failure == nil {
            let end = min(offset + chunk, bytes.count)
            do {
                try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<end]))
            } catch {
                failure = error
            }
            offset = end
            while let payload = try channel.readInbound(as: ByteBuffer.self) { payloads.append(String(buffer: payload)) }
        }
        _ = try? channel.finish()
        return (payloads, failure)
    }

    static let chunkSizes = [1, 2, 7, 1_000_000]

    @Test(arguments: chunkSizes)
    func framesArriveWholeWhateverTheChunking(chunk: Int) throws {
        let input = "21:virtual_alias a@b.com,28:transport User+x@CONTOSO.com,0:,"
        let result = try decode(input, chunk: chunk)
        #expect(result.error == nil)
        #expect(result.payloads == ["virtual_alias a@b.com", "transport User+x@CONTOSO.com", ""])
    }

    @Test(arguments: chunkSizes)
    func aLengthAboveTheLimitIsRefusedBeforeItsPayloadArrives(chunk: Int) throws {
        // Only the prefix is sent: the decoder must not wait for 100,001 bytes.
        let result = try decode("100001:", chunk: chunk)
        #expect(result.error as? NetstringError == .tooLong(limit: 100_000))
        let digits = try decode("0000000000000001:x,", chunk: chunk)
        #expect(digits.error as? NetstringError == .badLength("leading zero in the length"))
        let many = try decode("12345678:", chunk: chunk, maximumLength: 1000)
        #expect(many.error as? NetstringError == .tooLong(limit: 1000))
    }

    @Test(arguments: [
        ("x:abc,", NetstringError.badLength("non-digit in the length")),
        ("3x:abc,", NetstringError.badLength("non-digit in the length")),
        ("03:abc,", NetstringError.badLength("leading zero in the length")),
        (":abc,", NetstringError.badLength("empty length")),
        ("3:abcd", NetstringError.missingComma),
        ("-1:,", NetstringError.badLength("non-digit in the length")),
    ])
    func malformedFramesAreRefused(input: String, expected: NetstringError) throws {
        for chunk in Self.chunkSizes {
            let result = try decode(input, chunk: chunk)
            #expect(result.error as? NetstringError == expected, "chunk \(chunk)")
        }
    }

    @Test func framesBeforeAMalformedOneAreStillDelivered() throws {
        let result = try decode("3:abc,3:de", chunk: 1_000)
        #expect(result.payloads == ["abc"])
        #expect(result.error == nil, "an incomplete frame is waited for, not refused")
        let bad = try decode("3:abc,zz", chunk: 1_000)
        #expect(bad.payloads == ["abc"])
        #expect(bad.error != nil)
    }

    @Test func aFrameAtExactlyTheLimitIsAccepted() throws {
        let payload = String(repeating: "k", count: 100_000)
        let result = try decode("100000:\(payload),", chunk: 4096)
        #expect(result.error == nil)
        #expect(result.payloads.first?.count == 100_000)
    }

    /// NIO's own verifier: drip-fed byte by byte and all at once, the same frames come out.
    @Test func passesNIOsDecoderVerifier() throws {
        let pairs: [(ByteBuffer, [ByteBuffer])] = [
            (ByteBuffer(string: "5:hello,"), [ByteBuffer(string: "hello")]),
            (ByteBuffer(string: "0:,"), [ByteBuffer(string: "")]),
            (ByteBuffer(string: "3:a b,4:c,d:,"), [ByteBuffer(string: "a b"), ByteBuffer(string: "c,d:")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { NetstringDecoder() }
    }
}

@Suite struct SocketmapMessageTests {
    @Test func aRequestIsTheMapNameAndTheKey() throws {
        let request = try #require(SocketmapRequest(payload: ByteBuffer(string: "transport User+tag@Contoso.COM")))
        #expect(request.map == "transport")
        #expect(request.keyText == "User+tag@Contoso.COM")
        let spaced = try #require(SocketmapRequest(payload: ByteBuffer(string: "access a b c")))
        #expect(spaced.keyText == "a b c", "the key is everything after the first space")
    }

    @Test(arguments: ["", "nospace", " leadingspace", "bad\u{1}name key"])
    func aPayloadThatIsNotNameSpaceKeyIsRefused(payload: String) {
        #expect(SocketmapRequest(payload: ByteBuffer(string: payload)) == nil)
    }

    @Test func aKeyThatIsNotUTF8IsKeptAsBytes() throws {
        var buffer = ByteBuffer(string: "virtual_alias ")
        buffer.writeBytes([0xFF, 0xFE, 0x41])
        let request = try #require(SocketmapRequest(payload: buffer))
        #expect(request.keyText == nil)
        #expect(request.key == [0xFF, 0xFE, 0x41])
    }

    @Test(arguments: [
        (SocketmapReply.found("smtp:[10.0.0.5]"), "18:OK smtp:[10.0.0.5],"),
        (SocketmapReply.notFound, "9:NOTFOUND ,"),
        (SocketmapReply.temporaryFailure("database busy"), "18:TEMP database busy,"),
        (SocketmapReply.timeout("slow"), "12:TIMEOUT slow,"),
        (SocketmapReply.permanentFailure("unknown map"), "16:PERM unknown map,"),
    ])
    func repliesAreFramedAsPostfixReadsThem(reply: SocketmapReply, wire: String) {
        #expect(String(buffer: reply.netstring()) == wire)
    }

    @Test func aReplyOverTheLimitBecomesPERM() {
        let reply = SocketmapReply.found(String(repeating: "x", count: 100_000))
        #expect(String(buffer: reply.netstring()) == "19:PERM reply too long,")
    }
}
