import Testing

@testable import MailCore

@Suite struct ProxyAddressTests {
    /// (input, type, primary?, value, description)
    static let validProxies: [(String, String, Bool, String, String)] = [
        ("SMTP:john@contoso.com", "SMTP", true, "john@contoso.com", "SMTP:john@contoso.com"),
        ("smtp:john@contoso.com", "SMTP", false, "john@contoso.com", "smtp:john@contoso.com"),
        // The SMTP value is canonicalised as an address.
        ("SMTP:John.Doe@Contoso.COM", "SMTP", true, "John.Doe@contoso.com", "SMTP:John.Doe@contoso.com"),
        ("smtp:user@bücher.de.", "SMTP", false, "user@xn--bcher-kva.de", "smtp:user@xn--bcher-kva.de"),
        ("smtp:\"john\"@contoso.com", "SMTP", false, "john@contoso.com", "smtp:john@contoso.com"),
        ("SMTP:\"a:b\"@contoso.com", "SMTP", true, "\"a:b\"@contoso.com", "SMTP:\"a:b\"@contoso.com"),
        // Other types: any printable text, kept verbatim.
        ("X500:/o=Org/ou=x", "X500", true, "/o=Org/ou=x", "X500:/o=Org/ou=x"),
        ("x500:/o=Org/ou=Exchange Administrative Group/cn=Recipients/cn=jdoe", "X500", false,
         "/o=Org/ou=Exchange Administrative Group/cn=Recipients/cn=jdoe",
         "x500:/o=Org/ou=Exchange Administrative Group/cn=Recipients/cn=jdoe"),
        ("SIP:John@Contoso.COM", "SIP", true, "John@Contoso.COM", "SIP:John@Contoso.COM"),
        ("sip:john@contoso.com", "SIP", false, "john@contoso.com", "sip:john@contoso.com"),
        ("X400:c=US;a= ;p=Contoso;o=Exchange;s=Doe;g=John;", "X400", true,
         "c=US;a= ;p=Contoso;o=Exchange;s=Doe;g=John;", "X400:c=US;a= ;p=Contoso;o=Exchange;s=Doe;g=John;"),
        ("eum:1234;phone-context=x", "EUM", false, "1234;phone-context=x", "eum:1234;phone-context=x"),
        ("NOTES:John Doe/Contoso", "NOTES", true, "John Doe/Contoso", "NOTES:John Doe/Contoso"),
        ("CUSTOMTYPE16CHAR:v", "CUSTOMTYPE16CHAR", true, "v", "CUSTOMTYPE16CHAR:v"),
        ("a:ü", "A", false, "ü", "a:ü"),
        ("X:a:b:c", "X", true, "a:b:c", "X:a:b:c"),
    ]

    @Test(arguments: validProxies)
    func parsesTypePrimaryFlagAndValue(input: String, type: String, isPrimary: Bool, value: String, description: String) throws {
        let proxy = try ProxyAddress(parsing: input)
        #expect(proxy.type == type)
        #expect(proxy.isPrimary == isPrimary)
        #expect(proxy.kind == (isPrimary ? .primary : .secondary))
        #expect(proxy.value == value)
        #expect(proxy.description == description)
        #expect(proxy.key == value.lowercased())
        #expect(proxy.isSMTP == (type == "SMTP"))
    }

    @Test(arguments: validProxies.map { $0.0 })
    func reparsingTheDescriptionGivesTheSameProxy(input: String) throws {
        let proxy = try ProxyAddress(parsing: input)
        #expect(try ProxyAddress(parsing: proxy.description) == proxy)
    }

    @Test func smtpProxyExposesItsEmailAddress() throws {
        let proxy = try ProxyAddress(parsing: "SMTP:John@Contoso.COM")
        #expect(proxy.emailAddress == (try EmailAddress(parsing: "John@contoso.com")))
        #expect(try ProxyAddress(parsing: "X500:/o=Org").emailAddress == nil)
    }

