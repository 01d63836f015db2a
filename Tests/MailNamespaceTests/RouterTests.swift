import Foundation
import MailCore
import MailNamespace
import MailRouting
import Testing
@testable import MailStore

/// The three scenarios of spec §6, end to end: the directory on a real SQLite file, read by
/// `Namespace.router()`.
@Suite("Router: the scenarios of spec §6")
struct RouterTests {
    let dir: TestDirectory

    init() throws { dir = try TestDirectory() }

    private func connector(_ name: String, _ spaces: [String], hosts: [String], relay: Bool = false) throws -> Connector {
        Connector(
            name: name, addressSpaces: try spaces.map { try AddressSpace(parsing: $0) },
            delivery: .smartHosts(try hosts.map { try SmartHost(parsing: $0) }), allowsRelay: relay)
    }

    private func domainName(_ text: String) throws -> DomainName { try DomainName(parsing: text) }

    // MARK: (a) an authoritative local domain

    @Test("(a) contoso.local authoritative: a known mailbox is delivered, an unknown one refused with 5.1.1")
    func authoritativeLocalDomain() throws {
        try dir.addDomain("contoso.local", .authoritative)
        try dir.namespace.setPolicyTemplates(name: RecipientPolicy.defaultPolicyName, templates("SMTP:%m@contoso.local"))
        try dir.namespace.addRecipient(person("john", "John", "Doe"))
        let router = try dir.namespace.router()

        let john = try router.resolve("John@Contoso.Local", trusted: false)
        #expect(john.action == .deliver)
        #expect(john.row == 2)
        #expect(john.recipient == "john")
        #expect(john.primary == "john@contoso.local")
        #expect(john.domainType == .authoritative)

        let unknown = try router.resolve("nobody@contoso.local", trusted: false)
        #expect(unknown.action == .reject)
        #expect(unknown.row == 6)
        #expect(unknown.status == "5.1.1")
        #expect(unknown.reply == "550 5.1.1 <nobody@contoso.local>: Recipient address rejected: User unknown")

        // With the "forward unresolved recipients" host set, unknowns go there instead.
        try dir.directory.setUnresolvedHost(try SmartHost(parsing: "[10.0.0.9]"))
        let forwarded = try router.resolve("nobody@contoso.local", trusted: false)
        #expect(forwarded.action == .forward)
        #expect(forwarded.row == 5)
        #expect(forwarded.nexthop == "[10.0.0.9]")
        #expect(forwarded.reply == nil)
        #expect(try router.resolve("john@contoso.local", trusted: false).action == .deliver)

        try dir.directory.setUnresolvedHost(nil)
        #expect(try router.resolve("nobody@contoso.local", trusted: false).row == 6)
    }

    // MARK: (b) a relayed domain

    @Test("(b) fabrikam.com relay with a connector to [10.0.1.25]: everything is forwarded there")
    func relayedDomain() throws {
        try dir.addDomain("fabrikam.com", .relay)
        try dir.directory.addConnector(try connector("Fabrikam", ["fabrikam.com"], hosts: ["[10.0.1.25]"]))
        let router = try dir.namespace.router()
        for address in ["anyone@fabrikam.com", "Someone.Else@FABRIKAM.COM", "x+tag@fabrikam.com."] {
            for trusted in [false, true] {
                let d = try router.resolve(address, trusted: trusted)
                #expect(d.action == .forward, "\(address)")
                #expect(d.row == 8)
                #expect(d.domainType == .relay)
                #expect(d.nexthop == "[10.0.1.25]")
                #expect(d.connector == "Fabrikam")
                #expect(d.recipient == nil)
            }
        }
        // Not the subdomains: the domain does not include them.
        #expect(try router.resolve("x@eu.fabrikam.com", trusted: false).row == 11)
    }

    // MARK: (c) the shared namespace recipe

    /// The recipe of spec §6 with alice (our mailbox, stamped by the policies) and carol (the
    /// other system's user, imported as a remote recipient that no policy touches).
    private func sharedNamespace() throws -> Router {
        try dir.setUpSharedNamespaceRecipe()
        try dir.directory.addConnector(try connector("Other system", ["contoso.com"], hosts: ["[10.0.0.5]"]))
        try dir.namespace.addRecipient(person("alice", "Alice", "Smith"))
        try dir.namespace.addRecipient(
            Recipient(alias: "carol", kind: .remote, isPolicyManaged: false, addresses: [try ProxyAddress(parsing: "SMTP:carol@contoso.com")]))
        #expect(try dir.addresses(of: "alice") == ["SMTP:Alice.Smith@contoso.com", "smtp:alice@contoso.local"])
        #expect(try dir.addresses(of: "carol") == ["SMTP:carol@contoso.com"])
        return try dir.namespace.router()
    }

