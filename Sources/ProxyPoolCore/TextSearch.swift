// Substring search, replacement and splitting on a string's UTF-8 bytes.
//
// The standard library has these only in _StringProcessing (with Regex), which our targets do not import
// (`-disable-implicit-string-processing-module-import` in Package.swift): linking it and _RegexParser put ~1.2 MiB
// into each binary for four calls. What we search is protocol text, error bodies and secrets, where a byte match
// is the right one anyway: no canonical equivalence, so a secret is redacted wherever its bytes occur.

extension StringProtocol {
    /// Whether `needle` occurs in the string (bytewise; an empty needle always does).
    public func includes(_ needle: some StringProtocol) -> Bool {
        firstByteOffset(of: needle) != nil
    }

    /// The string with every non-overlapping occurrence of `target`, left to right, replaced by `replacement`.
    public func replacingEvery(_ target: some StringProtocol, with replacement: some StringProtocol) -> String {
        let hay = Array(utf8), pat = Array(target.utf8)
        guard !pat.isEmpty, hay.count >= pat.count else { return String(self) }
        var out: [UInt8] = []
        out.reserveCapacity(hay.count)
        var i = 0, copied = 0
        while i + pat.count <= hay.count {
            if hay[i] == pat[0] && hay[i..<(i + pat.count)].elementsEqual(pat) {
                out.append(contentsOf: hay[copied..<i])
                out.append(contentsOf: replacement.utf8)
                i += pat.count
                copied = i
            } else {
                i += 1
            }
        }
        if copied == 0 { return String(self) }
        out.append(contentsOf: hay[copied...])
        return String(decoding: out, as: UTF8.self)
    }

    /// The pieces between occurrences of `separator` (empty pieces kept, so n separators give n + 1 pieces).
    public func pieces(separatedBy separator: some StringProtocol) -> [Substring] {
        let s = Substring(self), sep = Array(separator.utf8)
        guard !sep.isEmpty else { return [s] }
        var result: [Substring] = []
        let bytes = Array(s.utf8)
        var start = 0, i = 0
        while i + sep.count <= bytes.count {
            if bytes[i] == sep[0] && bytes[i..<(i + sep.count)].elementsEqual(sep) {
                result.append(Self.slice(s, start, i))
                i += sep.count
                start = i
            } else {
                i += 1
            }
        }
        result.append(Self.slice(s, start, bytes.count))
        return result
    }

    private func firstByteOffset(of needle: some StringProtocol) -> Int? {
        // Native strings and substrings are contiguous UTF-8: searched in place, nothing copied (the WebSocket
        // observer asks per event).
        let found = utf8.withContiguousStorageIfAvailable { hay in
            needle.utf8.withContiguousStorageIfAvailable { pat in Self.search(hay, pat) } ?? Self.search(hay, Array(needle.utf8))
        }
        if let found { return found }
        let hay = Array(utf8)
        return Self.search(hay, Array(needle.utf8))
    }

    private static func search(_ hay: some RandomAccessCollection<UInt8>, _ pat: some RandomAccessCollection<UInt8>) -> Int? {
        if pat.isEmpty { return 0 }
        guard hay.count >= pat.count, let first = pat.first else { return nil }
        var i = hay.startIndex
        let last = hay.index(hay.endIndex, offsetBy: -pat.count)
        while i <= last {
            if hay[i] == first && hay[i..<hay.index(i, offsetBy: pat.count)].elementsEqual(pat) { return hay.distance(from: hay.startIndex, to: i) }
            i = hay.index(after: i)
        }
        return nil
    }

    private static func slice(_ s: Substring, _ from: Int, _ to: Int) -> Substring {
        let u = s.utf8
        let a = u.index(u.startIndex, offsetBy: from), b = u.index(u.startIndex, offsetBy: to)
        return s[a..<b]
    }
}
