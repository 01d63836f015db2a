// `mailns-bench resolve DATABASE KEYS_FILE [ROUNDS]`: times `Router.resolve` against its floor,
// bare point lookups on the address index through the same SQLite wrapper, on the same keys in
// the same process. Used by scripts/bench.
//
// Prints one line of JSON: lookups, seconds and lookups/s for both, the ratio, and the
// resolve latency percentiles in microseconds.
import Foundation
import MailNamespace
import MailStore

func runResolve(_ arguments: [String]) throws {
    guard arguments.count >= 3 else { usage() }
    let rounds = arguments.count > 3 ? Int(arguments[3]) ?? 3 : 3
    let keys = try String(contentsOfFile: arguments[2], encoding: .utf8).split(separator: "\n").map(String.init)
    let directory = try DirectoryStore(path: arguments[1])
    let router = try Router(directory: directory)

    // Warm both paths (page cache, statement cache, routing table).
    for key in keys.prefix(10_000) {
        _ = try directory.benchmarkPointLookup(key.lowercased())
        _ = try router.resolve(key, trusted: false)
    }

    var floorSeconds = Double.infinity
    var resolveSeconds = Double.infinity
    var latencies: [UInt64] = []
    var decisions: [String: Int] = [:]
    for round in 0..<rounds {
        var start = nanoseconds()
        var found = 0
        for key in keys where try directory.benchmarkPointLookup(key) != nil { found += 1 }
        floorSeconds = min(floorSeconds, Double(nanoseconds() - start) / 1e9)

        var roundLatencies: [UInt64] = []
        roundLatencies.reserveCapacity(keys.count)
        start = nanoseconds()
        for key in keys {
            let t0 = nanoseconds()
            let decision = try router.resolve(key, trusted: false)
            roundLatencies.append(nanoseconds() - t0)
            if round == 0 { decisions["row \(decision.row)", default: 0] += 1 }
        }
        let seconds = Double(nanoseconds() - start) / 1e9
        if seconds < resolveSeconds {
            resolveSeconds = seconds
            latencies = roundLatencies
        }
        _ = found
    }
    latencies.sort()
    let sorted = latencies
    let percentile = { (p: Double) -> Double in Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1000 }
    let result: [String: Any] = [
        "lookups": keys.count,
        "floorSeconds": floorSeconds, "floorPerSecond": Int(Double(keys.count) / floorSeconds),
        "resolveSeconds": resolveSeconds, "resolvePerSecond": Int(Double(keys.count) / resolveSeconds),
        "ratio": (Double(keys.count) / resolveSeconds) / (Double(keys.count) / floorSeconds),
        "p50us": percentile(0.50), "p99us": percentile(0.99), "p999us": percentile(0.999), "maxus": Double(latencies.last ?? 0) / 1000,
        "rows": decisions,
    ]
    let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
