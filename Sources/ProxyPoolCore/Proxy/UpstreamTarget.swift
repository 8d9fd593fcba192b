/// A credential as the proxy uses it (a snapshot of the store; the secret stays inside the daemon).
public struct CredentialRoute: Sendable, Equatable {
    public var name: String
    public var provider: ProviderKind
    public var secret: String
    public var baseURL: String?
    public var options: [String: String]
    public var enabled: Bool
    public var free: Bool
    public init(name: String, provider: ProviderKind, secret: String, baseURL: String?, options: [String: String], enabled: Bool, free: Bool) {
        self.name = name; self.provider = provider; self.secret = secret; self.baseURL = baseURL
        self.options = options; self.enabled = enabled; self.free = free
    }
}

/// A fixed set of lower-case header names, looked up by length first: most names a request carries are ruled
/// out by their length alone, with no hashing (a look-up per header, twice per request).
public struct HeaderNameSet: Sendable {
    private let byLength: [[String]]

    public init(_ names: [String]) {
        var t: [[String]] = Array(repeating: [], count: (names.map(\.utf8.count).max() ?? 0) + 1)
        for n in names { t[n.utf8.count].append(n) }
        byLength = t
    }

    public func contains(_ name: String) -> Bool {
        let n = name.utf8.count
        guard n < byLength.count else { return false }
        for candidate in byLength[n] where candidate == name { return true }
        return false
    }
}

/// Headers a message's own Connection headers declare hop-by-hop (RFC 9110 §7.6.1): they are for the one
/// connection they came on, so a proxy passes them on neither way.
public enum HopByHop {
    /// The lower-cased names listed in the Connection headers among `count` headers (their lower-case names by
    /// index, their values by index). `close` and `keep-alive` name no header and are left out, so for nearly
    /// every message this is empty and allocates nothing: the value is tokenized over its UTF-8 bytes in place,
    /// and only a token that is neither of the two becomes a String.
    public static func namedInConnection(count: Int, lowerName: (Int) -> String, value: (Int) -> String) -> [String] {
        var named: [String] = []
        for i in 0..<count {
            let n = lowerName(i)
            guard n.utf8.count == 10, n == "connection" else { continue }
            let v = value(i)
            let done: Void? = v.utf8.withContiguousStorageIfAvailable { addTokens(of: UnsafeRawBufferPointer($0), to: &named) }
            if done == nil { var copy = v; copy.withUTF8 { addTokens(of: UnsafeRawBufferPointer($0), to: &named) } }
        }
        return named
    }

    /// Adds the comma-separated tokens of `b` (optional whitespace around each, empty ones skipped), lower-cased,
    /// except `close` and `keep-alive` in any case.
    private static func addTokens(of b: UnsafeRawBufferPointer, to named: inout [String]) {
        var k = 0
        while k < b.count {
            var start = k
            while k < b.count && b[k] != 44 { k += 1 }   // ","
            var end = k
            k += 1
            while start < end && (b[start] == 32 || b[start] == 9) { start += 1 }
            while end > start && (b[end - 1] == 32 || b[end - 1] == 9) { end -= 1 }
            guard start < end else { continue }
            let token = UnsafeRawBufferPointer(rebasing: b[start..<end])
            if equalsLowercased(token, "close") || equalsLowercased(token, "keep-alive") { continue }
            named.append(String(decoding: token.lazy.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self))
        }
    }

    /// Whether `token` is `lower` (an ASCII lower-case literal) in any ASCII case.
    private static func equalsLowercased(_ token: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard token.count == lower.utf8CodeUnitCount else { return false }
        let l = lower.utf8Start
        for j in 0..<token.count {
            let c = token[j]
            if (c >= 65 && c <= 90 ? c + 32 : c) != l[j] { return false }
        }
        return true
    }
}

/// Where a request goes for a credential and how it authenticates: URL per provider (Azure's deployments
/// and /openai/v1 forms included) and the provider's auth headers. The client's own key never travels on.
public enum UpstreamTarget {
    /// Client headers never forwarded: hop-by-hop, framing, every kind of key, cookies, and encodings
    /// (the upstream is asked for identity so usage can be read from the stream).
    static let dropped = HeaderNameSet([
        "host", "connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "transfer-encoding",
        "upgrade", "content-length", "expect", "authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie",
        "accept-encoding", "openai-organization", "openai-project", "origin", "referer", AppDetection.labelHeader,
    ])

