/// Which app sent a request. The app bound to the request's access key wins; then an explicit
/// `X-Proxypool-App` label; then header rules (the user's first, then built-in ones for the clients we know);
/// else `default`.
public struct AppRule: Sendable, Equatable, Codable {
    public enum Match: String, Sendable, Codable { case prefix, contains, equals }
    /// Lower-case header name.
    public var header: String
    public var match: Match
    /// Compared case-insensitively.
    public var value: String
    public var app: String

    public init(header: String, match: Match, value: String, app: String) {
        self.header = header.lowercased(); self.match = match; self.value = value.lowercased(); self.app = app
    }

    /// `header` returns lower-cased values.
    func matches(_ header: (String) -> String?) -> Bool {
        guard let v = header(self.header) else { return false }
        switch match {
        case .prefix: return v.hasPrefix(value)
        case .contains: return v.includes(value)
        case .equals: return v == value
        }
    }
}

public enum AppDetection {
    public static let defaultApp = "default"
    public static let labelHeader = "x-proxypool-app"

    /// Built-in rules, from what the real clients send (shared notes, clients.md). Order matters: the coding
    /// tools before the SDKs they are built on.
    public static let builtinRules: [AppRule] = [
        AppRule(header: "originator", match: .prefix, value: "codex", app: "codex"),
        AppRule(header: "user-agent", match: .prefix, value: "codex", app: "codex"),
        AppRule(header: "user-agent", match: .prefix, value: "claude-cli/", app: "claude-code"),
        AppRule(header: "x-app", match: .equals, value: "cli", app: "claude-code"),
        AppRule(header: "user-agent", match: .contains, value: "geminicli", app: "gemini-cli"),
        AppRule(header: "user-agent", match: .contains, value: "openclaw", app: "openclaw"),
        AppRule(header: "user-agent", match: .prefix, value: "openai/", app: "openai-sdk"),
        AppRule(header: "user-agent", match: .prefix, value: "anthropic/", app: "anthropic-sdk"),
        AppRule(header: "x-goog-api-client", match: .contains, value: "google-genai-sdk", app: "google-genai-sdk"),
    ]

    /// How an app was recognised: said in words only when someone asks (the dashboard, `proxypoolctl apps`),
    /// so a request builds no string for it.
    public enum Recognition: Sendable, Equatable {
        case accessKey, label, userRule(AppRule), builtinRule(AppRule), noRule

        public var description: String {
            switch self {
            case .accessKey: return "access key bound to the app"
            case .label: return "X-Proxypool-App header"
            case .userRule(let r): return "your rule: \(r.header) \(r.match.rawValue) \"\(r.value)\""
            case .builtinRule(let r): return "built-in rule: \(r.header) \(r.match.rawValue) \"\(r.value)\""
            case .noRule: return "no rule matched"
            }
        }
    }

    public static func detect(keyApp: String?, userRules: [AppRule], header: (String) -> String?) -> (app: String, rule: String) {
        let (app, how) = recognise(keyApp: keyApp, userRules: userRules, header: header)
        return (app, how.description)
    }

    public static func recognise(keyApp: String?, userRules: [AppRule], header: (String) -> String?) -> (app: String, how: Recognition) {
        if let keyApp { return (keyApp, .accessKey) }
        // An invalid label is refused before this (RequestChecks.head); here it is only never taken.
        if let label = header(labelHeader), (try? Validation.name(label, what: "app")) != nil { return (label, .label) }
        // Each header the rules look at is lower-cased once, not once per rule.
        var lowered: [String: String?] = [:]
        let lower: (String) -> String? = { name in
            if let v = lowered[name] { return v }
            let v = header(name)?.lowercased()
            lowered[name] = v
            return v
        }
        for r in userRules where r.matches(lower) { return (r.app, .userRule(r)) }
        for r in builtinRules where r.matches(lower) { return (r.app, .builtinRule(r)) }
        return (defaultApp, .noRule)
    }
}

/// Where a request carries its key: `Authorization: Bearer`, `x-api-key`, `x-goog-api-key`, `api-key`, `?key=`.
public enum ClientKey {
    /// The key a request presents, as a slice of the header it came in (the caller usually compares it with the
    /// previous request's key, so no string is made for it).
    public static func find(header: (String) -> String?, query: Substring?) -> Substring? {
        if let auth = header("authorization"), let key = bearer(auth) { return key }
        for h in keyHeaders { if let v = header(h), !v.isEmpty { return v[...] } }
        if let q = query {
            for pair in q.split(separator: "&") where pair.hasPrefix("key=") { return String(pair.dropFirst(4)).removingPercentEncodingLite[...] }
        }
        return nil
    }

    static let keyHeaders = ["x-api-key", "x-goog-api-key", "api-key"]
}

extension ClientKey {
    /// The credentials of `Bearer <key>` (scheme in any case, spaces around the key trimmed); nil for other schemes.
    static func bearer(_ auth: String) -> Substring? {
        // On the bytes in place, one look each: through String.UTF8View's indices and Substring's first and last
        // this cost ~900 instructions per request (callgrind).
        let bounds = auth.utf8.withContiguousStorageIfAvailable { p in bearerBounds(p) } ?? bearerBounds(Array(auth.utf8))
        guard let (from, to) = bounds else { return nil }
        let u = auth.utf8
        return Substring(u[u.index(u.startIndex, offsetBy: from)..<u.index(u.startIndex, offsetBy: to)])
    }

    /// Where the key of `Bearer <key>` lies in `p` (the scheme in any case, the spaces around the key left out).
    static func bearerBounds<C: RandomAccessCollection<UInt8>>(_ p: C) -> (Int, Int)? where C.Index == Int {
        guard p.count > 7 else { return nil }
        let b = p.startIndex
        var k = 0
        for expected in "bearer".utf8 {
            // A letter in either case: the 0x20 bit is the case bit of ASCII letters, and only 'X' and 'x' map to 'x'.
            guard p[b + k] | 0x20 == expected else { return nil }
            k += 1
        }
        guard p[b + 6] == 0x20 else { return nil }
        var from = 7, to = p.count
        while from < to && p[b + from] == 0x20 { from += 1 }
        while to > from && p[b + to - 1] == 0x20 { to -= 1 }
        return (from, to)
    }
}

extension String {
    /// Percent-decoding for query values (keys are ASCII); invalid escapes are left as they are.
    var removingPercentEncodingLite: String {
        var out: [UInt8] = []
        let u = Array(utf8)
        var i = 0
        while i < u.count {
            if u[i] == 37, i + 2 < u.count, let v = UInt8(String(decoding: u[i + 1...i + 2], as: UTF8.self), radix: 16) {
                out.append(v); i += 3
            } else { out.append(u[i] == 43 ? 32 : u[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
