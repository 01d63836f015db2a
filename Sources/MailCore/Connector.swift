/// An SMTP connector: where mail for some address spaces goes next.
package struct Connector: Sendable, Equatable {
    /// How the connector delivers: to fixed smart hosts, in order, or by DNS MX lookup.
    package enum Delivery: Sendable, Equatable {
        case smartHosts([SmartHost])
        case dns
    }

    package var name: String
    package var addressSpaces: [AddressSpace]
    package var delivery: Delivery
    /// Exchange's "allow messages to be relayed to these domains": untrusted clients may send
    /// to its address spaces.
    package var allowsRelay: Bool
    package var isEnabled: Bool

    package init(name: String, addressSpaces: [AddressSpace], delivery: Delivery, allowsRelay: Bool = false, isEnabled: Bool = true) {
        self.name = name
        self.addressSpaces = addressSpaces
        self.delivery = delivery
        self.allowsRelay = allowsRelay
        self.isEnabled = isEnabled
    }
}
