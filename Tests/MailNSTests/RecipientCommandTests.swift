import Foundation
import Testing

@Suite("mailns recipient")
struct RecipientCommandTests {
    let sandbox: Sandbox

    init() throws { sandbox = try Sandbox() }

    @Test("recipient add with attributes: show --json gives them under their AD names")
    func addWithAttributes() async throws {
        try await sandbox.ok(
            "recipient", "add", "jdoe", "--given", "John", "--surname", "Doe", "--initials", "JD",
            "--display-name", "John Doe", "--company", "Contoso", "--department", "Sales", "--title", "Manager",
            "--office", "Building 4", "--source", "contoso", "--attribute", "extensionAttribute1=EU",
            "--address", "SMTP:john.doe@contoso.com")

        let r = try await sandbox.object("recipient", "show", "jdoe", "--json")
        #expect(r["alias"] as? String == "jdoe")
        #expect(r["kind"] as? String == "mailbox")
        #expect(r["givenName"] as? String == "John")
        #expect(r["sn"] as? String == "Doe")
        #expect(r["initials"] as? String == "JD")
        #expect(r["displayName"] as? String == "John Doe")
        #expect(r["company"] as? String == "Contoso")
        #expect(r["department"] as? String == "Sales")
        #expect(r["title"] as? String == "Manager")
        #expect(r["physicalDeliveryOfficeName"] as? String == "Building 4")
        #expect(r["extensionAttribute1"] as? String == "EU")
        #expect(r["source"] as? String == "contoso")
        #expect(r["policyManaged"] as? Bool == true)
        #expect(r.isNull("targetAddress"))
        #expect(r["addresses"] as? [String] == ["SMTP:john.doe@contoso.com"])
    }

    @Test("attributes that are not set are present as null")
    func unsetAttributesAreNull() async throws {
        try await sandbox.ok("recipient", "add", "bare")
        let r = try await sandbox.object("recipient", "show", "bare", "--json")
        for key in ["givenName", "sn", "initials", "displayName", "company", "department", "title", "physicalDeliveryOfficeName", "targetAddress", "source"] {
            #expect(r.isNull(key), "\(key) should be null: \(r)")
        }
        #expect(r["addresses"] as? [String] == [])
        #expect(r["kind"] as? String == "mailbox")
        #expect(r["policyManaged"] as? Bool == true)
    }

    @Test("--no-policy adds the recipient with policyManaged false")
    func noPolicyFlag() async throws {
        try await sandbox.ok("recipient", "add", "manual", "--no-policy")
        let r = try await sandbox.object("recipient", "show", "manual", "--json")
        #expect(r["policyManaged"] as? Bool == false)
    }

    @Test("--kind contact --target gives a contact with targetAddress")
    func contactWithTarget() async throws {
        try await sandbox.ok(
            "recipient", "add", "partner", "--kind", "contact", "--target", "Partner@Fabrikam.COM",
            "--address", "SMTP:partner@contoso.com")
        let r = try await sandbox.object("recipient", "show", "partner", "--json")
        #expect(r["kind"] as? String == "contact")
        #expect(r["targetAddress"] as? String == "Partner@fabrikam.com")
    }

    @Test("--kind remote is stored")
    func remoteKind() async throws {
        try await sandbox.ok("recipient", "add", "elsewhere", "--kind", "remote")
        let r = try await sandbox.object("recipient", "show", "elsewhere", "--json")
        #expect(r["kind"] as? String == "remote")
    }

    @Test("a contact without --target, or a mailbox with one, is refused with 65 and not added")
    func targetOnlyForContacts() async throws {
        let contact = try await sandbox.run("recipient", "add", "c1", "--kind", "contact")
        expectOneLineError(contact, status: 65, mentioning: ["c1", "target"])
        let mailbox = try await sandbox.run("recipient", "add", "m1", "--target", "x@fabrikam.com")
        expectOneLineError(mailbox, status: 65, mentioning: ["m1"])
        #expect(try await sandbox.array("recipient", "list", "--json").isEmpty)
    }

