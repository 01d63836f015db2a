import Testing

@testable import MailCore

@Suite struct RecipientAliasTests {
    @Test(arguments: [
        "jdoe",
        "j",
        "John.Doe",
        "john.q.public",
        "o'brien",
        "john+tag",
        "first_last",
        "x-1",
        "1234",
        "!#$%&'*+-/=?^_`{|}~",
        "a.!#$%&'*+-/=?^_`{|}~.z",
        String(repeating: "a", count: 64),
        String(repeating: "a.", count: 31) + "ab",  // 64 with dots
    ])
    func acceptsDotStringAliasUpTo64Characters(alias: String) {
        #expect(throws: Never.self) { try RecipientAlias.validate(alias) }
    }

    /// (alias, a fragment the reason must contain)
    @Test(arguments: [
        ("", "empty"),
        (String(repeating: "a", count: 65), "longer than 64 characters"),
        (String(repeating: "a.", count: 32) + "a", "longer than 64 characters"),
        (".jdoe", "single dots between them"),
        ("jdoe.", "single dots between them"),
        ("j..doe", "single dots between them"),
        (".", "single dots between them"),
        ("john doe", "single dots between them"),
        (" jdoe", "single dots between them"),
        ("jdoe ", "single dots between them"),
        ("john,doe", "single dots between them"),
        ("john@contoso.com", "single dots between them"),
        ("\"john doe\"", "single dots between them"),
        ("<jdoe>", "single dots between them"),
        ("j(doe)", "single dots between them"),
        ("jürgen", "single dots between them"),
        ("j\tdoe", "single dots between them"),
        ("j\u{00}doe", "single dots between them"),
    ])
    func refusesAliasThatIsNotAShortDotString(alias: String, reasonFragment: String) {
        let error = #expect(throws: AddressError.self) { try RecipientAlias.validate(alias) }
        #expect(error?.reason.contains(reasonFragment) == true, "reason was: \(error?.reason ?? "nil")")
        #expect(error?.subject == "alias")
        #expect(error?.input == alias)
    }

    @Test func rejectsAliasLongerThan64Octets() {
        #expect(RecipientAlias.maximumLength == 64)
        let error = #expect(throws: AddressError.self) { try RecipientAlias.validate(String(repeating: "x", count: 65)) }
        #expect(error?.reason == "longer than 64 characters")
        // 33 two-octet characters: under 64 characters, over 64 octets; refused (non-ASCII anyway).
        #expect(throws: AddressError.self) { try RecipientAlias.validate(String(repeating: "ü", count: 33)) }
    }

    /// Every valid alias is a valid local part, since policies use it as `%m`.
    @Test(arguments: ["jdoe", "John.Doe", "o'brien", "!#$%&'*+-/=?^_`{|}~", String(repeating: "a", count: 64)])
    func validAliasIsUsableAsUnquotedLocalPart(alias: String) throws {
        try RecipientAlias.validate(alias)
        let address = try EmailAddress(parsing: "\(alias)@contoso.com")
        #expect(address.localPart.text == alias)
        #expect(!address.localPart.isQuoted)
    }
}
