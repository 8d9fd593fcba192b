import Glibc

/// Token counts read from a response as it streams by: the numbers after the usage keys of all four APIs.
/// Keeps the largest value seen per key (streams repeat running totals), and a short tail so that a key cut
/// across two chunks is still found. It never holds the response, and allocates nothing: the tail lives inline
/// and the junction of tail and chunk on the stack (one scanner per exchange, so a heap tail was a malloc and a
/// free per request).
public struct UsageScanner: Sendable {
    public private(set) var input: Int64 = 0
    public private(set) var output: Int64 = 0
    public private(set) var cached: Int64 = 0
    /// The last `tailLength` bytes seen (fewer at first), inline.
    private var tail: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
    private var tailCount = 0

    static let inputKeys = ["\"prompt_tokens\"", "\"input_tokens\"", "\"promptTokenCount\""].map { Array($0.utf8) }
    static let outputKeys = ["\"completion_tokens\"", "\"output_tokens\"", "\"candidatesTokenCount\""].map { Array($0.utf8) }
    static let cachedKeys = ["\"cached_tokens\"", "\"cache_read_input_tokens\"", "\"cachedContentTokenCount\""].map { Array($0.utf8) }

    /// Every key, quotes included, holds "oken" once (tokens, TokenCount): the scan looks for that 'k' (a rare
    /// letter in JSON, found by memchr) and tries the keys from there, instead of stopping at every quote.
    struct Key {
        let bytes: [UInt8]
        /// Where the k of "oken" is in `bytes`.
        let k: Int
        /// 0 input, 1 output, 2 cached.
        let slot: Int
    }
    static let keys: [Key] = [inputKeys, outputKeys, cachedKeys].enumerated().flatMap { slot, list in
        list.map { bytes in
            let k = (1..<bytes.count - 3).first { bytes[$0 - 1] == 0x6F && bytes[$0] == 0x6B && bytes[$0 + 1] == 0x65 && bytes[$0 + 2] == 0x6E }!
            return Key(bytes: bytes, k: k, slot: slot)
        }
    }
    /// Longer than every key, so a key cut across two chunks is whole in the junction.
    static let tailLength = 48
    static let junctionPrefix = 64

    public init() {}

