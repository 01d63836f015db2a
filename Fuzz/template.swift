// libFuzzer target: the address template expander. Property: a template either fails to parse
// or renders, for any recipient, nil or an address that parses back to itself.
import MailCore
import MailPolicy

private let transliterator = Transliterator()
private let recipients = [
    Recipient(alias: "jdoe", attributes: [.givenName: "Jürgen", .sn: "Müller-Lüdenscheidt", .initials: "J.M.", .displayName: "Jürgen Müller"]),
    Recipient(alias: "x", attributes: [.givenName: "..", .sn: "@@", .displayName: "\"quoted\" <name>"]),
    Recipient(alias: "a.b", attributes: [.givenName: "Zoë", .sn: "Ødegård", .initials: "Z"]),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let template = try? AddressTemplate(parsing: text) else { return 0 }
    for recipient in recipients {
        guard let address = template.render(for: recipient, transliterator: transliterator) else { continue }
        guard let again = try? EmailAddress(parsing: address.description), again == address else {
            fatalError("template \(text.debugDescription) gave \(address.description), which is not a valid address")
        }
    }
    return 0
}
