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
    /// CSV that could not say an address unambiguously is refused before anything is written.
    @discardableResult
    package func export(format: DirectoryFileFormat, source: String? = nil, write: (String) -> Void) throws -> Int {
        var count = 0
        try directory.transaction(writing: false) { tx in
            if format == .csv {
                try Self.checkCSVAddresses(tx, source: source)
                write(CSVWriter.record(Self.exportColumns) + "\n")
            }
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

    /// CSV joins a recipient's addresses with `;`, and import takes a piece after a `;` that
    /// starts with a type prefix for an address of its own (`ProxyAddressList`). An address
    /// with such a piece (`sip:a@contoso.com;transport:tls`) would read back as two, so it is
    /// refused, naming recipient and address: a file that imports differently is worse than none.
    private static func checkCSVAddresses(_ tx: DirectoryTransaction, source: String?) throws {
        for (alias, recipientSource, address) in try tx.addresses(holding: ";") {
            if let source, recipientSource?.lowercased() != source.lowercased() { continue }
            guard let piece = ProxyAddressList.ambiguousPiece(of: address.description) else { continue }
            throw StoreError.refused(
                "recipient \(alias): the address \(address) cannot be written to CSV: import would read its part '\(piece)' "
                    + "after a ';' as an address of its own; export it with --format ldif, which keeps every address whole")
        }
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
