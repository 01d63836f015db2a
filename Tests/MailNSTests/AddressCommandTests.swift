import Foundation
import Testing

@Suite("mailns address")
struct AddressCommandTests {
    let sandbox: Sandbox

    init() throws { sandbox = try Sandbox() }

    private func addresses(_ alias: String) async throws -> [String] {
        let r = try await sandbox.object("recipient", "show", alias, "--json")
        return try #require(r["addresses"] as? [String])
    }

    @Test("address add SMTP:… makes it the primary and demotes the old primary to smtp:")
    func addPrimaryDemotesOld() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:old@contoso.com")
        try await sandbox.ok("address", "add", "a1", "SMTP:new@contoso.com")
        #expect(try await addresses("a1") == ["SMTP:new@contoso.com", "smtp:old@contoso.com"])
    }

    @Test("address add smtp:… adds a secondary and keeps the primary")
    func addSecondaryKeepsPrimary() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:main@contoso.com")
        try await sandbox.ok("address", "add", "a1", "smtp:alt@fabrikam.com")
        #expect(try await addresses("a1") == ["SMTP:main@contoso.com", "smtp:alt@fabrikam.com"])
    }

    @Test("the first address a recipient gets is its primary, even when given as smtp:")
    func firstAddressIsPrimary() async throws {
        try await sandbox.ok("recipient", "add", "a1")
        try await sandbox.ok("address", "add", "a1", "smtp:only@contoso.com")
        #expect(try await addresses("a1") == ["SMTP:only@contoso.com"])
    }

    @Test("adding an address the recipient already has changes nothing")
    func addExistingIsUnchanged() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:main@contoso.com", "--address", "smtp:alt@contoso.com")
        try await sandbox.ok("address", "add", "a1", "smtp:ALT@contoso.com")
        #expect(try await addresses("a1") == ["SMTP:main@contoso.com", "smtp:alt@contoso.com"])
    }

    @Test("address add SMTP: of the recipient's own secondary promotes it")
    func addPrimaryOfOwnSecondaryPromotes() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:main@contoso.com", "--address", "smtp:alt@contoso.com")
        try await sandbox.ok("address", "add", "a1", "SMTP:alt@contoso.com")
        #expect(try await addresses("a1") == ["SMTP:alt@contoso.com", "smtp:main@contoso.com"])
    }

    @Test("address set-primary promotes a secondary (named in any letter case) and demotes the old primary")
    func setPrimary() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:main@contoso.com", "--address", "smtp:alt@contoso.com")
        try await sandbox.ok("address", "set-primary", "a1", "ALT@Contoso.com")
        #expect(try await addresses("a1") == ["SMTP:alt@contoso.com", "smtp:main@contoso.com"])
        // Already primary: nothing changes, still success.
        try await sandbox.ok("address", "set-primary", "a1", "alt@contoso.com")
        #expect(try await addresses("a1") == ["SMTP:alt@contoso.com", "smtp:main@contoso.com"])
    }

    @Test("address set-primary of an address the recipient does not have exits 65 and changes nothing")
    func setPrimaryOfMissingAddress() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:main@contoso.com")
        try await sandbox.ok("recipient", "add", "b1", "--address", "SMTP:b1@contoso.com", "--address", "smtp:b.one@contoso.com")
        let before = try await sandbox.snapshot()
        expectOneLineError(
            try await sandbox.run("address", "set-primary", "a1", "nowhere@contoso.com"), status: 65,
            mentioning: ["a1", "nowhere@contoso.com"])
        expectOneLineError(
            try await sandbox.run("address", "set-primary", "a1", "b.one@contoso.com"), status: 65,
            mentioning: ["b.one@contoso.com", "b1"])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("address remove removes a secondary")
    func removeSecondary() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:main@contoso.com", "--address", "smtp:alt@contoso.com")
        try await sandbox.ok("address", "remove", "a1", "Alt@Contoso.com")
        #expect(try await addresses("a1") == ["SMTP:main@contoso.com"])
    }

    @Test("address remove refuses the primary while other SMTP addresses remain (65, nothing changed)")
    func removePrimaryRefused() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:main@contoso.com", "--address", "smtp:alt@contoso.com")
        let before = try await sandbox.snapshot()
        let result = try await sandbox.run("address", "remove", "a1", "main@contoso.com")
        expectOneLineError(result, status: 65, mentioning: ["main@contoso.com", "a1", "primary"])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("address remove of the only address, the primary, is allowed")
    func removeOnlyPrimary() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:main@contoso.com")
        try await sandbox.ok("address", "remove", "a1", "main@contoso.com")
        #expect(try await addresses("a1") == [])
    }

    @Test("address remove of an address the recipient does not have exits 65 naming it")
    func removeMissing() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:main@contoso.com")
        try await sandbox.ok("recipient", "add", "b1", "--address", "SMTP:b1@contoso.com")
        expectOneLineError(try await sandbox.run("address", "remove", "a1", "x@contoso.com"), status: 65, mentioning: ["a1", "x@contoso.com"])
        // Another recipient's address cannot be removed through a1.
        expectOneLineError(try await sandbox.run("address", "remove", "a1", "b1@contoso.com"), status: 65, mentioning: ["b1@contoso.com"])
        #expect(try await addresses("b1") == ["SMTP:b1@contoso.com"])
    }

    @Test("an address another recipient owns, in a different letter case, is refused naming the owner")
    func duplicateAcrossRecipientsRefused() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:a1@contoso.com", "--address", "smtp:a.one@contoso.com")
        try await sandbox.ok("recipient", "add", "a2", "--address", "SMTP:a2@contoso.com")
        let before = try await sandbox.snapshot()

        for attempt in ["SMTP:A.One@Contoso.com", "smtp:A.ONE@contoso.com"] {
            let result = try await sandbox.run("address", "add", "a2", attempt)
            expectOneLineError(result, status: 65, mentioning: ["address smtp:a.one@contoso.com already belongs to recipient a1"])
        }
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("an invalid address is refused with 65 naming it, and nothing changes", arguments: [
        "SMTP:a..b@contoso.com", "smtp:no-at-sign", "SMTP:a@", "Smtp:mixed@contoso.com", "plain@contoso.com",
        "SMTP:" + String(repeating: "x", count: 65) + "@contoso.com",
    ])
    func invalidAddressRefused(_ address: String) async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:a1@contoso.com")
        let before = try await sandbox.snapshot()
        let result = try await sandbox.run("address", "add", "a1", address)
        expectOneLineError(result, status: 65, mentioning: [address])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("address add for an unknown recipient exits 65 naming it")
    func addToUnknownRecipient() async throws {
        expectOneLineError(try await sandbox.run("address", "add", "ghost", "SMTP:g@contoso.com"), status: 65, mentioning: ["ghost"])
    }

    /// Regression: an alias that never existed printed an empty history and exited 0.
    @Test("recipient history of an alias that never existed is refused with 65")
    func historyOfAnUnknownAlias() async throws {
        let result = try await sandbox.run("recipient", "history", "ghost")
        expectOneLineError(result, status: 65, mentioning: ["ghost"])
    }

    @Test("recipient history --json lists added, demoted, promoted and removed, oldest first")
    func historyRecordsEachChange() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:first@contoso.com")
        try await sandbox.ok("address", "add", "a1", "SMTP:second@contoso.com")
        try await sandbox.ok("address", "set-primary", "a1", "first@contoso.com")
        try await sandbox.ok("address", "remove", "a1", "second@contoso.com")

        let history = try await sandbox.array("recipient", "history", "a1", "--json")
        let steps = history.map { "\($0["action"] as? String ?? "?") \($0["address"] as? String ?? "?")" }
        #expect(
            steps == [
                "added SMTP:first@contoso.com",
                "demoted smtp:first@contoso.com",
                "added SMTP:second@contoso.com",
                "demoted smtp:second@contoso.com",
                "promoted SMTP:first@contoso.com",
                "removed smtp:second@contoso.com",
            ])
        #expect(history.allSatisfy { $0["actor"] as? String == "manual" })
        // Every key present: a manual change has no actor name, and says so with null.
        #expect(history.allSatisfy { $0.keys.contains("actorName") && $0["actorName"] is NSNull })
        #expect(history.allSatisfy { ($0["batch"] as? String)?.isEmpty == false && ($0["at"] as? String)?.isEmpty == false })
        // One command, one batch: the demotion and the addition that caused it share theirs.
        #expect(history[1]["batch"] as? String == history[2]["batch"] as? String)
        #expect(history[0]["batch"] as? String != history[1]["batch"] as? String)
    }

    @Test("recipient history outlives the recipient: removing it records removed for each address")
    func historyAfterRemoval() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:a1@contoso.com", "--address", "smtp:alt@contoso.com")
        try await sandbox.ok("recipient", "remove", "a1")
        let history = try await sandbox.array("recipient", "history", "A1", "--json")
        let actions = history.map { $0["action"] as? String }
        #expect(actions == ["added", "added", "removed", "removed"])
        #expect(Set(history.suffix(2).compactMap { $0["address"] as? String }) == ["SMTP:a1@contoso.com", "smtp:alt@contoso.com"])
    }

    @Test("a refused address change adds nothing to the history")
    func refusedChangeLeavesNoHistory() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:a1@contoso.com", "--address", "smtp:alt@contoso.com")
        let before = try await sandbox.array("recipient", "history", "a1", "--json").count
        #expect(try await sandbox.run("address", "remove", "a1", "a1@contoso.com").status == 65)
        #expect(try await sandbox.array("recipient", "history", "a1", "--json").count == before)
    }
}
