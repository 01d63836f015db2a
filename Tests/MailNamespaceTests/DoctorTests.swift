import MailCore
import MailNamespace
import MailStore
import Testing

/// `doctor`: one test per check of spec §4, each on a directory that is clean but for it.
@Suite struct DoctorTests {
    let dir: TestDirectory
    var namespace: Namespace { dir.namespace }

    /// A clean shared-namespace setup: no findings at all.
    init() throws {
        dir = try TestDirectory()
        try dir.addDomain("contoso.local", .authoritative)
        try dir.addDomain("contoso.com", .shared)
        try dir.addDomain("fabrikam.com", .relay)
        try dir.directory.addConnector(Connector(name: "Legacy", addressSpaces: [try AddressSpace(parsing: "contoso.com")], delivery: .smartHosts([try SmartHost(parsing: "[10.0.0.5]")])))
        try dir.directory.addConnector(Connector(name: "Fabrikam", addressSpaces: [try AddressSpace(parsing: "fabrikam.com")], delivery: .smartHosts([try SmartHost(parsing: "[10.0.1.25]")])))
        try dir.directory.setLocalHosts([try DomainName(parsing: "mx1.contoso.com")])
    }

    private func checks() throws -> [String] { try namespace.doctor().map { "\($0.severity.rawValue) \($0.check)" } }

    @Test func aCleanDirectoryHasNoFindings() throws {
        #expect(try namespace.doctor() == [])
    }

    @Test func theUnresolvedHostBeingThisServerIsAnError() throws {
        try dir.directory.setUnresolvedHost(try SmartHost(parsing: "[mx1.contoso.com]"))
        #expect(try checks().contains("error unresolved-host-is-local"))
    }

    @Test func aSmartHostBeingThisServerIsAnError() throws {
        try dir.directory.addConnector(Connector(name: "Loop", addressSpaces: [try AddressSpace(parsing: "loop.example")], delivery: .smartHosts([try SmartHost(parsing: "mx1.contoso.com:25")])))
        let finding = try #require(try namespace.doctor().first { $0.check == "smart-host-is-local" })
        #expect(finding.severity == .error)
        #expect(finding.objects == ["connector:Loop"])
    }

    @Test func aContactPointingIntoAnAuthoritativeDomainIsAnError() throws {
        try dir.directory.addRecipient(Recipient(alias: "c", kind: .contact, targetAddress: try EmailAddress(parsing: "x@contoso.local")))
        let finding = try #require(try namespace.doctor().first { $0.check == "contact-target-authoritative" })
        #expect(finding.objects == ["recipient:c", "domain:contoso.local"])
    }

    @Test func aRemoteRecipientWhosePrimaryIsInAnAuthoritativeDomainIsAnError() throws {
        try dir.directory.addRecipient(remote("carol", "SMTP:carol@contoso.local", "smtp:carol@contoso.com"))
        let finding = try #require(try namespace.doctor().first { $0.check == "remote-primary-authoritative" })
        #expect(finding.severity == .error)
        #expect(finding.objects == ["recipient:carol", "domain:contoso.local"])
        // Its primary on the other system's side, the internal address a secondary: clean.
        try dir.directory.addAddress(try ProxyAddress(parsing: "SMTP:carol@contoso.com"), to: "carol")
        #expect(try namespace.doctor() == [])
    }

    @Test func aPolicyTemplateOnADomainNoLongerUsableIsAnError() throws {
        try namespace.addPolicy(name: "P", priority: 1, filter: "(company=X)", templates: templates("SMTP:%m@contoso.com"))
        // Written past Namespace's own check, as an older binary or sqlite3 by hand could.
        try dir.directory.removeDomain(try DomainName(parsing: "contoso.com"))
        #expect(try checks().contains("error policy-template-domain"))
    }

    @Test func aRelayDomainWithoutConnectorWhileDNSIsOffIsAnError() throws {
        try dir.directory.removeConnector(name: "Fabrikam")
        #expect(!(try checks().contains("error relay-domain-no-route")), "DNS is on: the domain still has a route")
        try dir.directory.setDNSDelivery(false)
        #expect(try checks().contains("error relay-domain-no-route"))
    }

    @Test func anUnresolvedHostWhileSharedDomainsExistIsAWarning() throws {
        try dir.directory.setUnresolvedHost(try SmartHost(parsing: "[10.0.0.9]"))
        #expect(try checks() == ["warning unresolved-host-with-shared-domains"])
    }

    @Test func aSharedDomainWhoseUnknownsGoToDNSIsAWarning() throws {
        try dir.directory.removeConnector(name: "Legacy")
        #expect(try checks() == ["warning shared-domain-to-dns"])
    }

    @Test func aValidatingSharedDomainWhoseRemoteRecipientsGoToDNSIsAWarning() throws {
        try namespace.updateDomain(try DomainName(parsing: "contoso.com")) { $0.validatesRecipients = true }
        try dir.directory.addRecipient(remote("carol", "SMTP:carol@contoso.com"))
        try dir.directory.removeConnector(name: "Legacy")
        let finding = try #require(try namespace.doctor().first { $0.check == "shared-domain-to-dns" })
        #expect(finding.message.hasPrefix("remote recipients of shared domain contoso.com go out by DNS"))
        #expect(try checks() == ["warning shared-domain-to-dns"])
    }

    @Test func aPolicyBelowOneThatSelectsEveryoneIsAWarning() throws {
        try namespace.addPolicy(name: "All", priority: 1, filter: "(mailNickname=*)", templates: [])
        try namespace.addPolicy(name: "Sales", priority: 2, filter: "(department=Sales)", templates: [])
        let finding = try #require(try namespace.doctor().first { $0.check == "policy-never-wins" })
        #expect(finding.objects == ["policy:Sales", "policy:All"])
        #expect(!(try namespace.doctor().contains { $0.objects.first == "policy:Default Policy" }), "the Default Policy is exempt")
    }

    @Test func recipientValidationWithoutRemoteRecipientsIsAWarning() throws {
        try namespace.updateDomain(try DomainName(parsing: "contoso.com")) { $0.validatesRecipients = true }
        #expect(try checks() == ["warning validation-without-remote-recipients"])
        try dir.directory.addRecipient(Recipient(alias: "carol", kind: .remote, isPolicyManaged: false, addresses: [try ProxyAddress(parsing: "SMTP:carol@contoso.com")]))
        #expect(try checks() == [])
    }

    @Test func aRemoteRecipientInASubdomainCountsOnlyWhenTheDomainIncludesSubdomains() throws {
        try namespace.updateDomain(try DomainName(parsing: "contoso.com")) { $0.validatesRecipients = true }
        try dir.directory.addRecipient(remote("sub", "SMTP:sub@eu.contoso.com"))
        #expect(try checks() == ["warning validation-without-remote-recipients"])
        try namespace.updateDomain(try DomainName(parsing: "contoso.com")) { $0.includesSubdomains = true }
        #expect(try checks() == [])
    }

    @Test func errorsComeBeforeWarnings() throws {
        try dir.directory.setUnresolvedHost(try SmartHost(parsing: "[mx1.contoso.com]"))
        let severities = try namespace.doctor().map(\.severity)
        #expect(severities == [.error, .warning])
    }

    private func remote(_ alias: String, _ addresses: String...) throws -> Recipient {
        Recipient(alias: alias, kind: .remote, isPolicyManaged: false, addresses: try addresses.map { try ProxyAddress(parsing: $0) })
    }
}
