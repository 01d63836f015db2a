import MailCore

extension DirectoryStore {
    private static let selectSettings = "SELECT unresolved_host, dns_delivery, recipient_delimiter, delivery_transport FROM server_setting WHERE id = 1"
    private static let updateDelimiter = "UPDATE server_setting SET recipient_delimiter = ? WHERE id = 1"
    private static let updateDeliveryTransport = "UPDATE server_setting SET delivery_transport = ? WHERE id = 1"
    private static let selectLocalHosts = "SELECT name FROM local_host ORDER BY name"
    private static let updateUnresolvedHost = "UPDATE server_setting SET unresolved_host = ? WHERE id = 1"
    private static let updateDNSDelivery = "UPDATE server_setting SET dns_delivery = ? WHERE id = 1"
    private static let deleteLocalHosts = "DELETE FROM local_host"
    private static let insertLocalHost = "INSERT INTO local_host (name) VALUES (?)"

    package func settings() throws -> ServerSettings {
        try read { db in try Self.currentSettings(db) }
    }

    static func currentSettings(_ db: Connection) throws -> ServerSettings {
        let hosts = try db.cached(selectLocalHosts).map { DomainName(stored: $0.text(0)) }
        guard let settings = try db.cached(selectSettings).first({ row throws in
            var unresolvedHost: SmartHost?
            if let text = row.optionalText(0) {
                guard let host = try? SmartHost(parsing: text) else {
                    throw StoreError.unreadable("unresolved-host '\(text)' (set it again with mailns settings set unresolved-host)")
                }
                unresolvedHost = host
            }
            let text = row.text(3)
            guard let transport = try? DeliveryTransport(parsing: text) else {
                throw StoreError.unreadable("delivery-transport '\(text)' (set it again with mailns settings set delivery-transport)")
            }
            return ServerSettings(
                unresolvedHost: unresolvedHost, isDNSDeliveryEnabled: row.bool(1), localHosts: hosts, recipientDelimiter: row.text(2).first,
                deliveryTransport: transport)
        }) else { throw StoreError.unreadable("the server_setting row is missing") }
        return settings
    }

    /// Sets or clears (nil) "forward all mail with unresolved recipients to host".
    package func setUnresolvedHost(_ host: SmartHost?) throws {
        try write { db in try db.cached(Self.updateUnresolvedHost).bind(host?.description).run() }
    }

    /// Sets Postfix's recipient_delimiter (one character) or turns extensions off (nil).
    package func setRecipientDelimiter(_ delimiter: Character?) throws {
        if let delimiter, !(delimiter.isASCII && (delimiter.asciiValue.map { LocalPart.isAtomCharacter($0) } ?? false)) {
            throw StoreError.refused("recipient delimiter '\(delimiter)' must be one character allowed in a local part, such as + or -")
        }
        try write { db in try db.cached(Self.updateDelimiter).bind(delimiter.map(String.init) ?? "").run() }
    }

    /// Sets how mailboxes are delivered (`virtual` or `lmtp:HOST:PORT`).
    package func setDeliveryTransport(_ transport: DeliveryTransport) throws {
        try write { db in try db.cached(Self.updateDeliveryTransport).bind(transport.description).run() }
    }

    package func setDNSDelivery(_ isEnabled: Bool) throws {
        try write { db in try db.cached(Self.updateDNSDelivery).bind(isEnabled).run() }
    }

    /// Replaces the list of this server's own host names.
    package func setLocalHosts(_ hosts: [DomainName]) throws {
        try write { db in
            try db.cached(Self.deleteLocalHosts).bind().run()
            for host in Set(hosts).sorted() {
                try db.cached(Self.insertLocalHost).bind(host.name).run()
            }
        }
    }
}
