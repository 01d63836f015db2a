import MailCore
import Testing
@testable import MailRouting

/// The Postfix tables as views of the resolver (spec §5), over the merger scenario of §6:
/// contoso.local authoritative, contoso.com shared (unknowns to the other system's smart host),
/// fabrikam.com relay, an allow-relay connector for partner.example, DNS for the rest.
@Suite struct PostfixMapTests {
    let world: World

    init() throws {
        var w = World()
        try w.domain("contoso.local", .authoritative)
        try w.domain("contoso.com", .shared)
        try w.domain("validated.example", .shared, validates: true)
        try w.domain("fabrikam.com", .relay, subdomains: true)
        try w.connector("Legacy", ["contoso.com"], hosts: ["[10.0.0.5]"])
        try w.connector("Fabrikam", ["fabrikam.com", "*.fabrikam.com"], hosts: ["[10.0.1.25]:2525"])
        try w.connector("Partner", ["partner.example"], hosts: ["mx.partner.example"], relay: true)
        try w.connector("Internet", ["*;100"])
        try w.recipient("jsmith", .mailbox, ["John.Smith@contoso.com", "jsmith@contoso.local"])
        try w.recipient("ext", .contact, ["bob.ext@contoso.com"], target: "bob@fabrikam.com")
        try w.recipient("loop", .contact, ["loop@contoso.com"], target: "someone@contoso.local")
        try w.recipient("alice", .remote, ["alice@contoso.com", "alice@contoso.local", "alice.old@contoso.com"])
        try w.recipient("val", .remote, ["val@validated.example"])
        world = w
    }

    func answer(_ map: PostfixMap, _ key: String, settings: ServerSettings? = nil) -> String? {
        var w = world
        if let settings { w.settings = settings }
        let recipients = w.recipients
        return map.answer(key, resolver: Resolver(table: w.table)) { recipients[$0.key] }
    }

    @Test("domain classes: authoritative → mailbox-domains; shared, relay and relay connectors → relay-domains; never both")
    func domainClasses() {
        #expect(answer(.mailboxDomains, "contoso.local") == "authoritative")
        #expect(answer(.mailboxDomains, "CONTOSO.LOCAL") == "authoritative")
        #expect(answer(.relayDomains, "contoso.local") == nil)
        #expect(answer(.mailboxDomains, "contoso.com") == nil)
        #expect(answer(.relayDomains, "Contoso.COM") == "shared")
        #expect(answer(.relayDomains, "fabrikam.com") == "relay")
        #expect(answer(.relayDomains, "eu.fabrikam.com") == "relay")
        #expect(answer(.relayDomains, "partner.example") == "relay-connector")
        #expect(answer(.relayDomains, "example.org") == nil)
        #expect(answer(.mailboxDomains, "example.org") == nil)
        // A key that is not a domain is never a domain of ours.
        #expect(answer(.relayDomains, "user@contoso.com") == nil)
        #expect(answer(.mailboxDomains, "not a domain") == nil)
    }

    @Test("with an unresolved-recipients host, authoritative domains become relay-class so unknowns can be forwarded")
    func unresolvedHostMovesAuthoritativeToRelay() throws {
        let settings = ServerSettings(unresolvedHost: try SmartHost(parsing: "[10.9.9.9]"))
        #expect(answer(.mailboxDomains, "contoso.local", settings: settings) == nil)
        #expect(answer(.relayDomains, "contoso.local", settings: settings) == "authoritative")
        #expect(answer(.relayRecipients, "nobody@contoso.local", settings: settings) == "OK")
        #expect(answer(.transport, "nobody@contoso.local", settings: settings) == "smtp:[10.9.9.9]")
    }

