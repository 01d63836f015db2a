import DirectoryFormats
import MailCore
import MailStore

extension Namespace {
    /// Every column export writes, in order; `import` reads each back.
    static let exportColumns: [String] =
        ["DN", "objectClass", "mailNickname", "mailnsKind"] + RecipientAttribute.allCases.map(\.adName)
        + ["targetAddress", "proxyAddresses", "mailnsSource", "mailnsPolicyManaged"]

    /// Writes the directory's recipients (those of `source` when given) in `format`, in alias
    /// order, a page at a time from one snapshot, so that `export | import` into an empty
    /// directory gives back every recipient and address. Returns how many were written.
    @discardableResult
    package func export(format: DirectoryFileFormat, source: String? = nil, write: (String) -> Void) throws -> Int {
        if format == .csv { write(CSVWriter.record(Self.exportColumns) + "\n") }
        var count = 0
        try directory.transaction(writing: false) { tx in
            var after: String?
            while true {
                let page = try tx.recipients(after: after, limit: 10_000, policyManagedOnly: false)
                guard let last = page.last else { break }
                after = last.recipient.alias
                for record in page {
                    let recipient = record.recipient
                    if let source, recipient.source?.lowercased() != source.lowercased() { continue }
                    switch format {
                    case .csv: write(Self.csvLine(recipient))
                    case .ldif: write(Self.ldifRecord(recipient))
                    }
                    count += 1
                }
                if page.count < 10_000 { break }
            }
        }
        return count
    }

    private static func distinguishedName(_ r: Recipient) -> String {
        // RFC 4514 escaping of the alias as a CN value.
        var value = ""
        for character in r.alias {
            if ",+\"\\<>;=#".contains(character) { value.append("\\") }
            value.append(character)
        }
        return "CN=\(value)"
    }

    private static func objectClass(_ r: Recipient) -> String { r.kind == .contact ? "contact" : "user" }

    private static func csvLine(_ r: Recipient) -> String {
        var fields = [distinguishedName(r), objectClass(r), r.alias, r.kind.rawValue]
        for attribute in RecipientAttribute.allCases { fields.append(r.attributes[attribute] ?? "") }
        fields.append(r.targetAddress.map { "SMTP:\($0)" } ?? "")
        fields.append(r.addresses.map(\.description).joined(separator: ";"))
        fields.append(r.source ?? "")
        fields.append(r.isPolicyManaged ? "TRUE" : "FALSE")
        return CSVWriter.record(fields) + "\n"
    }

    private static func ldifRecord(_ r: Recipient) -> String {
        var lines = [
            LDIFWriter.line("dn", distinguishedName(r)), "changetype: add", "objectClass: \(objectClass(r))",
            LDIFWriter.line("mailNickname", r.alias), "mailnsKind: \(r.kind.rawValue)",
        ]
        for attribute in RecipientAttribute.allCases {
            if let value = r.attributes[attribute] { lines.append(LDIFWriter.line(attribute.adName, value)) }
        }
        if let target = r.targetAddress { lines.append(LDIFWriter.line("targetAddress", "SMTP:\(target)")) }
        for address in r.addresses { lines.append(LDIFWriter.line("proxyAddresses", address.description)) }
        if let source = r.source { lines.append(LDIFWriter.line("mailnsSource", source)) }
        lines.append("mailnsPolicyManaged: \(r.isPolicyManaged ? "TRUE" : "FALSE")")
        return lines.joined(separator: "\n") + "\n\n"
    }
}