    @Test func buildsFromEmailAddress() throws {
        let address = try EmailAddress(parsing: "Jane@Contoso.COM")
        let primary = ProxyAddress(address, kind: .primary)
        let secondary = ProxyAddress(address, kind: .secondary)
        #expect(primary.description == "SMTP:Jane@contoso.com")
        #expect(secondary.description == "smtp:Jane@contoso.com")
        #expect(primary == (try ProxyAddress(parsing: "SMTP:Jane@contoso.com")))
        #expect(primary != secondary)
        #expect(primary.key == secondary.key)
    }

    @Test func demotingChangesOnlyThePrefixCase() throws {
        var proxy = try ProxyAddress(parsing: "X500:/o=Org/ou=x")
        proxy.kind = .secondary
        #expect(proxy.description == "x500:/o=Org/ou=x")
        #expect(proxy.type == "X500")
    }

    /// (input, a fragment the reason must contain)
    static let invalidProxies: [(String, String)] = [
        ("", "missing type prefix"),
        ("john@contoso.com", "missing type prefix: write SMTP:"),
        ("Smtp:john@contoso.com", "mixes cases"),
        ("sMTP:john@contoso.com", "mixes cases"),
        ("X500x:/o=Org", "mixes cases"),
        ("500:/o=Org", "no letters"),
        ("12345:abc", "no letters"),
        (":john@contoso.com", "1 to 16 letters or digits"),
        ("X-400:c=US", "1 to 16 letters or digits"),
        ("S MTP:john@contoso.com", "1 to 16 letters or digits"),
        (" SMTP:john@contoso.com", "1 to 16 letters or digits"),
        ("SMTPÄ:john@contoso.com", "1 to 16 letters or digits"),
        ("CUSTOMTYPE17CHARS:v", "1 to 16 letters or digits"),
        // SMTP values are validated as addresses.
        ("SMTP:", "empty"),
        ("SMTP:john", "missing '@'"),
        ("smtp:jo..hn@contoso.com", "two dots in a row"),
        ("SMTP:john@contoso..com", "empty label"),
        ("SMTP: john@contoso.com", "character ' '"),
        ("SMTP:<john@contoso.com>", "character '<'"),
        ("smtp:john@[10.0.0.1]", "address literals are not supported"),
        // Other types: non-empty, printable, bounded.
        ("X500:", "empty address"),
        ("x500:", "empty address"),
        ("X500:/o=Org\n/ou=x", "control character"),
        ("SIP:a\u{00}b", "control character"),
        ("X500:" + String(repeating: "x", count: 1025), "longer than 1024 octets"),
    ]

    @Test(arguments: invalidProxies)
    func refusesInvalidProxyWithMeaningfulReason(input: String, reasonFragment: String) {
        let error = #expect(throws: AddressError.self) { try ProxyAddress(parsing: input) }
        #expect(error?.reason.contains(reasonFragment) == true, "reason was: \(error?.reason ?? "nil")")
        #expect(error?.subject == "proxy address")
        #expect(error?.input == input)
    }

    @Test func acceptsCustomValueOfExactly1024Octets() throws {
        let value = String(repeating: "x", count: ProxyAddress.maximumValueLength)
        #expect(try ProxyAddress(parsing: "X500:" + value).value == value)
    }

    @Test func refusesMixedCasePrefixRatherThanGuessing() {
        let error = #expect(throws: AddressError.self) { try ProxyAddress(parsing: "Smtp:john@contoso.com") }
        #expect(error?.reason == "type prefix 'Smtp' mixes cases: upper-case marks the primary, lower-case a secondary")
    }

    @Test func splitPrefixIsSharedWithItsSubjectInErrors() throws {
        let (type, kind, rest) = try ProxyAddress.splitPrefix("x500:/o=a:b", subject: "template")
        #expect(type == "X500")
        #expect(kind == .secondary)
        #expect(rest == "/o=a:b")
        let error = #expect(throws: AddressError.self) { try ProxyAddress.splitPrefix("nocolon", subject: "template") }
        #expect(error?.subject == "template")
    }
}
