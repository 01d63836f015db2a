import MailCore
import Testing

@testable import MailPolicy

@Suite struct TransliterationTests {
    /// (input, ASCII) as ICU's `Any-Latin; de-ASCII; Latin-ASCII` gives it.
    @Test(arguments: [
        ("J\u{FC}rgen M\u{FC}ller", "Juergen Mueller"),
        ("Zo\u{EB} \u{D8}rsted", "Zoe Orsted"),
        ("\u{141}ukasz \u{17B}\u{F3}\u{142}\u{107}", "Lukasz Zolc"),
        ("Jos\u{E9} \u{D1}\u{FA}\u{F1}ez", "Jose Nunez"),
        ("Stra\u{DF}e", "Strasse"),
        ("M\u{FC}ller-L\u{FC}denscheidt", "Mueller-Luedenscheidt"),
        ("\u{C4}rger", "Aerger"),
        ("\u{C5}sa", "Asa"),
        ("\u{C6}r\u{F8}", "AEro"),
        ("\u{FE}orn", "thorn"),
        // Decomposed input (as macOS file names carry it) gives the same result.
        ("Ju\u{308}rgen", "Juergen"),
    ])
    func nameIsTransliteratedToASCII(input: String, expected: String) {
        let transliterator = Transliterator()
        #expect(transliterator.ascii(input) == expected)
        // Cached: a second call gives the same.
        #expect(transliterator.ascii(input) == expected)
    }

    @Test(arguments: [
        "", "John Smith", "O'Connell", "Mary Ann van der Berg", "a.b-c_d", "!#$%&'*+-/=?^_`{|}~",
        "\t(x) \"y\" <z>", "UPPER lower 0123",
    ])
    func asciiInputIsReturnedUnchanged(input: String) {
        let output = Transliterator().ascii(input)
        #expect(output == input)
        #expect(Array(output.utf8) == Array(input.utf8))
    }

    /// (template, givenName, sn, address) — transliteration as templates apply it, with
    /// apostrophes and spaces.
    @Test(arguments: [
        ("%g.%s@contoso.com", "Jos\u{E9}", "\u{D1}\u{FA}\u{F1}ez", "Jose.Nunez@contoso.com"),
        ("%s@contoso.com", "Hans", "Stra\u{DF}e", "Strasse@contoso.com"),
        ("%g.%s@contoso.com", "J\u{FC}rgen", "M\u{FC}ller", "Juergen.Mueller@contoso.com"),
        ("%g.%s@contoso.com", "Zo\u{EB}", "\u{D8}rsted", "Zoe.Orsted@contoso.com"),
        ("%g.%s@contoso.com", "\u{141}ukasz", "\u{17B}\u{F3}\u{142}\u{107}", "Lukasz.Zolc@contoso.com"),
        ("%g.%s@contoso.com", "Ren\u{E9}e", "D'\u{C1}ngelo", "Renee.D'Angelo@contoso.com"),
        ("%g.%r''%s@contoso.com", "Ren\u{E9}e", "D'\u{C1}ngelo", "Renee.DAngelo@contoso.com"),
        ("%g.%s@contoso.com", "Mar\u{ED}a Jos\u{E9}", "de la Pe\u{F1}a", "MariaJose.delaPena@contoso.com"),
        ("%r .%g.%s@contoso.com", "Mar\u{ED}a Jos\u{E9}", "de la Pe\u{F1}a", "Maria.Jose.de.la.Pena@contoso.com"),
        ("%1g%s@contoso.com", "\u{C9}mile", "\u{C7}elik", "ECelik@contoso.com"),
        ("%1g%s@contoso.com", "\u{C4}nne", "\u{D6}z", "AOez@contoso.com"),
        ("%g.%s@contoso.com", "Bj\u{F6}rn", "\u{C5}str\u{F6}m", "Bjoern.Astroem@contoso.com"),
    ])
    func templateTransliteratesNames(template: String, givenName: String, surname: String, expected: String) throws {
        let recipient = Recipient(alias: "someone", attributes: [.givenName: givenName, .sn: surname])
        let address = try AddressTemplate(parsing: template).render(for: recipient, transliterator: Transliterator())
        #expect(address?.description == expected)
    }
}