    @Test("--address lists: the SMTP: one is primary and comes first; secondaries follow as smtp:")
    func addressesPrimaryFirst() async throws {
        try await sandbox.ok(
            "recipient", "add", "a1", "--address", "smtp:zz@contoso.com", "--address", "smtp:aa@contoso.com",
            "--address", "SMTP:main@contoso.com")
        let r = try await sandbox.object("recipient", "show", "a1", "--json")
        let addresses = try #require(r["addresses"] as? [String])
        #expect(addresses.first == "SMTP:main@contoso.com")
        #expect(Set(addresses) == ["SMTP:main@contoso.com", "smtp:aa@contoso.com", "smtp:zz@contoso.com"])
        #expect(addresses.filter { $0.hasPrefix("SMTP:") }.count == 1)
    }

    @Test("the first address becomes primary when none is given as SMTP:")
    func firstAddressBecomesPrimary() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "smtp:first@contoso.com", "--address", "smtp:second@contoso.com")
        let r = try await sandbox.object("recipient", "show", "a1", "--json")
        #expect(r["addresses"] as? [String] == ["SMTP:first@contoso.com", "smtp:second@contoso.com"])
    }

    @Test("two SMTP: primaries on one recipient are refused with 65 and nothing is added")
    func twoPrimariesRefused() async throws {
        let result = try await sandbox.run(
            "recipient", "add", "a1", "--address", "SMTP:one@contoso.com", "--address", "SMTP:two@contoso.com")
        expectOneLineError(result, status: 65, mentioning: ["a1"])
        #expect(try await sandbox.array("recipient", "list", "--json").isEmpty)
    }

    @Test("recipient show finds a recipient by alias or by any of its addresses, in any letter case")
    func showByAliasOrAddress() async throws {
        try await sandbox.ok(
            "recipient", "add", "JDoe", "--given", "John", "--address", "SMTP:John.Doe@contoso.com", "--address", "smtp:jd@fabrikam.com")
        let byAlias = try await sandbox.object("recipient", "show", "jdoe", "--json")
        #expect(byAlias["alias"] as? String == "JDoe")
        for query in ["John.Doe@contoso.com", "john.doe@CONTOSO.COM", "JOHN.DOE@contoso.com", "JD@Fabrikam.com"] {
            let r = try await sandbox.object("recipient", "show", query, "--json")
            #expect(r["alias"] as? String == "JDoe", "looked up \(query)")
            #expect(r["givenName"] as? String == "John")
            #expect(r["addresses"] as? [String] == ["SMTP:John.Doe@contoso.com", "smtp:jd@fabrikam.com"])
        }
    }

    @Test("recipient show of an unknown alias or address exits 65 naming it")
    func showUnknown() async throws {
        try await sandbox.ok("init")
        expectOneLineError(try await sandbox.run("recipient", "show", "nobody"), status: 65, mentioning: ["nobody"])
        expectOneLineError(
            try await sandbox.run("recipient", "show", "nobody@contoso.com", "--json"), status: 65, mentioning: ["nobody@contoso.com"])
    }

    @Test("recipient list --json is an array of recipient objects by alias")
    func listIsArray() async throws {
        #expect(try await sandbox.array("recipient", "list", "--json").isEmpty)
        try await sandbox.ok("recipient", "add", "bob", "--address", "SMTP:bob@contoso.com")
        try await sandbox.ok("recipient", "add", "alice", "--company", "Fabrikam", "--address", "SMTP:alice@fabrikam.com")
        let list = try await sandbox.array("recipient", "list", "--json")
        #expect(list.map { $0["alias"] as? String } == ["alice", "bob"])
        #expect(list[0]["company"] as? String == "Fabrikam")
        #expect(list[0]["addresses"] as? [String] == ["SMTP:alice@fabrikam.com"])
        #expect(list[1]["kind"] as? String == "mailbox")
    }

    @Test("recipient set changes the given attributes and policy-managed flag and keeps the rest")
    func setChangesAttributes() async throws {
        try await sandbox.ok(
            "recipient", "add", "a1", "--given", "Ann", "--company", "Contoso", "--department", "Sales",
            "--address", "SMTP:ann@contoso.com")
        try await sandbox.ok("recipient", "set", "a1", "--company", "Fabrikam", "--policy-managed", "off")
        var r = try await sandbox.object("recipient", "show", "a1", "--json")
        #expect(r["company"] as? String == "Fabrikam")
        #expect(r["policyManaged"] as? Bool == false)
        #expect(r["givenName"] as? String == "Ann")
        #expect(r["department"] as? String == "Sales")
        #expect(r["addresses"] as? [String] == ["SMTP:ann@contoso.com"])

        try await sandbox.ok("recipient", "set", "A1", "--policy-managed", "on", "--department", "")
        r = try await sandbox.object("recipient", "show", "a1", "--json")
        #expect(r["policyManaged"] as? Bool == true)
        #expect(r.isNull("department"))
    }

    @Test("recipient set can turn a mailbox into a contact with a target")
    func setKindAndTarget() async throws {
        try await sandbox.ok("recipient", "add", "a1")
        try await sandbox.ok("recipient", "set", "a1", "--kind", "contact", "--target", "a1@fabrikam.com", "--source", "fabrikam")
        let r = try await sandbox.object("recipient", "show", "a1", "--json")
        #expect(r["kind"] as? String == "contact")
        #expect(r["targetAddress"] as? String == "a1@fabrikam.com")
        #expect(r["source"] as? String == "fabrikam")
    }

    @Test("recipient set that would break a rule is refused with 65 and changes nothing")
    func refusedSetChangesNothing() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--company", "Contoso")
        let before = try await sandbox.snapshot()
        let result = try await sandbox.run("recipient", "set", "a1", "--company", "Fabrikam", "--kind", "contact")
        expectOneLineError(result, status: 65, mentioning: ["a1"])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("recipient set of an unknown alias exits 65 naming it")
    func setUnknown() async throws {
        let result = try await sandbox.run("recipient", "set", "ghost", "--company", "X")
        expectOneLineError(result, status: 65, mentioning: ["ghost"])
    }

    @Test("a second recipient with the same alias in another letter case is refused with 65")
    func duplicateAliasRefused() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:a1@contoso.com")
        let before = try await sandbox.snapshot()
        let result = try await sandbox.run("recipient", "add", "A1", "--address", "SMTP:other@contoso.com")
        expectOneLineError(result, status: 65, mentioning: ["a1", "already exists"])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("a recipient whose second address is taken is refused as a whole: neither it nor its first address is written")
    func refusedAddIsAtomic() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:a1@contoso.com", "--address", "smtp:a.one@contoso.com")
        let before = try await sandbox.snapshot()
        let result = try await sandbox.run(
            "recipient", "add", "a2", "--address", "SMTP:fresh@contoso.com", "--address", "smtp:A.One@Contoso.com")
        expectOneLineError(result, status: 65, mentioning: ["address smtp:a.one@contoso.com already belongs to recipient a1"])
        #expect(try await sandbox.snapshot() == before)
        expectOneLineError(try await sandbox.run("recipient", "show", "fresh@contoso.com"), status: 65, mentioning: ["fresh@contoso.com"])
    }

    @Test("an invalid alias is refused with 65")
    func invalidAliasRefused() async throws {
        let result = try await sandbox.run("recipient", "add", "bad..alias")
        expectOneLineError(result, status: 65, mentioning: ["bad..alias"])
        #expect(try await sandbox.array("recipient", "list", "--json").isEmpty)
    }

    @Test("an unknown --attribute name is a usage error (64)")
    func unknownAttributeIsUsage() async throws {
        let result = try await sandbox.run("recipient", "add", "a1", "--attribute", "favouriteColour=blue")
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("favouriteColour"), "\(result)")
    }

    @Test("recipient remove deletes the recipient and frees its addresses")
    func removeRecipient() async throws {
        try await sandbox.ok("recipient", "add", "a1", "--address", "SMTP:a1@contoso.com")
        try await sandbox.ok("recipient", "add", "b1", "--address", "SMTP:b1@contoso.com")
        try await sandbox.ok("recipient", "remove", "a1")
        #expect(try await sandbox.array("recipient", "list", "--json").map { $0["alias"] as? String } == ["b1"])
        expectOneLineError(try await sandbox.run("recipient", "show", "a1"), status: 65, mentioning: ["a1"])
        expectOneLineError(try await sandbox.run("recipient", "show", "a1@contoso.com"), status: 65, mentioning: ["a1@contoso.com"])

        // The address can be given to someone else now.
        try await sandbox.ok("address", "add", "b1", "smtp:a1@contoso.com")
        let b1 = try await sandbox.object("recipient", "show", "a1@contoso.com", "--json")
        #expect(b1["alias"] as? String == "b1")
    }

    @Test("recipient remove of an unknown alias exits 65 naming it")
    func removeUnknown() async throws {
        expectOneLineError(try await sandbox.run("recipient", "remove", "ghost"), status: 65, mentioning: ["ghost"])
    }
}
