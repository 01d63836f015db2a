import Testing

@testable import MailCore

@Suite struct AddressSpaceTests {
    private static func pattern(_ text: String) throws -> AddressSpacePattern {
        try AddressSpacePattern(parsing: text)
    }

    private static func domain(_ text: String) throws -> DomainName {
        try DomainName(parsing: text)
    }

    /// (input, description)
    static let validPatterns: [(String, String)] = [
        ("*", "*"),
        ("fabrikam.com", "fabrikam.com"),
        ("Fabrikam.COM.", "fabrikam.com"),
        ("*.fabrikam.com", "*.fabrikam.com"),
        ("*.Sub.Fabrikam.COM", "*.sub.fabrikam.com"),
        ("*.com", "*.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("*.bücher.de", "*.xn--bcher-kva.de"),
    ]

    @Test(arguments: validPatterns)
    func parsesAndNormalisesPattern(input: String, description: String) throws {
        let pattern = try Self.pattern(input)
        #expect(pattern.description == description)
        #expect(try Self.pattern(pattern.description) == pattern)
    }

    @Test func distinguishesAnyExactAndSubdomainPatterns() throws {
        #expect(try Self.pattern("*") == .any)
        #expect(try Self.pattern("fabrikam.com") == .domain(Self.domain("fabrikam.com")))
        #expect(try Self.pattern("*.fabrikam.com") == .subdomains(of: Self.domain("fabrikam.com")))
    }

    /// (input, a fragment the reason must contain)
    @Test(arguments: [
        ("fab*.com", "'*' is allowed only alone or as the first label"),
        ("**", "'*' is allowed only alone or as the first label"),
        ("*.*.com", "'*' is allowed only alone or as the first label"),
        ("mail.*.com", "'*' is allowed only alone or as the first label"),
        ("fabrikam.*", "'*' is allowed only alone or as the first label"),
        ("*fabrikam.com", "'*' is allowed only alone or as the first label"),
        ("*.", "empty"),
        ("", "empty"),
        (" *", "'*' is allowed only alone or as the first label"),
        (" fabrikam.com", "character ' '"),
        ("*.fabrikam..com", "empty label"),
        ("*.-fabrikam.com", "starts or ends with a hyphen"),
        ("fabrikam_x.com", "character '_'"),
        ("[10.0.0.5]", "address literals are not supported"),
    ])
    func refusesInvalidPatternWithMeaningfulReason(input: String, reasonFragment: String) {
        let error = #expect(throws: AddressError.self) { try AddressSpacePattern(parsing: input) }
        #expect(error?.reason.contains(reasonFragment) == true, "reason was: \(error?.reason ?? "nil")")
        #expect(error?.subject == "address space")
        #expect(error?.input == input)
    }

    /// (pattern, domain, matches?)
    @Test(arguments: [
        ("*", "fabrikam.com", true),
        ("*", "localhost", true),
        ("fabrikam.com", "fabrikam.com", true),
        ("fabrikam.com", "FABRIKAM.COM.", true),
        ("fabrikam.com", "mail.fabrikam.com", false),
        ("fabrikam.com", "xfabrikam.com", false),
        ("fabrikam.com", "com", false),
        ("*.fabrikam.com", "mail.fabrikam.com", true),
        ("*.fabrikam.com", "a.b.fabrikam.com", true),
        ("*.fabrikam.com", "fabrikam.com", false),
        ("*.fabrikam.com", "xfabrikam.com", false),
        ("*.fabrikam.com", "mail.xfabrikam.com", false),
        ("*.fabrikam.com", "fabrikam.com.au", false),
        ("*.fabrikam.com", "mail.fabrikam.net", false),
        ("*.bücher.de", "mail.bücher.de", true),
        ("*.bücher.de", "mail.xn--bcher-kva.de", true),
    ])
    func matchesDomains(pattern: String, domain: String, expected: Bool) throws {
        #expect(try Self.pattern(pattern).matches(Self.domain(domain)) == expected)
    }

    @Test func ranksExactAboveLongerWildcardAboveShorterWildcardAboveAny() throws {
        let target = try Self.domain("mail.sub.fabrikam.com")
        let mostToLeastSpecific = try [
            "mail.sub.fabrikam.com", "*.sub.fabrikam.com", "*.fabrikam.com", "*.com", "*",
        ].map(Self.pattern)
        for pattern in mostToLeastSpecific {
            #expect(pattern.matches(target), "\(pattern) should match \(target)")
        }
        let specificities = mostToLeastSpecific.map(\.specificity)
        #expect(specificities == specificities.sorted(by: >))
        #expect(Set(specificities).count == specificities.count, "no ties: \(specificities)")
        #expect(try Self.pattern("*").specificity == 0)
    }

    /// For every domain, an exact pattern beats every wildcard that also matches it.
    @Test(arguments: ["a.b", "mail.fabrikam.com", "x.y.z.fabrikam.com", "ab.c"])
    func exactPatternBeatsEveryMatchingWildcard(domainText: String) throws {
        let domain = try Self.domain(domainText)
        let exact = AddressSpacePattern.domain(domain)
        let labels = domain.labels
        for drop in 1..<labels.count {
            let wildcard = AddressSpacePattern.subdomains(of: try Self.domain(labels.dropFirst(drop).joined(separator: ".")))
            #expect(wildcard.matches(domain))
            #expect(exact.specificity > wildcard.specificity)
        }
        #expect(exact.specificity > AddressSpacePattern.any.specificity)
    }

    /// (input, pattern description, cost, description)
    @Test(arguments: [
        ("fabrikam.com", "fabrikam.com", 1, "fabrikam.com"),
        ("fabrikam.com;1", "fabrikam.com", 1, "fabrikam.com"),
        ("fabrikam.com;5", "fabrikam.com", 5, "fabrikam.com;5"),
        ("*.fabrikam.com;100", "*.fabrikam.com", 100, "*.fabrikam.com;100"),
        ("*;10", "*", 10, "*;10"),
        ("*", "*", 1, "*"),
        ("Fabrikam.COM;2", "fabrikam.com", 2, "fabrikam.com;2"),
    ])
    func parsesPatternAndCost(input: String, pattern: String, cost: Int, description: String) throws {
        let space = try AddressSpace(parsing: input)
        #expect(space.pattern.description == pattern)
        #expect(space.cost == cost)
        #expect(space.description == description)
        #expect(try AddressSpace(parsing: space.description) == space)
    }

    /// (input, a fragment the reason must contain)
    @Test(arguments: [
        ("fabrikam.com;0", "cost must be a number from 1 to 100"),
        ("fabrikam.com;101", "cost must be a number from 1 to 100"),
        ("fabrikam.com;-1", "cost must be a number from 1 to 100"),
        ("fabrikam.com;x", "cost must be a number from 1 to 100"),
        ("fabrikam.com;+5", "cost must be a number from 1 to 100"),  // regression: Int() takes a sign
        ("fabrikam.com;", "cost must be a number from 1 to 100"),
        ("fabrikam.com; 5", "cost must be a number from 1 to 100"),
        ("fabrikam.com;5;6", "cost must be a number from 1 to 100"),
        ("fabrikam.com;1.5", "cost must be a number from 1 to 100"),
        ("fab*.com;5", "'*' is allowed only alone"),
        (";5", "empty"),
    ])
    func refusesInvalidAddressSpace(input: String, reasonFragment: String) {
        let error = #expect(throws: AddressError.self) { try AddressSpace(parsing: input) }
        #expect(error?.reason.contains(reasonFragment) == true, "reason was: \(error?.reason ?? "nil")")
        #expect(error?.subject == "address space")
    }

    @Test func costDefaultsToOne() throws {
        #expect(AddressSpace(pattern: .any).cost == 1)
        #expect(AddressSpace.costRange == 1...100)
    }
}
