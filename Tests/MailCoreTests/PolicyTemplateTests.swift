import Testing

@testable import MailCore

@Suite struct PolicyTemplateTests {
    /// (input, type, primary?, template)
    static let validTemplates: [(String, String, Bool, String)] = [
        ("SMTP:%g.%s@contoso.com", "SMTP", true, "%g.%s@contoso.com"),
        ("smtp:%m@contoso.local", "SMTP", false, "%m@contoso.local"),
        // Kept verbatim: no case folding, no address validation, colons allowed.
        ("SMTP:%G.%S@Contoso.COM", "SMTP", true, "%G.%S@Contoso.COM"),
        ("SMTP:%1g%s@contoso.com", "SMTP", true, "%1g%s@contoso.com"),
        ("smtp:%r..%m@Bücher.DE.", "SMTP", false, "%r..%m@Bücher.DE."),
        ("smtp: %m@contoso.com ", "SMTP", false, " %m@contoso.com "),
        ("SMTP:@contoso.com", "SMTP", true, "@contoso.com"),
        ("X400:c=US;a= ;p=Contoso;o=Exchange;s=%s;g=%g;", "X400", true, "c=US;a= ;p=Contoso;o=Exchange;s=%s;g=%g;"),
        ("sip:%m@contoso.com", "SIP", false, "%m@contoso.com"),
        ("X:a:b", "X", true, "a:b"),
    ]

    @Test(arguments: validTemplates)
    func parsesTypePrimaryFlagAndVerbatimTemplate(input: String, type: String, isPrimary: Bool, template: String) throws {
        let parsed = try PolicyTemplate(parsing: input)
        #expect(parsed.type == type)
        #expect(parsed.isPrimary == isPrimary)
        #expect(parsed.template == template)
        #expect(parsed == PolicyTemplate(type: type, template: template, isPrimary: isPrimary))
    }

    @Test(arguments: validTemplates.map { $0.0 })
    func descriptionRendersTheInputBack(input: String) throws {
        let parsed = try PolicyTemplate(parsing: input)
        #expect(parsed.description == input)
        #expect(try PolicyTemplate(parsing: parsed.description) == parsed)
    }

    @Test func acceptsTemplateOfExactly1024Octets() throws {
        let text = String(repeating: "x", count: PolicyTemplate.maximumLength)
        #expect(try PolicyTemplate(parsing: "SMTP:" + text).template == text)
    }

    /// (input, a fragment the reason must contain)
    @Test(arguments: [
        ("SMTP:", "empty template"),
        ("smtp:", "empty template"),
        ("", "missing type prefix"),
        ("%g.%s@contoso.com", "missing type prefix"),
        ("Smtp:%m@contoso.com", "mixes cases"),
        ("123:%m@contoso.com", "no letters"),
        (":%m@contoso.com", "1 to 16 letters or digits"),
        ("S-MTP:%m@contoso.com", "1 to 16 letters or digits"),
        ("SMTP:" + String(repeating: "x", count: 1025), "longer than 1024 octets"),
    ])
    func refusesInvalidTemplateWithMeaningfulReason(input: String, reasonFragment: String) {
        let error = #expect(throws: AddressError.self) { try PolicyTemplate(parsing: input) }
        #expect(error?.reason.contains(reasonFragment) == true, "reason was: \(error?.reason ?? "nil")")
        #expect(error?.subject == "template")
        #expect(error?.input == input)
    }
}
