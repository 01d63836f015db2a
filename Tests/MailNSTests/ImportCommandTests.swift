import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `mailns import` and `mailns export` as an operator runs them after a merger.
@Suite("mailns import")
struct ImportCommandTests {
    let sandbox: Sandbox

    init() async throws {
        sandbox = try Sandbox()
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "shared")
        try await sandbox.ok("domain", "add", "fabrikam.com", "--type", "authoritative")
        // Somebody already in the directory, whose address a record may try to take.
        try await sandbox.ok("recipient", "add", "owner", "--no-policy", "--address", "SMTP:taken@fabrikam.com")
    }

    static let header = "DN,objectClass,mailNickname,givenName,sn,displayName,company,proxyAddresses"

    func write(_ name: String, _ text: String) throws { try write(name, Data(text.utf8)) }
    func write(_ name: String, _ data: Data) throws { try data.write(to: sandbox.directory.appendingPathComponent(name)) }

    /// `import FILE --json …`: status and the summary.
    func importing(_ file: String, _ extra: String...) async throws -> (status: Int32, summary: [String: Any]) {
        let result = try await sandbox.raw(["import", file, "--json", "--db", sandbox.database.path] + extra)
        let parsed = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        let summary = try #require(parsed as? [String: Any], "no JSON summary: \(result)")
        return (result.status, summary)
    }

    func rejections(_ summary: [String: Any]) -> [(line: Int, reason: String)] {
        (summary["rejections"] as? [[String: Any]] ?? []).map { ($0["line"] as? Int ?? 0, $0["reason"] as? String ?? "") }
    }

    func aliases() async throws -> [String] {
        try await sandbox.array("recipient", "list", "--json").compactMap { $0["alias"] as? String }
    }

    func addresses(_ alias: String) async throws -> [String] {
        try await sandbox.object("recipient", "show", alias, "--json")["addresses"] as? [String] ?? []
    }

    struct Malformed: CustomStringConvertible, Sendable {
        let name: String
        let file: String
        let bytes: [UInt8]
        let line: Int
        let reason: String
        var description: String { name }
    }

    /// Each one bad record between good ones (`good1` before, `good2` after, unless the bad
    /// one must be last); the reason and the line are asserted, and the good ones imported.
    static let malformed: [Malformed] = {
        func csv(_ name: String, _ bad: String, line: Int = 3, reason: String, last: Bool = false) -> Malformed {
            let good1 = "\"CN=G1\",user,good1,Gina,One,Gina One,Fabrikam,SMTP:good1@fabrikam.com"
            let good2 = "\"CN=G2\",user,good2,Gus,Two,Gus Two,Fabrikam,SMTP:good2@fabrikam.com"
            let text = last ? [header, good1, good2, bad].joined(separator: "\n") : [header, good1, bad, good2].joined(separator: "\n") + "\n"
            return Malformed(name: name, file: "bad.csv", bytes: Array(text.utf8), line: line, reason: reason)
        }
        func ldif(_ name: String, _ bad: [UInt8], line: Int, reason: String) -> Malformed {
            let good1 = "dn: CN=G1\nmailNickname: good1\nproxyAddresses: SMTP:good1@fabrikam.com\n\n"
            let good2 = "\ndn: CN=G2\nmailNickname: good2\nproxyAddresses: SMTP:good2@fabrikam.com\n"
            return Malformed(name: name, file: "bad.ldf", bytes: Array(("version: 1\n\n" + good1).utf8) + bad + Array(good2.utf8), line: line, reason: reason)
        }
        let longName = String(repeating: "x", count: 257)
        return [
            csv("missing alias", "\"CN=X\",user,,No,Alias,,Fabrikam,SMTP:x@fabrikam.com", reason: "required field mailNickname"),
            csv("invalid address", "\"CN=X\",user,bad1,B,A,,Fabrikam,SMTP:not an address", reason: "invalid proxy address 'SMTP:not an address'"),
            csv("address of another recipient", "\"CN=X\",user,bad1,B,A,,Fabrikam,smtp:TAKEN@fabrikam.com", reason: "belongs to recipient owner"),
            csv("same address twice in the file", "\"CN=X\",user,bad1,B,A,,Fabrikam,smtp:good1@fabrikam.com", reason: "is also on line 2; the first record with it is imported"),
            csv("same key twice in the file", "\"CN=X\",user,GOOD1,B,A,,Fabrikam,SMTP:other@fabrikam.com", reason: "mailNickname GOOD1 is also on line 2"),
            csv("field longer than the directory allows", "\"CN=X\",user,bad1,B,A,\(longName),Fabrikam,", reason: "displayName of bad1 is 257 characters long; the directory allows 256"),
            csv("too few fields", "\"CN=X\",user,bad1", reason: "3 fields, but the header has 8 columns"),
            csv("text after a closing quote", "\"CN=X\"oops,user,bad1,B,A,,Fabrikam,", reason: "text after the closing quote of field 1"),
            csv("a quote left open at end of file", "\"CN=X\",user,bad1,\"Open,A,,Fabrikam,\nstill open", line: 4, reason: "the quote opened in field 4 on line 4 is never closed", last: true),
            Malformed(
                name: "invalid UTF-8", file: "bad.csv",
                bytes: Array((header + "\n\"CN=G1\",user,good1,Gina,One,Gina One,Fabrikam,SMTP:good1@fabrikam.com\n\"CN=X\",user,bad1,").utf8)
                    + [0xC3, 0x28] + Array(",A,,Fabrikam,\n\"CN=G2\",user,good2,Gus,Two,,Fabrikam,SMTP:good2@fabrikam.com\n".utf8),
                line: 3, reason: "field givenName is not valid UTF-8"),
            ldif("LDIF: a base64 value that is not base64", Array("dn: CN=X\nmailNickname: bad1\ngivenName:: ***\n".utf8), line: 7, reason: "line 9: the value of givenName is not valid base64"),
            ldif("LDIF: invalid UTF-8 in base64", Array("dn: CN=X\nmailNickname: bad1\nsn:: wyg=\n".utf8), line: 7, reason: "line 9: the value of sn is not valid UTF-8"),
            ldif("LDIF: a changetype import does not do", Array("dn: CN=X\nchangetype: delete\nmailNickname: bad1\n".utf8), line: 7, reason: "changetype delete is not something import does"),
        ]
    }()

    /// Each case twice: in one batch, and a record per batch, so every record (and the error
    /// at the end of a file) also crosses from the reading thread in a batch of its own.
    @Test("a malformed record is rejected with its line and reason; the records around it are imported",
          arguments: malformed, ["2000", "1"])
    func rejectsOneRecord(_ bad: Malformed, batchSize: String) async throws {
        try write(bad.file, Data(bad.bytes))
        let (status, summary) = try await importing(bad.file, "--batch-size", batchSize)
        #expect(status == 65)
        let rejected = rejections(summary)
        #expect(rejected.count == 1, "\(rejected)")
        #expect(rejected.first?.line == bad.line, "\(rejected)")
        #expect(rejected.first?.reason.contains(bad.reason) == true, "\(rejected)")
        #expect(summary["created"] as? Int == 2)
        #expect(try await aliases() == ["good1", "good2", "owner"])
    }

    @Test("a UTF-8 sequence split by an LDIF fold, a BOM and CRLF line ends all read correctly")
    func encodings() async throws {
        let ldif = Array("dn: CN=J\nmailNickname: joerg\ngivenName: J".utf8) + [0xC3, 0x0A, 0x20, 0xB6] + Array("rg\n".utf8)
        try write("fold.ldif", Data(ldif))
        #expect(try await importing("fold.ldif").status == 0)
        #expect(try await sandbox.object("recipient", "show", "joerg", "--json")["givenName"] as? String == "Jörg")

        let csv = [0xEF, 0xBB, 0xBF] + Array("mailNickname,givenName,sn\r\nzoe,Zoë,Weiß\r\n".utf8)
        try write("bom.csv", Data(csv))
        let (status, summary) = try await importing("bom.csv")
        #expect(status == 0)
        #expect(summary["created"] as? Int == 1)
        let zoe = try await sandbox.object("recipient", "show", "zoe", "--json")
        #expect(zoe["givenName"] as? String == "Zoë")
        #expect(zoe["sn"] as? String == "Weiß")
    }

    @Test("a file import cannot read at all stops before anything is written, naming file and line")
    func unreadableFiles() async throws {
        let before = try await sandbox.snapshot()
        try write("dup.csv", "mailNickname,sn,SN\nx,a,b\n")
        expectOneLineError(try await sandbox.run("import", "dup.csv"), status: 65, mentioning: ["dup.csv", "line 1", "column SN appears twice in the header (columns 2 and 3)"])
        try write("empty.csv", "")
        expectOneLineError(try await sandbox.run("import", "empty.csv"), status: 65, mentioning: ["empty.csv is empty"])
        try write("nokey.csv", "givenName,sn\nA,B\n")
        expectOneLineError(try await sandbox.run("import", "nokey.csv"), status: 65, mentioning: ["no mailNickname column"])
        expectOneLineError(try await sandbox.run("import", "missing.csv"), status: 65, mentioning: ["cannot open missing.csv"])
        #expect(try await sandbox.snapshot() == before)

        try write("header.csv", "mailNickname,givenName\n")
        let (status, summary) = try await importing("header.csv")
        #expect(status == 0)
        #expect(summary["created"] as? Int == 0 && summary["rejected"] as? Int == 0)
    }

    @Test("- reads standard input; the format is guessed from the first line; unknown columns are reported once")
    func standardInput() async throws {
        let csv = "mailNickname,givenName,shoeSize\numa,Uma,38\nvic,Vic,44\n"
        let result = try await sandbox.raw(["import", "-", "--json", "--db", sandbox.database.path], input: csv)
        #expect(result.status == 0, "\(result)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(summary["format"] as? String == "csv")
        #expect(summary["created"] as? Int == 2)
        #expect(summary["unknownColumns"] as? [String] == ["shoeSize"])
        let text = try await sandbox.raw(["import", "-", "--db", sandbox.database.path], input: csv)
        #expect(text.stderrLines == ["mailns: -: ignoring unknown columns: shoeSize"])
        #expect(text.stdout.contains("0 created, 0 updated, 2 unchanged, 0 rejected"))

        let ldif = "version: 1\n\ndn: CN=Wes\nmailNickname: wes\nfavouriteColour: blue\n\ndn: CN=Xia\nmailNickname: xia\nfavouriteColour: red\n"
        let fromLDIF = try await sandbox.raw(["import", "-", "--json", "--db", sandbox.database.path], input: ldif)
        let ldifSummary = try #require(try JSONSerialization.jsonObject(with: Data(fromLDIF.stdout.utf8)) as? [String: Any])
        #expect(ldifSummary["format"] as? String == "ldif")
        #expect(ldifSummary["created"] as? Int == 2)
        #expect(ldifSummary["unknownColumns"] as? [String] == ["favouriteColour"])
    }

    @Test("the format is guessed from the first line that is not blank: LDIF after blank lines or with a comment first")
    func guessesPastBlankLines() async throws {
        let inputs = [
            ("\ndn: CN=s1\nchangetype: add\nmailNickname: s1\n\n", "ldif", "s1"),
            ("\r\n\r\n# exported by ldifde\ndn: CN=s2\nmailNickname: s2\n", "ldif", "s2"),
            (String(repeating: "\n", count: 200) + "version: 1\n\ndn: CN=s3\nmailNickname: s3\n", "ldif", "s3"),
            ("\n\nmailNickname,sn\ns4,Four\n", "csv", "s4"),
        ]
        for (input, format, alias) in inputs {
            let result = try await sandbox.raw(["import", "-", "--json", "--db", sandbox.database.path], input: input)
            #expect(result.status == 0, "\(result)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result)")
            #expect(summary["format"] as? String == format, "\(alias)")
            #expect(summary["created"] as? Int == 1, "\(alias): \(summary)")
        }
        // A file whose name says nothing is guessed the same way.
        try write("s5.txt", "\n\ndn: CN=s5\nmailNickname: s5\n")
        #expect(try await importing("s5.txt").summary["format"] as? String == "ldif")
        #expect(try await aliases() == ["owner", "s1", "s2", "s3", "s4", "s5"])
    }

    @Test("unknown LDIF attributes are reported once on stderr, as unknown CSV columns are")
    func unknownLDIFAttributes() async throws {
        try write("typo.ldf", "dn: CN=a\nmailNickname: a\ndispalyName: Typo\n\ndn: CN=b\nmailNickname: b\ndispalyName: Again\nshoeSize: 44\n\n")
        let result = try await sandbox.run("import", "typo.ldf")
        #expect(result.status == 0, "\(result)")
        #expect(result.stderrLines == ["mailns: typo.ldf: ignoring unknown attributes: dispalyName, shoeSize"], "\(result)")
        #expect(result.stdout.contains("2 created"))
        let json = try await importing("typo.ldf")
        #expect(json.summary["unknownColumns"] as? [String] == ["dispalyName", "shoeSize"])
    }

    @Test("--atomic: one rejected record and nothing is imported")
    func atomicRollsBack() async throws {
        let before = try await sandbox.snapshot()
        try write("a.csv", Self.header + "\n\"CN=A\",user,a1,A,One,,Fabrikam,SMTP:a1@fabrikam.com\n\"CN=B\",user,b1,B,Two,,Fabrikam,SMTP:taken@fabrikam.com\n")
        let (status, summary) = try await importing("a.csv", "--atomic")
        #expect(status == 65)
        #expect(summary["rolledBack"] as? Bool == true)
        #expect(summary["created"] as? Int == 0)
        #expect(rejections(summary).map(\.line) == [3])
        #expect(try await sandbox.snapshot() == before)
    }

    @Test("a file that cannot be read on after committed batches: the error says what was committed, the summary is printed, the reject file is complete")
    func stoppedAfterCommittedBatches() async throws {
        // Line 2 is rejected, lines 3–6 are good, then a quote left open on line 7 swallows more
        // than the reader's 16 MiB: batches of 2 commit lines 2–5, and line 6 comes before the
        // error in the third.
        let filler = String(repeating: "y", count: 1023) + "\n"
        let text = "mailNickname,sn\nbad alias,S\nh1,S\nh2,S\nh3,S\nh4,S\nhx,\"open quote\n" + String(repeating: filler, count: 17 * 1024)
        try write("big.csv", text)
        let stopped = "mailns: big.csv: line 7: a record longer than 16 MiB (an unclosed quote?); stopped; "
        // Each run reads the 16 MiB: a debug build on a loaded machine needs more than 30 s.
        let result = try await sandbox.run("import", "big.csv", "--batch-size", "2", "--reject-file", "rejects.csv", timeout: 300)
        #expect(result.status == 65, "\(result)")
        #expect(result.stderrLines.last == stopped + "the first 5 records were committed (4 created, 0 updated, 0 unchanged, 1 rejected); nothing after them is imported", "\(result)")
        #expect(result.stdout.contains("imported big.csv: 4 created, 0 updated, 0 unchanged, 1 rejected (written to rejects.csv)"), "\(result)")
        let rejects = String(decoding: try sandbox.contents("rejects.csv"), as: UTF8.self)
        #expect(rejects.hasPrefix("mailNickname,sn,mailnsRejectReason\nbad alias,S,\"line 2: invalid alias 'bad alias'"), "\(rejects)")
        #expect(rejects.split(separator: "\n").count == 2, "\(rejects)")
        #expect(try await aliases() == ["h1", "h2", "h3", "h4", "owner"])

        // --atomic (--json: the counts and the error on stdout): nothing is imported, and the
        // message says so; the reject file is still written.
        let atomic = try await sandbox.raw(
            ["import", "big.csv", "--atomic", "--json", "--reject-file", "atomic.csv", "--db", sandbox.path("atomic.sqlite")], timeout: 300)
        #expect(atomic.status == 65)
        #expect(atomic.stderrLines.last == stopped + "nothing imported", "\(atomic)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(atomic.stdout.utf8)) as? [String: Any], "\(atomic)")
        #expect(summary["rolledBack"] as? Bool == true && summary["created"] as? Int == 0 && summary["rejected"] as? Int == 1, "\(summary)")
        #expect((summary["error"] as? String).map { "mailns: " + $0 } == stopped + "nothing imported", "\(summary)")
        #expect(String(decoding: try sandbox.contents("atomic.csv"), as: UTF8.self).contains("bad alias,S,\"line 2: "))
        let copy = try await sandbox.raw(["recipient", "list", "--json", "--db", sandbox.path("atomic.sqlite")])
        #expect((try JSONSerialization.jsonObject(with: Data(copy.stdout.utf8)) as? [Any])?.isEmpty == true, "\(copy)")
    }

    @Test("the reject file holds the rejected records in the file's format; fixed, it imports cleanly")
    func rejectFileReimports() async throws {
        try write("in.csv", Self.header + "\n\"CN=A, Sales\",user,a1,Ann,One,\"One, Ann\",Fabrikam,SMTP:a1@fabrikam.com\n\"CN=B, Sales\",user,b1,Bob,Two,\"Two, Bob\",Fabrikam,SMTP:taken@fabrikam.com;smtp:b@fabrikam.com\n")
        let first = try await importing("in.csv", "--reject-file", "rejects.csv")
        #expect(first.status == 65)
        let rejects = String(decoding: try sandbox.contents("rejects.csv"), as: UTF8.self)
        #expect(rejects.hasPrefix(Self.header + ",mailnsRejectReason\n"))
        #expect(rejects.contains("\"CN=B, Sales\",user,b1,Bob,Two,\"Two, Bob\",Fabrikam,SMTP:taken@fabrikam.com;smtp:b@fabrikam.com,line 3: address SMTP:taken@fabrikam.com belongs to recipient owner\n"))
        try write("fixed.csv", rejects.replacingOccurrences(of: "SMTP:taken@fabrikam.com", with: "SMTP:bob@fabrikam.com"))
        let second = try await importing("fixed.csv")
        #expect(second.status == 0, "\(second.summary)")
        #expect(second.summary["created"] as? Int == 1)
        #expect(second.summary["unknownColumns"] as? [String] == [])
        #expect(try await addresses("b1") == ["SMTP:bob@fabrikam.com", "smtp:b@fabrikam.com"])
        let bob = try await sandbox.object("recipient", "show", "b1", "--json")
        #expect(bob["displayName"] as? String == "Two, Bob")
    }

    @Test("a reject file imported again gets the new reasons in its own reject file, not the old ones (CSV column, LDIF comment)")
    func rejectFileOfARejectFile() async throws {
        try write("in.csv", "mailNickname,displayName,proxyAddresses\nx1,\"Doe, X\",SMTP:bad@@fabrikam.com\n")
        #expect(try await importing("in.csv", "--reject-file", "r1.csv").status == 65)
        let r1 = String(decoding: try sandbox.contents("r1.csv"), as: UTF8.self)
        try write("fixed.csv", r1.replacingOccurrences(of: "SMTP:bad@@fabrikam.com,", with: "SMTP:taken@fabrikam.com,"))
        #expect(try await importing("fixed.csv", "--reject-file", "r2.csv").status == 65)
        #expect(
            String(decoding: try sandbox.contents("r2.csv"), as: UTF8.self)
                == "mailNickname,displayName,proxyAddresses,mailnsRejectReason\nx1,\"Doe, X\",SMTP:taken@fabrikam.com,line 2: address SMTP:taken@fabrikam.com belongs to recipient owner\n")

        try write("in.ldf", "version: 1\n\n# the operator's note\ndn: CN=x2\nmailNickname: x2\nproxyAddresses: SMTP:bad@@fabrikam.com\n")
        #expect(try await importing("in.ldf", "--reject-file", "r1.ldf").status == 65)
        let ldif = String(decoding: try sandbox.contents("r1.ldf"), as: UTF8.self)
        #expect(ldif.hasPrefix("# line 4: invalid proxy address 'SMTP:bad@@fabrikam.com'"), "\(ldif)")
        try write("fixed.ldf", ldif.replacingOccurrences(of: "SMTP:bad@@fabrikam.com\n", with: "SMTP:taken@fabrikam.com\n"))
        #expect(try await importing("fixed.ldf", "--reject-file", "r2.ldf").status == 65)
        #expect(
            String(decoding: try sandbox.contents("r2.ldf"), as: UTF8.self)
                == "# line 3: address SMTP:taken@fabrikam.com belongs to recipient owner\n# the operator's note\ndn: CN=x2\nmailNickname: x2\nproxyAddresses: SMTP:taken@fabrikam.com\n\n")
    }

    @Test("--dry-run writes nothing and reports collisions with the directory, within the file, and policy suffixes")
    func mergeReport() async throws {
        try await sandbox.ok("policy", "set-templates", "Default Policy", "--template", "SMTP:%g.%s@contoso.com")
        try await sandbox.ok("recipient", "add", "jdoe", "--given", "John", "--surname", "Doe", "--display-name", "John Doe", "--company", "Contoso")
        let before = try await sandbox.snapshot()
        try write("m.csv", Self.header + """

            "CN=J",user,jdoe,John,Doe,John Doe,Contoso,smtp:jd@fabrikam.com
            "CN=J2",user,johnd,John,Doe,John Doe,Contoso,SMTP:johnd@fabrikam.com
            "CN=T",user,thief,T,F,,Fabrikam,SMTP:taken@fabrikam.com
            "CN=D",user,dup,D,Up,,Fabrikam,SMTP:johnd@fabrikam.com
            "CN=J3",user,jdoe3,John,Doe,John Doe,Contoso,
            """)
        let (status, summary) = try await importing("m.csv", "--dry-run")
        #expect(try await sandbox.snapshot() == before)
        #expect(status == 65)  // two records would be rejected
        #expect(summary["dryRun"] as? Bool == true)
        #expect(summary["created"] as? Int == 2 && summary["updated"] as? Int == 1 && summary["rejected"] as? Int == 2)
        let report = try #require(summary["report"] as? [String: Any])
        func lines(_ key: String) -> [Int] { (report[key] as? [[String: Any]] ?? []).compactMap { $0["line"] as? Int } }
        #expect(lines("sameAlias") == [2])
        #expect(lines("sameAddress") == [4])
        #expect(lines("sameDisplayName") == [3, 6])
        #expect(lines("fileSameAddress") == [5])
        #expect(lines("fileSameDisplayName") == [6])
        let primaries = report["newPrimaries"] as? [[String: Any]] ?? []
        #expect(primaries.map { $0["primary"] as? String } == ["John.Doe2@contoso.com", "John.Doe3@contoso.com"])
        #expect(primaries.map { $0["suffixed"] as? Bool } == [true, true])

        let text = try await sandbox.run("import", "m.csv", "--dry-run")
        #expect(text.stdout.hasPrefix("Merge report (dry run: nothing written)"))
        #expect(text.stdout.contains("line 3: johnd -> SMTP:John.Doe2@contoso.com [Default Policy] SUFFIXED"))
    }

    @Test("a dry run counts every finding and lists the first 10,000 of each kind, saying how many more there are")
    func mergeReportIsBounded() async throws {
        try await sandbox.ok("policy", "set-templates", "Default Policy", "--template", "SMTP:%g.%s@contoso.com")
        let n = 10_005
        var csv = "mailNickname,givenName,sn,displayName,company,proxyAddresses\n"
        // One display name throughout; given names in pairs, so every second primary is suffixed.
        for i in 0..<n { csv += "u\(i),G\(i / 2),Doe,John Doe,Fabrikam,SMTP:u\(i)@fabrikam.com\n" }
        try write("same.csv", csv)
        let (status, summary) = try await importing("same.csv", "--dry-run")
        #expect(status == 0)
        #expect(summary["created"] as? Int == n)
        let report = try #require(summary["report"] as? [String: Any])
        let counts = report["counts"] as? [String: Int] ?? [:]
        #expect(counts["newPrimaries"] == n)
        #expect(counts["fileSameDisplayName"] == n - 1)
        #expect(report["suffixed"] as? Int == n / 2, "the second of each pair takes a suffix")
        #expect(report["listedPerKind"] as? Int == 10_000)
        let primaries = report["newPrimaries"] as? [[String: Any]] ?? []
        #expect(primaries.count == 10_000)
        // The plans saw each other's addresses: the 10,000th record is the second G4999.
        #expect(primaries.last?["primary"] as? String == "G4999.Doe2@contoso.com")
        #expect((report["fileSameDisplayName"] as? [Any])?.count == 10_000)

        let text = try await sandbox.run("import", "same.csv", "--dry-run", timeout: 120)
        #expect(text.stdout.contains("New recipients and the primary address their policy gives: \(n), suffixed: \(n / 2)"))
        #expect(text.stdout.contains("  … and 5 more (a report lists the first 10000 of each kind)"), "\(text.stdout.suffix(400))")
        #expect(text.stdout.contains("  … and 4 more (a report lists the first 10000 of each kind)"))
    }

    @Test(
        "a new recipient its policy cannot stamp is imported unstamped and named; the others are stamped",
        .enabled(if: MailNSRunner.hasSQLite3, "needs /usr/bin/sqlite3"))
    func policyFailureLeavesTheRecipientUnstamped() async throws {
        try await sandbox.ok("policy", "set-templates", "Default Policy", "--template", "SMTP:%g.%s@contoso.com")
        // Every suffix the policy may try for J.D is taken (aliases always give a local part, so
        // running out of suffixes is how a stamp fails).
        try await sandbox.ok("recipient", "add", "holder", "--no-policy", "--address", "SMTP:holder@contoso.com")
        let fill = try await sandbox.sqlite3("test.sqlite", """
            INSERT INTO proxy_address (recipient_id, type, address, is_primary)
              SELECT r.id, 'SMTP', 'J.D' || CASE WHEN value = 1 THEN '' ELSE value END || '@contoso.com', 0
              FROM recipient AS r, generate_series(1, 10000) WHERE r.alias = 'holder';
            """)
        try #require(fill.status == 0, "\(fill)")
        try write("p.csv", "mailNickname,givenName,sn,proxyAddresses\nann,Ann,One,SMTP:ann@fabrikam.com\njd,J,D,SMTP:jd@fabrikam.com\n")
        let (status, summary) = try await importing("p.csv")
        #expect(status == 65, "a policy failure is a finding")
        #expect(summary["created"] as? Int == 2)
        let failures = summary["policyFailures"] as? [[String: Any]] ?? []
        #expect(failures.map { $0["alias"] as? String } == ["jd"], "\(summary)")
        let jd = try await sandbox.object("recipient", "show", "jd", "--json")
        #expect(jd["stampedByPolicy"] is NSNull, "\(jd)")
        #expect(try await addresses("jd") == ["SMTP:jd@fabrikam.com"])
        let ann = try await sandbox.object("recipient", "show", "ann", "--json")
        #expect(ann["stampedByPolicy"] as? String == "Default Policy")
        #expect(try await addresses("ann") == ["SMTP:Ann.One@contoso.com", "smtp:ann@fabrikam.com"])
    }

    /// Regression: a record listing the address an earlier record's policy gives was imported
    /// (and the earlier one suffixed) when both fell in one batch, rejected when a batch ended
    /// between them, and the dry run predicted the first.
    @Test("an address an earlier record's policy gives is taken for the records after it, whatever the batch size", arguments: ["2000", "1", "dry"])
    func policyAddressesOfEarlierRecordsAreTakenWhateverTheBatches(run: String) async throws {
        try await sandbox.ok("policy", "set-templates", "Default Policy", "--template", "SMTP:%g.%s@contoso.com")
        try write("p.csv", "mailNickname,givenName,sn,proxyAddresses\njdoe,John,Doe,\njim,Jim,Other,SMTP:John.Doe@contoso.com\nzed,Zed,Z,\n")
        let (status, summary) = run == "dry" ? try await importing("p.csv", "--dry-run") : try await importing("p.csv", "--batch-size", run)
        #expect(status == 65)
        #expect(summary["created"] as? Int == 2 && summary["rejected"] as? Int == 1)
        let rejections = summary["rejections"] as? [[String: Any]] ?? []
        #expect(rejections.map { $0["line"] as? Int } == [3])
        #expect(rejections.first?["reason"] as? String == "address SMTP:John.Doe@contoso.com belongs to recipient jdoe")
        if run != "dry" {
            #expect(try await addresses("jdoe") == ["SMTP:John.Doe@contoso.com"])
        } else {
            let report = try #require(summary["report"] as? [String: Any])
            #expect((report["newPrimaries"] as? [[String: Any]] ?? []).map { $0["primary"] as? String } == ["John.Doe@contoso.com", "Zed.Z@contoso.com"])
        }
    }

    /// Regression (review): the dry run did not see the addresses an update adds, so a later
    /// new record's policy was predicted the address the real run finds taken.
    @Test("a dry run sees the addresses an earlier record's update adds, as the real run does")
    func dryRunSeesAddressesAnUpdateAdds() async throws {
        try await sandbox.ok("policy", "set-templates", "Default Policy", "--template", "SMTP:%m@fabrikam.com")
        try await sandbox.ok("recipient", "add", "bob", "--no-policy", "--address", "SMTP:bob@fabrikam.com")
        try write("u.csv", "mailNickname,proxyAddresses\nbob,SMTP:bob@fabrikam.com;smtp:john@fabrikam.com\njohn,\n")
        let (_, dry) = try await importing("u.csv", "--dry-run")
        let report = try #require(dry["report"] as? [String: Any])
        #expect((report["newPrimaries"] as? [[String: Any]] ?? []).map { $0["primary"] as? String } == ["john2@fabrikam.com"])
        #expect(try await importing("u.csv").status == 0)
        #expect(try await addresses("john") == ["SMTP:john2@fabrikam.com"])
    }

    @Test("a dry run over several batches sees the addresses earlier batches' policy plans take")
    func dryRunAcrossBatchesSeesEarlierPlans() async throws {
        try await sandbox.ok("policy", "set-templates", "Default Policy", "--template", "SMTP:%g.%s@contoso.com")
        try write("p.csv", "mailNickname,givenName,sn,proxyAddresses\njdoe,John,Doe,\njim,Jim,Other,SMTP:John.Doe@contoso.com\n")
        let (status, summary) = try await importing("p.csv", "--dry-run", "--batch-size", "1")
        #expect(status == 65)
        let rejections = summary["rejections"] as? [[String: Any]] ?? []
        #expect(rejections.map { $0["reason"] as? String } == ["address SMTP:John.Doe@contoso.com belongs to the record on line 2 (its policy gives it)"])
        let report = try #require(summary["report"] as? [String: Any])
        #expect((report["sameAddress"] as? [[String: Any]] ?? []).map { $0["with"] as? String } == ["line 2"])
    }

    @Test("re-importing a changed record updates it: attributes replaced, addresses added and never removed")
    func updates() async throws {
        try write("v1.csv", "mailNickname,givenName,department,proxyAddresses\nann,Ann,Sales,SMTP:ann@fabrikam.com;smtp:a@fabrikam.com\n")
        #expect(try await importing("v1.csv", "--no-policy").summary["created"] as? Int == 1)
        try write("v2.csv", "mailNickname,givenName,department,proxyAddresses\nann,Anne,,SMTP:anne@fabrikam.com\n")
        let (status, summary) = try await importing("v2.csv")
        #expect(status == 0)
        #expect(summary["updated"] as? Int == 1)
        let ann = try await sandbox.object("recipient", "show", "ann", "--json")
        #expect(ann["givenName"] as? String == "Anne")
        #expect(ann.isNull("department"))
        #expect(ann["policyManaged"] as? Bool == false)
        #expect(try await addresses("ann") == ["SMTP:anne@fabrikam.com", "smtp:a@fabrikam.com", "smtp:ann@fabrikam.com"])
        #expect(try await importing("v2.csv").summary["unchanged"] as? Int == 1)
    }

    @Test("--no-policy wins over a mailnsPolicyManaged column: no recipient becomes policy-managed, none gets policy addresses")
    func noPolicyWinsOverTheColumn() async throws {
        try await sandbox.ok("policy", "set-templates", "Default Policy", "--template", "SMTP:%g.%s@contoso.com")
        try await sandbox.ok("recipient", "add", "bea", "--no-policy", "--given", "Bea", "--surname", "Two", "--address", "SMTP:bea@fabrikam.com")
        try write("p.csv", "mailNickname,givenName,sn,mailnsPolicyManaged\nann,Ann,Lee,TRUE\nbea,Bea,Two,TRUE\n")
        let (status, summary) = try await importing("p.csv", "--no-policy")
        #expect(status == 0, "\(summary)")
        #expect(summary["created"] as? Int == 1 && summary["unchanged"] as? Int == 1 && summary["stamped"] as? Int == 0, "\(summary)")
        for alias in ["ann", "bea"] {
            let shown = try await sandbox.object("recipient", "show", alias, "--json")
            #expect(shown["policyManaged"] as? Bool == false, "\(alias): \(shown)")
        }
        #expect(try await addresses("ann") == [])
        #expect(try await addresses("bea") == ["SMTP:bea@fabrikam.com"])
    }

    @Test("on update, a policy-managed recipient takes the file's X500/SIP primaries (no policy makes those); its SMTP primary stays the policy's; the dry run predicts it")
    func nonSMTPPrimariesOfPolicyManagedRecipients() async throws {
        try await sandbox.ok("recipient", "add", "jdoe", "--address", "SMTP:jdoe@contoso.com", "--address", "X500:/o=Old/cn=jdoe", "--address", "x500:/o=Fabrikam/cn=jdoe")
        try await sandbox.ok("recipient", "add", "ann", "--address", "SMTP:ann@contoso.com", "--address", "SIP:old-ann@contoso.com")
        // jdoe's X500 primary is one it holds as a secondary; ann's SIP primary is new.
        try write("p.csv", "mailNickname,proxyAddresses\njdoe,X500:/o=Fabrikam/cn=jdoe\nann,SIP:ann@fabrikam.com;SMTP:ann2@contoso.com\n")
        let dry = try await importing("p.csv", "--dry-run")
        #expect(dry.summary["updated"] as? Int == 2 && dry.summary["unchanged"] as? Int == 0, "\(dry.summary)")
        let real = try await importing("p.csv")
        #expect(real.status == 0)
        #expect(real.summary["updated"] as? Int == 2, "\(real.summary)")
        #expect(try await addresses("jdoe") == ["SMTP:jdoe@contoso.com", "X500:/o=Fabrikam/cn=jdoe", "x500:/o=Old/cn=jdoe"])
        #expect(try await addresses("ann") == ["SMTP:ann@contoso.com", "smtp:ann2@contoso.com", "SIP:ann@fabrikam.com", "sip:old-ann@contoso.com"])
        #expect(try await importing("p.csv", "--dry-run").summary["unchanged"] as? Int == 2)
        #expect(try await importing("p.csv").summary["unchanged"] as? Int == 2)
    }

    @Test("--key objectGUID matches records on the GUID across imports, even when the alias changes")
    func objectGUIDKey() async throws {
        try write("g1.ldf", "dn: CN=Kim\nobjectGUID:: 3q2+7w==\nmailNickname: kim\nproxyAddresses: SMTP:kim@fabrikam.com\n")
        #expect(try await importing("g1.ldf", "--key", "objectGUID").summary["created"] as? Int == 1)
        try write("g2.ldf", "dn: CN=Kim\nobjectGUID:: 3q2+7w==\nmailNickname: kim\nsn: Lee\n")
        let (_, summary) = try await importing("g2.ldf", "--key", "objectGUID")
        #expect(summary["updated"] as? Int == 1)
        #expect(try await sandbox.object("recipient", "show", "kim", "--json")["sn"] as? String == "Lee")
        try write("g3.ldf", "dn: CN=Kim2\nobjectGUID:: AAAAAA==\nmailNickname: kim\n")
        let (status, other) = try await importing("g3.ldf", "--key", "objectGUID")
        #expect(status == 65)
        #expect(rejections(other).first?.reason.contains("alias kim belongs to recipient kim, which no earlier import matched on objectGUID 00000000") == true)
    }

    @Test("--key on a multi-valued attribute (or one that names no recipient) is a usage error before anything is read",
          arguments: [["proxyAddresses", "several values"], ["objectClass", "several values"], ["changeType", "what to do"], ["mailnsRejectReason", "reason"]])
    func unusableKeys(_ key: [String]) async throws {
        try write("k.csv", "mailNickname,proxyAddresses,objectClass,changetype,mailnsRejectReason\nk1,SMTP:k1@fabrikam.com,user,add,x\n")
        let result = try await sandbox.run("import", "k.csv", "--key", key[0])
        #expect(result.status == 64, "\(result)")
        #expect(result.stdout.isEmpty, "\(result)")
        #expect(result.stderr.contains("--key \(key[0]): ") && result.stderr.contains(key[1]), "\(result)")
        #expect(try await aliases() == ["owner"])
    }

    @Test("keyed on objectGUID, two new records with one alias: the dry run lists the collision, the real run rejects the later naming the earlier line")
    func sameAliasWithinTheFileOnAnotherKey() async throws {
        try write("g.csv", "mailNickname,objectGUID,sn\nk2,X'00112233445566778899aabbccddeeff',Two\nK2,X'ffeeddccbbaa99887766554433221100',Twin\n")
        let dry = try await importing("g.csv", "--key", "objectGUID", "--dry-run")
        #expect(dry.status == 65)
        #expect(dry.summary["created"] as? Int == 1 && dry.summary["rejected"] as? Int == 1, "\(dry.summary)")
        let report = try #require(dry.summary["report"] as? [String: Any])
        let collisions = report["fileSameAlias"] as? [[String: Any]] ?? []
        #expect(collisions.map { $0["line"] as? Int } == [3] && collisions.first?["with"] as? String == "line 2", "\(report)")
        let text = try await sandbox.run("import", "g.csv", "--key", "objectGUID", "--dry-run")
        #expect(text.stdout.contains("  same alias of new recipients (keyed on another attribute): 1\n  line 3: K2, first on line 2"), "\(text)")

        let real = try await importing("g.csv", "--key", "objectGUID")
        #expect(real.status == 65)
        #expect(real.summary["created"] as? Int == 1)
        #expect(rejections(real.summary).map(\.line) == [3])
        #expect(rejections(real.summary).first?.reason == "alias K2 is also on line 2, a new recipient's; the first record with it is imported", "\(real.summary)")
        #expect(try await sandbox.object("recipient", "show", "k2", "--json")["sn"] as? String == "Two")
    }

    @Test("export | import into an empty directory gives back every recipient and address", arguments: ["csv", "ldif"])
    func roundTrip(_ format: String) async throws {
        try await sandbox.ok("recipient", "add", "zoe", "--no-policy", "--given", "Zoë", "--surname", "Weiß, Jr.", "--display-name", " \"Zoë\" ", "--address", "SMTP:zoe@fabrikam.com", "--address", "smtp:zw@contoso.com", "--address", "X500:/o=Fabrikam/cn=zoe", "--source", "fabrikam")
        // Addresses holding ';', which CSV also uses between addresses.
        try await sandbox.ok("recipient", "add", "bob", "--no-policy", "--address", "SMTP:bob@fabrikam.com", "--address", "eum:4711;phone-context=dp.contoso.com", "--address", "SIP:bob@fabrikam.com;maddr=x;user=phone")
        try await sandbox.ok("recipient", "add", "partner", "--kind", "contact", "--target", "p@partner.example", "--no-policy", "--attribute", "extensionAttribute7=a, \"quoted\"; value")
        try await sandbox.ok("recipient", "add", "other", "--kind", "remote", "--address", "SMTP:other@contoso.com", "--no-policy")
        let exported = try await sandbox.ok("export", "--format", format).stdout
        try write("out.\(format)", exported)
        let copy = sandbox.path("copy.sqlite")
        let imported = try await sandbox.raw(["import", "out.\(format)", "--db", copy])
        #expect(imported.status == 0, "\(imported)")
        let again = try await sandbox.raw(["export", "--format", format, "--db", copy])
        #expect(again.stdout == exported)
        let original = try await sandbox.ok("recipient", "list", "--json").stdout
        let copied = try await sandbox.raw(["recipient", "list", "--json", "--db", copy]).stdout
        #expect(copied == original)
        let bob = try await sandbox.raw(["recipient", "show", "bob", "--json", "--db", copy])
        let bobAddresses = (try JSONSerialization.jsonObject(with: Data(bob.stdout.utf8)) as? [String: Any])?["addresses"] as? [String]
        #expect(bobAddresses == ["SMTP:bob@fabrikam.com", "EUM:4711;phone-context=dp.contoso.com", "SIP:bob@fabrikam.com;maddr=x;user=phone"], "\(bob)")
    }

    @Test("CSV export refuses an address CSV cannot say unambiguously (a piece after ';' that reads as an address), naming it; LDIF writes it")
    func exportRefusesAmbiguousAddresses() async throws {
        try await sandbox.ok("recipient", "add", "alice", "--no-policy", "--address", "SMTP:alice@contoso.com", "--address", "sip:alice@contoso.com;transport:tls", "--source", "fabrikam")
        let csv = try await sandbox.run("export")
        expectOneLineError(csv, status: 65, mentioning: ["recipient alice", "SIP:alice@contoso.com;transport:tls", "'transport:tls'", "--format ldif"])
        #expect(csv.stdout.isEmpty, "nothing half-written: \(csv)")
        #expect(try await sandbox.run("export", "--source", "contoso").status == 0, "alice is not exported")
        let ldif = try await sandbox.ok("export", "--format", "ldif").stdout
        try write("out.ldf", ldif)
        let copy = sandbox.path("copy.sqlite")
        #expect(try await sandbox.raw(["import", "out.ldf", "--db", copy]).status == 0)
        let alice = try await sandbox.raw(["recipient", "show", "alice", "--json", "--db", copy])
        #expect(((try JSONSerialization.jsonObject(with: Data(alice.stdout.utf8)) as? [String: Any])?["addresses"] as? [String])
            == ["SMTP:alice@contoso.com", "SIP:alice@contoso.com;transport:tls"], "\(alice)")
    }

    @Test("kill -9 in the middle of a large import, then a re-run: the same directory as an uninterrupted import")
    func killedImportFinishes() async throws {
        var text = Self.header + "\n"
        for i in 0..<30_000 {
            text += "\"CN=User \(i)\",user,u\(i),Given\(i),Sur\(i),User \(i),Fabrikam,SMTP:u\(i)@fabrikam.com;smtp:user.\(i)@contoso.com\n"
        }
        try write("big.csv", text)
        try await sandbox.ok("policy", "set-templates", "Default Policy", "--template", "SMTP:%g.%s@contoso.com")
        let reference = sandbox.path("reference.sqlite")
        try await sandbox.ok("policy", "set-templates", "Default Policy", "--template", "SMTP:%g.%s@contoso.com")
        _ = try await sandbox.raw(["domain", "add", "contoso.com", "--type", "shared", "--db", reference])
        _ = try await sandbox.raw(["domain", "add", "fabrikam.com", "--type", "authoritative", "--db", reference])
        _ = try await sandbox.raw(["recipient", "add", "owner", "--no-policy", "--address", "SMTP:taken@fabrikam.com", "--db", reference])
        _ = try await sandbox.raw(["policy", "set-templates", "Default Policy", "--template", "SMTP:%g.%s@contoso.com", "--db", reference])
        let whole = try await sandbox.raw(["import", "big.csv", "--batch-size", "2000", "--db", reference], timeout: 300)
        #expect(whole.status == 0, "\(whole)")

        let child = try BackgroundMailNS(sandbox, ["import", "big.csv", "--batch-size", "2000", "--db", sandbox.database.path])
        defer { child.stop() }
        // Kill it once some batches are committed, well before the end.
        var committed = 0
        let deadline = Date().addingTimeInterval(120)
        while committed < 4_000 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
            committed = Int(try await sandbox.sqlite3("test.sqlite", "SELECT count(*) FROM recipient").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        child.signal(SIGKILL)
        #expect(await child.waitForExit() == 128 + SIGKILL)
        let partial = Int(try await sandbox.sqlite3("test.sqlite", "SELECT count(*) FROM recipient").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(partial > 1 && partial < 30_001, "killed after \(partial - 1) recipients")
        #expect(try await sandbox.sqlite3("test.sqlite", "PRAGMA integrity_check").stdout == "ok\n")
        // Whole batches only: every recipient has its addresses and its policy's primary.
        #expect(try await sandbox.sqlite3("test.sqlite", "SELECT count(*) FROM recipient r WHERE r.alias <> 'owner' AND (SELECT count(*) FROM proxy_address a WHERE a.recipient_id = r.id) <> 3").stdout == "0\n")

        let rerun = try await sandbox.raw(["import", "big.csv", "--batch-size", "2000", "--json", "--db", sandbox.database.path], timeout: 300)
        #expect(rerun.status == 0, "\(rerun)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(rerun.stdout.utf8)) as? [String: Any])
        #expect(summary["unchanged"] as? Int == partial - 1)
        #expect(summary["created"] as? Int == 30_001 - partial)

        let rows = "SELECT r.id, r.alias, a.type, a.address, a.is_primary FROM recipient r JOIN proxy_address a ON a.recipient_id = r.id ORDER BY r.id, a.type, a.address"
        let history = "SELECT recipient_id, alias, action, type, address, actor, actor_name FROM address_history ORDER BY id"
        #expect(try await sandbox.sqlite3("test.sqlite", rows).stdout == (try await sandbox.sqlite3("reference.sqlite", rows).stdout))
        #expect(try await sandbox.sqlite3("test.sqlite", history).stdout == (try await sandbox.sqlite3("reference.sqlite", history).stdout))
    }
}
