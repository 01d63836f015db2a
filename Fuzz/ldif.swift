// libFuzzer target: the LDIF reader. Properties: records come in line order, every value's
// line lies within its record, and values written back with LDIFWriter read back the same.
import DirectoryFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let reader = LDIFReader(ByteSource(bytes: bytes))
    var lastLine = 0
    while let record = try? reader.next() {
        precondition(record.line > lastLine, "record on line \(record.line) after line \(lastLine)")
        lastLine = record.line
        for value in record.values { precondition(value.line >= record.line, "value on line \(value.line) before its record") }
        guard record.problem == nil else { continue }
        let texts = record.values.compactMap { value in value.text.map { (value.name, $0) } }
        guard texts.count == record.values.count, texts.first?.0.lowercased() == "dn" else { continue }
        // Names as LDIF allows them (letters, digits, hyphens); others are not round-trippable.
        guard texts.allSatisfy({ $0.0.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D } && !$0.0.isEmpty }) else { continue }
        let written = texts.map { LDIFWriter.line($0.0, $0.1) }.joined(separator: "\n") + "\n"
        guard let back = try? LDIFReader(ByteSource(bytes: Array(written.utf8))).next() else { fatalError("\(written.debugDescription) reads back as nothing") }
        let backTexts = back.values.map { ($0.name, $0.text ?? "<invalid>") }
        precondition(backTexts.map(\.0) == texts.map(\.0) && backTexts.map(\.1) == texts.map(\.1), "\(texts) written as \(written.debugDescription) reads back as \(backTexts)")
    }
    return 0
}
