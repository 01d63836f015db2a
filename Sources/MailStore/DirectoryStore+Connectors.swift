import MailCore

extension DirectoryStore {
    private static let selectConnectors = "SELECT id, name, uses_dns, allow_relay, enabled FROM connector ORDER BY name"
    private static let selectConnectorID = "SELECT id FROM connector WHERE name = ?"
    private static let selectAddressSpaces = "SELECT connector_id, pattern, cost FROM address_space ORDER BY connector_id, id"
    private static let selectSmartHosts = "SELECT connector_id, host FROM smart_host ORDER BY connector_id, position"
    private static let insertConnector = "INSERT INTO connector (name, uses_dns, allow_relay, enabled) VALUES (?, ?, ?, ?)"
    private static let insertAddressSpace = "INSERT INTO address_space (connector_id, pattern, cost) VALUES (?, ?, ?)"
    private static let insertSmartHost = "INSERT INTO smart_host (connector_id, position, host) VALUES (?, ?, ?)"
    private static let deleteConnector = "DELETE FROM connector WHERE name = ?"

    package static let maximumConnectorNameLength = 64

    /// Adds a connector. It needs at least one address space, and smart hosts or DNS delivery.
    package func addConnector(_ connector: Connector) throws {
        try write { db in
            let name = connector.name
            guard (1...Self.maximumConnectorNameLength).contains(name.unicodeScalars.count),
                !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else {
                throw StoreError.refused("connector name must be 1 to \(Self.maximumConnectorNameLength) printable characters")
            }
            if try db.cached(Self.selectConnectorID).bind(name).first({ $0.int64(0) }) != nil {
                throw StoreError.refused("connector \(name) already exists")
            }
            guard !connector.addressSpaces.isEmpty else {
                throw StoreError.refused("connector \(name) needs at least one address space")
            }
            let patterns = connector.addressSpaces.map(\.pattern.description)
            if let repeated = patterns.first(where: { p in patterns.filter { $0 == p }.count > 1 }) {
                throw StoreError.refused("connector \(name) lists address space \(repeated) twice")
            }
            let hosts: [SmartHost]
            switch connector.delivery {
            case .dns: hosts = []
            case .smartHosts(let list):
                guard !list.isEmpty else {
                    throw StoreError.refused("connector \(name) needs a smart host or DNS delivery")
                }
                guard Set(list).count == list.count else {
                    throw StoreError.refused("connector \(name) lists a smart host twice")
                }
                hosts = list
            }
            try db.cached(Self.insertConnector).bind(name, connector.delivery == .dns, connector.allowsRelay, connector.isEnabled).run()
            let id = db.lastInsertRowID
            for space in connector.addressSpaces {
                try db.cached(Self.insertAddressSpace).bind(id, space.pattern.description, space.cost).run()
            }
            for (index, host) in hosts.enumerated() {
                try db.cached(Self.insertSmartHost).bind(id, index + 1, host.description).run()
            }
        }
    }

    /// Every connector, by name, with its address spaces and smart hosts.
    package func connectors() throws -> [Connector] {
        try read { db in try Self.allConnectors(db) }
    }

    static func allConnectors(_ db: Connection) throws -> [Connector] {
        var spaces: [Int64: [AddressSpace]] = [:]
        try db.cached(Self.selectAddressSpaces).forEach { row in
            guard let pattern = try? AddressSpacePattern(parsing: row.text(1)) else {
                throw StoreError.unreadable("address space '\(row.text(1))' of a connector (remove the connector and add it again)")
            }
            spaces[row.int64(0), default: []].append(AddressSpace(pattern: pattern, cost: row.int(2)))
        }
        var hosts: [Int64: [SmartHost]] = [:]
        try db.cached(Self.selectSmartHosts).forEach { row in
            guard let host = try? SmartHost(parsing: row.text(1)) else {
                throw StoreError.unreadable("smart host '\(row.text(1))' of a connector (remove the connector and add it again)")
            }
            hosts[row.int64(0), default: []].append(host)
        }
        return try db.cached(Self.selectConnectors).map { row in
            let id = row.int64(0)
            return Connector(
                name: row.text(1), addressSpaces: spaces[id] ?? [],
                delivery: row.bool(2) ? .dns : .smartHosts(hosts[id] ?? []),
                allowsRelay: row.bool(3), isEnabled: row.bool(4))
        }
    }

    package func removeConnector(name: String) throws {
        try write { db in
            try db.cached(Self.deleteConnector).bind(name).run()
            if db.changes == 0 { throw StoreError.notFound("no connector named \(name)") }
        }
    }
}
