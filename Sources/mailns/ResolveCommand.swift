import ArgumentParser
import Foundation
import MailCore
import MailNamespace
import MailRouting

/// A decision as `--json` prints it: every field present, null when it does not apply.
struct DecisionJSON: Encodable {
    let decision: Decision
    let withSteps: Bool

    private enum Key: String, CodingKey {
        case address, action, domainType, recipient, primary, mailbox, target, nexthop, connector, reply, status, row, steps
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(decision.address, forKey: .address)
        try c.encode(decision.action.rawValue, forKey: .action)
        try c.encode(decision.domainType?.rawValue, forKey: .domainType)
        try c.encode(decision.recipient, forKey: .recipient)
        try c.encode(decision.primary, forKey: .primary)
        try c.encode(decision.mailbox, forKey: .mailbox)
        try c.encode(decision.target, forKey: .target)
        try c.encode(decision.nexthop, forKey: .nexthop)
        try c.encode(decision.connector, forKey: .connector)
        try c.encode(decision.reply, forKey: .reply)
        try c.encode(decision.status, forKey: .status)
        try c.encode(decision.row, forKey: .row)
        if withSteps { try c.encode(decision.steps, forKey: .steps) }
    }
}

struct ResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Say what happens to a recipient address: deliver, forward to a next hop, or reject with a code.",
        discussion: """
            Exit 0 for any decision (a rejection is a decision). ADDRESS '-' reads one address per \
            line from stdin and writes one JSON line per address.
            """)
    @OptionGroup var store: StoreOptions
    @Argument(help: "The recipient address, or - for a list on stdin.") var address: String
    @Flag(help: "The client may relay (authenticated, or in Postfix's mynetworks).") var trusted = false
    @Flag(help: "Print the steps that led to the decision.") var explain = false
    @OptionGroup var output: OutputOptions

    /// Longest stdin line read; a longer one is not an address anyway (RFC 5321 paths are 256).
    static let maximumLineLength = 4096

    func run() throws {
        let router = try store.namespace().router()
        if address == "-" {
            while let line = readLine(strippingNewline: true) {
                let text = String(line.prefix(Self.maximumLineLength)).trimmingCharacters(in: .whitespaces)
                if text.isEmpty { continue }
                let decision = try router.resolve(text, trusted: trusted, explain: explain)
                print(Output.compactJSON(DecisionJSON(decision: decision, withSteps: explain)))
            }
            return
        }
        let decision = try router.resolve(address, trusted: trusted, explain: explain)
        if output.json { return try Output.printJSON(DecisionJSON(decision: decision, withSteps: explain)) }
        var line = "\(decision.address): \(decision.action.rawValue)"
        switch decision.action {
        case .deliver:
            if decision.row == 2 {
                line += " to mailbox \(decision.mailbox ?? "?")" + (decision.primary.map { " (\($0))" } ?? "")
            } else {
                // A contact whose target is a mailbox here.
                line += " as \(decision.target ?? "?") to mailbox \(decision.mailbox ?? "?")"
            }
        case .forward:
            if let target = decision.target { line += " as \(target)" }
            line += " to \(decision.nexthop ?? "?")" + (decision.connector.map { " via connector \($0)" } ?? "")
        case .reject: line += ": \(decision.reply ?? "")"
        }
        print(line + " [row \(decision.row)]")
        if explain {
            for (index, step) in decision.steps.enumerated() { print("  \(index + 1). \(step)") }
        }
    }
}