    /// Reads `tail + chunk` as one text, without building it: the junction (the tail and the chunk's first bytes)
    /// and then the chunk are scanned in place. Finding a value twice changes nothing (the largest is kept); a
    /// value that runs past the junction's end is read from the whole concatenation (rare: long whitespace).
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        let c = chunk.bindMemory(to: UInt8.self)
        guard let cBase = c.baseAddress, c.count > 0 else { return }
        let t = tailCount
        if t > 0 {
            let n = min(c.count, Self.junctionPrefix)
            let cut = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.tailLength + Self.junctionPrefix) { j -> Bool in
                copyTail(to: j.baseAddress!)
                (j.baseAddress! + t).update(from: cBase, count: n)
                return scan(UnsafeBufferPointer(rebasing: j[0..<(t + n)]))
            }
            if cut && n < c.count {
                var all = [UInt8](repeating: 0, count: t)
                all.withUnsafeMutableBufferPointer { copyTail(to: $0.baseAddress!) }
                all.append(contentsOf: c)
                _ = all.withUnsafeBufferPointer { scan($0) }
            }
        }
        _ = scan(c)
        // The new tail: the last tailLength bytes of tail + chunk.
        if c.count >= Self.tailLength {
            setTail(UnsafeBufferPointer(rebasing: c[(c.count - Self.tailLength)...]))
        } else {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * Self.tailLength) { j in
                copyTail(to: j.baseAddress!)
                (j.baseAddress! + t).update(from: cBase, count: c.count)
                let total = t + c.count
                setTail(UnsafeBufferPointer(rebasing: j[max(0, total - Self.tailLength)..<total]))
            }
        }
    }

    public mutating func feed(_ chunk: [UInt8]) { chunk.withUnsafeBytes { feed($0) } }

    private func copyTail(to p: UnsafeMutablePointer<UInt8>) {
        let t = tailCount
        withUnsafeBytes(of: tail) { p.update(from: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: t) }
    }

    private mutating func setTail(_ b: UnsafeBufferPointer<UInt8>) {
        withUnsafeMutableBytes(of: &tail) { $0.baseAddress!.copyMemory(from: b.baseAddress!, byteCount: b.count) }
        tailCount = b.count
    }

    /// Returns whether a key's value was cut off by the end of `b` (it is read again with more bytes).
    private mutating func scan(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress, b.count > 3 else { return false }
        var cut = false
        var i = 1
        while i + 2 < b.count {
            guard let found = memchr(base + i, 0x6B, b.count - 2 - i) else { break }
            i = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            guard b[i - 1] == 0x6F && b[i + 1] == 0x65 && b[i + 2] == 0x6E else { i += 1; continue }
            var next = i + 1
            for key in Self.keys {
                let at = i - key.k, n = key.bytes.count
                // The first and last bytes (both quotes) and the letter after the quote first; a memcmp when they agree.
                guard at >= 0, at + n < b.count, b[at] == 0x22, b[at + n - 1] == 0x22, b[at + 1] == key.bytes[1],
                      key.bytes.withUnsafeBufferPointer({ memcmp(base + at, $0.baseAddress!, n) == 0 }) else { continue }
                var v = at + n
                while v < b.count, b[v] == 0x20 || b[v] == UInt8(ascii: ":") { v += 1 }
                if let (value, end) = Self.number(b, v, &cut) {
                    switch key.slot {
                    case 0: input = max(input, value)
                    case 1: output = max(output, value)
                    default: cached = max(cached, value)
                    }
                    next = end
                }
                break   // at most one key ends at this "oken": they differ, and one quote pair holds one
            }
            i = next
        }
        return cut
    }

    /// A JSON number's text longer than this is taken as the cap (no real count is; 18 digits and an exponent
    /// fit), so a long one is never cut across chunks past the tail and is never read as less than it is.
    static let maxNumberLength = 20

    /// The non-negative number at `b[start...]` as a token count, read in place like `Saturating.tokens(text:)`
    /// reads it: a fraction is cut to its integer part, an exponent applied, and the result held to 0…10^12.
    /// nil when no digit starts there (a sign, a string); nil with `cut` set when `b` ends inside it.
    private static func number(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ cut: inout Bool) -> (Int64, Int)? {
        let cap = Saturating.maxTokensPerRequest
        // digits × 10^exponent, from at most 18 significant digits. A 19th integer digit is the cap at once (no
        // real count has one), not read on: its key may be gone from the tail by the time the number ends.
        var mantissa: Int64 = 0, kept = 0, exponent = 0, sawDigit = false
        var i = start
        func isDigit(_ i: Int) -> Bool { i < b.count && b[i] >= 0x30 && b[i] <= 0x39 }
        while isDigit(i) {
            if kept == 18 { return (cap, i) }
            mantissa = mantissa * 10 + Int64(b[i] - 0x30); if mantissa > 0 { kept += 1 }
            sawDigit = true; i += 1
            if i - start > maxNumberLength { return (cap, i) }
        }
        if i == b.count { cut = true; return nil }
        guard sawDigit else { return nil }
        if b[i] == UInt8(ascii: ".") {
            i += 1
            while isDigit(i) {
                if kept < 18 { mantissa = mantissa * 10 + Int64(b[i] - 0x30); if mantissa > 0 { kept += 1 }; exponent -= 1 }
                i += 1
                if i - start > maxNumberLength { return (cap, i) }
            }
        }
        if i < b.count && (b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
            i += 1
            var negative = false
            if i < b.count && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) { negative = b[i] == UInt8(ascii: "-"); i += 1 }
            var e = 0
            while isDigit(i) {
                e = min(e * 10 + Int(b[i] - 0x30), 1_000_000)   // far past any cap, and no overflow
                i += 1
                if i - start > maxNumberLength { return (cap, i) }
            }
            exponent += negative ? -e : e
        }
        if i == b.count { cut = true; return nil }
        var v = mantissa
        if v == 0 { return (0, i) }
        if exponent >= 0 {
            for _ in 0..<exponent { if v >= cap { break }; v *= 10 }   // below 10^12 before: no overflow
        } else {
            for _ in 0 ..< -exponent { v /= 10; if v == 0 { break } }
        }
        return (min(v, cap), i)
    }
}
