import Foundation
import Testing

@Suite("mailns domain")
struct DomainCommandTests {
    let sandbox: Sandbox

    init() throws { sandbox = try Sandbox() }

    @Test("domain add stores each type and domain list --json gives name, type and includeSubdomains, by name")
    func addAndListEachType() async throws {
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "authoritative")
        try await sandbox.ok("domain", "add", "fabrikam.com", "--type", "shared", "--include-subdomains")
        try await sandbox.ok("domain", "add", "adatum.com", "--type", "relay")

        let domains = try await sandbox.array("domain", "list", "--json")
        #expect(domains.map { $0["name"] as? String } == ["adatum.com", "contoso.com", "fabrikam.com"])
        #expect(domains.map { $0["type"] as? String } == ["relay", "authoritative", "shared"])
        #expect(domains.map { $0["includeSubdomains"] as? Bool } == [false, false, true])
    }

    @Test("domain list --json on an empty directory is an empty array")
    func emptyListIsEmptyArray() async throws {
        let domains = try await sandbox.json("domain", "list", "--json")
        let array = try #require(domains as? [Any])
        #expect(array.isEmpty)
    }

    @Test("a domain is stored in lower case, and an IDN domain as its A-label")
    func domainIsNormalised() async throws {
        try await sandbox.ok("domain", "add", "Contoso.COM", "--type", "authoritative")
        try await sandbox.ok("domain", "add", "bücher.example", "--type", "relay")
        let names = try await sandbox.array("domain", "list", "--json").map { $0["name"] as? String }
        #expect(names == ["contoso.com", "xn--bcher-kva.example"])
    }

    @Test("adding an accepted domain again, in any letter case and with any type, is refused with 65 and changes nothing")
    func duplicateDomainRefused() async throws {
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "authoritative")
        let before = try await sandbox.snapshot()

        let result = try await sandbox.run("domain", "add", "CONTOSO.com", "--type", "shared")
        expectOneLineError(result, status: 65, mentioning: ["contoso.com", "already"])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("an invalid domain name is refused with 65 naming it")
    func invalidDomainRefused() async throws {
        let result = try await sandbox.run("domain", "add", "contoso..com", "--type", "relay")
        expectOneLineError(result, status: 65, mentioning: ["contoso..com"])
        #expect(try await sandbox.array("domain", "list", "--json").isEmpty)
    }

    @Test("an unknown domain type is a usage error (64) and creates no database")
    func unknownTypeIsUsageError() async throws {
        let result = try await sandbox.run("domain", "add", "contoso.com", "--type", "foo")
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("foo"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.database.path))
    }

    @Test("domain remove removes it; removing a domain that is not accepted is refused with 65")
    func removeDomain() async throws {
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "authoritative")
        try await sandbox.ok("domain", "add", "fabrikam.com", "--type", "shared")
        try await sandbox.ok("domain", "remove", "Contoso.com")
        let names = try await sandbox.array("domain", "list", "--json").map { $0["name"] as? String }
        #expect(names == ["fabrikam.com"])

        let before = try await sandbox.snapshot()
        let again = try await sandbox.run("domain", "remove", "contoso.com")
        expectOneLineError(again, status: 65, mentioning: ["contoso.com"])
        #expect(try await sandbox.snapshot() == before)
    }
}
