import MailCore
import Testing

@testable import MailPolicy

/// Recipients the filter tables refer to by key.
enum FilterFixtures {
    static let recipients: [String: Recipient] = [
        "smith": Recipient(
            alias: "jsmith",
            attributes: [
                .givenName: "John", .sn: "Smith", .initials: "JQ", .displayName: "John Smith",
                .company: "Contoso", .department: "Sales", .title: "Manager",
                .physicalDeliveryOfficeName: "Berlin", .extensionAttribute1: "A1",
                .extensionAttribute15: "Fifteen",
            ]),
        "temp": Recipient(
            alias: "ttemp",
            attributes: [.givenName: "Tina", .sn: "Smyth", .company: "Contoso", .department: "Temp"]),
        // Lower-case company, no department at all.
        "nodept": Recipient(alias: "nodept", attributes: [.givenName: "Ned", .sn: "Nodept", .company: "contoso"]),
        "mueller": Recipient(
            alias: "jmueller",
            attributes: [.givenName: "J\u{FC}rgen", .sn: "M\u{FC}ller-L\u{FC}denscheidt", .company: "Fabrikam"]),
        "contact": Recipient(
            alias: "ext.partner", kind: .contact,
            attributes: [.givenName: "Pat", .sn: "Partner", .company: "Fabrikam"],
            targetAddress: try! EmailAddress(parsing: "pat@fabrikam.com")),
        "remote": Recipient(
            alias: "rremote", kind: .remote, attributes: [.sn: "Remote", .company: "Fabrikam"], source: "fabrikam"),
        // Characters RFC 4515 makes you escape, and a NUL.
        "special": Recipient(alias: "special", attributes: [.sn: "a*b(c)d\\e", .displayName: "x\0y"]),
        "abc": Recipient(alias: "abc", attributes: [.sn: "aXbYc"]),
        "short": Recipient(alias: "short", attributes: [.sn: "abc"]),
        "bare": Recipient(alias: "bare"),
    ]

    static func recipient(_ key: String) -> Recipient {
        guard let recipient = recipients[key] else { fatalError("no fixture \(key)") }
        return recipient
    }

