import Testing

@testable import MailCore

@Suite struct SmartHostTests {
    /// (input, host, isLiteral, port, description)
    static let validHosts: [(String, String, Bool, Int?, String)] = [
        ("[10.0.0.5]", "10.0.0.5", true, nil, "[10.0.0.5]"),
        ("[10.0.0.5]:2525", "10.0.0.5", true, 2525, "[10.0.0.5]:2525"),
        ("[192.0.2.1]:1", "192.0.2.1", true, 1, "[192.0.2.1]:1"),
        ("[192.0.2.1]:65535", "192.0.2.1", true, 65535, "[192.0.2.1]:65535"),
        ("[relay.example.net]", "relay.example.net", true, nil, "[relay.example.net]"),
        ("[Relay.Example.NET]:587", "relay.example.net", true, 587, "[relay.example.net]:587"),
        ("relay.example.net", "relay.example.net", false, nil, "relay.example.net"),
        ("relay.example.net:25", "relay.example.net", false, 25, "relay.example.net:25"),
        ("RELAY.Example.net.", "relay.example.net", false, nil, "relay.example.net"),
        ("relay.bücher.de:2525", "relay.xn--bcher-kva.de", false, 2525, "relay.xn--bcher-kva.de:2525"),
        ("localhost", "localhost", false, nil, "localhost"),
        ("[2001:db8::1]", "2001:db8::1", true, nil, "[2001:db8::1]"),
        ("[2001:db8::1]:25", "2001:db8::1", true, 25, "[2001:db8::1]:25"),
        // IPv6 is canonicalised (RFC 5952): lower case, zeros compressed; the IPv6: tag dropped.
        ("[ipv6:2001:DB8::1]", "2001:db8::1", true, nil, "[2001:db8::1]"),
        ("[IPv6:2001:0db8:0000:0000:0000:0000:0000:0001]", "2001:db8::1", true, nil, "[2001:db8::1]"),
        ("[2001:DB8:0:0:0:0:0:1]:2525", "2001:db8::1", true, 2525, "[2001:db8::1]:2525"),
        ("[::1]", "::1", true, nil, "[::1]"),
    ]

    @Test(arguments: validHosts)
    func parsesHostLiteralFlagAndPort(input: String, host: String, isLiteral: Bool, port: Int?, description: String) throws {
        let smartHost = try SmartHost(parsing: input)
        #expect(smartHost.host == host)
        #expect(smartHost.isLiteral == isLiteral)
        #expect(smartHost.port == port)
        #expect(smartHost.description == description)
    }

    @Test(arguments: validHosts.map { $0.0 })
    func descriptionRoundTrips(input: String) throws {
        let smartHost = try SmartHost(parsing: input)
        let reparsed = try SmartHost(parsing: smartHost.description)
        #expect(reparsed == smartHost)
        #expect(reparsed.description == smartHost.description)
    }

    @Test(arguments: ["10.0.0.5", "10.0.0.5:25", "192.0.2.1:2525"])
    func refusesUnbracketedIPv4WithBracketedHint(input: String) {
        let error = #expect(throws: AddressError.self) { try SmartHost(parsing: input) }
        let host = input.split(separator: ":").first.map(String.init) ?? input
        #expect(error?.reason == "an IP address must be written in brackets, [\(host)]")
    }

    /// (input, a fragment the reason must contain)
    static let invalidHosts: [(String, String)] = [
        ("", "empty"),
        ("[10.0.0.5", "missing ']'"),
        ("[2001:db8::1", "missing ']'"),
        ("[]", "empty host"),
        ("[]:25", "empty host"),
        ("[ipv6:]", "empty host"),
        (":25", "empty host"),
        ("[10.0.0.5]x", "unexpected text after ']'"),
        ("[10.0.0.5] :25", "unexpected text after ']'"),
        ("[10.0.0.5]]", "unexpected text after ']'"),
        ("relay.example.net:0", "port must be a number from 1 to 65535"),
        ("relay.example.net:65536", "port must be a number from 1 to 65535"),
        ("relay.example.net:99999", "port must be a number from 1 to 65535"),
        ("relay.example.net:123456", "port must be a number from 1 to 65535"),
        ("relay.example.net:abc", "port must be a number from 1 to 65535"),
        ("relay.example.net:025", "port must be a number from 1 to 65535"),
        ("relay.example.net:00", "port must be a number from 1 to 65535"),
        ("relay.example.net:-1", "port must be a number from 1 to 65535"),
        ("relay.example.net:", "port must be a number from 1 to 65535"),
        ("relay.example.net:25:26", "port must be a number from 1 to 65535"),
        ("relay.example.net: 25", "port must be a number from 1 to 65535"),
        ("relay.example.net:２５", "port must be a number from 1 to 65535"),  // full-width digits
        ("[10.0.0.5]:0", "port must be a number from 1 to 65535"),
        ("[10.0.0.5]:65536", "port must be a number from 1 to 65535"),
        ("[10.0.0.5]:", "port must be a number from 1 to 65535"),
        ("relay_1.example.net", "character '_'"),

        ("relay..example.net", "empty label"),
        ("-relay.example.net", "starts or ends with a hyphen"),
        ("[relay..example.net]", "empty label"),
    ]

    @Test(arguments: invalidHosts)
    func refusesInvalidSmartHostWithMeaningfulReason(input: String, reasonFragment: String) {
        let error = #expect(throws: AddressError.self) { try SmartHost(parsing: input) }
        #expect(error?.reason.contains(reasonFragment) == true, "reason was: \(error?.reason ?? "nil")")
        #expect(error?.subject == "smart host")
        #expect(error?.input == input)
    }

    @Test func refusesUnbracketedIPv6WithBracketedHint() {
        let error = #expect(throws: AddressError.self) { try SmartHost(parsing: "2001:db8::1") }
        #expect(error?.reason == "an IP address must be written in brackets, [2001:db8::1]")
    }

    /// Regression: Int() accepts a sign; Postfix does not, and the text would not round-trip.
    @Test(arguments: ["relay.example.net:+25", "[10.0.0.5]:+25"])
    func refusesASignedPort(input: String) {
        let error = #expect(throws: AddressError.self) { try SmartHost(parsing: input) }
        #expect(error?.reason == "port must be a number from 1 to 65535")
    }

    /// Mistyped IPv4 addresses pass as host names: refused where an operator types them, read
    /// as before where an older binary stored them (a stored row must never stop serve).
    @Test(arguments: ["[10.0.0]", "[999.0.0.1]", "[10.0.0.05]", "010.0.0.5"])
    func aMistypedIPv4AddressIsRefusedAsTyped(input: String) throws {
        let error = #expect(throws: AddressError.self) { try SmartHost.typed(input) }
        #expect(error?.reason.contains("not a valid IPv4 address") == true)
        _ = try SmartHost(parsing: input)
        #expect(try SmartHost.typed("[10.0.0.5]").host == "10.0.0.5")
        #expect(try SmartHost.typed("relay.example.net:2525").port == 2525)
    }
}