    @Test("(c) shared namespace: alice is delivered by her primary and her secondary")
    func sharedAlice() throws {
        let router = try sharedNamespace()
        for (address, type) in [("alice.smith@contoso.com", DomainType.shared), ("Alice.Smith@contoso.com", .shared), ("alice@contoso.local", .authoritative)] {
            let d = try router.resolve(address, trusted: false)
            #expect(d.action == .deliver, "\(address)")
            #expect(d.row == 2)
            #expect(d.recipient == "alice")
            #expect(d.primary == "Alice.Smith@contoso.com")
            #expect(d.domainType == type)
        }
    }

    @Test("(c) shared namespace: carol (remote) is forwarded to [10.0.0.5], row 4")
    func sharedCarol() throws {
        let router = try sharedNamespace()
        let d = try router.resolve("carol@contoso.com", trusted: false)
        #expect(d.action == .forward)
        #expect(d.row == 4)
        #expect(d.recipient == "carol")
        #expect(d.primary == "carol@contoso.com")
        #expect(d.nexthop == "[10.0.0.5]")
        #expect(d.connector == "Other system")
        #expect(d.domainType == .shared)
    }

    @Test("(c) shared namespace: a policy-managed remote recipient's internal address reaches the other system as its primary, in every map")
    func sharedRemoteStampedByThePolicies() throws {
        let router = try sharedNamespace()
        // Imported without --no-policy: the recipe's policy adds smtp:dave@contoso.local.
        try dir.namespace.addRecipient(
            Recipient(alias: "dave", kind: .remote, addresses: [try ProxyAddress(parsing: "SMTP:dave@contoso.com")]))
        #expect(try dir.addresses(of: "dave").contains("smtp:dave@contoso.local"))
        let d = try router.resolve("dave@contoso.local", trusted: false)
        #expect(d.action == .forward)
        #expect(d.row == 4)
        #expect(d.target == "dave@contoso.com")
        #expect(d.nexthop == "[10.0.0.5]")
        // The maps read the primary through the lookup that skips it for everyone else.
        #expect(try router.answer(.aliases, "Dave@contoso.local") == "dave@contoso.com")
        #expect(try router.answer(.transport, "dave@contoso.local") == "smtp:[10.0.0.5]")
        #expect(try router.answer(.transport, "alice@contoso.local") == "virtual:")
        #expect(try router.answer(.recipientAccess, "dave@contoso.local") == "DUNNO")
    }

    @Test("(c) shared namespace: nobody@contoso.com is forwarded without validation, 550 5.1.1 row 7 with it")
    func sharedNobody() throws {
        let router = try sharedNamespace()
        let before = try router.resolve("nobody@contoso.com", trusted: false)
        #expect(before.action == .forward)
        #expect(before.row == 8)
        #expect(before.nexthop == "[10.0.0.5]")
        #expect(before.connector == "Other system")

        try dir.namespace.updateDomain(try domainName("contoso.com")) { $0.validatesRecipients = true }
        let after = try router.resolve("nobody@contoso.com", trusted: false)
        #expect(after.action == .reject)
        #expect(after.row == 7)
        #expect(after.status == "5.1.1")
        #expect(after.reply == "550 5.1.1 <nobody@contoso.com>: Recipient address rejected: User unknown")
        // Known recipients of both systems still pass.
        #expect(try router.resolve("alice.smith@contoso.com", trusted: false).row == 2)
        #expect(try router.resolve("carol@contoso.com", trusted: false).row == 4)
        // The internal domain still refuses its own unknowns.
        #expect(try router.resolve("nobody@contoso.local", trusted: false).row == 6)
    }

    // MARK: Address forms and contacts through the store