    /// (filter, recipient key, matches?)
    static let matchTable: [(String, String, Bool)] = [
        // Equality; values and attribute names compare case-insensitively.
        ("(sn=Smith)", "smith", true),
        ("(sn=smith)", "smith", true),
        ("(sn=SMITH)", "smith", true),
        ("(SN=Smith)", "smith", true),
        ("(Sn=sMiTh)", "smith", true),
        ("(givenname=john)", "smith", true),
        ("(GIVENNAME=JOHN)", "smith", true),
        ("(sn=Smith)", "temp", false),
        ("(sn=Smit)", "smith", false),
        ("(sn=Smith )", "smith", false),
        ("(sn=Smith)", "bare", false),
        ("(initials=jq)", "smith", true),
        ("(displayName=john smith)", "smith", true),
        ("(title=MANAGER)", "smith", true),
        ("(physicalDeliveryOfficeName=berlin)", "smith", true),
        ("(company=Contoso)", "nodept", true),
        // Presence.
        ("(department=*)", "smith", true),
        ("(department=*)", "nodept", false),
        ("(mailNickname=*)", "bare", true),
        ("(mailNickname=*)", "contact", true),
        ("(objectClass=*)", "bare", true),
        ("(sn=*)", "bare", false),
        ("(targetAddress=*)", "contact", true),
        ("(targetAddress=*)", "smith", false),
        // Substrings.
        ("(sn=Sm*th)", "smith", true),
        ("(sn=Sm*th)", "temp", true),
        ("(sn=Sm*th)", "nodept", false),
        ("(sn=sm*TH)", "smith", true),
        ("(sn=*ith)", "smith", true),
        ("(sn=*ith)", "temp", false),
        ("(sn=*ITH)", "smith", true),
        ("(sn=Sm*)", "smith", true),
        ("(sn=Sm*)", "temp", true),
        ("(sn=Sm*)", "mueller", false),
        ("(sn=Sm*)", "bare", false),
        ("(sn=*mit*)", "smith", true),
        ("(sn=*mit*)", "temp", false),
        ("(sn=a*b*c)", "abc", true),
        ("(sn=a*b*c)", "short", true),
        ("(sn=a*b*c)", "smith", false),
        ("(sn=A*B*C)", "abc", true),
        ("(sn=a*c*b)", "abc", false),
        ("(sn=*b*)", "abc", true),
        ("(sn=*x*y*)", "abc", true),
        ("(sn=*y*x*)", "abc", false),
        ("(sn=ab*c)", "short", true),
        ("(sn=ab*bc)", "short", false),  // initial and final may not overlap
        ("(sn=abc*c)", "short", false),
        ("(sn=*abc)", "short", true),
        ("(sn=abc*)", "short", true),
        // Non-ASCII values, literal and as escaped UTF-8 (\c3\bc = ü), folded case.
        ("(givenName=J\u{FC}rgen)", "mueller", true),
        ("(givenName=J\\c3\\bcrgen)", "mueller", true),
        ("(givenName=J\\C3\\BCRGEN)", "mueller", true),
        ("(givenName=JURGEN)", "mueller", false),
        ("(sn=*M\u{DC}LLER*)", "mueller", true),
        ("(sn=m\\c3\\bcller*)", "mueller", true),
        ("(sn=m\u{FC}*l\u{FC}d*heidt)", "mueller", true),
        ("(sn=*\u{FC}*\u{FC}*)", "mueller", true),
        ("(sn=*\u{FC}*\u{FC}*\u{FC}*)", "mueller", false),
        ("(sn=m\u{FC}*l\u{FC}d*l\u{FC}d*)", "mueller", false),
        ("(sn=*-l\\c3\\bc*scheidt)", "mueller", true),
        // Decomposed ü (u + U+0308) is the same character.
        ("(givenName=Ju\u{308}rgen)", "mueller", true),
        ("(givenName=J\\75\\cc\\88rgen)", "mueller", true),
        ("(sn=mu\u{308}*)", "mueller", true),
        ("(sn=*lu\u{308}d*)", "mueller", true),
        ("(sn=*denscheidt)", "mueller", true),
        // Ordering on the case-folded strings.
        ("(sn>=S)", "smith", true),
        ("(sn>=s)", "smith", true),
        ("(sn>=smith)", "smith", true),
        ("(sn>=SMITHS)", "smith", false),
        ("(sn>=T)", "smith", false),
        ("(sn<=T)", "smith", true),
        ("(sn<=smith)", "smith", true),
        ("(sn<=SMIT)", "smith", false),
        ("(sn<=a)", "smith", false),
        ("(sn>=a)", "bare", false),
        ("(sn<=z)", "bare", false),
        // ~= is case-insensitive equality, nothing phonetic.
        ("(sn~=SMITH)", "smith", true),
        ("(sn~=smith)", "smith", true),
        ("(sn~=smyth)", "smith", false),
        ("(company~=CONTOSO)", "nodept", true),
        ("(sn~=x)", "bare", false),
        // Escapes: \2a * , \28 ( , \29 ) , \5c \ , \00 NUL.
        ("(sn=a\\2ab\\28c\\29d\\5ce)", "special", true),
        ("(sn=A\\2AB\\28C\\29D\\5CE)", "special", true),
        ("(sn=a\\2a*)", "special", true),
        ("(sn=a*)", "special", true),
        ("(sn=a\\2a)", "special", false),
        ("(sn=*\\5c*)", "special", true),
        ("(sn=*\\28c\\29*)", "special", true),
        ("(sn=*\\5c)", "special", false),
        ("(displayName=x\\00y)", "special", true),
        ("(displayName=*\\00*)", "special", true),
        ("(displayName=xy)", "special", false),
        ("(sn=\\2a)", "smith", false),
        ("(sn=*\\2a*)", "smith", false),
        ("(sn=*\\2a*)", "special", true),
        ("(sn=\\53mith)", "smith", true),
        // Boolean operators.
        ("(&(company=Contoso)(!(department=Temp)))", "smith", true),
        ("(&(company=Contoso)(!(department=Temp)))", "temp", false),
        ("(&(company=Contoso)(!(department=Temp)))", "nodept", true),
        ("(&(company=Contoso)(!(department=Temp)))", "mueller", false),
        ("(!(department=Temp))", "nodept", true),
        ("(!(department=Temp))", "bare", true),
        ("(!(department=Temp))", "temp", false),
        ("(!(department=*))", "nodept", true),
        ("(!(department=*))", "smith", false),
        ("(|(company=A)(company=B))", "smith", false),
        ("(|(company=Fabrikam)(company=Contoso))", "smith", true),
        ("(|(company=Fabrikam)(company=Contoso))", "mueller", true),
        ("(|(company=Fabrikam)(company=Contoso))", "bare", false),
        ("(&(sn=Smith))", "smith", true),
        ("(|(sn=Smith))", "smith", true),
        ("(!(!(sn=Smith)))", "smith", true),
        ("(&(sn=Smith)(givenName=John)(company=Contoso)(department=Sales))", "smith", true),
        ("(&(sn=Smith)(givenName=John)(company=Contoso)(department=Temp))", "smith", false),
        ("(|(sn=x)(sn=y)(sn=z)(sn=Smith))", "smith", true),
        ("(&(objectClass=user)(|(sn=Sm*)(sn=Remote)))", "remote", true),
        ("(&(objectClass=user)(|(sn=Sm*)(sn=Remote)))", "contact", false),
        // objectClass: user for mailboxes and remote recipients, contact for contacts.
        ("(objectClass=user)", "smith", true),
        ("(objectClass=user)", "remote", true),
        ("(objectClass=user)", "contact", false),
        ("(objectClass=contact)", "contact", true),
        ("(objectClass=contact)", "smith", false),
        ("(objectClass=contact)", "remote", false),
        ("(objectclass=USER)", "remote", true),
        ("(OBJECTCLASS=Contact)", "contact", true),
        ("(!(objectClass=contact))", "bare", true),
        // mailNickname is the alias.
        ("(mailNickname=jsmith)", "smith", true),
        ("(mailNickname=JSMITH)", "smith", true),
        ("(mailnickname=j*)", "mueller", true),
        ("(mailNickname=jsmith)", "temp", false),
        ("(mailNickname=ext.partner)", "contact", true),
        ("(mailNickname=ext*)", "contact", true),
        // extensionAttribute1..15.
        ("(extensionAttribute1=A1)", "smith", true),
        ("(extensionattribute1=a1)", "smith", true),
        ("(extensionAttribute15=fifteen)", "smith", true),
        ("(EXTENSIONATTRIBUTE15=Fif*)", "smith", true),
        ("(extensionAttribute15=*)", "temp", false),
        ("(extensionAttribute7=*)", "smith", false),
        ("(extensionAttribute1=A1)", "temp", false),
        // targetAddress (contacts).
        ("(targetAddress=pat@fabrikam.com)", "contact", true),
        ("(targetAddress=PAT@FABRIKAM.COM)", "contact", true),
        ("(targetAddress=*@fabrikam.com)", "contact", true),
        ("(targetAddress=*@contoso.com)", "contact", false),
        ("(targetAddress=pat@fabrikam.com)", "smith", false),
    ]

