// scripts/bench's helpers, not a product:
//
//   mailns-bench resolve DATABASE KEYS_FILE [ROUNDS]
//       Router.resolve against bare point lookups, in process (Resolve.swift).
//   mailns-bench trivial-socketmap [--listen 127.0.0.1:PORT | unix:PATH] [--threads N]
//       The loopback floor: SocketmapServer answering without any lookup (TrivialSocketmap.swift).
//   mailns-bench socketmap-load --connect 127.0.0.1:PORT --map NAME --keys FILE --connections N
//                               [--requests TOTAL] [--seconds MAX]
//       A socketmap load client, one request in flight per connection (SocketmapLoad.swift).
import Foundation

func usage() -> Never {
    FileHandle.standardError.write(Data("""
        usage: mailns-bench resolve DATABASE KEYS_FILE [ROUNDS]
               mailns-bench trivial-socketmap [--listen 127.0.0.1:PORT | unix:PATH] [--threads N]
               mailns-bench socketmap-load --connect 127.0.0.1:PORT --map NAME --keys FILE --connections N [--requests TOTAL] [--seconds MAX]

        """.utf8))
    exit(64)
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("mailns-bench: \(message)\n".utf8))
    exit(1)
}

func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// `--name value` options; anything else is a usage error.
func options(_ arguments: ArraySlice<String>, allowed: Set<String>) -> [String: String] {
    var result: [String: String] = [:]
    var rest = arguments
    while let name = rest.popFirst() {
        guard allowed.contains(name), let value = rest.popFirst() else { usage() }
        result[name] = value
    }
    return result
}

/// `HOST:PORT`, the host an IPv4 literal.
func hostAndPort(_ text: String) -> (host: String, port: Int) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
        fail("expected HOST:PORT, got '\(text)'")
    }
    return (String(text[..<colon]), port)
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "resolve": try runResolve(arguments)
    case "trivial-socketmap": try await runTrivialSocketmap(arguments.dropFirst())
    case "socketmap-load": try runSocketmapLoad(arguments.dropFirst())
    default: usage()
    }
} catch {
    fail("\(error)")
}
