// Byte-level rules shared by the request and the response parser (and by the libcurl transport's header check).

/// ASCII lower-casing for header names (tokens are ASCII): no copy when there is nothing to change, and none of
/// `lowercased()`'s Unicode work.
public func asciiLowercased(_ s: String) -> String {
    var s = s
    guard s.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) else { return s }
    return s.withUTF8 { asciiLowercased(UnsafeRawBufferPointer($0)) }
}

/// Header-name bytes as a lower-cased `String` (the request parser, the upstream response parser and curl's header
/// callback all need it).
public func asciiLowercased(_ b: UnsafeRawBufferPointer) -> String {
    String(unsafeUninitializedCapacity: b.count) { out in
        for i in 0..<b.count { let c = b[i]; out[i] = c >= 65 && c <= 90 ? c + 32 : c }
        return b.count
    }
}

/// An RFC 9110 token character (methods, header names).
@inlinable public func isTokenChar(_ c: UInt8) -> Bool {
    switch c {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
         UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
         UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): return true
    default: return false
    }
}

/// The comma-separated tokens of a header value, as ranges, spaces trimmed (empty ones skipped).
public func headerTokens(_ v: UnsafeRawBufferPointer) -> [Range<Int>] {
    var out: [Range<Int>] = []
    var i = 0
    while i < v.count {
        var start = i
        while i < v.count && v[i] != 44 { i += 1 }
        var end = i
        while start < end && (v[start] == 32 || v[start] == 9) { start += 1 }
        while end > start && (v[end - 1] == 32 || v[end - 1] == 9) { end -= 1 }
        if start < end { out.append(start..<end) }
        i += 1
    }
    return out
}

/// ASCII case-insensitive equality with a lower-case word.
func equalsLowercase(_ b: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
    guard b.count == word.utf8CodeUnitCount else { return false }
    let w = word.utf8Start
    for i in 0..<b.count { let c = b[i]; if (c >= 65 && c <= 90 ? c + 32 : c) != w[i] { return false } }
    return true
}
