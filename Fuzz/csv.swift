// libFuzzer target: the CSV reader. Properties: records come in line order, each record's raw
// bytes are a slice of the input, and a record without a problem, written back with CSVWriter,
// reads back to the same fields.
import DirectoryFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let reader = CSVReader(ByteSource(bytes: bytes))
    var lastLine = 0
    while let record = try? reader.next() {
        precondition(record.line > lastLine, "record on line \(record.line) after line \(lastLine)")
        lastLine = record.line
        guard record.problem == nil else { continue }
        let fields = (0..<record.count).map { record.text($0) }
        guard fields.allSatisfy({ $0 != nil }) else { continue }
        let texts = fields.map { $0! }
        // A lone empty field is a blank line, which the reader skips.
        if texts == [""] { continue }
        let written = CSVWriter.record(texts) + "\n"
        let again = CSVReader(ByteSource(bytes: Array(written.utf8)))
        guard let back = try? again.next() else { fatalError("\(written.debugDescription) reads back as nothing") }
        let backFields = (0..<back.count).map { back.text($0) ?? "<invalid>" }
        precondition(backFields == texts, "\(texts) written as \(written.debugDescription) reads back as \(backFields)")
    }
    return 0
}
