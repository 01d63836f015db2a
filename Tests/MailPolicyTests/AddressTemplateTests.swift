import MailCore
import Testing

@testable import MailPolicy

/// Recipients the template tables refer to by key.
enum TemplateFixtures {
    static let long60a = String(repeating: "a", count: 60)
    static let long60b = String(repeating: "b", count: 60)
    static let hundred = String(repeating: "Abcdefghij", count: 10)

    static let recipients: [String: Recipient] = [
        // The people of spec §2's examples.
        "juergen": Recipient(alias: "jmueller", attributes: [.givenName: "J\u{FC}rgen", .sn: "M\u{FC}ller-L\u{FC}denscheidt"]),
        "ian": Recipient(alias: "ioconnell", attributes: [.givenName: "Ian", .sn: "O'Connell"]),
        "zoe": Recipient(alias: "zorsted", attributes: [.givenName: "Zo\u{EB}", .sn: "\u{D8}rsted"]),
        "lukasz": Recipient(alias: "lzolc", attributes: [.givenName: "\u{141}ukasz", .sn: "\u{17B}\u{F3}\u{142}\u{107}"]),
        "mary": Recipient(alias: "mvanderberg", attributes: [.givenName: "Mary Ann", .sn: "van der Berg"]),
        // Others.
        "jr": Recipient(alias: "jrrt", attributes: [.givenName: "J.R.", .sn: "Tolkien"]),
        "jrbob": Recipient(alias: "jrewing", attributes: [.givenName: "J.R. Bob", .sn: "Ewing"]),
        "initials": Recipient(alias: "jqpublic", attributes: [.givenName: "John", .sn: "Public", .initials: "Q."]),
        "display": Recipient(alias: "jdisplay", attributes: [.displayName: "J\u{FC}rgen M\u{FC}ller (Sales)"]),
        "mcdonald": Recipient(alias: "rmcdonald", attributes: [.givenName: "RONALD", .sn: "McDonald"]),
        "nobody": Recipient(alias: "nobody"),
        "blank": Recipient(alias: "blank", attributes: [.givenName: "()", .sn: "...", .displayName: "\u{1F600}"]),
        "emoji": Recipient(alias: "emoji", attributes: [.givenName: "\u{1F600}", .sn: "Doe"]),
        "long": Recipient(alias: "longname", attributes: [.givenName: long60a, .sn: long60b, .displayName: hundred]),
        "longdot": Recipient(alias: "longdot", attributes: [.givenName: String(repeating: "a", count: 63), .sn: "Smith"]),
    ]

    static func recipient(_ key: String) -> Recipient {
        guard let recipient = recipients[key] else { fatalError("no fixture \(key)") }
        return recipient
    }

    static func render(_ template: String, _ key: String) throws -> String? {
        try AddressTemplate(parsing: template).render(for: recipient(key), transliterator: Transliterator())?.description
    }
}

@Suite struct AddressTemplateTests {
    /// Spec §2's examples, verbatim (domain contoso.com).
    @Test(arguments: [
        ("%g.%s@contoso.com", "juergen", "Juergen.Mueller-Luedenscheidt@contoso.com"),
        ("%g.%s@contoso.com", "ian", "Ian.O'Connell@contoso.com"),
        ("%g.%r''%s@contoso.com", "ian", "Ian.OConnell@contoso.com"),
        ("%1g%s@contoso.com", "juergen", "JMueller-Luedenscheidt@contoso.com"),
        ("%g.%i.%s@contoso.com", "juergen", "Juergen.Mueller-Luedenscheidt@contoso.com"),
        ("%g.%s@contoso.com", "zoe", "Zoe.Orsted@contoso.com"),
        ("%g.%s@contoso.com", "lukasz", "Lukasz.Zolc@contoso.com"),
        ("%g.%s@contoso.com", "mary", "MaryAnn.vanderBerg@contoso.com"),
        ("%m@contoso.com", "juergen", "jmueller@contoso.com"),
        ("%m@contoso.com", "ian", "ioconnell@contoso.com"),
    ])
    func specExampleRendersAsTheSpecSays(template: String, recipientKey: String, expected: String) throws {
        #expect(try TemplateFixtures.render(template, recipientKey) == expected)
    }

