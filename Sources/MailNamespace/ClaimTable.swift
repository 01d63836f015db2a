/// An open-addressing hash table from 64-bit hashes of keys to 32-bit numbers (a line, an
/// index): 12 bytes a slot, against about 50 for a Dictionary of Strings. For the claims of runs
/// over a million records. A hash found is taken for the same key: two different keys among
/// three million share one with a chance of about 10⁻⁷, and what follows is at worst a record
/// rejected (to the reject file, naming the other line) or a dry run's prediction off by one
/// suffix, never a wrong write: the database's own constraints still decide those.
struct ClaimTable {
    private var hashes: [UInt64] = Array(repeating: 0, count: 1 << 12)
    private var lines: [UInt32] = Array(repeating: 0, count: 1 << 12)
    private var count = 0

    /// FNV-1a over `prefix`, a separator and `text` with ASCII letters folded (SQLite's NOCASE
    /// folds exactly those), then a 64-bit finaliser; never 0, which marks an empty slot.
    static func hash(_ prefix: String, _ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in prefix.utf8 {
            h = (h ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        h = (h ^ 0x1F) &* 0x100_0000_01b3
        for byte in text.utf8 {
            let folded = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            h = (h ^ UInt64(folded)) &* 0x100_0000_01b3
        }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h == 0 ? 1 : h
    }

    subscript(hash: UInt64) -> UInt32? {
        get {
            let mask = hashes.count - 1
            var slot = Int(truncatingIfNeeded: hash) & mask
            while hashes[slot] != 0 {
                if hashes[slot] == hash { return lines[slot] }
                slot = (slot + 1) & mask
            }
            return nil
        }
        set {
            guard let line = newValue else { preconditionFailure("claims are never removed") }
            if (count + 1) * 4 > hashes.count * 3 { grow() }
            let mask = hashes.count - 1
            var slot = Int(truncatingIfNeeded: hash) & mask
            while hashes[slot] != 0 && hashes[slot] != hash { slot = (slot + 1) & mask }
            if hashes[slot] == 0 { count += 1 }
            hashes[slot] = hash
            lines[slot] = line
        }
    }

    private mutating func grow() {
        let oldHashes = hashes
        let oldLines = lines
        hashes = Array(repeating: 0, count: oldHashes.count * 2)
        lines = Array(repeating: 0, count: oldHashes.count * 2)
        let mask = hashes.count - 1
        for (index, hash) in oldHashes.enumerated() where hash != 0 {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while hashes[slot] != 0 { slot = (slot + 1) & mask }
            hashes[slot] = hash
            lines[slot] = oldLines[index]
        }
    }
}