    public static func build(endpoint: Endpoint, path: Substring, query: Substring?, credential c: CredentialRoute,
                             clientHeaders: [(name: String, value: String)], lowerNames: [String]? = nil) -> (url: String, headers: [String]) {
        let q = query.map { q in q.split(separator: "&").filter { !$0.hasPrefix("key=") }.joined(separator: "&") } ?? ""
        func withQuery(_ u: String, extra: String? = nil) -> String {
            if q.isEmpty && extra == nil { return u }
            let parts = [q, extra ?? ""].filter { !$0.isEmpty }
            return parts.isEmpty ? u : u + (u.contains("?") ? "&" : "?") + parts.joined(separator: "&")
        }
        var base = c.baseURL ?? c.provider.defaultBaseURL ?? ""
        while base.hasSuffix("/") { base.removeLast() }
        let suffix = path.hasPrefix("/v1/") ? String(path.dropFirst(3)) : String(path)   // "/chat/completions"
        var headers: [String] = []
        headers.reserveCapacity(clientHeaders.count + 2)
        func lower(_ i: Int) -> String { lowerNames?[i] ?? clientHeaders[i].name.lowercased() }
        // Only a name of Connection's length can be it: no lower-casing of the others for the look.
        let named = HopByHop.namedInConnection(count: clientHeaders.count, lowerName: { i in
            lowerNames?[i] ?? (clientHeaders[i].name.utf8.count == 10 ? clientHeaders[i].name.lowercased() : "")
        }, value: { clientHeaders[$0].value })
        for (i, h) in clientHeaders.enumerated() {
            let name = lower(i)
            if dropped.contains(name) || (!named.isEmpty && named.contains(name)) { continue }
            headers.append("\(h.name): \(h.value)")
        }
        let url: String
        switch c.provider {
        case .openai, .openAICompatible, .chatGPTAccount:
            url = withQuery(base + suffix)
            headers.append("Authorization: Bearer \(c.secret)")
            if let org = c.options["organization"] { headers.append("OpenAI-Organization: \(org)") }
            if let project = c.options["project"] { headers.append("OpenAI-Project: \(project)") }
        case .azureOpenAI:
            if base.contains("/openai/v1") {
                url = withQuery(base + suffix)
            } else {
                let version = "api-version=\(c.options["api-version"] ?? "")"
                switch endpoint.kind {
                case .chatCompletions:
                    url = withQuery(base + "/openai/deployments/\(c.options["deployment"] ?? "_")/chat/completions", extra: version)
                default:
                    url = withQuery(base + "/openai" + suffix, extra: version)
                }
            }
            headers.append("api-key: \(c.secret)")
        case .anthropic, .claudeAccount:
            url = withQuery(base + String(path))
            headers.append("x-api-key: \(c.secret)")
            let clientVersion = lowerNames?.contains("anthropic-version") ?? clientHeaders.contains { $0.name.lowercased() == "anthropic-version" }
            if !clientVersion || named.contains("anthropic-version") {
                headers.append("anthropic-version: \(c.options["anthropic-version"] ?? "2023-06-01")")
            }
        case .gemini, .vertex:
            url = withQuery(base + String(path))
            headers.append("x-goog-api-key: \(c.secret)")
        }
        return (url, headers)
    }
}

public extension UpstreamTarget {
    /// The request `credential test` sends: the upstream's model list, which every kind has, costs nothing and
    /// needs the key. Nil for kinds this release does not serve.
    static func probe(_ c: CredentialRoute) -> (url: String, headers: [String])? {
        switch c.provider {
        case .openai, .openAICompatible, .azureOpenAI:
            return build(endpoint: Endpoint(dialect: .openai, kind: .models), path: "/v1/models", query: nil, credential: c, clientHeaders: [])
        case .anthropic:
            return build(endpoint: Endpoint(dialect: .anthropic, kind: .models), path: "/v1/models", query: nil, credential: c, clientHeaders: [])
        case .gemini:
            return build(endpoint: Endpoint(dialect: .gemini, kind: .models), path: "/v1beta/models", query: nil, credential: c, clientHeaders: [])
        case .vertex, .chatGPTAccount, .claudeAccount:
            return nil
        }
    }
}

/// The order in which credentials are tried for a request.
public enum Routing {
    /// The app's chain in its order; then, with fallback on, the rest of the pool: rotated round-robin, with the
    /// conversation's previous credential first while it stays usable (prompt caches stay warm).
    /// `secondaryPool` (credentials that need translation) comes after `pool`, each rotated on its own; the
    /// conversation's previous credential goes first wherever it is.
    public static func candidates(chain: [String], pool: [String], secondaryPool: [String] = [], usable: (String) -> Bool,
                                  fallbackToPool: Bool, rotation: Int, affinity: String?) -> [String] {
        var out = chain.filter(usable)
        guard fallbackToPool else { return out }
        func rotated(_ names: [String]) -> [String] {
            guard !names.isEmpty else { return [] }
            let rest = names.filter { !chain.contains($0) && usable($0) }   // chains are short: no set to build
            guard !rest.isEmpty else { return [] }
            let k = ((rotation % rest.count) + rest.count) % rest.count
            return Array(rest[k...] + rest[..<k])
        }
        var rest = rotated(pool) + rotated(secondaryPool)
        if let a = affinity, let i = rest.firstIndex(of: a) { rest.insert(rest.remove(at: i), at: 0) }
        out += rest
        return out
    }
}
