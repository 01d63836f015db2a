// libFuzzer target: the RFC 4515 filter parser. Property: a filter that parses prints back to
// text that parses to an equal filter.
import MailPolicy

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let filter = try? RecipientFilter(parsing: text) else { return 0 }
    let printed = filter.description
    guard let again = try? RecipientFilter(parsing: printed) else { fatalError("\(printed) (from \(text.debugDescription)) does not parse back") }
    precondition(again == filter, "\(text.debugDescription) printed as \(printed) parses to another filter")
    return 0
}
