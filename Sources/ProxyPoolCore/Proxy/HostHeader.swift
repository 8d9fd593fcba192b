/// The `Host` header (RFC 9110 §7.2: `uri-host [ ":" port ]`, with uri-host from RFC 3986 §3.2.2), read strictly.
/// proxypoold answers only to its own names (DNS-rebinding defence), so anything that is not exactly a host and
/// an optional port is refused: `[::1]evil.example` or `localhost:evil.example` must not pass as `[::1]` or
/// `localhost`, as a "strip everything after the host" reading would let them.
public enum HostHeader {
    public struct Parsed: Equatable, Sendable {
        /// Lower-cased. An IPv6 literal keeps its brackets (`[::1]`), as the allowed names are written.
        public var host: String
        public var port: UInt16?
        public init(host: String, port: UInt16?) { self.host = host; self.port = port }
    }

    /// Longer values are refused without being looked at (a DNS name is at most 253 bytes).
    public static let maxLength = 300

    /// `host`, `host:port`, `[v6]` or `[v6]:port`; the host a reg-name (unreserved, sub-delims, %HH) or an IPv6
    /// literal in brackets, the port 1–65535 (one to five digits). Nil for anything else, the empty value included.
    public static func parse<S: StringProtocol>(_ value: S) -> Parsed? {
        let b = Array(value.utf8)
        guard !b.isEmpty, b.count <= maxLength else { return nil }
        let hostEnd: Int
        if b[0] == UInt8(ascii: "[") {
            guard let close = b.firstIndex(of: UInt8(ascii: "]")), isIPv6(b[1..<close]) else { return nil }
            hostEnd = close + 1
        } else {
            hostEnd = b.firstIndex(of: UInt8(ascii: ":")) ?? b.count
            guard hostEnd > 0, isRegName(b[0..<hostEnd]) else { return nil }
        }
        var port: UInt16?
        if hostEnd < b.count {
            guard b[hostEnd] == UInt8(ascii: ":"), let p = parsePort(b[(hostEnd + 1)...]) else { return nil }
            port = p
        }
        let host = String(decoding: b[0..<hostEnd].map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
        return Parsed(host: host, port: port)
    }

    /// Whether `value` parses and names one of `allowed` (lower-case entries: `name`, `[v6]`, or `name:port` to
    /// allow one port only).
    public static func isAllowed<S: StringProtocol>(_ value: S, allowed: Set<String>) -> Bool {
        guard let p = parse(value) else { return false }
        if allowed.contains(p.host) { return true }
        if let port = p.port { return allowed.contains("\(p.host):\(port)") }
        return false
    }

    // MARK: RFC 3986 pieces

    private static func isRegName(_ b: ArraySlice<UInt8>) -> Bool {
        var i = b.startIndex
        while i < b.endIndex {
            let c = b[i]
            if c == UInt8(ascii: "%") {
                guard i + 2 < b.endIndex, isHex(b[i + 1]), isHex(b[i + 2]) else { return false }
                i += 3
                continue
            }
            guard isUnreserved(c) || isSubDelim(c) else { return false }
            i += 1
        }
        return true
    }

    private static func isUnreserved(_ c: UInt8) -> Bool {
        isAlpha(c) || isDigit(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "~")
    }

    /// ! $ & ' ( ) * + , ; =
    private static func isSubDelim(_ c: UInt8) -> Bool {
        switch c {
        case 0x21, 0x24, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x3B, 0x3D: return true
        default: return false
        }
    }

    private static func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    private static func isHex(_ c: UInt8) -> Bool { isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) }

    private static func parsePort(_ b: ArraySlice<UInt8>) -> UInt16? {
        guard (1...5).contains(b.count), b.allSatisfy(isDigit) else { return nil }
        let n = b.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return (1...65535).contains(n) ? UInt16(n) : nil
    }

    /// RFC 3986 IPv6address: eight groups of 1–4 hex digits, or fewer around one `::`, the last two groups
    /// possibly written as a dotted IPv4 address. No zone identifier.
    static func isIPv6(_ b: ArraySlice<UInt8>) -> Bool {
        guard b.count >= 2, b.count <= 45 else { return false }
        let colon = UInt8(ascii: ":")
        var gap: Int?
        var i = b.startIndex
        while i + 1 < b.endIndex {
            if b[i] == colon && b[i + 1] == colon { gap = i; break }
            i += 1
        }
        guard let gap else { return groupCount(b, ipv4Tail: true) == 8 }
        guard let left = groupCount(b[b.startIndex..<gap], ipv4Tail: false),
              let right = groupCount(b[(gap + 2)...], ipv4Tail: true) else { return false }
        return left + right <= 7
    }

    /// The 16-bit groups in `a:b:c` (an empty slice has none), or nil if one is malformed (an empty group
    /// included, which also catches a second `::`).
    private static func groupCount(_ b: ArraySlice<UInt8>, ipv4Tail: Bool) -> Int? {
        if b.isEmpty { return 0 }
        let groups = b.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var n = 0
        for (k, g) in groups.enumerated() {
            if k == groups.count - 1, ipv4Tail, g.contains(UInt8(ascii: ".")) {
                guard isIPv4(g) else { return nil }
                n += 2
            } else {
                guard (1...4).contains(g.count), g.allSatisfy(isHex) else { return nil }
                n += 1
            }
        }
        return n
    }

    /// Four dec-octets (0–255, no leading zeros) separated by dots.
    private static func isIPv4(_ b: ArraySlice<UInt8>) -> Bool {
        let parts = b.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for p in parts {
            guard (1...3).contains(p.count), p.allSatisfy(isDigit), p.count == 1 || p.first != UInt8(ascii: "0") else { return false }
            if p.reduce(0, { $0 * 10 + Int($1 - 0x30) }) > 255 { return false }
        }
        return true
    }
}
