import ArgumentParser
import MailCore
import MailNamespace
import MailStore

extension RecipientKind: ExpressibleByArgument {}

/// `on` / `off`, as the operator types switches.
enum Switch: String, ExpressibleByArgument, CaseIterable {
    case on, off
    var isOn: Bool { self == .on }
}

/// The recipient fields `recipient add` and `recipient set` share. An empty value clears a field.
struct RecipientFieldOptions: ParsableArguments {
    @Option(name: .customLong("given"), help: "givenName.") var givenName: String?
    @Option(name: .customLong("surname"), help: "sn (surname).") var surname: String?
    @Option(help: "initials.") var initials: String?
    @Option(help: "displayName.") var displayName: String?
    @Option(help: "company.") var company: String?
    @Option(help: "department.") var department: String?
    @Option(help: "title.") var title: String?
    @Option(help: "physicalDeliveryOfficeName.") var office: String?
    @Option(
        name: .customLong("attribute"),
        help: ArgumentHelp("Any other attribute by its AD name, e.g. extensionAttribute1=Sales (repeatable).", valueName: "name=value"))
    var otherAttributes: [String] = []
    @Option(help: "Target address of a contact (targetAddress).") var target: String?
    @Option(help: "Which organisation the recipient comes from.") var source: String?

    /// Attribute changes: a value sets, nil clears (given as an empty string).
    func attributeChanges() throws -> [RecipientAttribute: String?] {
        var changes: [RecipientAttribute: String?] = [:]
        let named: [(RecipientAttribute, String?)] = [
            (.givenName, givenName), (.sn, surname), (.initials, initials), (.displayName, displayName),
            (.company, company), (.department, department), (.title, title), (.physicalDeliveryOfficeName, office),
        ]
        for case let (attribute, value?) in named { changes[attribute] = value.isEmpty ? nil : value }
        for pair in otherAttributes {
            guard let equals = pair.firstIndex(of: "=") else {
                throw ValidationError("--attribute '\(pair)': write NAME=VALUE, e.g. extensionAttribute1=Sales")
            }
            let name = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            guard let attribute = RecipientAttribute(adName: name) else {
                throw ValidationError("--attribute '\(pair)': unknown attribute \(name); known: \(RecipientAttribute.allCases.map(\.adName).joined(separator: ", "))")
            }
            changes[attribute] = value.isEmpty ? nil : value
        }
        return changes
    }

    /// `--target`: nil when not given, .some(nil) when cleared with an empty value.
    func targetChange() throws -> EmailAddress?? {
        guard let target else { return nil }
        if target.isEmpty { return .some(nil) }
        return .some(try EmailAddress(parsing: target))
    }

    func sourceChange() -> String?? {
        guard let source else { return nil }
        return .some(source.isEmpty ? nil : source)
    }
}

