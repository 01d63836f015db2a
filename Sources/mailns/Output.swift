import Foundation
import MailCore
import MailStore

/// JSON and text renderings of directory objects. Key names are AD's where one exists.
enum Output {
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// One line of JSON, keys sorted, for streamed records.
    static func compactJSON(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { preconditionFailure("unencodable \(type(of: value))") }
        return String(decoding: data, as: UTF8.self)
    }

    /// A padded `label: value` block, one per line.
    static func printFields(_ fields: [(String, String)]) {
        let width = (fields.map(\.0.count).max() ?? 0) + 2
        for (label, value) in fields {
            print((label + ":").padding(toLength: width, withPad: " ", startingAt: 0) + value)
        }
    }
}

/// A recipient as `--json` shows it.
struct RecipientJSON: Encodable {
    let recipient: Recipient

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Always present (null when unset), so scripts can rely on the keys.
    static let namedAttributes: [RecipientAttribute] = [.givenName, .sn, .initials, .displayName, .company, .department, .title, .physicalDeliveryOfficeName]

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(recipient.alias, forKey: Key("alias"))
        try container.encode(recipient.kind.rawValue, forKey: Key("kind"))
        for attribute in RecipientAttribute.allCases {
            let value = recipient.attributes[attribute]
            if value != nil || Self.namedAttributes.contains(attribute) {
                try container.encode(value, forKey: Key(attribute.adName))
            }
        }
        try container.encode(recipient.targetAddress?.description, forKey: Key("targetAddress"))
        try container.encode(recipient.isPolicyManaged, forKey: Key("policyManaged"))
        try container.encode(recipient.source, forKey: Key("source"))
        try container.encode(recipient.stampedByPolicy, forKey: Key("stampedByPolicy"))
        try container.encode(recipient.addresses.map(\.description), forKey: Key("addresses"))
    }
}

struct DomainJSON: Encodable {
    let name: String
    let type: String
    let includeSubdomains: Bool
    let validateRecipients: Bool

    init(_ domain: AcceptedDomain) {
        name = domain.name.name
        type = domain.type.rawValue
        includeSubdomains = domain.includesSubdomains
        validateRecipients = domain.validatesRecipients
    }
}

struct PolicyJSON: Encodable {
    let name: String
    let priority: Int
    let filter: String
    let enabled: Bool
    let isDefault: Bool
    let templates: [String]

    init(_ policy: RecipientPolicy) {
        name = policy.name
        priority = policy.priority
        filter = policy.filter
        enabled = policy.isEnabled
        isDefault = policy.isDefault
        templates = policy.templates.map(\.description)
    }
}

struct ConnectorJSON: Encodable {
    struct Space: Encodable {
        let pattern: String
        let cost: Int
    }
    let name: String
    let addressSpaces: [Space]
    let smartHosts: [String]
    let dns: Bool
    let allowRelay: Bool
    let enabled: Bool

    init(_ connector: Connector) {
        name = connector.name
        addressSpaces = connector.addressSpaces.map { Space(pattern: $0.pattern.description, cost: $0.cost) }
        switch connector.delivery {
        case .dns:
            smartHosts = []
            dns = true
        case .smartHosts(let hosts):
            smartHosts = hosts.map(\.description)
            dns = false
        }
        allowRelay = connector.allowsRelay
        enabled = connector.isEnabled
    }
}

struct SettingsJSON: Encodable {
    let unresolvedHost: String?
    let dnsDelivery: Bool
    let localHosts: [String]
    let recipientDelimiter: String?
    let deliveryTransport: String

    init(_ settings: ServerSettings) {
        unresolvedHost = settings.unresolvedHost?.description
        dnsDelivery = settings.isDNSDeliveryEnabled
        localHosts = settings.localHosts.map(\.name)
        recipientDelimiter = settings.recipientDelimiter.map(String.init)
        deliveryTransport = settings.deliveryTransport.description
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(unresolvedHost, forKey: .unresolvedHost)  // null when unset, not absent
        try container.encode(dnsDelivery, forKey: .dnsDelivery)
        try container.encode(localHosts, forKey: .localHosts)
        try container.encode(recipientDelimiter, forKey: .recipientDelimiter)
        try container.encode(deliveryTransport, forKey: .deliveryTransport)
    }

    private enum CodingKeys: String, CodingKey { case unresolvedHost, dnsDelivery, localHosts, recipientDelimiter, deliveryTransport }
}

struct HistoryJSON: Encodable {
    let action: String
    let address: String
    let actor: String
    let actorName: String?
    let batch: String
    let at: String

    init(_ entry: AddressHistoryEntry) {
        action = entry.action.rawValue
        address = entry.address
        actor = entry.actor
        actorName = entry.actorName
        batch = entry.batchID
        at = entry.at
    }

    private enum CodingKeys: String, CodingKey { case action, address, actor, actorName, batch, at }

    /// Every key present, `actorName` null for a manual change, as in our other JSON.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(action, forKey: .action)
        try c.encode(address, forKey: .address)
        try c.encode(actor, forKey: .actor)
        try c.encode(actorName, forKey: .actorName)
        try c.encode(batch, forKey: .batch)
        try c.encode(at, forKey: .at)
    }
}
