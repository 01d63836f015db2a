import MailCore
import MailRouting
import Socketmap

/// The Postfix configuration that puts `mailns serve` behind a Postfix: main.cf lines, the
/// master.cf `virtual` service (virtual delivery only) and the `sqlite:` table virtual(8)
/// reads. Rendered from values, so what is printed is what is tested.
///
/// ## Why each piece
/// - Domain classes: authoritative domains are `virtual_mailbox_domains` (Postfix rejects
///   their unknown recipients with 550 5.1.1 itself); shared and relay domains are
///   `relay_domains`, validated by `relay_recipient_maps`.
/// - `smtpd_relay_restrictions` ends in `reject_unauth_destination` (554 5.7.1, spec row 11);
///   Postfix's default `defer_unauth_destination` would answer a temporary 454.
/// - `check_recipient_access` gives the resolver's own codes (5.4.0, 5.4.6, 5.1.1) before
///   Postfix's generic "unknown in table" replies.
/// - virtual(8) refuses socketmap tables for `virtual_mailbox_maps`, so its own service gets
///   an `sqlite:` table on the directory's `postfix_mailbox` view (`-o` in master.cf), while
///   smtpd keeps asking `mailns serve`.
package struct PostfixConfiguration: Sendable {
    package var endpoint: SocketmapEndpoint
    package var databasePath: String
    package var settings: ServerSettings
    package var mailboxBase: String
    package var mailboxOwner: (uid: Int, gid: Int)
    package var sqliteTablePath: String

    package init(
        endpoint: SocketmapEndpoint, databasePath: String, settings: ServerSettings, mailboxBase: String = "/var/mail/vhosts",
        mailboxOwner: (uid: Int, gid: Int) = (5000, 5000), sqliteTablePath: String = "/etc/postfix/mailns-mailboxes.cf"
    ) {
        self.endpoint = endpoint
        self.databasePath = databasePath
        self.settings = settings
        self.mailboxBase = mailboxBase
        self.mailboxOwner = mailboxOwner
        self.sqliteTablePath = sqliteTablePath
    }

    /// `socketmap:inet:127.0.0.1:9025:NAME`.
    package func table(_ map: PostfixMap) -> String { "socketmap:\(endpoint):\(map.rawValue)" }

    /// A value main.cf takes as written: `$` starts a macro there, `$$` is a literal `$`.
    static func literal(_ value: String) -> String { value.replacing("$", with: "$$") }

    /// The main.cf lines, postconf style.
    package var mainCf: String {
        var lines = [
            "# mailns postfix-config: Postfix asks `mailns serve --listen \(endpoint)` (directory \(databasePath)).",
            "# Nothing is local to Postfix itself: every domain is answered by the directory.",
            "mydestination =",
            "local_recipient_maps =",
            "# Must agree with the directory's recipient-delimiter (mailns settings).",
            "recipient_delimiter = \(Self.literal(settings.recipientDelimiter.map(String.init) ?? ""))",
            "virtual_mailbox_domains = \(table(.mailboxDomains))",
            "virtual_mailbox_maps = \(table(.mailboxes))",
            "virtual_alias_maps = \(table(.aliases))",
            "# Aliases are per address, in the domains above; no alias-only domains (the default,",
            "# $virtual_alias_maps, would ask the aliases map for every domain name).",
            "virtual_alias_domains =",
            "relay_domains = \(table(.relayDomains))",
            "relay_recipient_maps = \(table(.relayRecipients))",
            "transport_maps = \(table(.transport))",
            "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
            "smtpd_recipient_restrictions = check_recipient_access \(table(.recipientAccess))",
        ]
        switch settings.deliveryTransport {
        case .virtual:
            lines += [
                "# Mailboxes: virtual(8) into Maildirs; its own lookups use the sqlite: table in master.cf.",
                "virtual_transport = virtual",
                "virtual_mailbox_base = \(Self.literal(mailboxBase))",
                "virtual_uid_maps = static:\(mailboxOwner.uid)",
                "virtual_gid_maps = static:\(mailboxOwner.gid)",
            ]
        case .lmtp:
            lines += [
                "# Mailboxes: LMTP to the mailbox server.",
                "virtual_transport = \(settings.deliveryTransport.postfixTransport)",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The master.cf service line for virtual(8), or nil when mailboxes go over LMTP.
    package var masterCf: String? {
        guard settings.deliveryTransport == .virtual else { return nil }
        return "virtual   unix  -       n       n       -       -       virtual -o virtual_mailbox_maps=sqlite:\(sqliteTablePath)\n"
    }

    /// The `sqlite:` table file for virtual(8), or nil when mailboxes go over LMTP.
    package var sqliteCf: String? {
        guard settings.deliveryTransport == .virtual else { return nil }
        return """
            # mailns: the Maildir of each mailbox address, for virtual(8) (view postfix_mailbox).
            # virtual(8) opens it as user postfix, which needs read and write access to the
            # database and its -wal and -shm files (SQLite's WAL readers write the -shm index):
            # group postfix, mode 0660, in a directory group postfix may write.
            dbpath = \(databasePath)
            query = SELECT maildir FROM postfix_mailbox WHERE address = '%s'
            """ + "\n"
    }
}
