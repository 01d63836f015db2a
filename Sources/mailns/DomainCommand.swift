import ArgumentParser
import MailCore
import MailNamespace
import MailStore

extension DomainType: ExpressibleByArgument {}

struct DomainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domain", abstract: "Accepted domains: authoritative, shared or relay.",
        subcommands: [Add.self, List.self, Set.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept mail for a domain.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The domain, e.g. contoso.com (IDN allowed; stored as its A-label).") var domain: String
        @Option(help: "authoritative (every recipient is here), shared (also served by another system) or relay (not local; relayed through a connector).")
        var type: DomainType
        @Flag(help: "Also accept every subdomain.") var includeSubdomains = false
        @Flag(help: "Shared domains: the directory lists every valid recipient of both systems; reject addresses in neither.")
        var validateRecipients = false

        func run() throws {
            let name = try DomainName.typed(domain)
            try store.namespace().addDomain(
                AcceptedDomain(name: name, type: type, includesSubdomains: includeSubdomains, validatesRecipients: validateRecipients))
            print("added \(type.rawValue) domain \(name)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accepted domains.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let domains = try store.open().domains()
            if output.json { return try Output.printJSON(domains.map(DomainJSON.init)) }
            for domain in domains {
                var flags: [String] = []
                if domain.includesSubdomains { flags.append("including subdomains") }
                if domain.validatesRecipients { flags.append("recipient validation") }
                print("\(domain.name)\t\(domain.type.rawValue)" + (flags.isEmpty ? "" : "\t" + flags.joined(separator: ", ")))
            }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an accepted domain.")
        @OptionGroup var store: StoreOptions
        @Argument var domain: String
        @Option(help: "authoritative, shared or relay.") var type: DomainType?
        @Option(help: "on or off.") var includeSubdomains: Switch?
        @Option(help: "on or off (shared domains only).") var validateRecipients: Switch?

        func run() throws {
            let name = try DomainName(parsing: domain)
            let updated = try store.namespace().updateDomain(name) { d in
                if let type { d.type = type }
                if let includeSubdomains { d.includesSubdomains = includeSubdomains.isOn }
                if let validateRecipients { d.validatesRecipients = validateRecipients.isOn }
            }
            print("domain \(updated.name): \(updated.type.rawValue), subdomains \(updated.includesSubdomains ? "on" : "off"), recipient validation \(updated.validatesRecipients ? "on" : "off")")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop accepting mail for a domain.")
        @OptionGroup var store: StoreOptions
        @Argument var domain: String

        func run() throws {
            let name = try DomainName(parsing: domain)
            try store.namespace().removeDomain(name)
            print("removed domain \(name)")
        }
    }
}
