import Foundation
import Logging
import MailCore
import MailNamespace
import MailRouting
import ServiceLifecycle
import Socketmap
import Synchronization
import Testing
@testable import MailStore

#if canImport(Glibc)
import Glibc
#endif

// `mailns serve`'s lookup service (MapService, PostfixMapResponder) on a real SQLite file,
// asked over a real loopback socket as Postfix asks: `len:name key,` → `OK …` / `NOTFOUND ` /
// `TEMP …` / `PERM …`.

// MARK: - A socketmap client

/// A blocking loopback client speaking socketmap, one request in flight, like a Postfix process.
final class SocketmapTestClient {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .ECONNREFUSED)
        }
    }

    deinit { close(fd) }

    /// The reply's text (`OK value`, `NOTFOUND `, `TEMP reason`, `PERM reason`), or a
    /// description of what went wrong on the wire.
    func ask(_ map: String, _ key: String) -> String {
        let payload = Array("\(map) \(key)".utf8)
        let frame = Array("\(payload.count):".utf8) + payload + [UInt8(ascii: ",")]
        let sent = frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == frame.count else { return "<send failed: errno \(errno)>" }
        var lengthText = ""
        while true {
            guard let byte = readBytes(1)?.first else { return "<no reply>" }
            if byte == UInt8(ascii: ":") { break }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), lengthText.count < 7 else { return "<not a netstring>" }
            lengthText.append(Character(UnicodeScalar(byte)))
        }
        guard let length = Int(lengthText), let body = readBytes(length + 1), body.last == UInt8(ascii: ",") else { return "<truncated reply>" }
        return String(decoding: body.dropLast(), as: UTF8.self)
    }

    /// True when the server closed the connection (EOF within the receive timeout).
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }

    private func readBytes(_ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var have = 0
        while have < count {
            let n = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + have, count - have, 0) }
            if n <= 0 { return nil }
            have += n
        }
        return out
    }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
func isListening(port: Int) -> Bool { (try? SocketmapTestClient(port: port)) != nil }

// MARK: - Running the service

/// Log lines the service wrote, kept for assertions.
final class LogRecorder: Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }
    var all: [Entry] { entries.withLock { $0 } }

    var logger: Logger {
        Logger(label: "mailns.serve.test") { _ in RecordingLogHandler(recorder: self) }
    }
}

struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        recorder.append(.init(level: event.level, message: event.message.description, metadata: merged.mapValues { "\($0)" }))
    }
}

/// A `MapService` running inside a ServiceLifecycle `ServiceGroup`, as `mailns serve` runs it.
final class RunningMapService {
    let service: MapService
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let endpoint: SocketmapEndpoint
    let port: Int
    let log: LogRecorder

    private init(service: MapService, group: ServiceGroup, task: Task<Void, any Error>, endpoint: SocketmapEndpoint, port: Int, log: LogRecorder) {
        self.service = service
        self.group = group
        self.task = task
        self.endpoint = endpoint
        self.port = port
        self.log = log
    }

