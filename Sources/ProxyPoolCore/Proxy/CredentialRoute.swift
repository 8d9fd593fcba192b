/// A credential as the proxy uses it (a snapshot of the store; the secret stays inside the daemon).
public struct CredentialRoute: Sendable, Equatable {
    public var name: String
    public var provider: ProviderKind
    public var secret: String
    public var baseURL: String?
    public var options: [String: String]
    public var enabled: Bool
    public var free: Bool
    /// The auth header lines of a credential whose auth is a fixed header (an API key), made once when the
    /// daemon loads its routing snapshot instead of on every request; nil for token grants and until loaded.
    public var staticAuth: [String]?
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
            addTokens(of: value(i), to: &named)
        }
        return named
    }

    /// The lower-cased names one Connection value lists, `close` and `keep-alive` left out (for nearly every
    /// message nothing, and nothing allocated).
    public static func named(inConnection value: String) -> [String] {
        var named: [String] = []
        addTokens(of: value, to: &named)
        return named
    }

    /// Adds the tokens of one Connection value, over its UTF-8 bytes in place (copied only when not contiguous).
    private static func addTokens(of value: String, to named: inout [String]) {
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { addTokens(of: UnsafeRawBufferPointer($0), to: &named) }
        if done == nil { var copy = value; copy.withUTF8 { addTokens(of: UnsafeRawBufferPointer($0), to: &named) } }
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
