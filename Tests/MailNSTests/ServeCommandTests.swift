import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("mailns serve")
struct ServeCommandTests {
    let sandbox: Sandbox

    init() throws { sandbox = try Sandbox() }

    /// contoso.local authoritative with alice; contoso.com shared behind connector Legacy.
    private func populate() async throws {
        try await sandbox.ok("domain", "add", "contoso.local", "--type", "authoritative")
        try await sandbox.ok("domain", "add", "contoso.com", "--type", "shared")
        try await sandbox.ok("connector", "add", "Legacy", "--address-space", "contoso.com", "--smart-host", "[10.0.0.5]")
        try await sandbox.ok("recipient", "add", "alice", "--no-policy", "--address", "SMTP:Alice.Smith@contoso.com", "--address", "smtp:alice@contoso.local")
    }

    /// Starts `mailns serve --db test.sqlite ARGUMENTS…` and waits for its "listening on" line.
    private func startServe(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> (BackgroundMailNS, String) {
        let serve = try BackgroundMailNS(sandbox, ["serve", "--db", sandbox.database.path] + arguments)
        guard let line = await serve.waitForLine(containing: "listening on ") else {
            serve.stop()
            throw HarnessError("mailns serve \(arguments.joined(separator: " ")) did not report listening:\n\(serve.stderr)")
        }
        return (serve, line)
    }

    // MARK: Refusals

    @Test("a non-loopback --listen without --allow-remote is refused: exit 64, an error naming the address, nothing listens", arguments: [
        "0.0.0.0:9025", "192.0.2.1:25", "[::]:9025",
    ])
    func nonLoopbackRefused(_ listen: String) async throws {
        try await sandbox.ok("init")
        let result = try await sandbox.raw(["serve", "--db", sandbox.database.path, "--listen", listen], timeout: 60)
        #expect(result.status == 64, "\(result)")
        #expect(result.stdout.isEmpty, "\(result)")
        // ArgumentParser's usage-error form: the error line first, then a usage hint.
        let errors = result.stderrLines.filter { $0.contains(listen) }
        #expect(errors.count == 1, "one stderr line names \(listen): \(result)")
        #expect(result.stderrLines.first == errors.first, "the error comes first: \(result)")
        #expect(errors.first?.contains("--allow-remote") == true, "the error says how to allow it: \(result)")
        #expect(!result.stderr.contains("listening on"), "\(result)")
    }

    @Test("a database file that does not exist is refused: non-zero, the path named, and the file is not created")
    func missingDatabase() async throws {
        let missing = sandbox.path("missing.sqlite")
        let socket = sandbox.path("s.sock")
        let result = try await sandbox.raw(["serve", "--db", missing, "--listen", "unix:\(socket)"], timeout: 60)
        #expect(result.status != 0, "\(result)")
        expectOneLineError(result, status: result.status, mentioning: [missing])
        #expect(!sandbox.exists("missing.sqlite"), "serve must not create the database")
        #expect(!sandbox.exists("missing.sqlite-wal") && !sandbox.exists("missing.sqlite-shm"))
        #expect(!sandbox.exists("s.sock"), "nothing listened")
    }

    // MARK: Serving

    @Test("--listen unix:PATH creates the socket with mode 0660, answers over it, sees other mailns commands' changes, and removes it at SIGTERM")
    func unixSocket() async throws {
        try await populate()
        let path = sandbox.path("mailns.sock")
        let (serve, line) = try await startServe(["--listen", "unix:\(path)"])
        defer { serve.stop() }
        #expect(line.contains("listening on unix:\(path)"), "\(line)")

        var info = stat()
        #expect(stat(path, &info) == 0, "the socket file exists")
        #expect(info.st_mode & S_IFMT == S_IFSOCK, "it is a socket")
        #expect(info.st_mode & 0o7777 == 0o660, "mode \(String(info.st_mode & 0o7777, radix: 8))")

        let client = try SocketmapWire(unixPath: path)
        #expect(client.ask("mailbox-domains", "Contoso.LOCAL") == "OK authoritative")
        #expect(client.ask("aliases", "ALICE+news@contoso.local") == "OK Alice.Smith+news@contoso.com")
        #expect(client.ask("transport", "carol@Contoso.com") == "OK smtp:[10.0.0.5]")
        #expect(client.ask("recipient-access", "bob@contoso.local") == "OK 550 5.1.1 User unknown")

        // Another process changes the directory; the next lookup sees it.
        try await sandbox.ok("recipient", "add", "bob", "--no-policy", "--address", "SMTP:bob@contoso.local")
        #expect(client.ask("recipient-access", "bob@contoso.local") == "OK DUNNO")
        #expect(client.ask("mailboxes", "Bob@Contoso.Local") == "OK bob/")
        try await sandbox.ok("settings", "set", "delivery-transport", "lmtp:127.0.0.1:24")
        #expect(client.ask("transport", "bob@contoso.local") == "OK lmtp:inet:127.0.0.1:24")

        serve.signal(SIGTERM)
        let status = await serve.waitForExit()
        #expect(status == 0, "SIGTERM: exit 0\n\(serve.stderr)")
        #expect(client.isClosedByPeer(), "the open connection is closed at shutdown")
        #expect(!FileManager.default.fileExists(atPath: path), "the socket file is removed at exit")
    }

    @Test("SIGTERM: serve exits 0, closes its port, and logs a summary with the counts to stderr")
    func sigtermSummary() async throws {
        try await populate()
        let port = try freeLoopbackPort()
        let (serve, line) = try await startServe(["--listen", "127.0.0.1:\(port)"])
        defer { serve.stop() }
        #expect(line.contains("listening on inet:127.0.0.1:\(port)"), "\(line)")

        let client = try SocketmapWire(port: port)
        #expect(client.ask("mailboxes", "alice@contoso.local") == "OK alice/")
        #expect(client.ask("mailboxes", "nobody@contoso.local") == "NOTFOUND ")
        #expect(client.ask("no-such-map", "x").hasPrefix("PERM "))

        serve.signal(SIGTERM)
        let status = await serve.waitForExit()
        #expect(status == 0, "SIGTERM: exit 0\n\(serve.stderr)")
        #expect((try? SocketmapWire(port: port)) == nil, "the port is closed after exit")
        let summary = serve.stderrLines.filter { $0.contains("summary at exit") }
        #expect(summary.count == 1, "one summary line at exit:\n\(serve.stderr)")
        let text = summary.first ?? ""
        for fragment in ["requests=3", "ok=1", "notfound=1", "perm=1", "temp=0", "connections=1", "malformed=0"] {
            #expect(text.contains(fragment), "summary mentions \(fragment): \(text)")
        }
    }

    @Test("a stale unix socket left by a killed serve does not stop the next serve on the same path")
    func staleUnixSocket() async throws {
        try await populate()
        let path = sandbox.path("stale.sock")
        let (killed, _) = try await startServe(["--listen", "unix:\(path)"])
        defer { killed.stop() }
        killed.signal(SIGKILL)
        #expect(await killed.waitForExit() == 128 + SIGKILL)
        #expect(FileManager.default.fileExists(atPath: path), "SIGKILL leaves the socket file behind")
        #expect((try? SocketmapWire(unixPath: path)) == nil, "nothing answers on the stale socket")

        let (next, _) = try await startServe(["--listen", "unix:\(path)"])
        defer { next.stop() }
        #expect(try SocketmapWire(unixPath: path).ask("mailbox-domains", "contoso.local") == "OK authoritative")
        next.signal(SIGTERM)
        #expect(await next.waitForExit() == 0, "\(next.stderr)")
    }

    @Test("a second serve on the unix socket of a running serve must not leave the first one unreachable")
    func secondServeOnALiveUnixSocket() async throws {
        try await populate()
        let path = sandbox.path("live.sock")
        let (first, _) = try await startServe(["--listen", "unix:\(path)"])
        defer { first.stop() }
        #expect(try SocketmapWire(unixPath: path).ask("mailbox-domains", "contoso.local") == "OK authoritative")

        // As with a TCP port in use, the second refuses (71), naming the socket, and the
        // first keeps answering on the path.
        let result = try await sandbox.raw(["serve", "--db", sandbox.database.path, "--listen", "unix:\(path)"], timeout: 60)
        expectOneLineError(result, status: 71, mentioning: [path, "another server is listening"])
        #expect(first.process.isRunning, "the first serve is still running")
        #expect(try SocketmapWire(unixPath: path).ask("mailbox-domains", "contoso.local") == "OK authoritative")
        first.signal(SIGTERM)
        #expect(await first.waitForExit() == 0, "\(first.stderr)")
    }

    @Test("a TCP port in use: a second serve exits non-zero naming the error, and the first keeps answering")
    func tcpPortInUse() async throws {
        try await populate()
        let port = try freeLoopbackPort()
        let (first, _) = try await startServe(["--listen", "127.0.0.1:\(port)"])
        defer { first.stop() }
        let result = try await sandbox.raw(["serve", "--db", sandbox.database.path, "--listen", "127.0.0.1:\(port)"], timeout: 60)
        #expect(result.status != 0, "\(result)")
        expectOneLineError(result, status: result.status, mentioning: ["Address already in use"])
        #expect(result.status == 71)
        #expect(result.stderr.contains("cannot listen on inet:127.0.0.1:\(port)"), "the error names the address: \(result)")
        #expect(try SocketmapWire(port: port).ask("mailbox-domains", "contoso.local") == "OK authoritative")
        first.signal(SIGTERM)
        #expect(await first.waitForExit() == 0, "\(first.stderr)")
    }

    @Test("SIGINT also stops serve with exit 0")
    func sigint() async throws {
        try await sandbox.ok("init")
        let (serve, _) = try await startServe(["--listen", "unix:\(sandbox.path("i.sock"))"])
        defer { serve.stop() }
        serve.signal(SIGINT)
        #expect(await serve.waitForExit() == 0, "\(serve.stderr)")
    }
}