    static func start(path: String, deliveryOverride: DeliveryTransport? = nil, threads: Int = 2) async throws -> RunningMapService {
        let log = LogRecorder()
        let (listening, continuation) = AsyncStream<SocketmapEndpoint>.makeStream()
        let service = MapService(
            path: path,
            configuration: .init(server: .init(host: "127.0.0.1", port: 0), deliveryOverride: deliveryOverride, threads: threads),
            logger: log.logger, onListening: { continuation.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [service], logger: log.logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = listening.makeAsyncIterator()
        guard let endpoint = await iterator.next() else {
            try await task.value
            throw TestFailure("MapService stopped before listening")
        }
        guard case .inet(_, let port) = endpoint, port > 0 else { throw TestFailure("unexpected endpoint \(endpoint)") }
        return RunningMapService(service: service, group: group, task: task, endpoint: endpoint, port: port, log: log)
    }

    /// Asks for graceful shutdown and waits (at most `seconds`) for `run()` to return.
    /// True when it returned without an error. The limit is generous: with every suite of the
    /// test binary running in parallel on two cores, the cooperative pool can be busy with
    /// synchronous tests for tens of seconds (observed: 46 s) before this test resumes.
    @discardableResult
    func stop(within seconds: Double = 120) async -> Bool {
        await group.triggerGracefulShutdown()
        let finished = Mutex<Result<Void, any Error>?>(nil)
        let task = task
        let waiter = Task {
            let result = await task.result
            finished.withLock { $0 = result }
        }
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, finished.withLock({ $0 }) == nil { try? await Task.sleep(for: .milliseconds(20)) }
        guard let result = finished.withLock({ $0 }) else {
            Issue.record("MapService.run() did not return within \(seconds) s of graceful shutdown")
            task.cancel()
            _ = await waiter.value
            return false
        }
        if case .failure(let error) = result { Issue.record("MapService.run() threw \(error)") }
        if case .success = result { return true }
        return false
    }
}

/// Runs blocking socket or SQLite work on a thread of its own, off Swift's cooperative pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

final class Flag: Sendable {
    let value = Atomic<Bool>(false)
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Holding SQLite's WAL locks

/// Puts the directory's WAL index in the state its readers see while another process
/// recovers the WAL (after a writer crashed): the wal-index header copies disagree, and the
/// WAL write and recovery locks are held. A reader then waits for the recovery with its busy
/// handler and fails with SQLITE_BUSY ("database is locked") when its busy timeout runs out.
///
/// Why not `sqlite3 FILE` with `PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE`: in WAL mode
/// every open connection keeps a SHARED lock on the database file, so while `mailns serve`
/// runs, no one can take the EXCLUSIVE lock (the sqlite3 shell itself gets "database is
/// locked"); and a plain writer never blocks WAL readers.
///
/// The locks are open-file-description locks (F_OFD_SETLK), which conflict with SQLite's own
/// POSIX locks even in this process. The descriptor stays open until `close()` (closing a
/// descriptor of the -shm file drops every POSIX lock this process's SQLite holds on it).
final class WALRecoveryInProgress {
    private let fd: Int32
    private var original: UInt8 = 0
    private var held = false

    /// F_OFD_SETLK from Linux's fcntl.h (not exported to Swift).
    private static let setOFDLock: Int32 = 37
    /// SQLite's unix VFS locks WAL slots at byte 120 + slot of the -shm file: WRITE, CKPT, RECOVER.
    private static let firstLockByte = 120, lockedBytes = 3
    /// A byte inside the first copy of the wal-index header (iChange).
    private static let headerByte: off_t = 8

    init(databasePath: String) throws {
        fd = open(databasePath + "-shm", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw TestFailure("cannot open \(databasePath)-shm: errno \(errno)") }
    }

    deinit { if held { release() } }

    func hold() throws {
        try lock(Int16(F_WRLCK))
        held = true
        guard pread(fd, &original, 1, Self.headerByte) == 1 else { throw TestFailure("cannot read the wal-index header") }
        var flipped = original ^ 0xFF
        guard pwrite(fd, &flipped, 1, Self.headerByte) == 1 else { throw TestFailure("cannot write the wal-index header") }
    }

    /// Puts the header back as it was and lets go of the locks: the recovery "finished".
    func release() {
        guard held else { return }
        _ = pwrite(fd, &original, 1, Self.headerByte)
        try? lock(Int16(F_UNLCK))
        held = false
    }

    /// Closes the descriptor: only once the service and every other connection are closed.
    func close() {
        release()
        Glibc.close(fd)
    }

    private func lock(_ type: Int16) throws {
        var request = flock()
        request.l_type = type
        request.l_whence = Int16(SEEK_SET)
        request.l_start = off_t(Self.firstLockByte)
        request.l_len = off_t(Self.lockedBytes)
        request.l_pid = 0
        guard fcntl(fd, Self.setOFDLock, &request) == 0 else { throw TestFailure("F_OFD_SETLK failed: errno \(errno)") }
    }
}

// MARK: - The tests

@Suite("MapService: Postfix's maps over socketmap from a live SQLite directory", .serialized)
struct MapServiceTests {
    let dir: TestDirectory

    init() throws { dir = try TestDirectory() }

    /// contoso.local authoritative; contoso.com shared, the other system behind connector
    /// Legacy; fabrikam.com relay, reached by DNS through connector Internet (`*`); alice a
    /// mailbox with a primary in contoso.com and a secondary in contoso.local; dan a contact
    /// forwarding to fabrikam.com; carol a remote recipient living in the other system; eve a
    /// contact whose target is in an authoritative domain (a loop); partner.example not
    /// accepted, but connector Partner allows relay to it.
    private func populate() throws {
        try dir.addDomain("contoso.local", .authoritative)
        try dir.addDomain("contoso.com", .shared)
        try dir.addDomain("fabrikam.com", .relay)
        try dir.directory.addConnector(
            Connector(
                name: "Legacy", addressSpaces: [try AddressSpace(parsing: "contoso.com")],
                delivery: .smartHosts([try SmartHost(parsing: "[10.0.0.5]:2525")])))
        try dir.directory.addConnector(Connector(name: "Internet", addressSpaces: [try AddressSpace(parsing: "*;100")], delivery: .dns))
        try dir.directory.addConnector(
            Connector(
                name: "Partner", addressSpaces: [try AddressSpace(parsing: "partner.example")],
                delivery: .smartHosts([try SmartHost(parsing: "[10.0.2.25]")]), allowsRelay: true))
        try dir.directory.addRecipient(
            Recipient(
                alias: "alice", isPolicyManaged: false,
                addresses: [try ProxyAddress(parsing: "SMTP:Alice.Smith@contoso.com"), try ProxyAddress(parsing: "smtp:alice@contoso.local")]))
        try dir.directory.addRecipient(
            Recipient(
                alias: "dan", kind: .contact, targetAddress: try EmailAddress(parsing: "dan@fabrikam.com"), isPolicyManaged: false,
                addresses: [try ProxyAddress(parsing: "SMTP:dan@contoso.com")]))
        try dir.directory.addRecipient(
            Recipient(alias: "carol", kind: .remote, isPolicyManaged: false, addresses: [try ProxyAddress(parsing: "SMTP:carol@contoso.com")]))
        try dir.directory.addRecipient(
            Recipient(
                alias: "eve", kind: .contact, targetAddress: try EmailAddress(parsing: "eve@contoso.local"), isPolicyManaged: false,
                addresses: [try ProxyAddress(parsing: "SMTP:eve@contoso.com")]))
    }

    private func domain(_ text: String) throws -> DomainName { try DomainName(parsing: text) }

    @Test("every map answers as Postfix needs it, keys in any letter case; an unknown map name gets PERM")
    func everyMap() async throws {
        try populate()
        let running = try await RunningMapService.start(path: dir.path)
        var stopped = false
        defer { if !stopped { running.task.cancel() } }
        let client = try SocketmapTestClient(port: running.port)

        let expectations: [(map: String, key: String, reply: String)] = [
            // Domain lists: authoritative → virtual_mailbox_domains; shared and relay → relay_domains.
            ("mailbox-domains", "contoso.local", "OK authoritative"),
            ("mailbox-domains", "CONTOSO.Local", "OK authoritative"),
            ("mailbox-domains", "contoso.com", "NOTFOUND "),
            ("mailbox-domains", "fabrikam.com", "NOTFOUND "),
            ("mailbox-domains", "example.org", "NOTFOUND "),
            ("mailbox-domains", "alice@contoso.local", "NOTFOUND "),
            ("relay-domains", "Contoso.COM", "OK shared"),
            ("relay-domains", "FABRIKAM.com", "OK relay"),
            ("relay-domains", "contoso.local", "NOTFOUND "),
            ("relay-domains", "example.org", "NOTFOUND "),
            // Not accepted, but a connector allows relay to it: relay-class too.
            ("relay-domains", "Partner.EXAMPLE", "OK relay-connector"),
            ("relay-domains", "eu.partner.example", "NOTFOUND "),
            ("mailbox-domains", "partner.example", "NOTFOUND "),
            ("relay-recipients", "Someone@Partner.Example", "OK OK"),
            ("transport", "Someone@Partner.Example", "OK smtp:[10.0.2.25]"),
            ("recipient-access", "someone@partner.example", "OK DUNNO"),
            // Mailboxes: the Maildir (the alias, lower-cased), by any address, any case, any +extension.
            ("mailboxes", "Alice.Smith@CONTOSO.com", "OK alice/"),
            ("mailboxes", "ALICE@contoso.local", "OK alice/"),
            ("mailboxes", "alice+Sales@Contoso.Local", "OK alice/"),
            ("mailboxes", "nobody@contoso.local", "NOTFOUND "),
            ("mailboxes", "contoso.local", "NOTFOUND "),
            ("mailboxes", "@contoso.local", "NOTFOUND "),
            // Relay recipients: every address of a relay-class domain the resolver accepts.
            ("relay-recipients", "carol@Contoso.com", "OK OK"),
            ("relay-recipients", "Alice.Smith@contoso.com", "OK OK"),
            ("relay-recipients", "unknown@contoso.com", "OK OK"),
            ("relay-recipients", "Anyone@FABRIKAM.COM", "OK OK"),
            // Aliases: secondary → primary (a +tag kept on the primary); contact → target.
            ("aliases", "ALICE@contoso.local", "OK Alice.Smith@contoso.com"),
            ("aliases", "alice+Tag@Contoso.local", "OK Alice.Smith+Tag@contoso.com"),
            ("aliases", "Alice.Smith@contoso.com", "NOTFOUND "),
            ("aliases", "DAN@Contoso.com", "OK dan@fabrikam.com"),
            ("aliases", "carol@contoso.com", "NOTFOUND "),
            ("aliases", "nobody@contoso.local", "NOTFOUND "),
            // Transport: a mailbox → the delivery transport; forwarded → the connector's next hop.
            ("transport", "Alice.Smith@Contoso.COM", "OK virtual:"),
            ("transport", "alice+x@CONTOSO.LOCAL", "OK virtual:"),
            ("transport", "Carol@contoso.com", "OK smtp:[10.0.0.5]:2525"),
            ("transport", "unknown@Contoso.com", "OK smtp:[10.0.0.5]:2525"),
            ("transport", "someone@fabrikam.com", "OK smtp:"),
            ("transport", "dan@contoso.com", "OK smtp:"),
            ("transport", "nobody@contoso.local", "OK error:5.1.1 User unknown"),
            // Recipient access: the resolver's rejections, DUNNO for everything it accepts.
            ("recipient-access", "Nobody@Contoso.Local", "OK 550 5.1.1 User unknown"),
            ("recipient-access", "alice@contoso.local", "OK DUNNO"),
            ("recipient-access", "ALICE.SMITH@contoso.com", "OK DUNNO"),
            ("recipient-access", "carol@contoso.com", "OK DUNNO"),
            ("recipient-access", "unknown@contoso.com", "OK DUNNO"),
            ("recipient-access", "anyone@fabrikam.com", "OK DUNNO"),
            ("recipient-access", "Eve@contoso.com", "OK 550 5.4.6 forwarding loop (contact target eve@contoso.local is in an authoritative domain)"),
        ]
        for e in expectations {
            #expect(client.ask(e.map, e.key) == e.reply, "\(e.map) \(e.key)")
        }

        // A map name mailns serve does not answer: a configuration error on the Postfix side.
        let unknown = client.ask("virtual_alias_maps", "alice@contoso.local")
        #expect(unknown.hasPrefix("PERM unknown map name 'virtual_alias_maps'"), "\(unknown)")
        for map in PostfixMap.allCases { #expect(unknown.contains(map.rawValue), "the PERM lists \(map.rawValue): \(unknown)") }
        // After a PERM reply (not a malformed frame), the connection goes on.
        #expect(client.ask("mailbox-domains", "contoso.local") == "OK authoritative")

        let answers = running.service.answers.snapshot()
        #expect(answers.permanent == 1)
        #expect(answers.temporary == 0)
        #expect(answers.found + answers.notFound == expectations.count + 1)

        stopped = await running.stop()
    }

    @Test("a change committed by another connection to the file (as another process) is answered by the next lookup, without a restart")
    func liveChanges() async throws {
        try populate()
        let running = try await RunningMapService.start(path: dir.path)
        var stopped = false
        defer { if !stopped { running.task.cancel() } }
        let client = try SocketmapTestClient(port: running.port)
        let other = try DirectoryStore(path: dir.path)
        let otherNamespace = Namespace(directory: other)

        // A new recipient.
        #expect(client.ask("recipient-access", "Bob@Contoso.Local") == "OK 550 5.1.1 User unknown")
        #expect(client.ask("mailboxes", "bob@contoso.local") == "NOTFOUND ")
        try other.addRecipient(Recipient(alias: "bob", isPolicyManaged: false, addresses: [try ProxyAddress(parsing: "SMTP:bob@contoso.local")]))
        #expect(client.ask("recipient-access", "Bob@Contoso.Local") == "OK DUNNO")
        #expect(client.ask("mailboxes", "BOB@contoso.local") == "OK bob/")
        #expect(client.ask("transport", "Bob@contoso.local") == "OK virtual:")

        // A new address on an existing recipient.
        #expect(client.ask("aliases", "bob.b@contoso.local") == "NOTFOUND ")
        _ = try other.addAddress(try ProxyAddress(parsing: "smtp:bob.b@contoso.local"), to: "bob")
        #expect(client.ask("aliases", "Bob.B@contoso.local") == "OK bob@contoso.local")

        // A new accepted domain.
        #expect(client.ask("mailbox-domains", "Northwind.Example") == "NOTFOUND ")
        try other.addDomain(AcceptedDomain(name: try domain("northwind.example"), type: .authoritative))
        #expect(client.ask("mailbox-domains", "Northwind.Example") == "OK authoritative")
        #expect(client.ask("recipient-access", "x@northwind.example") == "OK 550 5.1.1 User unknown")

        // Recipient validation turned on for the shared domain: its unknowns are refused.
        #expect(client.ask("relay-recipients", "nobody@contoso.com") == "OK OK")
        try otherNamespace.updateDomain(try domain("contoso.com")) { $0.validatesRecipients = true }
        #expect(client.ask("relay-recipients", "nobody@contoso.com") == "NOTFOUND ")
        #expect(client.ask("recipient-access", "Nobody@contoso.com") == "OK 550 5.1.1 User unknown")
        #expect(client.ask("relay-recipients", "carol@contoso.com") == "OK OK")

        // The delivery transport setting.
        try other.setDeliveryTransport(.lmtp(host: "127.0.0.1", port: 24))
        #expect(client.ask("transport", "Alice.Smith@contoso.com") == "OK lmtp:inet:127.0.0.1:24")

        // "Forward unresolved recipients": contoso.local's unknowns now go there, so it becomes relay-class.
        try other.setUnresolvedHost(try SmartHost(parsing: "[10.0.0.9]"))
        #expect(client.ask("mailbox-domains", "contoso.local") == "NOTFOUND ")
        #expect(client.ask("relay-domains", "contoso.local") == "OK authoritative")
        #expect(client.ask("recipient-access", "nobody@contoso.local") == "OK DUNNO")
        #expect(client.ask("transport", "nobody@contoso.local") == "OK smtp:[10.0.0.9]")
        try other.setUnresolvedHost(nil)

        // A removed recipient is unknown again.
        try other.removeRecipient(alias: "bob")
        #expect(client.ask("recipient-access", "bob@contoso.local") == "OK 550 5.1.1 User unknown")
        #expect(client.ask("mailboxes", "bob@contoso.local") == "NOTFOUND ")
        #expect(client.ask("aliases", "bob.b@contoso.local") == "NOTFOUND ")

        stopped = await running.stop()
    }

    @Test("deliveryOverride replaces the directory's delivery-transport setting in transport answers")
    func deliveryOverride() async throws {
        try populate()
        let running = try await RunningMapService.start(path: dir.path, deliveryOverride: .lmtp(host: "::1", port: 2424))
        var stopped = false
        defer { if !stopped { running.task.cancel() } }
        let client = try SocketmapTestClient(port: running.port)
        #expect(try dir.directory.settings().deliveryTransport == .virtual)
        #expect(client.ask("transport", "alice@contoso.local") == "OK lmtp:inet:[::1]:2424")
        #expect(client.ask("transport", "carol@contoso.com") == "OK smtp:[10.0.0.5]:2525")
        stopped = await running.stop()
    }

    @Test("while the directory is locked every lookup answers TEMP (never NOTFOUND), and answers return once it is released")
    func lockedDirectoryAnswersTEMP() async throws {
        try populate()
        let running = try await RunningMapService.start(path: dir.path)
        var stopped = false
        defer { if !stopped { running.task.cancel() } }
        let client = try SocketmapTestClient(port: running.port)
        // Warm up: the service has read the directory (its routing table is cached).
        #expect(client.ask("recipient-access", "nobody@contoso.local") == "OK 550 5.1.1 User unknown")
        #expect(client.ask("mailbox-domains", "contoso.local") == "OK authoritative")

        let recovery = try WALRecoveryInProgress(databasePath: dir.path)
        defer { recovery.close() }
        try recovery.hold()
        let asked: [(String, String)] = [
            ("recipient-access", "nobody@contoso.local"),  // would be a 550 …
            ("recipient-access", "alice@contoso.local"),  // … or DUNNO
            ("mailboxes", "alice@contoso.local"),
            ("aliases", "alice@contoso.local"),
            ("transport", "Alice.Smith@contoso.com"),
            ("relay-recipients", "carol@contoso.com"),
            ("mailbox-domains", "contoso.local"),
            ("relay-domains", "contoso.com"),
        ]
        // Each waits out the busy timeout (200 ms by default) and answers; a lookup that hung
        // on the lock instead would get no reply within the client's 10 s receive timeout.
        for (map, key) in asked {
            let reply = client.ask(map, key)
            #expect(reply.hasPrefix("TEMP "), "\(map) \(key) while locked: \(reply)")
        }
        // A second connection (possibly on the other event loop, its own SQLite connection) too.
        let second = try SocketmapTestClient(port: running.port)
        #expect(second.ask("recipient-access", "nobody@contoso.local").hasPrefix("TEMP "))
        recovery.release()

        #expect(client.ask("recipient-access", "nobody@contoso.local") == "OK 550 5.1.1 User unknown")
        #expect(client.ask("recipient-access", "alice@contoso.local") == "OK DUNNO")
        #expect(client.ask("mailbox-domains", "contoso.local") == "OK authoritative")
        #expect(second.ask("transport", "Alice.Smith@contoso.com") == "OK virtual:")
        #expect(running.service.answers.snapshot().temporary == asked.count + 1)
        let warnings = running.log.all.filter { $0.message == "lookup failed, answered TEMP" }
        #expect(warnings.count == asked.count + 1, "each TEMP is logged as a warning")
        #expect(warnings.allSatisfy { $0.level == .warning && ($0.metadata["error"] ?? "").contains("locked") }, "\(warnings.map(\.metadata))")

        stopped = await running.stop()
    }

    /// Regression (review): a value the schema's CHECK lets through but mailns cannot read,
    /// written by hand with sqlite3, stopped serve at the next lookup (a precondition).
    @Test(
        "a stored value mailns cannot read answers TEMP and serve keeps running; fixed, answers return",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3"), "needs /usr/bin/sqlite3"))
    func unreadableStoredValueAnswersTEMP() async throws {
        try populate()
        let running = try await RunningMapService.start(path: dir.path)
        var stopped = false
        defer { if !stopped { running.task.cancel() } }
        let client = try SocketmapTestClient(port: running.port)
        #expect(client.ask("transport", "Alice.Smith@contoso.com") == "OK virtual:")
        try sqlite3(dir.path, "UPDATE server_setting SET delivery_transport = 'lmtp:mailstore'")
        #expect(client.ask("transport", "Alice.Smith@contoso.com").hasPrefix("TEMP "))
        #expect(client.ask("recipient-access", "nobody@contoso.local").hasPrefix("TEMP "))
        let warning = running.log.all.last { $0.message == "lookup failed, answered TEMP" }
        #expect((warning?.metadata["error"] ?? "").contains("cannot read: delivery-transport 'lmtp:mailstore'"), "\(String(describing: warning))")
        try sqlite3(dir.path, "UPDATE server_setting SET delivery_transport = 'virtual'")
        #expect(client.ask("transport", "Alice.Smith@contoso.com") == "OK virtual:")
        stopped = await running.stop()
    }

    /// Runs sqlite3 on the directory file, as an operator editing it by hand.
    private func sqlite3(_ path: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-batch", path, sql]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "sqlite3 \(sql)")
    }

    @Test("graceful shutdown of the ServiceGroup: run() returns, open connections are closed, the port is closed, a summary is logged")
    func gracefulShutdown() async throws {
        try populate()
        let running = try await RunningMapService.start(path: dir.path)
        let client = try SocketmapTestClient(port: running.port)
        #expect(client.ask("mailboxes", "alice@contoso.local") == "OK alice/")
        #expect(client.ask("mailboxes", "nobody@contoso.local") == "NOTFOUND ")
        #expect(isListening(port: running.port))
        let listening = running.log.all.first { $0.message.hasPrefix("listening on ") }
        #expect(listening?.message == "listening on inet:127.0.0.1:\(running.port)")
        #expect(listening?.metadata["database"] == dir.path)

        let returned = await running.stop()
        #expect(returned, "run() returned without an error")
        #expect(client.isClosedByPeer(), "the open connection is closed at shutdown")
        #expect(!isListening(port: running.port), "the port is closed after run() returns")

        let summary = running.log.all.first { $0.message == "summary at exit" }
        #expect(summary != nil, "a summary is logged at exit: \(running.log.all.map(\.message))")
        // The isListening probe above was a second connection.
        #expect(summary?.metadata["connections"] == "2")
        #expect(summary?.metadata["requests"] == "2")
        #expect(summary?.metadata["ok"] == "1")
        #expect(summary?.metadata["notfound"] == "1")
        #expect(summary?.metadata["temp"] == "0")
    }

    @Test("lookups on several connections while another connection keeps committing: every answer is the old or the new one, never TEMP, and never goes back")
    func lookupsDuringWrites() async throws {
        try populate()
        let running = try await RunningMapService.start(path: dir.path, threads: 2)
        var stopped = false
        defer { if !stopped { running.task.cancel() } }
        let port = running.port
        let path = dir.path
        let total = 300
        let writerDone = Flag()
        let writer = Task {
            try await onThread {
                let other = try DirectoryStore(path: path)
                for index in 0..<total {
                    try other.addRecipient(
                        Recipient(alias: "u\(index)", isPolicyManaged: false, addresses: [try ProxyAddress(parsing: "SMTP:u\(index)@contoso.local")]))
                }
            }
        }
        let readers = (0..<3).map { reader in
            Task {
                try await onThread { () throws -> [String] in
                    let client = try SocketmapTestClient(port: port)
                    var problems: [String] = []
                    var known = Set<Int>()
                    var finalPass = false
                    var index = reader
                    while problems.count < 10 {
                        let done = writerDone.value.load(ordering: .acquiring)
                        let key = "U\(index)@Contoso.Local"
                        switch client.ask("recipient-access", key) {
                        case "OK DUNNO": known.insert(index)
                        case "OK 550 5.1.1 User unknown":
                            if known.contains(index) { problems.append("\(key) went back to unknown") }
                            if finalPass { problems.append("\(key) unknown after the writer finished") }
                        case let other: problems.append("\(key): \(other)")
                        }
                        if index % 10 == 0 {
                            let alice = client.ask("mailboxes", "alice@contoso.local")
                            if alice != "OK alice/" { problems.append("alice: \(alice)") }
                            let domain = client.ask("mailbox-domains", "contoso.local")
                            if domain != "OK authoritative" { problems.append("contoso.local: \(domain)") }
                        }
                        index += 1
                        if index >= total {
                            if finalPass { break }
                            index = 0
                            finalPass = done
                        }
                    }
                    return problems
                }
            }
        }
        try await writer.value
        writerDone.value.store(true, ordering: .releasing)
        for reader in readers {
            let problems = try await reader.value
            #expect(problems.isEmpty, "\(problems)")
        }
        #expect(running.service.answers.snapshot().temporary == 0)
        stopped = await running.stop()
    }

    @Test("a database file that cannot be opened fails run(), before listening")
    func unopenableFileFailsTheStart() async throws {
        let folder = dir.folder.appendingPathComponent("not-a-db.sqlite").path
        try Data("this is not a SQLite database, just text long enough to have a header of sorts...".utf8).write(to: URL(fileURLWithPath: folder))
        await #expect(throws: (any Error).self) { _ = try await RunningMapService.start(path: folder) }
    }
}
