import Testing
import MailCore
@testable import MailStore

@Suite struct ConnectorAndDomainTests {
    let db: TestDatabase
    let store: DirectoryStore

    init() throws {
        db = try TestDatabase()
        store = try db.open()
    }

    @Test func connectorsKeepAddressSpacesCostsAndSmartHostsInOrder() throws {
        let connector = Connector(
            name: "Fabrikam", addressSpaces: [try AddressSpace(parsing: "fabrikam.com;5"), try AddressSpace(parsing: "*.fabrikam.com")],
            delivery: .smartHosts([try SmartHost(parsing: "[10.0.0.5]"), try SmartHost(parsing: "[relay.fabrikam.com]:2525")]), allowsRelay: true)
        try store.addConnector(connector)
        try store.addConnector(Connector(name: "Internet", addressSpaces: [try AddressSpace(parsing: "*;100")], delivery: .dns))
        #expect(try store.connectors() == [connector, Connector(name: "Internet", addressSpaces: [AddressSpace(pattern: .any, cost: 100)], delivery: .dns)])
        try store.removeConnector(name: "fabrikam")
        #expect(try store.connectors().map(\.name) == ["Internet"])
    }

    @Test func aConnectorWithoutSmartHostOrDNSIsRefused() throws {
        let error = try expectRefusedWithoutWriting(store) {
            try store.addConnector(Connector(name: "Nowhere", addressSpaces: [AddressSpace(pattern: .any)], delivery: .smartHosts([])))
        }
        #expect(error?.description == "connector Nowhere needs a smart host or DNS delivery")
    }

    @Test func aConnectorWithoutAddressSpaceOrWithADuplicateNameIsRefused() throws {
        try expectRefusedWithoutWriting(store) { try store.addConnector(Connector(name: "X", addressSpaces: [], delivery: .dns)) }
        try store.addConnector(Connector(name: "X", addressSpaces: [AddressSpace(pattern: .any)], delivery: .dns))
        try expectRefusedWithoutWriting(store) { try store.addConnector(Connector(name: "x", addressSpaces: [AddressSpace(pattern: .any)], delivery: .dns)) }
    }

    @Test func theSchemaRefusesSmartHostsOnADNSConnector() throws {
        try store.addConnector(Connector(name: "Internet", addressSpaces: [AddressSpace(pattern: .any)], delivery: .dns))
        let error = try expectRefusedWithoutWriting(store) {
            try store.write { c in try c.execute("INSERT INTO smart_host (connector_id, position, host) SELECT id, 1, '[10.0.0.1]' FROM connector") }
        }
        #expect(error?.description == "a connector that delivers by DNS has no smart hosts")
    }

    @Test func domainsAreUniqueAndRemovable() throws {
        try store.addDomain(AcceptedDomain(name: try DomainName(parsing: "Contoso.COM."), type: .shared))
        let error = try expectRefusedWithoutWriting(store) {
            try store.addDomain(AcceptedDomain(name: try DomainName(parsing: "contoso.com"), type: .relay))
        }
        #expect(error?.description == "domain contoso.com is already accepted (shared)")
        try store.removeDomain(try DomainName(parsing: "contoso.com"))
        #expect(try store.domains().isEmpty)
        try expectRefusedWithoutWriting(store) { try store.removeDomain(try DomainName(parsing: "contoso.com")) }
    }

    @Test func settingsStartAtTheirDefaultsAndChange() throws {
        #expect(try store.settings() == ServerSettings(unresolvedHost: nil, isDNSDeliveryEnabled: true, localHosts: []))
        try store.setUnresolvedHost(try SmartHost(parsing: "[10.0.0.9]"))
        try store.setDNSDelivery(false)
        try store.setLocalHosts([try DomainName(parsing: "mx2.contoso.com"), try DomainName(parsing: "MX1.contoso.com")])
        let settings = try store.settings()
        #expect(settings.unresolvedHost?.description == "[10.0.0.9]")
        #expect(!settings.isDNSDeliveryEnabled)
        #expect(settings.localHosts.map(\.name) == ["mx1.contoso.com", "mx2.contoso.com"])
        try store.setUnresolvedHost(nil)
        #expect(try store.settings().unresolvedHost == nil)
    }
}