    /// (template, recipient key, address)
    @Test(arguments: [
        // %m, and an empty format meaning %m.
        ("%m@contoso.com", "mary", "mvanderberg@contoso.com"),
        ("@contoso.com", "juergen", "jmueller@contoso.com"),
        ("@contoso.com", "nobody", "nobody@contoso.com"),
        // %% is a literal %.
        ("%m%%x@contoso.com", "ian", "ioconnell%x@contoso.com"),
        ("%%%m@contoso.com", "ian", "%ioconnell@contoso.com"),
        // %rxy replaces in the values that follow; a dot a rule puts there survives.
        ("%r -%g@contoso.com", "mary", "Mary-Ann@contoso.com"),
        ("%r .%g@contoso.com", "mary", "Mary.Ann@contoso.com"),
        ("%r .%g.%s@contoso.com", "mary", "Mary.Ann.van.der.Berg@contoso.com"),
        ("%g.%r .%s@contoso.com", "mary", "MaryAnn.van.der.Berg@contoso.com"),
        ("%r _%g_%s@contoso.com", "mary", "Mary_Ann_van_der_Berg@contoso.com"),
        // ... while dots from the attribute value are removed.
        ("%g.%s@contoso.com", "jr", "JR.Tolkien@contoso.com"),
        ("%r .%g@contoso.com", "jrbob", "JR.Bob@contoso.com"),
        ("%r.-%g@contoso.com", "jr", "J-R-@contoso.com"),
        ("%g%i%s@contoso.com", "initials", "JohnQPublic@contoso.com"),
        // %rxx deletes x (case-sensitively) in the values that follow.
        ("%raa%g.%s@contoso.com", "mary", "MryAnn.vnderBerg@contoso.com"),
        ("%r''%s@contoso.com", "ian", "OConnell@contoso.com"),
        ("%s.%r''%s@contoso.com", "ian", "O'Connell.OConnell@contoso.com"),
        ("%r--%s@contoso.com", "juergen", "MuellerLuedenscheidt@contoso.com"),
        // %N: the first N characters, after transliteration.
        ("%2s@contoso.com", "juergen", "Mu@contoso.com"),
        ("%2s@contoso.com", "ian", "O'@contoso.com"),
        ("%3g.%2s@contoso.com", "mary", "Mar.va@contoso.com"),
        ("%5g@contoso.com", "mary", "Mary@contoso.com"),
        ("%1g%1s@contoso.com", "zoe", "ZO@contoso.com"),
        ("%99g@contoso.com", "juergen", "Juergen@contoso.com"),
        ("%99s@contoso.com", "juergen", "Mueller-Luedenscheidt@contoso.com"),
        ("%1g%1i%s@contoso.com", "initials", "JQPublic@contoso.com"),
        // Dots collapse and leading/trailing dots go.
        (".%g..%s.@contoso.com", "ian", "Ian.O'Connell@contoso.com"),
        ("%g...%s@contoso.com", "ian", "Ian.O'Connell@contoso.com"),
        ("%i.%s@contoso.com", "juergen", "Mueller-Luedenscheidt@contoso.com"),
        ("%g.%i.%s@contoso.com", "initials", "John.Q.Public@contoso.com"),
        // %d, characters a dot-atom cannot hold removed.
        ("%d@contoso.com", "display", "JuergenMuellerSales@contoso.com"),
        ("%g.%s@contoso.com", "emoji", "Doe@contoso.com"),
        // Literal text kept as written; case kept as generated; the domain normalised.
        ("x-%m_1@contoso.com", "ian", "x-ioconnell_1@contoso.com"),
        ("%g.%s@contoso.com", "mcdonald", "RONALD.McDonald@contoso.com"),
        ("%g@Contoso.COM", "ian", "Ian@contoso.com"),
        ("%g.%s@b\u{FC}cher.de", "ian", "Ian.O'Connell@xn--bcher-kva.de"),
        // Empty given name and surname fall back to the alias.
        ("%g.%s@contoso.com", "nobody", "nobody@contoso.com"),
        ("%g%s@contoso.com", "nobody", "nobody@contoso.com"),
        ("%1g.%i.%s@contoso.com", "nobody", "nobody@contoso.com"),
        ("%g.%s@contoso.com", "blank", "blank@contoso.com"),
        ("%d@contoso.com", "blank", "blank@contoso.com"),
    ])
    func templateRendersTheAddress(template: String, recipientKey: String, expected: String) throws {
        #expect(try TemplateFixtures.render(template, recipientKey) == expected)
    }

    @Test func hundredCharacterNameIsCutTo64Octets() throws {
        let display = try #require(try TemplateFixtures.render("%d@contoso.com", "long"))
        #expect(display == String(TemplateFixtures.hundred.prefix(64)) + "@contoso.com")
        let dotted = try #require(try TemplateFixtures.render("%g.%s@contoso.com", "long"))
        #expect(dotted == TemplateFixtures.long60a + ".bbb@contoso.com")
        for address in [display, dotted] {
            let parsed = try EmailAddress(parsing: address)
            #expect(parsed.localPart.text.utf8.count == LocalPart.maximumLength)
        }
    }

    @Test func cutThatEndsInADotLosesTheDot() throws {
        let address = try #require(try TemplateFixtures.render("%g.%s@contoso.com", "longdot"))
        #expect(address == String(repeating: "a", count: 63) + "@contoso.com")
    }