    /// (filter text, FilterError.description) — columns counted by hand, in characters.
    static let errorTable: [(String, String)] = [
        ("", "filter: empty filter; expected '(' at column 1"),
        ("sn=Smith", "filter: expected '(' at column 1"),
        (" (sn=Smith)", "filter: expected '(' at column 1"),
        ("(", "filter: expected a filter, found the end at column 2"),
        ("()", "filter: expected an attribute name at column 2"),
        ("(=x)", "filter: expected an attribute name at column 2"),
        ("(sn=Smith", "filter: expected ')', found the end at column 10"),
        ("(&(sn=Smith)", "filter: expected ')', found the end at column 13"),
        ("(&(sn=Smith)(sn=Jones", "filter: expected ')', found the end at column 22"),
        ("(sn=Smith))", "filter: unexpected text after the filter at column 11"),
        ("(sn=x)(sn=y)", "filter: unexpected text after the filter at column 7"),
        ("(sn=x) ", "filter: unexpected text after the filter at column 7"),
        ("(!(company=Temp)(sn=x))", "filter: expected ')' at column 17"),
        ("(&(sn=x)y)", "filter: expected ')' at column 9"),
        ("(&)", "filter: expected '(' after '&': it needs at least one filter at column 3"),
        ("(|)", "filter: expected '(' after '|': it needs at least one filter at column 3"),
        ("(&(sn=x)(|))", "filter: expected '(' after '|': it needs at least one filter at column 11"),
        ("(!)", "filter: expected '(' at column 3"),
        ("(foo=bar)", "filter: unknown attribute foo at column 2"),
        ("(cn=x)", "filter: unknown attribute cn at column 2"),
        ("(&(sn=x)(Foo=bar))", "filter: unknown attribute Foo at column 10"),
        ("(sn;binary=x)", "filter: unknown attribute sn;binary at column 2"),
        ("(extensionAttribute16=x)", "filter: unknown attribute extensionAttribute16 at column 2"),
        ("(extensionAttribute0=x)", "filter: unknown attribute extensionAttribute0 at column 2"),
        (
            "(proxyAddresses=smtp:*)",
            "filter: proxyAddresses is derived from the addresses policies stamp and cannot be filtered on at column 2"
        ),
        (
            "(mail=*@contoso.com)",
            "filter: mail is derived from the addresses policies stamp and cannot be filtered on at column 2"
        ),
        (
            "(|(sn=x)(MAIL=a))",
            "filter: MAIL is derived from the addresses policies stamp and cannot be filtered on at column 10"
        ),
        (
            "(proxyaddresses=*)",
            "filter: proxyaddresses is derived from the addresses policies stamp and cannot be filtered on at column 2"
        ),
        ("(cn:dn:=x)", "filter: extensible match filters are not supported at column 4"),
        ("(sn:caseExactMatch:=Smith)", "filter: extensible match filters are not supported at column 4"),
        ("(sn=\\g1)", "filter: '\\' must be followed by two hex digits at column 5"),
        ("(sn=ab\\2)", "filter: '\\' must be followed by two hex digits at column 7"),
        ("(sn=ab\\)", "filter: '\\' must be followed by two hex digits at column 7"),
        ("(sn=ab\\", "filter: '\\' must be followed by two hex digits at column 7"),
        ("(sn=a(b)", "filter: '(' must be escaped as \\28 in a value at column 6"),
        ("(sn=a\0b)", "filter: NUL must be escaped as \\00 in a value at column 6"),
        ("(sn>=a*)", "filter: '*' is only allowed with '='; write \\2a for a literal '*' at column 7"),
        ("(sn~=*)", "filter: '*' is only allowed with '='; write \\2a for a literal '*' at column 6"),
        ("(sn<=*x)", "filter: '*' is only allowed with '='; write \\2a for a literal '*' at column 6"),
        ("(sn~x)", "filter: expected '=' at column 5"),
        ("(sn>x)", "filter: expected '=' at column 5"),
        ("(sn~", "filter: expected '=', found the end at column 5"),
        ("(sn", "filter: expected '=', '~=', '>=' or '<=', found the end at column 4"),
        ("(sn x)", "filter: expected '=', '~=', '>=' or '<=' after attribute sn at column 4"),
        // Columns count characters, not UTF-8 bytes: ü is one column.
        ("(sn=M\u{FC}ller(x)", "filter: '(' must be escaped as \\28 in a value at column 11"),
        // Regression: these used to point at the end of the value, not at the fault.
        ("(sn=\\ff)", "filter: escaped value is not valid UTF-8 at column 5"),
        ("(sn=a**b)", "filter: empty substring between two '*' at column 7"),
    ]

