import Glibc

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
    forEachHeaderToken(v) { out.append($0) }
    return out
}

/// Each comma-separated token of a header value, spaces trimmed (empty ones skipped), with no array made.
@inline(__always) func forEachHeaderToken(_ v: UnsafeRawBufferPointer, _ body: (Range<Int>) -> Void) {
    var i = 0
    while i < v.count {
        var start = i
        while i < v.count && v[i] != 44 { i += 1 }
        var end = i
        while start < end && (v[start] == 32 || v[start] == 9) { start += 1 }
        while end > start && (v[end - 1] == 32 || v[end - 1] == 9) { end -= 1 }
        if start < end { body(start..<end) }
        i += 1
    }
}

/// ASCII case-insensitive equality with a lower-case word.
func equalsLowercase(_ b: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
    guard b.count == word.utf8CodeUnitCount else { return false }
    let w = word.utf8Start
    for i in 0..<b.count { let c = b[i]; if (c >= 65 && c <= 90 ? c + 32 : c) != w[i] { return false } }
    return true
}

/// Byte equality with a literal (case matters).
func equalsExactly(_ b: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
    b.count == word.utf8CodeUnitCount && memcmp(b.baseAddress!, word.utf8Start, b.count) == 0
}

/// The same for a String, its bytes read in place (no copy of the String, so no retain and release).
func equalsExactly(_ b: UnsafeRawBufferPointer, _ word: String) -> Bool {
    withUTF8Bytes(of: word) { u in b.count == u.count && (b.count == 0 || memcmp(b.baseAddress!, u.baseAddress!, b.count) == 0) }
}

/// Header names that nearly every request or upstream answer carries. The parsers recognise them by their
/// bytes (length first) and use literals for the name and its lower-cased form: two Strings fewer per header,
/// and Host and the framing headers are told apart without comparing strings.
enum KnownHeader {
    case date, vary, server, connection, keepAlive, requestID, contentType, xRequestID
    case cacheControl, contentLength, contentEncoding, transferEncoding, strictTransportSecurity, host, accept, origin
    case expect, xAPIKey, userAgent, authorization, acceptEncoding, xGoogAPIKey, anthropicVersion, anthropicBeta

    init?(_ n: UnsafeRawBufferPointer) {
        switch n.count {
        case 4:
            if equalsLowercase(n, "date") { self = .date }
            else if equalsLowercase(n, "vary") { self = .vary }
            else if equalsLowercase(n, "host") { self = .host }
            else { return nil }
        case 6:
            if equalsLowercase(n, "server") { self = .server }
            else if equalsLowercase(n, "accept") { self = .accept }
            else if equalsLowercase(n, "origin") { self = .origin }
            else if equalsLowercase(n, "expect") { self = .expect }
            else { return nil }
        case 9: if equalsLowercase(n, "x-api-key") { self = .xAPIKey } else { return nil }
        case 10:
            if equalsLowercase(n, "connection") { self = .connection }
            else if equalsLowercase(n, "keep-alive") { self = .keepAlive }
            else if equalsLowercase(n, "request-id") { self = .requestID }
            else if equalsLowercase(n, "user-agent") { self = .userAgent }
            else { return nil }
        case 12:
            if equalsLowercase(n, "content-type") { self = .contentType }
            else if equalsLowercase(n, "x-request-id") { self = .xRequestID }
            else { return nil }
        case 13:
            if equalsLowercase(n, "cache-control") { self = .cacheControl }
            else if equalsLowercase(n, "authorization") { self = .authorization }
            else { return nil }
        case 14:
            if equalsLowercase(n, "content-length") { self = .contentLength }
            else if equalsLowercase(n, "x-goog-api-key") { self = .xGoogAPIKey }
            else if equalsLowercase(n, "anthropic-beta") { self = .anthropicBeta }
            else { return nil }
        case 15: if equalsLowercase(n, "accept-encoding") { self = .acceptEncoding } else { return nil }
        case 16: if equalsLowercase(n, "content-encoding") { self = .contentEncoding } else { return nil }
        case 17:
            if equalsLowercase(n, "transfer-encoding") { self = .transferEncoding }
            else if equalsLowercase(n, "anthropic-version") { self = .anthropicVersion }
            else { return nil }
        case 25: if equalsLowercase(n, "strict-transport-security") { self = .strictTransportSecurity } else { return nil }
        default: return nil
        }
    }

    var lowerName: String {
        switch self {
        case .date: "date"
        case .vary: "vary"
        case .server: "server"
        case .connection: "connection"
        case .keepAlive: "keep-alive"
        case .requestID: "request-id"
        case .contentType: "content-type"
        case .xRequestID: "x-request-id"
        case .cacheControl: "cache-control"
        case .contentLength: "content-length"
        case .contentEncoding: "content-encoding"
        case .transferEncoding: "transfer-encoding"
        case .strictTransportSecurity: "strict-transport-security"
        case .host: "host"
        case .accept: "accept"
        case .origin: "origin"
        case .expect: "expect"
        case .xAPIKey: "x-api-key"
        case .userAgent: "user-agent"
        case .authorization: "authorization"
        case .acceptEncoding: "accept-encoding"
        case .xGoogAPIKey: "x-goog-api-key"
        case .anthropicVersion: "anthropic-version"
        case .anthropicBeta: "anthropic-beta"
        }
    }

