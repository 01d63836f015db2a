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

/// One record of an import file, whatever its format: values by lower-cased attribute name.
package struct ImportEntry {
    /// The physical line the record starts on.
    package let line: Int
    /// The record's bytes as written, for the reject file.
    package let raw: ArraySlice<UInt8>
    package var values: [String: [String]] = [:]
    /// Attributes the record speaks for, which replace the recipient's: in CSV every column
    /// (an empty field clears), in LDIF the attributes the record holds (ldifde leaves out
    /// empty ones, so an absent attribute says nothing).
    package var speaksFor: Set<String>
    /// Why it cannot be imported whatever the directory holds (bad syntax, bad UTF-8).
    package var problem: String?

    package func value(_ name: String) -> String? { values[name]?.first }
}

/// Attribute names `mailns import` reads (lower-cased); anything else is reported once and
/// ignored. The `mailns…` names are ours: export writes them so that `export | import`
/// keeps what AD attributes cannot say (mailbox or remote, source, the policy flag), and
/// `mailnsRejectReason` is the column a reject file adds.
enum ImportAttributes {
    static let multiValued: Set<String> = ["proxyaddresses", "objectclass"]
    static let binary: Set<String> = ["objectguid"]
    static let known: Set<String> = Set(
        RecipientAttribute.allCases.map { $0.adName.lowercased() }
            + ["mailnickname", "targetaddress", "proxyaddresses", "objectclass", "objectguid", "dn", "changetype",
               "mailnskind", "mailnssource", "mailnspolicymanaged", rejectReason])
    static let rejectReason = "mailnsrejectreason"
    /// The reject file's column, as written.
    static let rejectReasonColumn = "mailnsRejectReason"
}

/// Reads an import file record by record, CSV or LDIF, into `ImportEntry` values.
package final class ImportReader {
    package let format: DirectoryFileFormat
    /// Columns (CSV) or attributes (LDIF, as met so far) that import does not know.
    package private(set) var unknownAttributes: [String] = []
    /// The CSV header line as written, for the reject file.
    package private(set) var header: ArraySlice<UInt8>?
    private let source: ByteSource
    private var csv: CSVReader?
    private var ldif: LDIFReader?
    private var columns: [String] = []
    private var columnSet: Set<String> = []
    private var seenUnknown: Set<String> = []

    /// Opens `source` as `format`, or the format its name or first bytes say. For CSV, reads
    /// the header: a missing or unusable header (empty file, a column twice, no key column)
    /// stops here, before anything is imported.
    package init(_ source: ByteSource, format: DirectoryFileFormat?, keyAttribute: String) throws(FormatError) {
        self.source = source
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
                columns.append(lower)
                if !ImportAttributes.known.contains(lower) && lower != keyAttribute.lowercased() { unknownAttributes.append(trimmed) }
            }
            columnSet = Set(columns)
            if position["mailnickname"] == nil {
                throw FormatError(line: first.line, "the header has no mailNickname column: every recipient needs an alias")
            }
            if position[keyAttribute.lowercased()] == nil {
                throw FormatError(line: first.line, "the header has no \(keyAttribute) column, the key records are matched on (--key)")
            }
        case .ldif:
            ldif = LDIFReader(source)
        }
        self.keyAttribute = keyAttribute.lowercased()
    }

    private let keyAttribute: String

    /// Bytes of the file consumed so far and its size when known, for progress.
    package var bytesRead: Int { csv?.bytesRead ?? ldif?.bytesRead ?? 0 }
    package var size: Int? { source.size }

    /// CSV, unless the first bytes look like LDIF (`dn:`, `version:` or a comment).
    private static func sniff(_ source: ByteSource) throws(FormatError) -> DirectoryFileFormat {
        let prefix = try source.peek(count: 64)
        var text = String(decoding: prefix, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let lower = text.lowercased()
        return lower.hasPrefix("dn:") || lower.hasPrefix("version:") || lower.hasPrefix("#") ? .ldif : .csv
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
        var entry = ImportEntry(line: record.line, raw: record.raw, speaksFor: columnSet, problem: record.problem)
        guard entry.problem == nil else { return entry }
        guard record.count == columns.count else {
            entry.problem = "\(record.count) fields, but the header has \(columns.count) columns"
            return entry
        }
        entry.values.reserveCapacity(columns.count)
        for (index, name) in columns.enumerated() {
            guard let text = record.text(index) else {
                entry.problem = "field \(name == keyAttribute ? keyAttribute : displayName(name)) is not valid UTF-8"
                return entry
            }
            if text.isEmpty { continue }
            if ImportAttributes.multiValued.contains(name) {
                let parts = text.split(separator: ";").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
                if !parts.isEmpty { entry.values[name] = parts }
            } else if ImportAttributes.binary.contains(name) {
                entry.values[name] = [Self.csvBinary(text)]
            } else {
                entry.values[name] = [text]
            }
        }
        return entry
    }

    private func entry(_ record: LDIFRecord) -> ImportEntry {
        var entry = ImportEntry(line: record.line, raw: record.raw, speaksFor: [], problem: record.problem)
        guard entry.problem == nil else { return entry }
        for value in record.values {
            let name = value.name.lowercased()
            let text: String
            if ImportAttributes.binary.contains(name) {
                text = value.text.flatMap { $0.allSatisfy(\.isASCII) && !$0.isEmpty ? $0 : nil } ?? Self.hex(value.bytes)
            } else if let decoded = value.text {
                text = decoded
            } else {
                entry.problem = "line \(value.line): the value of \(value.name) is not valid UTF-8"
                return entry
            }
            if !ImportAttributes.known.contains(name) && name != keyAttribute {
                if seenUnknown.insert(name).inserted { unknownAttributes.append(value.name) }
                continue
            }
            entry.speaksFor.insert(name)
            if !text.isEmpty { entry.values[name, default: []].append(text) }
        }
        if let changeType = entry.value("changetype"), changeType.lowercased() != "add" {
            entry.problem = "changetype \(changeType) is not something import does: it reads records to add (or update by key)"
        }
        return entry
    }

    private func displayName(_ lower: String) -> String {
        RecipientAttribute(adName: lower)?.adName ?? lower
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
