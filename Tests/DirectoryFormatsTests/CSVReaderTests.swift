import Testing

@testable import DirectoryFormats

/// Reads every record of `text`, fed in chunks of `chunk` bytes when given.
private func records(_ text: String, bytes: [UInt8]? = nil) throws -> [CSVRecord] {
    let reader = CSVReader(ByteSource(bytes: bytes ?? Array(text.utf8)))
    var all: [CSVRecord] = []
    while let record = try reader.next() { all.append(record) }
    return all
}

private func fields(_ record: CSVRecord) -> [String?] { (0..<record.count).map { record.text($0) } }

@Suite struct CSVReaderTests {
    @Test func quotedFieldsHoldCommasQuotesAndLineBreaks() throws {
        let all = try records("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nlast,,\n")
        #expect(all.count == 3)
        #expect(fields(all[1]) == ["x, y", "say \"hi\"", "two\nlines"])
        #expect(fields(all[2]) == ["last", "", ""])
        #expect(all.map(\.line) == [1, 2, 4])
    }

    @Test func crlfAndByteOrderMarkAndBlankLines() throws {
        let all = try records("", bytes: [0xEF, 0xBB, 0xBF] + Array("h1,h2\r\n\r\nv1,\"v\r\n2\"\r\nw1,w2".utf8))
        #expect(all.map(fields) == [["h1", "h2"], ["v1", "v\r\n2"], ["w1", "w2"]])
        #expect(all.map(\.line) == [1, 3, 5])
        #expect(Array(all[1].raw) == Array("v1,\"v\r\n2\"".utf8))
    }

    @Test func anOpenQuoteAtEndOfFileIsTheLastRecordsProblem() throws {
        let all = try records("a,b\nok,1\nbad,\"never closed\nmore\n")
        #expect(all.count == 3)
        #expect(all[1].problem == nil)
        #expect(all[2].line == 3)
        #expect(all[2].problem == "the quote opened in field 2 on line 3 is never closed")
    }

    @Test func textAfterAClosingQuoteSpoilsOnlyThatRecord() throws {
        let all = try records("a,b\n\"x\"y,1\nfine,2\n")
        #expect(all[1].problem == "text after the closing quote of field 1")
        #expect(fields(all[2]) == ["fine", "2"])
        #expect(all[2].line == 3)
    }

    @Test func invalidUTF8IsReportedPerField() throws {
        let all = try records("", bytes: Array("a,b\n".utf8) + [0x61, 0x2C, 0xC3, 0x28, 0x0A])
        #expect(all[1].text(0) == "a")
        #expect(all[1].text(1) == nil)
    }

    @Test func recordsAcrossChunkBoundariesAreWhole() throws {
        // Larger than one chunk: records straddle the 1 MiB boundary, quotes included.
        var text = "alias,note\n"
        for i in 0..<40_000 { text += "user\(i),\"note, with \"\"quotes\"\"\nand a break \(i)\"\n" }
        let path = "/tmp/mailns-csv-\(UInt32.random(in: 0...UInt32.max)).csv"
        let file = fopen(path, "w")!
        fputs(text, file)
        fclose(file)
        defer { unlink(path) }
        let reader = CSVReader(try ByteSource(path: path))
        var count = 0
        var last: CSVRecord?
        while let record = try reader.next() {
            if count > 0 { #expect(record.text(1) == "note, with \"quotes\"\nand a break \(count - 1)") }
            count += 1
            last = record
        }
        #expect(count == 40_001)
        #expect(last?.line == 2 + 2 * 39_999)
    }

    /// Found by scripts/fuzz (csv): a second file's byte order mark mid-file is field text; written
    /// first in a file unquoted, it was read back as a BOM and lost.
    @Test func aFieldStartingWithUFEFFSurvivesAsTheFirstFieldOfAFile() throws {
        let field = "\u{FEFF}DN"
        let all = try records(CSVWriter.record([field, "x"]) + "\n")
        #expect(all.first.map(fields) == [field, "x"])
    }

    /// Found by scripts/fuzz (csv): a quote followed by a combining mark (U+065E) is one Swift
    /// Character, so the writer did not double that quote, and the field read back cut short.
    /// A leading space with a combining mark (U+0301) was likewise left unquoted and trimmed.
    @Test func aQuoteOrEdgeSpaceCarryingACombiningMarkSurvivesTheWriter() throws {
        let written = ["ab \"\u{065E}b \"\"cc\"\"", " \u{0301}x", "y \u{0301}"]
        let all = try records(CSVWriter.record(written + ["z"]) + "\n")
        #expect(all.count == 1)
        #expect(all.first.map(fields) == written + ["z"])
    }

    @Test func writerQuotesWhatNeedsIt() throws {
        let line = CSVWriter.record(["plain", "a,b", "say \"x\"", "two\nlines", " edge"])
        let all = try records("h1,h2,h3,h4,h5\n" + line + "\n")
        #expect(fields(all[1]) == ["plain", "a,b", "say \"x\"", "two\nlines", " edge"])
    }

    @Test func replacingAFieldKeepsTheOtherFieldsBytes() throws {
        let raw = Array("\"a, \"\"b\"\"\",x\"y,\"two\nlines\",old reason,".utf8)[...]
        #expect(CSVWriter.fieldRanges(raw).count == 5)
        let replaced = try #require(CSVWriter.replacingField(3, of: raw, count: 5, with: "line 2: new, reason"))
        #expect(String(decoding: replaced, as: UTF8.self) == "\"a, \"\"b\"\"\",x\"y,\"two\nlines\",\"line 2: new, reason\",")
        let record = try #require(try records("", bytes: Array("h1,h2,h3,h4,h5\n".utf8) + replaced).last)
        #expect(fields(record) == ["a, \"b\"", "x\"y", "two\nlines", "line 2: new, reason", ""])
        #expect(CSVWriter.replacingField(3, of: raw, count: 6, with: "r") == nil, "a record of another shape is not guessed at")
    }
}

#if canImport(Glibc)
import Glibc
#endif
