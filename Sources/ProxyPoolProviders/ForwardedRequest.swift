import ProxyPoolCore

/// A client request on its way to a credential: the client's query without its `key=`, the credential's base
/// without trailing slashes, and the client's headers that may travel on. Providers build their URL from it and
/// may add headers of their own.
public struct ForwardedRequest {
    /// Client headers never forwarded: hop-by-hop, framing, every kind of key, cookies, and encodings
    /// (the upstream is asked for identity so usage can be read from the stream).
    static let dropped = HeaderNameSet([
        "host", "connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "transfer-encoding",
        "upgrade", "content-length", "expect", "authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie",
        "accept-encoding", "openai-organization", "openai-project", "origin", "referer", AppDetection.labelHeader,
    ])

    /// The client's path as sent, e.g. `/v1/chat/completions`.
    public let path: Substring
    /// The path without its `/v1` (`/chat/completions`), for bases that end in `/v1`.
    public let suffix: String
    public let base: String
    /// The header lines going upstream.
    public var headers: [String]
    /// Names the client's Connection headers list: for its connection to us only.
    public let connectionNamed: [String]
    private let query: String
    private let clientHeaders: [(name: String, value: String)]
    private let lowerNames: [String]?

    init(path: Substring, query: Substring?, base: String, clientHeaders: [(name: String, value: String)], lowerNames: [String]?) {
        self.path = path
        self.query = query.map { q in q.split(separator: "&").filter { !$0.hasPrefix("key=") }.joined(separator: "&") } ?? ""
        var b = base
        while b.hasSuffix("/") { b.removeLast() }
        self.base = b
        // By bytes: Substring.hasPrefix and dropFirst go by Characters (grapheme breaking, ~2,500 instructions
        // per request); a request target is ASCII (the parser refuses anything else).
        suffix = Self.suffix(path)
        var out: [String] = []
        out.reserveCapacity(clientHeaders.count + 2)
        func lower(_ i: Int) -> String { lowerNames?[i] ?? clientHeaders[i].name.lowercased() }
        // Only a name of Connection's length can be it: no lower-casing of the others for the look, and no look
        // at all when the parser's lower-case names hold no Connection (most requests).
        let mayNameHeaders = lowerNames.map { names in names.contains { $0.utf8.count == 10 && $0 == "connection" } } ?? true
        let named = !mayNameHeaders ? [] : HopByHop.namedInConnection(count: clientHeaders.count, lowerName: { i in
            lowerNames?[i] ?? (clientHeaders[i].name.utf8.count == 10 ? clientHeaders[i].name.lowercased() : "")
        }, value: { clientHeaders[$0].value })
        for (i, h) in clientHeaders.enumerated() {
            let name = lower(i)
            if Self.dropped.contains(name) || (!named.isEmpty && named.contains(name)) { continue }
            out.append(Self.line(h.name, h.value))
        }
        headers = out
        connectionNamed = named
        self.clientHeaders = clientHeaders
        self.lowerNames = lowerNames
    }

    /// The path without a leading `/v1` (`/v1/chat/completions` → `/chat/completions`), from its bytes.
    static func suffix(_ path: Substring) -> String {
        var path = path
        return path.withUTF8 { b in
            let v1 = b.count >= 4 && b[0] == UInt8(ascii: "/") && b[1] == UInt8(ascii: "v") && b[2] == UInt8(ascii: "1") && b[3] == UInt8(ascii: "/")
            return String(decoding: UnsafeBufferPointer(rebasing: b[(v1 ? 3 : 0)...]), as: UTF8.self)
        }
    }

    /// `name: value` as one String made with one copy of each (an interpolation cost ~900 instructions, a
    /// byte loop ~25 per byte).
    static func line(_ name: String, _ value: String) -> String {
        var name = name, value = value
        let count = name.utf8.count + 2 + value.utf8.count
        return name.withUTF8 { n in
            value.withUTF8 { v in
                String(unsafeUninitializedCapacity: count) { out in
                    let base = out.baseAddress!
                    if let nb = n.baseAddress { base.update(from: nb, count: n.count) }
                    base[n.count] = UInt8(ascii: ":"); base[n.count + 1] = UInt8(ascii: " ")
                    if let vb = v.baseAddress { (base + n.count + 2).update(from: vb, count: v.count) }
                    return count
                }
            }
        }
    }

    /// Whether the client sent a header of this lower-case name (forwarded or not).
    public func clientSent(_ lowerName: String) -> Bool {
        lowerNames?.contains(lowerName) ?? clientHeaders.contains { $0.name.lowercased() == lowerName }
    }

    /// `url` with the client's query (and `extra`) appended.
    public func withQuery(_ url: String, extra: String? = nil) -> String {
        if query.isEmpty && extra == nil { return url }
        let parts = [query, extra ?? ""].filter { !$0.isEmpty }
        return parts.isEmpty ? url : url + (url.contains("?") ? "&" : "?") + parts.joined(separator: "&")
    }
}

public enum PathSegment {
    /// A model name as one path segment: anything but unreserved characters percent-encoded, and `@` too
    /// unless `keepingAt` (RFC 3986 allows it in a segment; Vertex's Claude ids carry one, sent as is).
    public static func encode(_ s: String, keepingAt: Bool = false) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in s.utf8 {
            if Validation.isAlnum(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
                || (keepingAt && b == UInt8(ascii: "@")) {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
