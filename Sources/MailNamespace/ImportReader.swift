import DirectoryFormats
import MailCore

/// The two file formats of `mailns import` and `mailns export`.
package enum DirectoryFileFormat: String, CaseIterable, Sendable {
    case csv, ldif

    /// The format a file name's extension names (`.csv`, `.ldf`, `.ldif`), if any.
    package init?(fileName: String) {
        let lower = fileName.lowercased()
        if lower.hasSuffix(".csv") {
            self = .csv
        } else if lower.hasSuffix(".ldf") || lower.hasSuffix(".ldif") {
            self = .ldif
        } else {
            return nil
        }
    }
}

/// The attributes `mailns import` reads, each with a fixed slot in an `ImportEntry`; anything
/// else is reported once and ignored. The `mailns…` names are ours: export writes them so
/// that `export | import` keeps what AD attributes cannot say (mailbox or remote, source, the
/// policy flag), and `mailnsRejectReason` is the column a reject file adds.
package enum ImportField {
    static let mailNickname = 0
    /// `RecipientAttribute.allCases[i]` is slot `firstAttribute + i`.
    static let firstAttribute = 1
    static let targetAddress = firstAttribute + RecipientAttribute.allCases.count
    static let proxyAddresses = targetAddress + 1
    static let objectClass = targetAddress + 2
    static let objectGUID = targetAddress + 3
    static let dn = targetAddress + 4
    static let changetype = targetAddress + 5
    static let mailnsKind = targetAddress + 6
    static let mailnsSource = targetAddress + 7
    static let mailnsPolicyManaged = targetAddress + 8
    static let rejectReason = targetAddress + 9
    /// A `--key` column that is none of the above.
    static let customKey = targetAddress + 10
    static let count = customKey + 1

    /// Lower-cased names by slot (the custom key has none).
    static let names: [String] =
        ["mailnickname"] + RecipientAttribute.allCases.map { $0.adName.lowercased() }
        + ["targetaddress", "proxyaddresses", "objectclass", "objectguid", "dn", "changetype",
           "mailnskind", "mailnssource", "mailnspolicymanaged", "mailnsrejectreason", ""]
    static let slots: [String: Int] = Dictionary(uniqueKeysWithValues: names.enumerated().dropLast().map { ($1, $0) })
    /// The reject file's column, as written.
    static let rejectReasonColumn = "mailnsRejectReason"

    /// The slot of attribute `lowercased`, given the lower-cased `--key`.
    static func slot(_ lowercased: String, key: String) -> Int? {
        slots[lowercased] ?? (lowercased == key ? customKey : nil)
    }
}

/// One record of an import file, whatever its format: values by `ImportField` slot.
package struct ImportEntry {
    /// The physical line the record starts on.
    package let line: Int
    /// The record's bytes as written, for the reject file.
    package let raw: ArraySlice<UInt8>
    /// Single values by slot (nil: absent or empty).
    var values: [String?]
    var proxyAddresses: [String] = []
    var objectClasses: [String] = []
    /// Slots the record speaks for, which replace the recipient's: in CSV every column (an
    /// empty field clears), in LDIF the attributes the record holds (ldifde leaves out empty
    /// ones, so an absent attribute says nothing). Bit i is slot i.
    var speaksFor: UInt64
    /// Why it cannot be imported whatever the directory holds (bad syntax, bad UTF-8).
    package var problem: String?

    init(line: Int, raw: ArraySlice<UInt8>, speaksFor: UInt64, problem: String?) {
        self.line = line
        self.raw = raw
        self.speaksFor = speaksFor
        self.problem = problem
        values = problem == nil ? Array(repeating: nil, count: ImportField.count) : []
    }

    func speaks(for slot: Int) -> Bool { speaksFor & (1 << UInt64(slot)) != 0 }
    func value(_ slot: Int) -> String? { values[slot] }
}

