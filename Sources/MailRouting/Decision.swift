import MailCore

/// What happens to one recipient address (spec §3): deliver here, forward to a next hop, or
/// reject with an SMTP reply, with the row of the decision table that decided it.
package struct Decision: Sendable, Equatable {
    package enum Action: String, Sendable {
        case deliver, forward, reject
    }

    /// The address as asked.
    package let address: String
    package var action: Action
    /// The class of the address's domain; nil when the domain is not accepted.
    package var domainType: DomainType?
    /// The matched recipient's alias.
    package var recipient: String?
    /// The matched recipient's primary SMTP address.
    package var primary: String?
    /// The mailbox here that gets the mail when it is delivered: the recipient itself, or the
    /// one a contact's target belongs to.
    package var mailbox: String?
    /// The address that matched the recipient when it was the address asked without its
    /// `+extension`; nil when the address matched as asked (or nothing matched).
    package var matchedWithoutExtension: String?
    /// The address the mail goes on as: a contact's target (or what that is rewritten to in
    /// turn), a remote recipient's primary.
    package var target: String?
    /// The next hop as configured: `[192.0.2.10]`, `relay.example.net:2525`, or `dns`.
    package var nexthop: String?
    /// The connector that gave the next hop.
    package var connector: String?
    /// The full SMTP reply of a rejection.
    package var reply: String?
    /// The reply code of a rejection (`550`).
    package var code: Int?
    /// A rejection's text without its code, status and address (`User unknown`), for an MTA
    /// that writes the rest itself (a Postfix access table answer).
    package var reason: String?
    /// The enhanced status code of a rejection (`5.1.1`).
    package var status: String?
    /// The words of a rejection's reply between the address and the reason (Postfix's
    /// `Recipient address rejected: `, or none), so a contact can pass its target's on.
    var rejectedAs = ""
    /// The row of spec §3 that decided.
    package var row: Int
    /// The steps that led here, in words (filled when asked to explain).
    package var steps: [String] = []

    init(address: String, action: Action, row: Int) {
        self.address = address
        self.action = action
        self.row = row
    }
}