    /// The spelling most senders use (nginx, Go's net/http, curl, most SDKs that do not send lower case): a literal,
    /// so a header spelled so costs no String of its own.
    var usualName: String {
        switch self {
        case .date: "Date"
        case .vary: "Vary"
        case .server: "Server"
        case .connection: "Connection"
        case .keepAlive: "Keep-Alive"
        case .requestID: "Request-Id"
        case .contentType: "Content-Type"
        case .xRequestID: "X-Request-Id"
        case .cacheControl: "Cache-Control"
        case .contentLength: "Content-Length"
        case .contentEncoding: "Content-Encoding"
        case .transferEncoding: "Transfer-Encoding"
        case .strictTransportSecurity: "Strict-Transport-Security"
        case .host: "Host"
        case .accept: "Accept"
        case .origin: "Origin"
        case .expect: "Expect"
        case .xAPIKey: "X-Api-Key"
        case .userAgent: "User-Agent"
        case .authorization: "Authorization"
        case .acceptEncoding: "Accept-Encoding"
        case .xGoogAPIKey: "X-Goog-Api-Key"
        case .anthropicVersion: "Anthropic-Version"
        case .anthropicBeta: "Anthropic-Beta"
        }
    }
}

/// Appends a String's UTF-8 bytes with one copy (`append(contentsOf: s.utf8)` goes through the generic
/// sequence path, ~170 instructions per header name or value).
public func appendUTF8(_ out: inout [UInt8], _ s: String) {
    var s = s
    s.withUTF8 { out.append(contentsOf: $0) }
}

/// A String's UTF-8 bytes in place: no copy of the String (which `var s = s; s.withUTF8` makes, a retain and a
/// release) unless its storage is not contiguous.
@inline(__always) public func withUTF8Bytes<R>(of s: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    if let r = try s.utf8.withContiguousStorageIfAvailable(body) { return r }
    var copy = s
    return try copy.withUTF8(body)
}

/// Bytes composed with plain copies into memory the caller sized (a head, a request): one append of the
/// result instead of one per part (each a call with uniqueness, capacity and exclusivity checks). Writing past
/// the capacity traps, never corrupts.
public struct ByteComposer {
    private let start: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    public private(set) var count = 0

    public init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        start = buffer.baseAddress!
        capacity = buffer.count
    }

    public var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: start, count: count) }

    public mutating func put(_ p: UnsafeBufferPointer<UInt8>) {
        guard let b = p.baseAddress, p.count > 0 else { return }
        precondition(p.count <= capacity - count, "ByteComposer: more bytes than the room computed for them")
        (start + count).update(from: b, count: p.count)
        count += p.count
    }

    public mutating func put(_ s: String) {
        withUTF8Bytes(of: s) { put($0) }
    }

    public mutating func put(_ s: StaticString) { put(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }

    public mutating func put(_ b: UInt8) {
        precondition(count < capacity, "ByteComposer: more bytes than the room computed for them")
        start[count] = b
        count += 1
    }

    /// Room a decimal Int takes at most: a sign and 19 digits.
    public static let decimalRoom = 20

    public mutating func putDecimal(_ v: Int) {
        var m = v.magnitude
        if v < 0 { put(45) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes of scratch, filled from the end
        let n = withUnsafeMutableBytes(of: &digits) { d -> Int in
            var i = d.count
            repeat { i -= 1; d[i] = UInt8(48 + m % 10); m /= 10 } while m > 0
            put(UnsafeBufferPointer(rebasing: d.bindMemory(to: UInt8.self)[i...]))
            return d.count - i
        }
        _ = n
    }
}

/// Whether `v` holds a control character other than HTAB (CR, LF, NUL, DEL…): the rule for a header value
/// (RFC 9110 §5.5). Eight bytes at a time; a word that may hold one (or a tab) is looked at byte by byte.
@inline(__always) func hasValueControlCharacter(_ v: UnsafeRawBufferPointer) -> Bool {
    guard let base = v.baseAddress else { return false }
    let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
    var i = 0
    while i &+ 8 <= v.count {
        let w = (base + i).loadUnaligned(as: UInt64.self)
        // A byte below 0x20 borrows into bit 7 when 0x20 is taken from it (one at or above 0x80 is left out by
        // ~w); DEL is the zero-byte test on w ^ 0x7F.
        let low = (w &- ones &* 0x20) & ~w & high
        let d = w ^ (ones &* 0x7F)
        let del = (d &- ones) & ~d & high
        if low | del != 0 { break }
        i &+= 8
    }
    while i < v.count {
        let c = v[i]
        if (c < 32 && c != 9) || c == 127 { return true }
        i &+= 1
    }
    return false
}
