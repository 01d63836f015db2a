import ArgumentParser
import MailCore
import MailStore

struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings", abstract: "Server-wide settings.", subcommands: [Show.self, Set.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the settings.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let settings = try store.open().settings()
            if output.json { return try Output.printJSON(SettingsJSON(settings)) }
            Output.printFields([
                ("unresolved-host", settings.unresolvedHost?.description ?? "none"),
                ("dns-delivery", settings.isDNSDeliveryEnabled ? "on" : "off"),
                ("local-hosts", settings.localHosts.isEmpty ? "none" : settings.localHosts.map(\.name).joined(separator: ",")),
                ("recipient-delimiter", settings.recipientDelimiter.map(String.init) ?? "none"),
                ("delivery-transport", settings.deliveryTransport.description),
            ])
        }
    }

    enum Key: String, ExpressibleByArgument, CaseIterable {
        case unresolvedHost = "unresolved-host"
        case dnsDelivery = "dns-delivery"
        case localHosts = "local-hosts"
        case recipientDelimiter = "recipient-delimiter"
        case deliveryTransport = "delivery-transport"
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a setting.",
            discussion: """
                unresolved-host HOST|none   forward mail for unknown recipients of accepted domains to HOST
                dns-delivery on|off         deliver by DNS when no connector matches
                local-hosts NAME,...|none   this server's own host names (for loop checks)
                recipient-delimiter C|none  Postfix's recipient_delimiter (default +): user+tag@ is user@
                delivery-transport virtual|lmtp:HOST:PORT
                                            how mailboxes are delivered (default virtual); serve and
                                            postfix-config both read it
                """)
        @OptionGroup var store: StoreOptions
        @Argument var key: Key
        @Argument var value: String

        func validate() throws {
            if key == .dnsDelivery, Switch(rawValue: value) == nil {
                throw ValidationError("dns-delivery takes on or off, not '\(value)'")
            }
        }

        func run() throws {
            let directory = try store.open()
            switch key {
            case .unresolvedHost:
                try directory.setUnresolvedHost(value == "none" ? nil : SmartHost.typed(value))
            case .dnsDelivery:
                try directory.setDNSDelivery(Switch(rawValue: value)?.isOn ?? true)
            case .localHosts:
                let names = value == "none" ? [] : value.split(separator: ",").map { String($0) }
                try directory.setLocalHosts(names.map { try DomainName(parsing: $0) })
            case .recipientDelimiter:
                guard value == "none" || value.count == 1 else { throw ValidationError("recipient-delimiter takes one character or none") }
                try directory.setRecipientDelimiter(value == "none" ? nil : value.first)
            case .deliveryTransport:
                try directory.setDeliveryTransport(DeliveryTransport(parsing: value))
            }
            print("\(key.rawValue) = \(value)")
        }
    }
}