struct RecipientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipient", abstract: "Mailboxes, contacts and remote recipients.",
        subcommands: [Add.self, Show.self, List.self, Set.self, Remove.self, History.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a recipient.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The alias (mailNickname): unique, usable as a local part.") var alias: String
        @OptionGroup var fields: RecipientFieldOptions
        @Option(help: "mailbox (lives here), contact (forwards to --target) or remote (lives on the other system).")
        var kind: RecipientKind = .mailbox
        @Option(name: .customLong("address"), help: ArgumentHelp("A proxy address, SMTP:… (primary) or smtp:… (repeatable).", valueName: "proxy"))
        var addresses: [String] = []
        @Flag(help: "Do not let recipient policies manage its addresses.") var noPolicy = false

        func run() throws {
            var recipient = Recipient(alias: alias, kind: kind, isPolicyManaged: !noPolicy)
            for case let (attribute, value?) in try fields.attributeChanges() { recipient.attributes[attribute] = value }
            recipient.targetAddress = try fields.targetChange() ?? nil
            recipient.source = fields.sourceChange() ?? nil
            recipient.addresses = try addresses.map { try ProxyAddress(parsing: $0) }
            let added = try store.namespace().addRecipient(recipient)
            print("added \(added.kind.rawValue) \(added.alias)" + (added.addresses.isEmpty ? "" : " with " + added.addresses.map(\.description).joined(separator: ", ")))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one recipient, found by alias or by any of its SMTP addresses.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "An alias, or an address such as john.doe@contoso.com.") var aliasOrAddress: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let directory = try store.open()
            let found: Recipient?
            if aliasOrAddress.contains("@") {
                found = try directory.recipient(owning: EmailAddress(parsing: aliasOrAddress))
            } else {
                found = try directory.recipient(alias: aliasOrAddress)
            }
            guard let recipient = found else { throw StoreError.notFound("no recipient with alias or address \(aliasOrAddress)") }
            if output.json { return try Output.printJSON(RecipientJSON(recipient: recipient)) }
            var lines: [(String, String)] = [("alias", recipient.alias), ("kind", recipient.kind.rawValue)]
            for attribute in RecipientAttribute.allCases {
                if let value = recipient.attributes[attribute] { lines.append((attribute.adName, value)) }
            }
            if let target = recipient.targetAddress { lines.append(("targetAddress", target.description)) }
            lines.append(("policyManaged", recipient.isPolicyManaged ? "yes" : "no"))
            if let source = recipient.source { lines.append(("source", source)) }
            if let policy = recipient.stampedByPolicy { lines.append(("stampedByPolicy", policy)) }
            Output.printFields(lines)
            print("addresses:")
            for address in recipient.addresses { print("  \(address)") }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recipients by alias: alias, kind, primary SMTP address.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let recipients = try store.open().recipients()
            if output.json { return try Output.printJSON(recipients.map(RecipientJSON.init)) }
            for r in recipients {
                print("\(r.alias)\t\(r.kind.rawValue)\t\(r.primaryAddress()?.value ?? "-")")
            }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a recipient's attributes (an empty value clears one).")
        @OptionGroup var store: StoreOptions
        @Argument var alias: String
        @OptionGroup var fields: RecipientFieldOptions
        @Option(help: "Change the kind: mailbox, contact or remote.") var kind: RecipientKind?
        @Option(help: "on: recipient policies manage its addresses; off: they never touch it.") var policyManaged: Switch?

        func run() throws {
            let attributes = try fields.attributeChanges()
            let target = try fields.targetChange()
            let source = fields.sourceChange()
            let updated = try store.namespace().updateRecipient(alias: alias) { r in
                for (attribute, value) in attributes { r.attributes[attribute] = value }
                if let kind { r.kind = kind }
                if let target { r.targetAddress = target }
                if let source { r.source = source }
                if let policyManaged { r.isPolicyManaged = policyManaged.isOn }
            }
            print("updated \(updated.alias)" + (updated.addresses.isEmpty ? "" : "; addresses: " + updated.addresses.map(\.description).joined(separator: ", ")))
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a recipient and its addresses (the address history keeps them).")
        @OptionGroup var store: StoreOptions
        @Argument var alias: String

        func run() throws {
            try store.open().removeRecipient(alias: alias)
            print("removed \(alias)")
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show every change to a recipient's addresses, oldest first.")
        @OptionGroup var store: StoreOptions
        @Argument var alias: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let directory = try store.open()
            let entries = try directory.history(alias: alias)
            if entries.isEmpty, try directory.recipient(alias: alias) == nil {
                throw StoreError.notFound("no recipient with alias \(alias), and no address history for it")
            }
            if output.json { return try Output.printJSON(entries.map(HistoryJSON.init)) }
            for e in entries {
                let who = e.actorName.map { "\(e.actor) \($0)" } ?? e.actor
                print("\(e.at)\t\(e.action.rawValue)\t\(e.address)\t\(who)\tbatch \(e.batchID)")
            }
        }
    }
}
