import ArgumentParser
import MailCore
import MailNamespace
import MailStore

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Recipient policies: which recipients get which addresses.",
        subcommands: [Add.self, List.self, Show.self, Remove.self, SetPriority.self, SetTemplates.self, Set.self, Apply.self, Preview.self])

    static func printPolicy(_ policy: RecipientPolicy) {
        Output.printFields([
            ("name", policy.name), ("priority", "\(policy.priority)" + (policy.isDefault ? " (Default Policy, always last)" : "")),
            ("filter", policy.filter), ("enabled", policy.isEnabled ? "yes" : "no"),
        ])
        print("templates:" + (policy.templates.isEmpty ? " none" : ""))
        for template in policy.templates { print("  \(template)") }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a policy at a priority; the policies at it and below move down by one.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @Option(help: "1 is the highest (default: just above the Default Policy).") var priority: Int?
        @Option(help: "An RFC 4515 LDAP filter, e.g. '(company=Contoso)'.") var filter: String
        @Option(name: .customLong("template"), help: ArgumentHelp("An address template, e.g. 'SMTP:%g.%s@contoso.com' (repeatable).", valueName: "template"))
        var templates: [String] = []

        func run() throws {
            let parsed = try templates.map { try PolicyTemplate(parsing: $0) }
            let policy = try store.namespace().addPolicy(name: name, priority: priority, filter: filter, templates: parsed)
            print("added policy \(policy.name) at priority \(policy.priority)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List policies by priority.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let policies = try store.open().policies()
            if output.json { return try Output.printJSON(policies.map(PolicyJSON.init)) }
            for p in policies {
                print(
                    "\(p.priority)\t\(p.name)\t\(p.filter)\t\(p.templates.map(\.description).joined(separator: " "))"
                        + (p.isEnabled ? "" : "\tdisabled"))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one policy.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard let policy = try store.open().policy(named: name) else { throw StoreError.notFound("no recipient policy named \(name)") }
            if output.json { return try Output.printJSON(PolicyJSON(policy)) }
            PolicyCommand.printPolicy(policy)
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a policy (never the Default Policy). Addresses it stamped stay.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String

        func run() throws {
            try store.open().removePolicy(name: name)
            print("removed policy \(name)")
        }
    }

    struct SetPriority: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-priority", abstract: "Move a policy to another priority.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @Argument(help: "1 is the highest.") var priority: Int

        func run() throws {
            let policy = try store.open().setPolicyPriority(name: name, to: priority)
            print("policy \(policy.name) is now at priority \(policy.priority)")
        }
    }

    struct SetTemplates: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-templates", abstract: "Replace a policy's address templates (none given clears them).")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @Option(name: .customLong("template"), help: ArgumentHelp("An address template (repeatable).", valueName: "template"))
        var templates: [String] = []

        func run() throws {
            let parsed = try templates.map { try PolicyTemplate(parsing: $0) }
            let policy = try store.namespace().setPolicyTemplates(name: name, parsed)
            print("policy \(policy.name) templates: " + (policy.templates.isEmpty ? "none" : policy.templates.map(\.description).joined(separator: " ")))
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a policy's filter or switch it on or off (the Default Policy's neither).")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @Option(help: "A new RFC 4515 LDAP filter, checked as policy add checks it.") var filter: String?
        @Option(help: "on, or off: a disabled policy wins no recipient; they fall to the next policy that matches.") var enabled: Switch?

        func validate() throws {
            if filter == nil && enabled == nil { throw ValidationError("give --filter FILTER or --enabled on|off (or both)") }
        }

        func run() throws {
            let policy = try store.namespace().setPolicy(name: name, filter: filter, isEnabled: enabled?.isOn)
            print("policy \(policy.name): filter \(policy.filter), enabled \(policy.isEnabled ? "on" : "off")")
        }
    }
}
