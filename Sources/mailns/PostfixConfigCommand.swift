import ArgumentParser
import Foundation
import MailCore
import MailNamespace
import Socketmap

struct PostfixConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postfix-config",
        abstract: "Print the Postfix configuration that asks `mailns serve` for every recipient.",
        discussion: """
            Prints main.cf lines (postconf style), the master.cf line of the virtual service and the
            sqlite: table virtual(8) reads — each under a '# ---- NAME ----' header, or one of them with
            --part. --delivery is stored in the directory (setting delivery-transport), so the running
            `mailns serve` and the printed configuration agree.
            """)

    enum Part: String, ExpressibleByArgument, CaseIterable {
        case mainCf = "main.cf"
        case masterCf = "master.cf"
        case sqlite
    }

    @OptionGroup var store: StoreOptions

    @Option(help: ArgumentHelp("Where `mailns serve` listens: HOST:PORT or unix:PATH.", valueName: "address"))
    var listen = ServeDefaults.listen

    @Option(help: ArgumentHelp("How mailboxes are delivered: virtual or lmtp:HOST:PORT (stored in the directory).", valueName: "transport"))
    var delivery: String?

    @Option(help: ArgumentHelp("virtual_mailbox_base: the directory holding the Maildirs.", valueName: "dir"))
    var mailboxBase = "/var/mail/vhosts"

    @Option(help: ArgumentHelp("The uid:gid that owns the Maildirs (virtual_uid_maps, virtual_gid_maps).", valueName: "uid:gid"))
    var mailboxOwner = "5000:5000"

    @Option(help: ArgumentHelp("Where the sqlite: table file for virtual(8) will be installed.", valueName: "path"))
    var sqliteCf = "/etc/postfix/mailns-mailboxes.cf"

    @Option(help: ArgumentHelp("Print only this part: main.cf, master.cf or sqlite.", valueName: "part"))
    var part: Part?

    func run() throws {
        let endpoint = try ServeDefaults.endpoint(listen)
        let owner = mailboxOwner.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard owner.count == 2, owner.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--mailbox-owner takes UID:GID, two positive numbers (virtual(8) never delivers as root)")
        }
        guard mailboxBase.hasPrefix("/"), sqliteCf.hasPrefix("/") else {
            throw ValidationError("--mailbox-base and --sqlite-cf must be absolute paths")
        }
        let directory = try store.open()
        if let delivery {
            let transport: DeliveryTransport
            do {
                transport = try DeliveryTransport(parsing: delivery)
            } catch {
                throw ValidationError("--delivery: \(error)")
            }
            try directory.setDeliveryTransport(transport)
        }
        let config = PostfixConfiguration(
            endpoint: endpoint, databasePath: Self.absolute(store.resolvedPath), settings: try directory.settings(),
            mailboxBase: mailboxBase, mailboxOwner: (owner[0]!, owner[1]!), sqliteTablePath: sqliteCf)
        let none = "# nothing: mailboxes are delivered over LMTP\n"
        switch part {
        case .mainCf: print(config.mainCf, terminator: "")
        case .masterCf: print(config.masterCf ?? none, terminator: "")
        case .sqlite: print(config.sqliteCf ?? none, terminator: "")
        case nil:
            print("# ---- main.cf ----\n" + config.mainCf, terminator: "")
            if let master = config.masterCf, let sqlite = config.sqliteCf {
                print("# ---- master.cf ----\n" + master, terminator: "")
                print("# ---- \(sqliteCf) ----\n" + sqlite, terminator: "")
            }
        }
    }

    /// The sqlite: table runs in Postfix's processes, from another working directory.
    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
    }
}
