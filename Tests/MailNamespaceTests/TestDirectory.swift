import Foundation
import MailCore
import MailNamespace
import Testing
@testable import MailStore

/// A fresh directory file in its own temporary folder, opened through `Namespace`, removed
/// when the test ends. Every test makes its own.
final class TestDirectory {
    let folder: URL
    let namespace: Namespace
    var directory: DirectoryStore { namespace.directory }
    var path: String { folder.appendingPathComponent("directory.sqlite").path }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mailns-namespace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        namespace = try Namespace(path: folder.appendingPathComponent("directory.sqlite").path)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    // MARK: - Setting up

    /// `contoso.local` authoritative and `contoso.com` shared, as in the recipe of spec §6.
    func addRecipeDomains() throws {
        try directory.addDomain(AcceptedDomain(name: try DomainName(parsing: "contoso.local"), type: .authoritative))
        try directory.addDomain(AcceptedDomain(name: try DomainName(parsing: "contoso.com"), type: .shared))
    }

    func addDomain(_ name: String, _ type: DomainType, includesSubdomains: Bool = false) throws {
        try directory.addDomain(AcceptedDomain(name: try DomainName(parsing: name), type: type, includesSubdomains: includesSubdomains))
    }

    /// The shared-namespace recipe of spec §6: the Default Policy stamps the internal primary,
    /// the priority-1 policy `Shared` covers everyone with the shared-domain primary and keeps
    /// the internal address as a secondary.
    func setUpSharedNamespaceRecipe() throws {
        try addRecipeDomains()
        try namespace.setPolicyTemplates(name: RecipientPolicy.defaultPolicyName, templates("SMTP:%m@contoso.local"))
        try namespace.addPolicy(
            name: "Shared", priority: 1, filter: "(mailNickname=*)",
            templates: templates("SMTP:%g.%s@contoso.com", "smtp:%m@contoso.local"))
    }

    /// Adds policy-managed people without stamping them (the store's own path), as if they
    /// had been there before any policy was applied.
    func addUnstamped(_ people: Recipient...) throws {
        for person in people { try directory.addRecipient(person) }
    }

    // MARK: - Looking

    /// The recipient's addresses as `mailns recipient show` writes them (`SMTP:` primary,
    /// `smtp:` secondary), as a set: the order is not what these tests are about.
    func addresses(of alias: String) throws -> Set<String> {
        guard let recipient = try directory.recipient(alias: alias) else {
            Issue.record("no recipient \(alias)")
            return []
        }
        return Set(recipient.addresses.map(\.description))
    }

    /// The recipient's primary SMTP address, written with its prefix.
    func primary(of alias: String) throws -> String? {
        try directory.recipient(alias: alias)?.primaryAddress()?.description
    }

    /// The history lines of one batch, as `(action, address)`, oldest first.
    func history(of alias: String, batch: String) throws -> [Line] {
        try directory.history(alias: alias).filter { $0.batchID == batch }.map { Line($0.action.rawValue, $0.address) }
    }

    /// Every row of every table, as text: equal snapshots mean nothing was written.
    func snapshot() throws -> String {
        try directory.read { db in
            let tables = try db.cached("SELECT name, sql LIKE '%WITHOUT ROWID' FROM sqlite_schema WHERE type = 'table' ORDER BY name").map { ($0.text(0), $0.bool(1)) }
            var out = ""
            for (table, withoutRowID) in tables {
                out += "== \(table)\n"
                // Table names come from sqlite_schema, not input; tests only.
                // A WITHOUT ROWID table is read in primary-key order.
                let statement = try db.cached("SELECT * FROM \"\(table)\"" + (withoutRowID ? "" : " ORDER BY rowid"))
                try statement.forEach { row in
                    out += (0..<row.columnCount).map { row.optionalText($0) ?? "NULL" }.joined(separator: "|") + "\n"
                }
            }
            return out + "user_version=\(try db.cached("PRAGMA user_version").first { $0.int(0) } ?? -1)\n"
        }
    }

    /// Runs `change`, expects it to throw, and expects the database unchanged. Returns the
    /// error's description.
    @discardableResult
    func expectRefusedWithoutWriting(sourceLocation: SourceLocation = #_sourceLocation, _ change: () throws -> Void) throws -> String? {
        let before = try snapshot()
        let error = #expect(throws: (any Error).self, sourceLocation: sourceLocation) { try change() }
        #expect(try snapshot() == before, "the refused change wrote something", sourceLocation: sourceLocation)
        return error.map { String(describing: $0) }
    }
}

/// One history line, as `mailns recipient history` shows it.
struct Line: Equatable, CustomStringConvertible {
    let action: String
    let address: String
    init(_ action: String, _ address: String) {
        self.action = action
        self.address = address
    }
    var description: String { "\(action) \(address)" }
}

/// Policy templates from their text (`SMTP:%g.%s@contoso.com`).
func templates(_ texts: String...) throws -> [PolicyTemplate] {
    try texts.map { try PolicyTemplate(parsing: $0) }
}

/// A policy-managed mailbox with a given name and surname.
func person(_ alias: String, _ givenName: String? = nil, _ sn: String? = nil, managed: Bool = true, extra: [RecipientAttribute: String] = [:]) -> Recipient {
    var attributes = extra
    if let givenName { attributes[.givenName] = givenName }
    if let sn { attributes[.sn] = sn }
    return Recipient(alias: alias, attributes: attributes, isPolicyManaged: managed)
}