    /// (filter text, FilterError.message): more refusals of the same kinds, message only.
    static let errorMessageTable: [(String, String)] = [
        ("(sn=\\ff)", "escaped value is not valid UTF-8"),
        ("(sn=\\c3)", "escaped value is not valid UTF-8"),
        ("(sn=\\c3\\28)", "escaped value is not valid UTF-8"),
        ("(sn=\\bc\\c3)", "escaped value is not valid UTF-8"),
        ("(sn=a**b)", "empty substring between two '*'"),
        ("(sn=**)", "empty substring between two '*'"),
    ]

    /// `(!(!(…(sn=x)…)))` with `depth` filters in all.
    static func nested(depth: Int, op: String = "!") -> String {
        String(repeating: "(" + op, count: depth - 1) + "(sn=x)" + String(repeating: ")", count: depth - 1)
    }
}

@Suite struct RecipientFilterTests {
    @Test(arguments: FilterFixtures.matchTable)
    func filterMatchesRecipientAsTabled(filter: String, recipientKey: String, expected: Bool) throws {
        let parsed = try RecipientFilter(parsing: filter)
        #expect(parsed.matches(FilterFixtures.recipient(recipientKey)) == expected)
    }

    @Test(arguments: FilterFixtures.errorTable)
    func badFilterIsRefusedWithWhatAndWhere(filter: String, expected: String) {
        let error = #expect(throws: FilterError.self) { try RecipientFilter(parsing: filter) }
        #expect(error?.description == expected)
    }