    /// Only an alias that is no valid alias can be unusable (the directory refuses such aliases).
    @Test func recipientWithNoUsableLocalPartGetsNoAddress() throws {
        let template = try AddressTemplate(parsing: "%g.%s@contoso.com")
        for alias in ["", "..."] {
            #expect(template.render(for: Recipient(alias: alias), transliterator: Transliterator()) == nil, "alias \(alias)")
        }
    }

    @Test func templateKeepsItsTextAndDomain() throws {
        let template = try AddressTemplate(parsing: "%g.%s@Contoso.COM")
        #expect(template.text == "%g.%s@Contoso.COM")
        #expect(template.description == "%g.%s@Contoso.COM")
        #expect(template.domain.name == "contoso.com")
    }

    /// (template, reason)
    @Test(arguments: [
        ("%q@contoso.com", "unknown token %q; use %g %s %i %d %m, %Ng, %rxy or %%"),
        ("%5%@contoso.com", "unknown token %5%; use %g %s %i %d %m, %Ng, %rxy or %%"),
        ("%5r@contoso.com", "unknown token %5r; use %g %s %i %d %m, %Ng, %rxy or %%"),
        ("%g.%s", "missing @domain"),
        ("", "missing @domain"),
        ("%g.%s@", "missing domain after '@'"),
        ("%g%@contoso.com", "'%' at the end of the format; write %% for a literal %"),
        ("%@contoso.com", "'%' at the end of the format; write %% for a literal %"),
        ("%0g@contoso.com", "%0: the length must be 1 to 99"),
        ("%00g@contoso.com", "%00: the length must be 1 to 99"),
        ("%5@contoso.com", "'%5' at the end of the format needs a token (g, s, i, d or m)"),
        ("%r@contoso.com", "%r needs two characters: %rxy replaces x by y, %rxx deletes x"),
        ("%rx@contoso.com", "%r needs two characters: %rxy replaces x by y, %rxx deletes x"),
        ("%g %s@contoso.com", "character ' ' at position 3 cannot appear in an address"),
        (" %m@contoso.com", "character ' ' at position 1 cannot appear in an address"),
        ("%g(%s)@contoso.com", "character '(' at position 3 cannot appear in an address"),
        ("%g@con@contoso.com", "character '@' at position 3 cannot appear in an address"),
        ("\u{E9}%g@contoso.com", "character '\u{E9}' at position 1 cannot appear in an address"),
        ("%g.%s@contoso..com", "domain: empty label"),
        ("%g.%s@[10.0.0.1]", "domain: address literals are not supported"),
        ("%g.%s@-contoso.com", "domain: label '-contoso' starts or ends with a hyphen"),
    ])
    func badTemplateIsRefusedWithTheTemplateAndTheReason(template: String, reason: String) {
        let error = #expect(throws: TemplateError.self) { try AddressTemplate(parsing: template) }
        #expect(error?.template == template)
        #expect(error?.reason == reason)
        #expect(error?.description == "template \(template): \(reason)")
    }

    /// Regression: `%100g` used to read as `%10` and the token `0`, and the reason never said
    /// that N must be 1 to 99.
    @Test(arguments: [("%100g@contoso.com", "%100"), ("%999s@contoso.com", "%999")])
    func lengthAbove99IsRefused(template: String, digits: String) {
        let error = #expect(throws: TemplateError.self) { try AddressTemplate(parsing: template) }
        #expect(error?.template == template)
        #expect(error?.reason == "\(digits): the length must be 1 to 99")
    }

    /// `%m` is the alias, already a local part: its dots stay (as Exchange stamps `j.doe`),
    /// while dots from names are removed.
    @Test func theAliasKeepsItsDots() throws {
        let recipient = Recipient(alias: "j.doe", attributes: [.givenName: "J.R.", .sn: "Doe"])
        let transliterator = Transliterator()
        #expect(try AddressTemplate(parsing: "%m@contoso.com").render(for: recipient, transliterator: transliterator)?.description == "j.doe@contoso.com")
        #expect(try AddressTemplate(parsing: "%g.%s@contoso.com").render(for: recipient, transliterator: transliterator)?.description == "JR.Doe@contoso.com")
        #expect(try AddressTemplate(parsing: "%2m@contoso.com").render(for: recipient, transliterator: transliterator)?.description == "j@contoso.com")
    }

    @Test(arguments: ["%g.%s@ contoso.com", "%g.%s@contoso com", "%g.%s@contoso_com", "%g.%s@."])
    func badDomainIsRefusedAsADomainError(template: String) {
        let error = #expect(throws: TemplateError.self) { try AddressTemplate(parsing: template) }
        #expect(error?.reason.hasPrefix("domain: ") == true, "reason: \(error?.reason ?? "")")
    }
}