    @Test("mailboxes: every address of a mailbox, any case, +tag too, answers the Maildir; unknowns and contacts' targets are not mailboxes")
    func mailboxes() {
        #expect(answer(.mailboxes, "John.Smith@contoso.com") == "jsmith/")
        #expect(answer(.mailboxes, "JSMITH@CONTOSO.LOCAL") == "jsmith/")
        #expect(answer(.mailboxes, "jsmith+lists@contoso.local") == "jsmith/")
        #expect(answer(.mailboxes, "nobody@contoso.local") == nil)
        #expect(answer(.mailboxes, "loop@contoso.com") == nil, "a contact that would loop is rejected, not accepted")
        #expect(answer(.mailboxes, "contoso.local") == nil)
    }

    @Test("Maildir names are one directory per alias: lower-cased, % and / escaped")
    func maildirNames() {
        #expect(PostfixMap.maildir(alias: "JSmith") == "jsmith/")
        #expect(PostfixMap.maildir(alias: "a/b") == "a%2Fb/")
        #expect(PostfixMap.maildir(alias: "a%2Fb") == "a%252fb/")
    }

    @Test("relay-recipients: OK for whatever the resolver accepts; 5.1.1 rows are not found")
    func relayRecipients() {
        #expect(answer(.relayRecipients, "anyone@contoso.com") == "OK")
        #expect(answer(.relayRecipients, "anyone@fabrikam.com") == "OK")
        #expect(answer(.relayRecipients, "val@validated.example") == "OK")
        #expect(answer(.relayRecipients, "nobody@validated.example") == nil)
        #expect(answer(.relayRecipients, "nobody@contoso.local") == nil)
    }

    @Test("aliases: secondary → primary (keeping a +tag), contact → target; the primary and unknowns are not aliases")
    func aliases() {
        #expect(answer(.aliases, "jsmith@contoso.local") == "John.Smith@contoso.com")
        #expect(answer(.aliases, "JSmith@Contoso.Local") == "John.Smith@contoso.com")
        #expect(answer(.aliases, "jsmith+Lists@contoso.local") == "John.Smith+Lists@contoso.com")
        #expect(answer(.aliases, "John.Smith@contoso.com") == nil)
        #expect(answer(.aliases, "john.smith+x@CONTOSO.com") == nil, "the primary with a tag is delivered as it is")
        #expect(answer(.aliases, "bob.ext@contoso.com") == "bob@fabrikam.com")
        #expect(answer(.aliases, "loop@contoso.com") == nil)
        #expect(answer(.aliases, "alice@contoso.com") == nil)
        #expect(answer(.aliases, "nobody@contoso.com") == nil)
    }

    @Test("a contact whose target is a mailbox here: aliases give the mailbox's primary; it is not a mailbox itself")
    func contactToOurMailbox() {
        var w = world
        try! w.recipient("mary", .mailbox, ["Mary.Major@contoso.com", "mary@contoso.com"])
        try! w.recipient("tomary", .contact, ["tomary@contoso.com"], target: "mary@contoso.com")
        let recipients = w.recipients
        let resolver = Resolver(table: w.table)
        func answer(_ map: PostfixMap, _ key: String) -> String? { map.answer(key, resolver: resolver) { recipients[$0.key] } }
        #expect(answer(.aliases, "tomary@contoso.com") == "Mary.Major@contoso.com")
        #expect(answer(.mailboxes, "tomary@contoso.com") == "not a mailbox: contact")
        #expect(answer(.mailboxes, "mary@contoso.com") == "mary/")
        #expect(answer(.recipientAccess, "tomary@contoso.com") == "DUNNO")
        #expect(answer(.relayRecipients, "tomary@contoso.com") == "OK")
    }

    @Test("a remote recipient's address in a domain only we serve → its primary (aliases), and the other system's route (transport)")
    func remoteRecipientsSecondary() {
        #expect(answer(.aliases, "Alice@contoso.local") == "alice@contoso.com")
        #expect(answer(.aliases, "alice+news@contoso.local") == "alice+news@contoso.com")
        #expect(answer(.transport, "alice@contoso.local") == "smtp:[10.0.0.5]")
        #expect(answer(.recipientAccess, "alice@contoso.local") == "DUNNO")
        // In a domain the other system serves: not rewritten.
        #expect(answer(.aliases, "alice.old@contoso.com") == nil)
        #expect(answer(.transport, "alice.old@contoso.com") == "smtp:[10.0.0.5]")
    }

