import Testing

@testable import MailCore

private let label63 = String(repeating: "a", count: 63)
private let domain255 = [label63, label63, label63, label63].joined(separator: ".")

@Suite struct DomainNameTests {
    /// (input, stored form)
    static let normalisations: [(String, String)] = [
        ("example.com", "example.com"),
        ("Example.COM", "example.com"),
        ("EXAMPLE.COM.", "example.com"),
        ("localhost", "localhost"),
        ("a-b.c0.com", "a-b.c0.com"),
        ("123.com", "123.com"),
        ("a--b.example", "a--b.example"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("XN--BCHER-KVA.DE", "xn--bcher-kva.de"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("Bücher.DE", "xn--bcher-kva.de"),
        ("BÜCHER.de", "xn--bcher-kva.de"),
        ("mu\u{0308}nchen.de", "xn--mnchen-3ya.de"),  // decomposed: NFC first
        ("münchen.de.", "xn--mnchen-3ya.de"),
        ("mail.bücher.münchen.de", "mail.xn--bcher-kva.xn--mnchen-3ya.de"),
        (label63 + ".com", label63 + ".com"),
        (domain255, domain255),
        (domain255 + ".", domain255),
    ]

    @Test(arguments: normalisations)
    func normalisesToLowerCaseALabelsWithoutTrailingDot(input: String, stored: String) throws {
        let domain = try DomainName(parsing: input)
        #expect(domain.name == stored)
        #expect(domain.description == stored)
    }

    @Test(arguments: normalisations.map { $0.0 })
    func storedFormIsAFixedPoint(input: String) throws {
        let domain = try DomainName(parsing: input)
        #expect(try DomainName(parsing: domain.name) == domain)
        #expect(DomainName(stored: domain.name) == domain)
    }

    /// Punycode (RFC 3492) through DomainName. Expected values are RFC 3492 §7.1 samples or
    /// were checked against Python's `str.encode("punycode")`.
    @Test(arguments: [
        ("bücher", "xn--bcher-kva"),
        ("münchen", "xn--mnchen-3ya"),
        ("müller", "xn--mller-kva"),
        ("ñandú", "xn--and-6ma2c"),
        ("français", "xn--franais-xxa"),
        ("straße", "xn--strae-oqa"),  // IDNA2008 keeps ß
        ("ü", "xn--tda"),
        ("ελληνικά", "xn--hxargifdar"),
        ("日本語", "xn--wgv71a119e"),
        ("例え", "xn--r8jz45g"),
        ("한국어", "xn--3e0bk47br7k"),
        ("ドメイン名例", "xn--eckwd4c7cu47r2wf"),
        // RFC 3492 §7.1 (B) Chinese (simplified)
        ("他们为什么不说中文", "xn--ihqwcrb4cv8a8dqg056pqjye"),
        // RFC 3492 §7.1 (C) Chinese (traditional)
        ("他們爲什麽不說中文", "xn--ihqwctvzc91f659drss3x8bo0yb"),
        // RFC 3492 §7.1 (E) Hebrew
        ("למההםפשוטלאמדבריםעברית", "xn--4dbcagdahymbxekheh6e0a7fei0b"),
        // RFC 3492 §7.1 (F) Hindi (Devanagari), with combining marks
        ("यहलोगहिन्दीक्योंनहींबोलसकतेहैं", "xn--i1baa7eci9glrd9b2ae1bj0hfcgg6iyaf8o0a1dig0cd"),
        // RFC 3492 §7.1 (I) Russian, without the case annotation
        ("почемужеонинеговорятпорусски", "xn--b1abfaaepdrnnbgefbadotcwatmq2g4l"),
        // RFC 3492 §7.1 (J) Spanish, lower-cased
        ("PorquénopuedensimplementehablarenEspañol", "xn--porqunopuedensimplementehablarenespaol-fmd56a"),
        // RFC 3492 §7.1 (L) mixed basic and non-basic, lower-cased
        ("3年B組金八先生", "xn--3b-ww4c5e180e575a65lsy2b"),
    ])
    func encodesInternationalisedLabelAsPunycodeALabel(uLabel: String, aLabel: String) throws {
        #expect(try DomainName(parsing: uLabel).name == aLabel)
        #expect(try DomainName(parsing: "mail.\(uLabel).example").name == "mail.\(aLabel).example")
        // Typed as an A-label, in any case, it is the same name: the decoder reads it back.
        #expect(try DomainName(parsing: "mail.\(aLabel.uppercased()).example").name == "mail.\(aLabel).example")
        #expect(Punycode.decode(aLabel.dropFirst(4)).map { String(String.UnicodeScalarView($0)) } == uLabel.lowercased())
    }

    /// `xn--` labels that are no A-label of a name we would accept: one visible name could
    /// otherwise be stored twice, or a name stored that nobody can type.
    @Test(arguments: [
        "xn--zz.com",  // does not decode
        "xn--.com",  // nothing to decode
        "xn--abc-.com",  // decodes to ASCII only: not an internationalised label
        "xn--bcher-kva9.com",  // a digit too many
        "mail.xn--99999999999999.com",  // overflows
        "xn--Bcher-kva-.com",  // trailing hyphen
        "xn--bcher-2pa.com",  // bÜcher: decodes to an upper-case letter, never an A-label we write
        "xn--mu-vub.com",  // "mu" + U+0308: not NFC
    ])
    func refusesTypedALabelsThatDoNotDecodeToAnAcceptedName(input: String) {
        let error = #expect(throws: AddressError.self) { try DomainName.typed(input) }
        #expect(error?.reason.contains("not a valid IDNA A-label") == true || error?.reason.contains("hyphen") == true, "\(error?.reason ?? "none")")
    }

    /// Names in mail and stored rows are never refused for their A-labels: IDNA allows some
    /// characters in context (col·legi.cat's middle dot) that our U-label rule does not.
    @Test(arguments: ["xn--collegi-xma.cat", "xn--zz.com", "mail.xn--bcher-kva.de"])
    func parsingLeavesALabelsAsTheyAre(input: String) throws {
        #expect(try DomainName(parsing: input).name == input)
    }

    /// (input, a fragment the reason must contain)
    static let invalidDomains: [(String, String)] = [
        ("", "empty"),
        (".", "empty"),
        ("..", "empty label"),
        ("a..b", "empty label"),
        (".example.com", "empty label"),
        ("example.com..", "empty label"),
        ("-example.com", "starts or ends with a hyphen"),
        ("example-.com", "starts or ends with a hyphen"),
        ("example.-com", "starts or ends with a hyphen"),
        ("-", "starts or ends with a hyphen"),
        ("-bücher.de", "starts or ends with a hyphen"),
        ("bücher-.de", "starts or ends with a hyphen"),
        ("exa_mple.com", "character '_'"),
        ("exa mple.com", "character ' '"),
        ("user@example.com", "character '@'"),
        ("*.example.com", "character '*'"),
        ("example.com:25", "character ':'"),
        ("[192.0.2.1]", "address literals are not supported"),
        ("[IPv6:2001:db8::1]", "address literals are not supported"),
        (String(repeating: "b", count: 64) + ".com", "longer than 63 octets"),
        (domain255 + ".a", "longer than 255 octets"),
        ("☃.com", "U+2603"),
        ("bü$cher.de", "'$'"),
        ("bücher!.de", "'!'"),
        ("Ⅻ.com", "U+217B"),  // a letter number, lower-cased to U+217B: not PVALID
        // Fits in 63 characters as a U-label, but not as an A-label.
        (String(repeating: "a", count: 58) + "ü.com", "longer than 63 octets as an A-label"),
        (String(repeating: "ü", count: 100) + ".de", "longer than 63 octets as an A-label"),
        // Control characters (the reason's rendering of the character is not checked: see report).
        ("exa\u{01}mple.com", "is not allowed in a domain name"),
        ("example.com\n", "is not allowed in a domain name"),
        ("bü\u{7F}cher.de", "U+7F"),
    ]

    @Test(arguments: invalidDomains)
    func refusesInvalidDomainWithMeaningfulReason(input: String, reasonFragment: String) {
        let error = #expect(throws: AddressError.self) { try DomainName(parsing: input) }
        #expect(error?.reason.contains(reasonFragment) == true, "reason was: \(error?.reason ?? "nil")")
        #expect(error?.subject == "domain")
        #expect(error?.input == input)
    }

    @Test func rejectsLabelLongerThan63Octets() throws {
        #expect(try DomainName(parsing: label63 + ".com").labels.first?.utf8.count == 63)
        let error = #expect(throws: AddressError.self) { try DomainName(parsing: label63 + "a.com") }
        #expect(error?.reason == "label '\(label63)a' is longer than 63 octets")
    }

    @Test func splitsIntoLabels() throws {
        #expect(try DomainName(parsing: "Mail.Bücher.DE.").labels == ["mail", "xn--bcher-kva", "de"])
        #expect(try DomainName(parsing: "localhost").labels == ["localhost"])
    }

    @Test func ordersByStoredName() throws {
        let names = try ["b.com", "A.com", "a.net"].map { try DomainName(parsing: $0) }
        #expect(names.sorted().map(\.name) == ["a.com", "a.net", "b.com"])
    }

    /// (domain, other, domain.isEqualOrSubdomain(of: other))
    @Test(arguments: [
        ("fabrikam.com", "fabrikam.com", true),
        ("Fabrikam.COM", "fabrikam.com.", true),
        ("mail.fabrikam.com", "fabrikam.com", true),
        ("a.b.fabrikam.com", "fabrikam.com", true),
        ("a.b.fabrikam.com", "b.fabrikam.com", true),
        ("mail.bücher.de", "bücher.de", true),
        ("fabrikam.com", "com", true),
        ("xfabrikam.com", "fabrikam.com", false),
        ("fabrikam.com.au", "fabrikam.com", false),
        ("fabrikam.com", "mail.fabrikam.com", false),
        ("fabrikam.net", "fabrikam.com", false),
        ("com", "fabrikam.com", false),
        ("b.fabrikam.com", "a.b.fabrikam.com", false),
    ])
    func decidesEqualOrSubdomain(domain: String, other: String, expected: Bool) throws {
        let lhs = try DomainName(parsing: domain)
        let rhs = try DomainName(parsing: other)
        #expect(lhs.isEqualOrSubdomain(of: rhs) == expected)
    }
}
