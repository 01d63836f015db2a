import ArgumentParser
import MailCore
import MailStore

struct ConnectorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connector", abstract: "SMTP connectors: where mail for an address space goes next.",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a connector with its address spaces and smart hosts (or DNS).")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @Option(name: .customLong("address-space"), help: ArgumentHelp("fabrikam.com, *.fabrikam.com or *, optionally ;COST (1-100, default 1). Repeatable.", valueName: "pattern[;cost]"))
        var addressSpaces: [String] = []
        @Option(name: .customLong("smart-host"), help: ArgumentHelp("[10.0.0.5], [host]:2525 or relay.example.net (MX lookup). Repeatable, in order.", valueName: "host"))
        var smartHosts: [String] = []
        @Flag(help: "Deliver by DNS MX lookup instead of smart hosts.") var dns = false
        @Flag(help: "Let untrusted clients relay to these address spaces.") var allowRelay = false
        @Flag(help: "Add it disabled.") var disabled = false

        func validate() throws {
            if addressSpaces.isEmpty { throw ValidationError("give at least one --address-space") }
            if dns == !smartHosts.isEmpty {
                throw ValidationError(dns ? "give --smart-host or --dns, not both" : "give --smart-host HOST or --dns: a connector needs a way to deliver")
            }
        }

        func run() throws {
            let spaces = try addressSpaces.map { try AddressSpace(parsing: $0) }
            let delivery: Connector.Delivery = dns ? .dns : .smartHosts(try smartHosts.map { try SmartHost.typed($0) })
            try store.open().addConnector(Connector(name: name, addressSpaces: spaces, delivery: delivery, allowsRelay: allowRelay, isEnabled: !disabled))
            print("added connector \(name)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List connectors.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let connectors = try store.open().connectors()
            if output.json { return try Output.printJSON(connectors.map(ConnectorJSON.init)) }
            for c in connectors {
                let route: String
                switch c.delivery {
                case .dns: route = "dns"
                case .smartHosts(let hosts): route = hosts.map(\.description).joined(separator: ",")
                }
                var flags: [String] = []
                if c.allowsRelay { flags.append("allow-relay") }
                if !c.isEnabled { flags.append("disabled") }
                print("\(c.name)\t\(c.addressSpaces.map(\.description).joined(separator: " "))\t\(route)" + (flags.isEmpty ? "" : "\t" + flags.joined(separator: " ")))
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a connector.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String

        func run() throws {
            try store.open().removeConnector(name: name)
            print("removed connector \(name)")
        }
    }
}