    @Test(arguments: FilterFixtures.errorMessageTable)
    func badFilterIsRefusedWithWhat(filter: String, message: String) {
        let error = #expect(throws: FilterError.self) { try RecipientFilter(parsing: filter) }
        #expect(error?.message == message)
        #expect(error.map { (5...(filter.unicodeScalars.count)).contains($0.column) } == true, "column \(error?.column ?? 0)")
    }

    @Test(arguments: Set(FilterFixtures.matchTable.map(\.0)).sorted())
    func descriptionParsesBackToAnEqualFilter(filter: String) throws {
        let parsed = try RecipientFilter(parsing: filter)
        let reparsed = try RecipientFilter(parsing: parsed.description)
        #expect(reparsed == parsed, "\(filter) printed as \(parsed.description)")
        #expect(reparsed.description == parsed.description)
    }

    /// (input, canonical description): AD spelling of names, escapes re-written in lower-case hex.
    @Test(arguments: [
        ("(&(GIVENNAME=x)(sn=a\\2a*))", "(&(givenName=x)(sn=a\\2a*))"),
        ("(|(SN=*)(!(mailnickname=a)))", "(|(sn=*)(!(mailNickname=a)))"),
        ("(objectclass=user)", "(objectClass=user)"),
        ("(sn=\\28\\29\\5C\\00)", "(sn=\\28\\29\\5c\\00)"),
        ("(sn=j\\c3\\bcrgen)", "(sn=j\u{FC}rgen)"),
        ("(sn=*a*b*c*)", "(sn=*a*b*c*)"),
        ("(extensionattribute15>=a)", "(extensionAttribute15>=a)"),
        ("(targetaddress~=x)", "(targetAddress~=x)"),
        ("(physicaldeliveryofficename<=m)", "(physicalDeliveryOfficeName<=m)"),
    ])
    func descriptionIsCanonicalRFC4515Text(input: String, expected: String) throws {
        #expect(try RecipientFilter(parsing: input).description == expected)
    }

    @Test(arguments: 1...15)
    func everyExtensionAttributeIsFilterableAndSeparate(n: Int) throws {
        let attribute = try #require(RecipientAttribute(adName: "extensionAttribute\(n)"))
        let recipient = Recipient(alias: "ext\(n)", attributes: [attribute: "Value \(n)"])
        #expect(try RecipientFilter(parsing: "(extensionAttribute\(n)=value \(n))").matches(recipient))
        #expect(try RecipientFilter(parsing: "(EXTENSIONATTRIBUTE\(n)=*)").matches(recipient))
        let other = n == 15 ? 1 : n + 1
        #expect(try !RecipientFilter(parsing: "(extensionAttribute\(other)=*)").matches(recipient))
    }

    @Test func filtersOnAValueWithAnEscapedMultiByteCharacterEqualTheLiteralOne() throws {
        #expect(try RecipientFilter(parsing: "(sn=M\\c3\\bcller)") == RecipientFilter(parsing: "(sn=M\u{FC}ller)"))
        #expect(try RecipientFilter(parsing: "(sn=\\2a)") == .equal(FilterAttribute.known["sn"]!, "*"))
    }

    @Test func filterNestedExactlyToTheMaximumDepthParsesAndMatches() throws {
        let text = FilterFixtures.nested(depth: RecipientFilter.maximumDepth)
        let filter = try RecipientFilter(parsing: text)
        // 31 negations: odd, so it is "not sn=x".
        #expect(filter.matches(FilterFixtures.recipient("smith")))
        let anded = try RecipientFilter(parsing: FilterFixtures.nested(depth: RecipientFilter.maximumDepth, op: "&"))
        #expect(try RecipientFilter(parsing: anded.description) == anded)
    }

