import Testing

@testable import DirectoryFormats

private func records(_ bytes: [UInt8]) throws -> [LDIFRecord] {
    let reader = LDIFReader(ByteSource(bytes: bytes))
    var all: [LDIFRecord] = []
    while let record = try reader.next() { all.append(record) }
    return all
}

private func records(_ text: String) throws -> [LDIFRecord] { try records(Array(text.utf8)) }

@Suite struct LDIFReaderTests {
    /// Regression: once more than 16 MiB of blank lines were pending, the window stopped
    /// growing and the reader spun for ever.
    @Test(.timeLimit(.minutes(2))) func moreBlankLinesThanTheLongestRecordAreSkipped() throws {
        let blank = [UInt8](repeating: UInt8(ascii: "\n"), count: LDIFReader.maximumRecordLength + (1 << 20))
        let all = try records(Array("dn: CN=A,DC=x\nmailNickname: a\n".utf8) + blank + Array("dn: CN=B,DC=x\nmailNickname: b\n".utf8))
        #expect(all.map { $0.values(of: "mailnickname").first?.text } == ["a", "b"])
    }

    @Test func versionCommentsFoldsAndBase64() throws {
        let text = """
            version: 1

            # exported by ldifde
            dn: CN=Anna,OU=Users,DC=fabrikam,DC=com
            changetype: add
            mailNickname: anna
            displayName:: w4RubmE=
            description: a long line that
              goes on
            proxyAddresses: SMTP:anna@fabrikam.com
            proxyAddresses: smtp:a@fabrikam.com

            dn: CN=Bo,DC=x
            mailNickname: bo

            """
        let all = try records(text)
        #expect(all.count == 2)
        #expect(all[0].line == 4)
        #expect(all[0].problem == nil)
        #expect(all[0].values(of: "displayname").first?.text == "Änna")
        #expect(all[0].values(of: "description").first?.text == "a long line that goes on")
        #expect(all[0].values(of: "proxyAddresses").map(\.text) == ["SMTP:anna@fabrikam.com", "smtp:a@fabrikam.com"])
        #expect(all[1].line == 13)
        #expect(all[1].values(of: "mailNickname").first?.line == 14)
    }

    @Test func aFoldInsideAUTF8SequenceJoinsBytes() throws {
        // "Jörg": ö is C3 B6, folded between the two bytes.
        let bytes = Array("dn: CN=J\ndisplayName: J".utf8) + [0xC3, 0x0A, 0x20, 0xB6] + Array("rg\n".utf8)
        let all = try records(bytes)
        #expect(all[0].values(of: "displayName").first?.text == "Jörg")
    }

    @Test func badBase64AndURLValuesAreRecordProblems() throws {
        let all = try records("dn: CN=a\nsn:: not*base64\n\ndn: CN=b\nsn:< file:///etc/passwd\n\ndn: CN=c\nsn: fine\n")
        #expect(all.count == 3)
        #expect(all[0].problem == "line 2: the value of sn is not valid base64")
        #expect(all[1].problem?.hasPrefix("line 5: sn:< reads a value from a URL") == true)
        #expect(all[2].problem == nil)
        #expect(all[2].line == 7)
    }

    @Test func aRecordWithoutDnAndCRLF() throws {
        let all = try records("mailNickname: x\r\n\r\ndn: CN=y\r\nsn: Y\r\n")
        #expect(all[0].problem == "line 1: a record must start with dn:")
        #expect(all[1].values(of: "sn").first?.text == "Y")
        #expect(all[1].line == 3)
    }

    @Test func writerRoundTrips() throws {
        let long = String(repeating: "Weiß ", count: 30)
        let text = "dn: CN=x\n" + LDIFWriter.line("displayName", long) + "\n" + LDIFWriter.line("sn", "plain") + "\n"
        let all = try records(text)
        #expect(all[0].values(of: "displayName").first?.text == long)
        #expect(all[0].values(of: "sn").first?.text == "plain")
        #expect(text.split(separator: "\n").allSatisfy { $0.utf8.count <= 76 })
    }

    @Test func base64IsStrict() {
        #expect(Base64.decode(Array("w4RubmE=".utf8)) == Array("Änna".utf8))
        #expect(Base64.decode(Array("w4Rubm=".utf8)) == nil)
        #expect(Base64.decode(Array("w4Rubm==".utf8)) == nil)  // non-zero padding bits
        #expect(Base64.encode(Array("Änna".utf8)) == "w4RubmE=")
    }
}
