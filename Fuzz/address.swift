// libFuzzer target: the address parser. Property: a parsed address renders to text that
// parses to the same address (and renders the same again).
import MailCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let address = try? EmailAddress(parsing: text) else { return 0 }
    let rendered = address.description
    guard let again = try? EmailAddress(parsing: rendered) else { fatalError("\(rendered) (from \(text.debugDescription)) does not parse back") }
    precondition(again == address && again.description == rendered, "round trip of \(text.debugDescription): \(rendered) -> \(again)")
    if let proxy = try? ProxyAddress(parsing: "SMTP:" + text) {
        precondition(proxy.value == rendered, "proxy address of \(text.debugDescription) is \(proxy.value), not \(rendered)")
    }
    return 0
}