    @Test("through the store: letter case, a trailing dot, +tag, a quoted local part and an IDN domain find their recipient")
    func addressFormsThroughTheStore() throws {
        try dir.addDomain("contoso.local", .authoritative)
        try dir.addDomain("bücher.example", .authoritative)
        try dir.namespace.addRecipient(
            Recipient(alias: "john", isPolicyManaged: false, addresses: [try ProxyAddress(parsing: "SMTP:John.Doe@contoso.local")]))
        try dir.namespace.addRecipient(
            Recipient(alias: "jdoe", isPolicyManaged: false, addresses: [try ProxyAddress(parsing: #"SMTP:"john doe"@contoso.local"#)]))
        try dir.namespace.addRecipient(
            Recipient(alias: "leser", isPolicyManaged: false, addresses: [try ProxyAddress(parsing: "SMTP:leser@bücher.example")]))
        let router = try dir.namespace.router()
        for (address, alias) in [
            ("john.doe@contoso.local", "john"), ("JOHN.DOE@CONTOSO.LOCAL.", "john"), ("john.doe+lists@contoso.local", "john"),
            (#""john\ doe"@contoso.local"#, "jdoe"), (#""John Doe"@contoso.local"#, "jdoe"), ("leser@BÜCHER.example", "leser"),
            ("leser@xn--bcher-kva.example", "leser"),
        ] {
            let d = try router.resolve(address, trusted: false)
            #expect(d.action == .deliver, "\(address): \(d)")
            #expect(d.recipient == alias, "\(address)")
        }
        try dir.directory.setRecipientDelimiter(nil)
        #expect(try router.resolve("john.doe+lists@contoso.local", trusted: false).row == 6)
    }

    @Test("through the store: a contact is forwarded to its target; a target in an authoritative domain is refused 5.4.6")
    func contactsThroughTheStore() throws {
        try dir.addDomain("contoso.local", .authoritative)
        try dir.addDomain("contoso.com", .shared)
        try dir.directory.addConnector(try connector("Fabrikam", ["fabrikam.com"], hosts: ["[10.0.1.25]"]))
        try dir.namespace.addRecipient(
            Recipient(
                alias: "bob", kind: .contact, targetAddress: try EmailAddress(parsing: "bob@fabrikam.com"), isPolicyManaged: false,
                addresses: [try ProxyAddress(parsing: "SMTP:bob@contoso.com")]))
        try dir.namespace.addRecipient(
            Recipient(
                alias: "loop", kind: .contact, targetAddress: try EmailAddress(parsing: "loop@contoso.local"), isPolicyManaged: false,
                addresses: [try ProxyAddress(parsing: "SMTP:loop@contoso.com")]))
        let router = try dir.namespace.router()
        let bob = try router.resolve("bob@contoso.com", trusted: false)
        #expect(bob.action == .forward)
        #expect(bob.row == 3)
        #expect(bob.target == "bob@fabrikam.com")
        #expect(bob.nexthop == "[10.0.1.25]")
        #expect(bob.connector == "Fabrikam")
        let loop = try router.resolve("loop@contoso.com", trusted: false)
        #expect(loop.action == .reject)
        #expect(loop.row == 3)
        #expect(loop.status == "5.4.6")
        #expect(loop.target == "loop@contoso.local")
    }

    // MARK: Live changes, no writes

    @Test("a change made through another store on the same file is seen by the next resolve, without a restart")
    func changesFromAnotherProcess() throws {
        let router = try sharedNamespace()
        #expect(try router.resolve("nobody@contoso.com", trusted: false).row == 8)
        #expect(try router.resolve("nobody@contoso.local", trusted: false).row == 6)

        // "Another process": a second Namespace (its own SQLite connection) on the same file.
        let other = try Namespace(path: dir.path)
        try other.updateDomain(try domainName("contoso.com")) { $0.validatesRecipients = true }
        #expect(try router.resolve("nobody@contoso.com", trusted: false).row == 7)

        let store = try DirectoryStore(path: dir.path)
        try store.setUnresolvedHost(try SmartHost(parsing: "[10.0.0.9]"))
        let forwarded = try router.resolve("nobody@contoso.local", trusted: false)
        #expect(forwarded.row == 5)
        #expect(forwarded.nexthop == "[10.0.0.9]")

        try store.addConnector(try connector("Partner", ["partner.example"], hosts: ["[192.0.2.40]"], relay: true))
        let partner = try router.resolve("x@partner.example", trusted: false)
        #expect(partner.action == .forward)
        #expect(partner.connector == "Partner")

        try other.addRecipient(Recipient(alias: "dave", kind: .remote, isPolicyManaged: false, addresses: [try ProxyAddress(parsing: "SMTP:dave@contoso.com")]))
        #expect(try router.resolve("dave@contoso.com", trusted: false).row == 4)
    }

    @Test("resolving writes nothing")
    func resolverWritesNothing() throws {
        let router = try sharedNamespace()
        try dir.directory.setUnresolvedHost(try SmartHost(parsing: "[10.0.0.9]"))
        try dir.addDomain("fabrikam.com", .relay)
        try dir.directory.addConnector(try connector("Fabrikam", ["fabrikam.com"], hosts: ["[10.0.1.25]"]))
        let before = try dir.snapshot()
        for address in [
            "alice@contoso.local", "alice.smith@contoso.com", "alice+x@contoso.local", "carol@contoso.com", "nobody@contoso.com",
            "nobody@contoso.local", "x@fabrikam.com", "x@example.org", "not an address",
        ] {
            for trusted in [false, true] {
                _ = try router.resolve(address, trusted: trusted, explain: true)
            }
        }
        #expect(try dir.snapshot() == before)
    }
}
