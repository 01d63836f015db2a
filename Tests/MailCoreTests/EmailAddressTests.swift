import Testing

@testable import MailCore

/// 63 octets: the longest DNS label.
private let label63 = String(repeating: "a", count: 63)
/// Exactly 255 octets: four 63-octet labels and three dots.
private let domain255 = [label63, label63, label63, label63].joined(separator: ".")
/// Exactly 256 octets: 63 + 63 + 63 + 62 + "a" and four dots.
private let domain256 = [label63, label63, label63, String(repeating: "b", count: 62), "a"].joined(separator: ".")

@Suite struct EmailAddressTests {
    /// (input, canonical description)
    static let validAddresses: [(String, String)] = [
        ("john@example.com", "john@example.com"),
        ("john+tag@example.com", "john+tag@example.com"),
        ("john.q.public@example.com", "john.q.public@example.com"),
        ("!#$%&'*+-/=?^_`{|}~@example.com", "!#$%&'*+-/=?^_`{|}~@example.com"),
        ("a.!#$%&'*+-/=?^_`{|}~.z@example.com", "a.!#$%&'*+-/=?^_`{|}~.z@example.com"),
        ("1234@123.example", "1234@123.example"),
        ("a@b", "a@b"),
        // Quoted local parts that need their quotes keep them, with minimal escapes.
        (#""john doe"@x.com"#, #""john doe"@x.com"#),
        (#""a\"b"@x.com"#, #""a\"b"@x.com"#),
        (#""a@b"@x.com"#, #""a@b"@x.com"#),
        (#""a\\b"@x.com"#, #""a\\b"@x.com"#),
        (#""a..b"@x.com"#, #""a..b"@x.com"#),
        (#"".john"@x.com"#, #"".john"@x.com"#),
        (#""john."@x.com"#, #""john."@x.com"#),
        (#""a,b<c>"@x.com"#, #""a,b<c>"@x.com"#),
        (#"" "@x.com"#, #"" "@x.com"#),
        // A quoted-pair of an ordinary character is that character.
        (#""a\ b"@x.com"#, #""a b"@x.com"#),
        // A quoted local part that is a valid dot-string is the same mailbox, stored unquoted.
        (#""john"@x.com"#, "john@x.com"),
        (#""john.doe"@x.com"#, "john.doe@x.com"),
        (#""j\ohn"@x.com"#, "john@x.com"),
        (#""John+Tag"@X.COM"#, "John+Tag@x.com"),
        // Domain lower-cased, local part keeps its case.
        ("John.Doe@Contoso.COM", "John.Doe@contoso.com"),
        ("JOHN@EXAMPLE.COM", "JOHN@example.com"),
        // One trailing dot on the domain is dropped.
        ("john@example.com.", "john@example.com"),
        // Internationalised domains become A-labels.
        ("user@bücher.de", "user@xn--bcher-kva.de"),
        ("user@münchen.de", "user@xn--mnchen-3ya.de"),
        ("user@BÜCHER.DE", "user@xn--bcher-kva.de"),
        ("user@mu\u{0308}nchen.de", "user@xn--mnchen-3ya.de"),  // decomposed ü, NFC'd
        ("user@mail.bücher.de.", "user@mail.xn--bcher-kva.de"),
        ("user@xn--bcher-kva.de", "user@xn--bcher-kva.de"),
        // Length limits, exactly at the boundary.
        (String(repeating: "a", count: 64) + "@x.com", String(repeating: "a", count: 64) + "@x.com"),
        ("a@" + domain255, "a@" + domain255),
        ("a@" + domain255 + ".", "a@" + domain255),
        // A quoted local part of exactly 64 octets including its quotes.
        ("\"" + String(repeating: "a", count: 61) + " \"@x.com", "\"" + String(repeating: "a", count: 61) + " \"@x.com"),
    ]

    @Test(arguments: validAddresses)
    func parsesValidAddressIntoCanonicalForm(input: String, canonical: String) throws {
        let address = try EmailAddress(parsing: input)
        #expect(address.description == canonical)
        #expect(address.description == "\(address.localPart.text)@\(address.domain.name)")
    }

    @Test(arguments: validAddresses.map { $0.0 })
    func reparsingTheDescriptionGivesTheSameAddress(input: String) throws {
        let parsed = try EmailAddress(parsing: input)
        let reparsed = try EmailAddress(parsing: parsed.description)
        #expect(reparsed == parsed)
        #expect(reparsed.description == parsed.description)
    }

    @Test(arguments: validAddresses.map { $0.0 })
    func keyIsTheLowerCasedDescription(input: String) throws {
        let address = try EmailAddress(parsing: input)
        #expect(address.key == address.description.lowercased())
    }

    @Test func keyFoldsCaseOfLocalPartAndDomain() throws {
        let mixed = try EmailAddress(parsing: "John.Doe@Contoso.COM")
        let lower = try EmailAddress(parsing: "john.doe@contoso.com")
        #expect(mixed.key == "john.doe@contoso.com")
        #expect(mixed.key == lower.key)
        // Equality is on the stored form, which keeps the local part's case.
        #expect(mixed != lower)
        #expect(!(mixed < lower) && !(lower < mixed))
    }

    @Test func ordersByCaseFoldedKey() throws {
        let addresses = try ["b@x.com", "A@x.com", "c@a.com", "a@y.com"].map { try EmailAddress(parsing: $0) }
        #expect(addresses.sorted().map(\.description) == ["A@x.com", "a@y.com", "b@x.com", "c@a.com"])
    }

    @Test(arguments: [
        (#""john doe"@x.com"#, true),
        (#""a\"b"@x.com"#, true),
        (#""john"@x.com"#, false),
        ("john@x.com", false),
    ])
    func quotesLocalPartOnlyWhenItMust(input: String, quoted: Bool) throws {
        #expect(try EmailAddress(parsing: input).localPart.isQuoted == quoted)
    }

    @Test func keepsLocalPartAndDomainSeparately() throws {
        let address = try EmailAddress(parsing: #""a@b"@Bücher.DE"#)
        #expect(address.localPart.text == #""a@b""#)
        #expect(address.domain.name == "xn--bcher-kva.de")
        #expect(address == EmailAddress(localPart: address.localPart, domain: address.domain))
    }

    /// (input, a fragment the reason must contain)
    static let invalidAddresses: [(String, String)] = [
        ("", "empty"),
        ("john.example.com", "missing '@'"),
        ("@example.com", "empty local part"),
        ("john@", "missing domain"),
        ("a@b@example.com", "'@'"),
        (".john@example.com", "starts or ends with a dot"),
        ("john.@example.com", "starts or ends with a dot"),
        (".@example.com", "starts or ends with a dot"),
        ("jo..hn@example.com", "two dots in a row"),
        ("john doe@example.com", "character ' '"),
        (" john@example.com", "character ' '"),
        ("john,doe@example.com", "character ','"),
        ("<john@example.com", "character '<'"),
        ("john(comment)@example.com", "character '('"),
        ("jo\"hn@example.com", "character '\"'"),
        ("jo\\hn@example.com", "character '\\'"),
        ("a[b]@example.com", "character '['"),
        ("jürgen@example.com", "U+FC"),
        ("a\u{01}b@example.com", "U+1"),
        ("a\tb@example.com", "U+9"),
        ("a\u{7F}b@example.com", "U+7F"),
        (String(repeating: "a", count: 65) + "@example.com", "longer than 64 octets"),
        // 65 octets once quoted: the quotes count.
        ("\"" + String(repeating: "a", count: 62) + " \"@x.com", "longer than 64 octets"),
        // Quoted forms.
        (#"""@example.com"#, "empty local part"),
        (#""a"b@example.com"#, "text after the closing quote"),
        (#""a".b@example.com"#, "text after the closing quote"),
        ("\"a\u{01}b\"@example.com", "control or non-ASCII"),
        ("\"a\tb\"@example.com", "control or non-ASCII"),
        (#""jürgen"@example.com"#, "control or non-ASCII"),
        ("\"a\\\u{01}\"@example.com", "bad escape"),
        (#""a\ü"@example.com"#, "bad escape"),
        // Domain errors, reported against the whole address.
        ("a@" + domain256, "longer than 255 octets"),
        ("a@" + String(repeating: "b", count: 64) + ".com", "longer than 63 octets"),
        ("a@-example.com", "starts or ends with a hyphen"),
        ("a@example-.com", "starts or ends with a hyphen"),
        ("a@mail.-x.com", "starts or ends with a hyphen"),
        ("a@x..com", "empty label"),
        ("a@.x.com", "empty label"),
        ("a@x.com..", "empty label"),
        ("a@.", "empty"),
        ("a@[1.2.3.4]", "address literals are not supported"),
        ("a@[IPv6:2001:db8::1]", "address literals are not supported"),
        ("a@exa_mple.com", "character '_'"),
        ("a@example.com ", "character ' '"),
        ("<a@example.com>", "character '<'"),
        ("a@☃.com", "U+2603"),
        ("a@bücher-.de", "starts or ends with a hyphen"),
    ]

    @Test(arguments: invalidAddresses)
    func refusesInvalidAddressWithMeaningfulReason(input: String, reasonFragment: String) {
        let error = #expect(throws: AddressError.self) { try EmailAddress(parsing: input) }
        #expect(error?.reason.contains(reasonFragment) == true, "reason was: \(error?.reason ?? "nil")")
        #expect(error?.subject == "address")
        #expect(error?.input == input)
    }

    /// Regression: an unterminated quote used to be reported as a missing '@'.
    @Test(arguments: [#""abc@example.com"#, #""abc\"@example.com"#, #""abc"#, #"""#])
    func refusesUnterminatedQuotedLocalPart(input: String) {
        let error = #expect(throws: AddressError.self) { try EmailAddress(parsing: input) }
        #expect(error?.reason == "unterminated quoted local part")
    }

    /// Regression: a control character in the domain is shown as a code point, so the error
    /// stays on one line.
    @Test func showsAControlCharacterInTheDomainAsACodePoint() {
        let error = #expect(throws: AddressError.self) { try EmailAddress(parsing: "a@x.com\n") }
        #expect(error?.reason == "character U+A is not allowed in a domain name")
    }

    @Test func rejectsLocalPartLongerThan64Octets() {
        #expect(LocalPart.maximumLength == 64)
        #expect(throws: Never.self) { try EmailAddress(parsing: String(repeating: "x", count: 64) + "@x.com") }
        let error = #expect(throws: AddressError.self) {
            try EmailAddress(parsing: String(repeating: "x", count: 65) + "@x.com")
        }
        #expect(error?.reason == "local part longer than 64 octets")
    }

    @Test func acceptsDomainOfExactly255OctetsAndRejects256() throws {
        #expect(domain255.utf8.count == 255)
        #expect(domain256.utf8.count == 256)
        #expect(try EmailAddress(parsing: "a@" + domain255).domain.name == domain255)
        let error = #expect(throws: AddressError.self) { try EmailAddress(parsing: "a@" + domain256) }
        #expect(error?.reason == "longer than 255 octets")
    }

    @Test func describesErrorOnOneLineWithSubjectInputAndReason() {
        let error = #expect(throws: AddressError.self) { try EmailAddress(parsing: "jo..hn@x.com") }
        #expect(error?.description == "invalid address 'jo..hn@x.com': local part has two dots in a row")
    }
}