/// Reads an import file record by record, CSV or LDIF, into `ImportEntry` values.
package final class ImportReader {
    package let format: DirectoryFileFormat
    private var keyName: String { keySlot == ImportField.customKey ? customKeyName : ImportField.names[keySlot] }
    private var customKeyName = ""
    /// Columns (CSV) or attributes (LDIF, as met so far) that import does not know.
    package private(set) var unknownAttributes: [String] = []
    /// The CSV header line as written, for the reject file.
    package private(set) var header: ArraySlice<UInt8>?
    private let source: ByteSource
    private var csv: CSVReader?
    private var ldif: LDIFReader?
    /// Each CSV column's slot, nil for columns import ignores.
    private var columnSlots: [Int?] = []
    private var columnNames: [String] = []
    private var csvSpeaksFor: UInt64 = 0
    private var seenUnknown: Set<String> = []

    /// Opens `source` as `format`, or the format its name or first bytes say. For CSV, reads
    /// the header: a missing or unusable header (empty file, a column twice, no key column)
    /// stops here, before anything is imported.
    package init(_ source: ByteSource, format: DirectoryFileFormat?, keyAttribute: String) throws(FormatError) {
        self.source = source
        let key = keyAttribute.lowercased()
        keySlot = ImportField.slot(key, key: key)!
        customKeyName = key
        if let format = format ?? DirectoryFileFormat(fileName: source.name) {
            self.format = format
        } else {
            self.format = try Self.sniff(source)
        }
        switch self.format {
        case .csv:
            let reader = CSVReader(source)
            csv = reader
            guard let first = try reader.next() else { throw FormatError(line: nil, "\(source.name) is empty: a CSV file starts with a header line naming its columns") }
            if let problem = first.problem { throw FormatError(line: first.line, "the header line: \(problem)") }
            header = first.raw
            var position: [String: Int] = [:]
            for index in 0..<first.count {
                guard let name = first.text(index) else { throw FormatError(line: first.line, "column \(index + 1) of the header is not valid UTF-8") }
                let trimmed = name.trimmingSpaces
                guard !trimmed.isEmpty else { throw FormatError(line: first.line, "column \(index + 1) of the header has no name") }
                let lower = trimmed.lowercased()
                if let earlier = position[lower] {
                    throw FormatError(line: first.line, "column \(trimmed) appears twice in the header (columns \(earlier + 1) and \(index + 1))")
                }
                position[lower] = index
                let slot = ImportField.slot(lower, key: key)
                columnSlots.append(slot)
                columnNames.append(trimmed)
                if let slot { csvSpeaksFor |= 1 << UInt64(slot) } else { unknownAttributes.append(trimmed) }
            }
            if position["mailnickname"] == nil {
                throw FormatError(line: first.line, "the header has no mailNickname column: every recipient needs an alias")
            }
            if position[keyAttribute.lowercased()] == nil {
                throw FormatError(line: first.line, "the header has no \(keyAttribute) column, the key records are matched on (--key)")
            }
        case .ldif:
            ldif = LDIFReader(source)
        }
    }

    /// The slot records are matched on.
    package let keySlot: Int

    /// CSV: how many columns the header has, and which one is a reject file's reason column.
    package var columnCount: Int { columnSlots.count }
    package var rejectReasonColumn: Int? { columnSlots.firstIndex(of: ImportField.rejectReason) }

    /// Bytes of the file consumed so far and its size when known, for progress.
    package var bytesRead: Int { csv?.bytesRead ?? ldif?.bytesRead ?? 0 }
    package var size: Int? { source.size }

    /// CSV, unless the first line that is not blank looks like LDIF (`dn:`, `version:` or a
    /// comment). Both readers skip blank lines, and LDIF may well start with one.
    private static func sniff(_ source: ByteSource) throws(FormatError) -> DirectoryFileFormat {
        var count = 64
        while true {
            let prefix = try source.peek(count: count)
            var bytes = prefix[...]
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
            let line = bytes.drop { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
            // Blank lines filled what was peeked: look further, within reason.
            if line.count < 8 && prefix.count == count && count < 1 << 16 {
                count *= 16
                continue
            }
            let lower = String(decoding: line.prefix(8), as: UTF8.self).lowercased()
            return lower.hasPrefix("dn:") || lower.hasPrefix("version:") || lower.hasPrefix("#") ? .ldif : .csv
        }
    }

    package func next() throws(FormatError) -> ImportEntry? {
        if let csv {
            guard let record = try csv.next() else { return nil }
            return entry(record)
        }
        guard let ldif, let record = try ldif.next() else { return nil }
        return entry(record)
    }

    private func entry(_ record: CSVRecord) -> ImportEntry {
        var entry = ImportEntry(line: record.line, raw: record.raw, speaksFor: csvSpeaksFor, problem: record.problem)
        guard entry.problem == nil else { return entry }
        guard record.count == columnSlots.count else {
            entry.problem = "\(record.count) fields, but the header has \(columnSlots.count) columns"
            entry.values = []
            return entry
        }
        for (index, slot) in columnSlots.enumerated() {
            guard let slot else { continue }
            guard let text = record.text(index) else {
                entry.problem = "field \(columnNames[index]) is not valid UTF-8"
                return entry
            }
            if text.isEmpty { continue }
            if slot == ImportField.proxyAddresses {
                // csvde writes a multi-valued attribute's values separated by semicolons; an
                // address may hold one itself (EUM:4711;phone-context=…).
                entry.proxyAddresses = ProxyAddressList.split(text)
            } else if slot == ImportField.objectClass {
                entry.objectClasses = text.split(separator: ";").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
            } else if slot == ImportField.objectGUID {
                entry.values[slot] = Self.csvBinary(text)
            } else {
                entry.values[slot] = text
            }
        }
        return entry
    }

    private func entry(_ record: LDIFRecord) -> ImportEntry {
        var entry = ImportEntry(line: record.line, raw: record.raw, speaksFor: 0, problem: record.problem)
        guard entry.problem == nil else { return entry }
        for value in record.values {
            let lower = value.name.lowercased()
            guard let slot = ImportField.slot(lower, key: keyName) else {
                if seenUnknown.insert(lower).inserted { unknownAttributes.append(value.name) }
                continue
            }
            let text: String
            if slot == ImportField.objectGUID {
                // ldifde writes GUIDs as base64 of 16 raw bytes; printable text stays as written.
                let printable = !value.bytes.isEmpty && value.bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
                text = printable ? String(decoding: value.bytes, as: UTF8.self) : Self.hex(value.bytes)
            } else if let decoded = value.text {
                text = decoded
            } else {
                entry.problem = "line \(value.line): the value of \(value.name) is not valid UTF-8"
                return entry
            }
            entry.speaksFor |= 1 << UInt64(slot)
            if text.isEmpty { continue }
            if slot == ImportField.proxyAddresses {
                entry.proxyAddresses.append(text)
            } else if slot == ImportField.objectClass {
                entry.objectClasses.append(text)
            } else if entry.values[slot] != nil && slot != ImportField.dn {
                entry.problem = "line \(value.line): \(value.name) has more than one value; it takes one"
                return entry
            } else {
                entry.values[slot] = text
            }
        }
        if let changeType = entry.value(ImportField.changetype), changeType.lowercased() != "add" {
            entry.problem = "changetype \(changeType) is not something import does: it reads records to add (or update by key)"
        }
        return entry
    }

    /// csvde writes binary values as `X'0a1b…'`.
    private static func csvBinary(_ text: String) -> String {
        if (text.hasPrefix("X'") || text.hasPrefix("x'")) && text.hasSuffix("'") && text.count >= 3 {
            return String(text.dropFirst(2).dropLast()).lowercased()
        }
        return text
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
