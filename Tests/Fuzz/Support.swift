// Shared by every fuzz target (compiled into each target's module; not part of the SwiftPM package).

/// The fuzzer's input as an array.
@inline(__always)
func input(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// An invariant the target checks beyond "does not crash". A failure traps, which libFuzzer reports as a crash
/// and saves as `crash-<sha1>`.
func check(_ ok: @autoclosure () -> Bool, _ what: @autoclosure () -> String) {
    if !ok() { fatalError("fuzz invariant failed: \(what())") }
}

/// Deterministic chunk sizes from a seed (xorshift), so a crash input replays the same splits.
struct Splitter {
    var state: UInt64
    init(seed: UInt8, salt: UInt64 = 0) { state = (UInt64(seed) &+ 1) &* 0x9E37_79B9_7F4A_7C15 ^ salt | 1 }

    mutating func next(max: Int) -> Int {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Int(state % UInt64(Swift.max(max, 1))) + 1
    }

    /// `bytes` cut into pieces of 1…maxPiece bytes, handed to `body` one at a time. No array of them: a byte-wise
    /// split of a 7 KB input was a 224 KB array (and a retain per piece) on every run.
    mutating func forEachPiece(of bytes: ArraySlice<UInt8>, maxPiece: Int, _ body: (ArraySlice<UInt8>) throws -> Void) rethrows {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let n = Swift.min(next(max: maxPiece), bytes.endIndex - i)
            try body(bytes[i..<i + n])
            i += n
        }
    }

    /// `bytes` cut into pieces of 1…maxPiece bytes.
    mutating func chunks(_ bytes: ArraySlice<UInt8>, maxPiece: Int) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let n = Swift.min(next(max: maxPiece), bytes.endIndex - i)
            out.append(bytes[i..<i + n])
            i += n
        }
        return out
    }
}