    /// The (maximumDepth+1)-th '(' is at column 2·maximumDepth+1; the error points just after it.
    @Test(arguments: [RecipientFilter.maximumDepth + 1, RecipientFilter.maximumDepth + 2, 1000])
    func filterNestedDeeperThanTheMaximumIsAnErrorNotACrash(depth: Int) {
        for op in ["!", "&", "|"] {
            let text = FilterFixtures.nested(depth: depth, op: op)
            #expect(text.count <= RecipientFilter.maximumLength)
            let error = #expect(throws: FilterError.self) { try RecipientFilter(parsing: text) }
            #expect(error?.description == "filter: nested deeper than 32 levels at column 66")
        }
    }

    @Test func filterOfExactlyTheMaximumLengthParses() throws {
        let text = "(sn=" + String(repeating: "a", count: RecipientFilter.maximumLength - 5) + ")"
        #expect(text.unicodeScalars.count == RecipientFilter.maximumLength)
        _ = try RecipientFilter(parsing: text)
    }

    @Test(arguments: [RecipientFilter.maximumLength + 1, 100_000])
    func filterLongerThanTheMaximumIsRefused(length: Int) {
        let text = "(sn=" + String(repeating: "a", count: length - 5) + ")"
        let error = #expect(throws: FilterError.self) { try RecipientFilter(parsing: text) }
        #expect(error?.description == "filter: longer than 4096 characters at column 4097")
        let deep = String(repeating: "(!", count: length) + "(sn=x)" + String(repeating: ")", count: length)
        let deepError = #expect(throws: FilterError.self) { try RecipientFilter(parsing: deep) }
        #expect(deepError?.description == "filter: longer than 4096 characters at column 4097")
    }
}

/// A tiny deterministic PRNG (xorshift64), so the fuzz test is repeatable.
struct XorShift64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

@Suite struct RecipientFilterFuzzTests {
    static let characters: [String] = "()&|!=*~<>\\az09".map { String($0) }
    /// Adds pieces that make some random strings parse.
    static let tokens: [String] = characters + [
        "(sn=", "sn", ")(", "\\2a", "\\c3", "\\bc", "*)", "(sn=a)", "(sn=a)", "(SN=*)", "(sn>=a)", "(sn=a*b)", ")", ")",
        "(&", "(|", "(!",
    ]

    static func check(_ text: String, against recipients: [Recipient]) -> Bool {
        do {
            let filter = try RecipientFilter(parsing: text)
            for recipient in recipients { _ = filter.matches(recipient) }
            #expect(try RecipientFilter(parsing: filter.description) == filter, "round trip of \(text)")
            return true
        } catch {
            // Typed throws: only FilterError can arrive here; its column lies within the text or just past it.
            #expect((1...(text.unicodeScalars.count + 1)).contains(error.column), "\(text): \(error)")
            #expect(error.description.hasPrefix("filter: "))
            return false
        }
    }

    @Test(arguments: [(characters, UInt64(0x5EED_0001)), (tokens, UInt64(0x5EED_0002))])
    func randomStringsEitherParseOrThrowFilterErrorNeverCrash(alphabet: [String], seed: UInt64) {
        var random = XorShift64(seed: seed)
        let recipients = Array(FilterFixtures.recipients.values)
        var parsed = 0
        for _ in 0..<4000 {
            let length = random.below(40)
            var text = ""
            for _ in 0..<length { text += alphabet[random.below(alphabet.count)] }
            if Self.check(text, against: recipients) { parsed += 1 }
        }
        if alphabet == Self.tokens { #expect(parsed > 0, "the token alphabet should produce some valid filters") }
    }

    @Test func mutatedValidFiltersNeverCrash() {
        var random = XorShift64(seed: 0xF11_7E25)
        let recipients = Array(FilterFixtures.recipients.values)
        let seeds = FilterFixtures.matchTable.map(\.0)
        for _ in 0..<3000 {
            var scalars = Array(seeds[random.below(seeds.count)].unicodeScalars)
            for _ in 0...random.below(3) {
                let index = random.below(scalars.count + 1)
                switch random.below(3) {
                case 0: if index < scalars.count { scalars.remove(at: index) }
                case 1: scalars.insert(Self.characters[random.below(Self.characters.count)].unicodeScalars.first!, at: index)
                default: if index < scalars.count { scalars[index] = Self.characters[random.below(Self.characters.count)].unicodeScalars.first! }
                }
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            _ = Self.check(text, against: recipients)
        }
    }
}
