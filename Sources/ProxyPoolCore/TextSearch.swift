// Substring search, replacement and splitting on a string's UTF-8 bytes.
//
// The standard library has these only in _StringProcessing (with Regex), which our targets do not import
// (`-disable-implicit-string-processing-module-import` in Package.swift): linking it and _RegexParser put ~1.2 MiB
// into each binary for four calls. What we search is protocol text, error bodies and secrets, where a byte match
// is the right one anyway: no canonical equivalence, so a secret is redacted wherever its bytes occur. The scan
// itself is ByteSearch.swift's `firstRange(ofBytes:)`.

extension StringProtocol {
    /// Whether `needle` occurs in the string (bytewise; an empty needle always does).
    public func includes(_ needle: some StringProtocol) -> Bool {
        if needle.utf8.isEmpty { return true }
        // Native strings and substrings are contiguous UTF-8: searched in place, nothing copied (the WebSocket
        // observer asks per event).
        return utf8.withContiguousStorageIfAvailable { $0.firstRange(ofBytes: needle.utf8) != nil }
            ?? (Array(utf8).firstRange(ofBytes: needle.utf8) != nil)
    }

    /// The string with every non-overlapping occurrence of `target`, left to right, replaced by `replacement`.
    public func replacingEvery(_ target: some StringProtocol, with replacement: some StringProtocol) -> String {
        let hay = Array(utf8)
        var rest = hay[...]
        var out: [UInt8] = []
        while let r = rest.firstRange(ofBytes: target.utf8) {
            if out.isEmpty { out.reserveCapacity(hay.count) }
            out.append(contentsOf: rest[..<r.lowerBound])
            out.append(contentsOf: replacement.utf8)
            rest = rest[r.upperBound...]
        }
        if rest.count == hay.count { return String(self) }   // nothing matched (an empty target never does)
        out.append(contentsOf: rest)
        return String(decoding: out, as: UTF8.self)
    }

    /// The pieces between occurrences of `separator` (empty pieces kept, so n separators give n + 1 pieces).
    public func pieces(separatedBy separator: some StringProtocol) -> [Substring] {
        let s = Substring(self), bytes = Array(s.utf8)
        var result: [Substring] = []
        var rest = bytes[...]
        while let r = rest.firstRange(ofBytes: separator.utf8) {
            result.append(Self.slice(s, rest.startIndex, r.lowerBound))
            rest = bytes[r.upperBound...]
        }
        result.append(Self.slice(s, rest.startIndex, bytes.count))
        return result
    }

    private static func slice(_ s: Substring, _ from: Int, _ to: Int) -> Substring {
        let u = s.utf8
        let a = u.index(u.startIndex, offsetBy: from), b = u.index(u.startIndex, offsetBy: to)
        return s[a..<b]
    }
}