    @Test("transport: a mailbox → the delivery transport; forwarded → smtp: with the connector's next hop, or smtp: alone for DNS")
    func transport() throws {
        #expect(answer(.transport, "John.Smith@Contoso.COM") == "virtual:")
        #expect(answer(.transport, "jsmith+x@contoso.local") == "virtual:")
        let lmtp = ServerSettings(deliveryTransport: try DeliveryTransport(parsing: "lmtp:127.0.0.1:24"))
        #expect(answer(.transport, "jsmith@contoso.local", settings: lmtp) == "lmtp:inet:127.0.0.1:24")
        #expect(answer(.transport, "nobody@contoso.com") == "smtp:[10.0.0.5]")
        #expect(answer(.transport, "alice@contoso.com") == "smtp:[10.0.0.5]")
        #expect(answer(.transport, "bob@fabrikam.com") == "smtp:[10.0.1.25]:2525")
        #expect(answer(.transport, "x@partner.example") == "smtp:mx.partner.example")
        #expect(answer(.transport, "x@example.org") == "smtp:")
    }

    @Test("transport for an address the resolver rejects, once Postfix has accepted it anyway (a contact's target, a bounce): never Postfix's default route")
    func transportOfRejectedAddresses() {
        #expect(answer(.transport, "nobody@contoso.local") == "error:5.1.1 User unknown")
        // A contact's target known to neither system goes the way of its domain (spec row 3).
        #expect(answer(.transport, "nobody@validated.example") == "smtp:")
        #expect(answer(.transport, "not an address") == nil)
    }

    @Test("transport with DNS delivery off and no connector: Postfix's error transport with 5.4.0 (recipient-access has refused it at RCPT)")
    func transportWithoutRoute() throws {
        var w = world
        w.connectors.removeAll { $0.name == "Internet" }
        w.settings.isDNSDeliveryEnabled = false
        let recipients = w.recipients
        let resolver = Resolver(table: w.table)
        #expect(PostfixMap.transport.answer("x@example.org", resolver: resolver) { recipients[$0.key] } == "error:5.4.0 no route to destination")
        #expect(PostfixMap.recipientAccess.answer("x@example.org", resolver: resolver) { recipients[$0.key] } == "550 5.4.0 no route to destination")
    }

    @Test("recipient-access: the resolver's rejections as code, status and text; DUNNO for everything it accepts")
    func recipientAccess() {
        #expect(answer(.recipientAccess, "Nobody@CONTOSO.local") == "550 5.1.1 User unknown")
        #expect(answer(.recipientAccess, "nobody@validated.example") == "550 5.1.1 User unknown")
        #expect(answer(.recipientAccess, "loop@contoso.com")?.hasPrefix("550 5.4.6 forwarding loop") == true)
        #expect(answer(.recipientAccess, "John.Smith@contoso.com") == "DUNNO")
        #expect(answer(.recipientAccess, "nobody@contoso.com") == "DUNNO")
        #expect(answer(.recipientAccess, "x@example.org") == "DUNNO", "relay control is Postfix's reject_unauth_destination")
    }

    @Test("partial keys are never resolved: a domain, @domain or local@ is not found in every address map, not a 501")
    func partialKeys() {
        for map in [PostfixMap.mailboxes, .relayRecipients, .aliases, .transport, .recipientAccess] {
            for key in ["contoso.local", "@contoso.local", "nobody@", ""] {
                #expect(answer(map, key) == nil, "\(map.rawValue) \(key)")
            }
        }
        #expect(answer(.recipientAccess, "a b@contoso.local") == "501 5.1.3 Bad recipient address syntax")
    }
}
