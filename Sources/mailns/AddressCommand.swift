import ArgumentParser
import MailCore
import MailStore

struct AddressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "address", abstract: "A recipient's proxy addresses.",
        subcommands: [Add.self, Remove.self, SetPrimary.self])

    /// `x@y` means the SMTP address; anything else must carry its type prefix (`X500:…`).
    static func typeAndValue(_ text: String) throws -> (type: String, value: String) {
        if let address = try? EmailAddress(parsing: text) { return (ProxyAddress.smtp, address.description) }
        let proxy = try ProxyAddress(parsing: text)
        return (proxy.type, proxy.value)
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an address: SMTP:x@y makes it the primary (the old primary becomes smtp:), smtp:x@y a secondary.")
        @OptionGroup var store: StoreOptions
        @Argument var alias: String
        @Argument(help: "SMTP:x@y or smtp:x@y (or another type, e.g. X500:…).") var address: String

        func run() throws {
            let proxy = try ProxyAddress(parsing: address)
            switch try store.open().addAddress(proxy, to: alias) {
            case .added: print("added \(proxy) to \(alias)")
            case .addedAsFirstPrimary:
                var primary = proxy
                primary.kind = .primary
                print("added \(primary) to \(alias) (its first \(proxy.type) address, so the primary)")
            case .addedReplacingPrimary(let previous):
                print("added \(proxy) to \(alias); \(previous.type.lowercased()):\(previous.value) is now secondary")
            case .promoted(let previous):
                print("\(proxy) is now the primary of \(alias)" + (previous.map { "; \($0.type.lowercased()):\($0.value) is now secondary" } ?? ""))
            case .unchanged: print("\(alias) already has \(proxy); nothing changed")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an address (not the primary while others of its type remain).")
        @OptionGroup var store: StoreOptions
        @Argument var alias: String
        @Argument(help: "x@y, or TYPE:value for another type.") var address: String

        func run() throws {
            let (type, value) = try AddressCommand.typeAndValue(address)
            try store.open().removeAddress(type: type, value: value, from: alias)
            print("removed \(value) from \(alias)")
        }
    }

    struct SetPrimary: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-primary", abstract: "Make one of the recipient's addresses its primary.")
        @OptionGroup var store: StoreOptions
        @Argument var alias: String
        @Argument(help: "x@y, or TYPE:value for another type.") var address: String

        func run() throws {
            let (type, value) = try AddressCommand.typeAndValue(address)
            let previous = try store.open().setPrimary(type: type, value: value, for: alias)
            if let previous {
                print("\(type):\(value) is now the primary of \(alias); \(previous.type.lowercased()):\(previous.value) is now secondary")
            } else {
                print("\(type):\(value) already is the primary of \(alias)")
            }
        }
    }
}
