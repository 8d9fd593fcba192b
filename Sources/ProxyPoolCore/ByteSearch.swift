// Searching bytes for bytes. Foundation's DataProtocol gave [UInt8] a `firstRange(of:)`; the shipped targets no
// longer see Foundation (nor _StringProcessing's Collection algorithms), and the CLI looks for markers in HTTP
// heads, SSE streams and pages with this.

extension RandomAccessCollection where Element == UInt8 {
    /// The first occurrence of `pattern`, or nil (also for an empty pattern). A naive scan: patterns are a few
    /// bytes (CRLF CRLF, a marker), and the texts are bounded by their callers.
    public func firstRange(ofBytes pattern: some Collection<UInt8>) -> Range<Index>? {
        let pat = Array(pattern)
        guard let first = pat.first, count >= pat.count else { return nil }
        var i = startIndex
        let last = index(endIndex, offsetBy: -pat.count)
        while i <= last {
            let end = index(i, offsetBy: pat.count)
            if self[i] == first && self[i..<end].elementsEqual(pat) { return i..<end }
            i = index(after: i)
        }
        return nil
    }
}
