import Testing

@testable import MailCore

/// Policy names are compared as the store's `COLLATE NOCASE` compares them (review item 2).
@Suite struct PolicyNameTests {
    static let nfc = "\u{C4}rzte"  // Ärzte, precomposed
    static let nfd = "A\u{308}rzte"  // Ärzte, A + combining diaeresis

    @Test(arguments: [
        ("Shared", "shared"), ("Default Policy", "DEFAULT POLICY"), ("Ärzte", "ÄRZTE"), ("äRZTE", "ärzte"), ("", ""),
        ("a-b_c 1", "A-B_C 1"),
    ])
    func namesDifferingOnlyInASCIICaseAreTheSame(_ a: String, _ b: String) {
        #expect(RecipientPolicy.sameName(a, b))
        #expect(RecipientPolicy.sameName(b, a))
    }

    @Test(arguments: [
        ("Ärzte", "ärzte"), ("Straße", "STRASSE"), ("Σίσυφος", "σίσυφος"), (nfc, nfd), ("Shared", "Shared "), ("Shared", "Share"),
        ("İstanbul", "istanbul"), ("K", "\u{212A}"),  // Kelvin sign: Unicode folds it to k, SQLite does not
    ])
    func namesDifferingOtherwiseAreNot(_ a: String, _ b: String) {
        #expect(!RecipientPolicy.sameName(a, b))
        #expect(!RecipientPolicy.sameName(b, a))
    }

    /// What Swift's own comparisons say about the same pairs, the reason for `sameName`.
    @Test func swiftsOwnComparisonsDisagreeWithTheStore() {
        #expect("Ärzte".lowercased() == "ärzte".lowercased())
        #expect(Self.nfc == Self.nfd)
    }
}
