import Foundation  // StringTransform: ICU's transliterator on Linux

/// Transliterates names to ASCII the way ICU's `Any-Latin; de-ASCII; Latin-ASCII` does
/// (Jürgen → Juergen, Łukasz → Lukasz, Straße → Strasse).
///
/// ASCII input takes a fast path: ICU runs about 100k strings/s, too slow to sit on the path
/// of the common case. Results are cached because merged directories repeat names a lot.
/// Not thread-safe: one per policy run.
package final class Transliterator {
    private static let transform = StringTransform("Any-Latin; de-ASCII; Latin-ASCII")
    private var cache: [String: String] = [:]
    private static let maximumCacheEntries = 100_000

    package init() {}

    package func ascii(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        if let cached = cache[text] { return cached }
        let result = text.applyingTransform(Self.transform, reverse: false) ?? text
        if cache.count >= Self.maximumCacheEntries { cache.removeAll(keepingCapacity: true) }
        cache[text] = result
        return result
    }
}
