/// The three API families a client can speak. Errors the proxy raises are written in the client's family.
public enum Dialect: String, Sendable, Equatable {
    case openai, anthropic, gemini
}

/// What a request asks for, recognised from its method and path.
public struct Endpoint: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case chatCompletions, responses, responsesCompact, models
        case messages, countTokens
        case generateContent, streamGenerateContent, geminiCountTokens
    }
    public var dialect: Dialect
    public var kind: Kind
    /// Gemini puts the model in the path: here percent-decoded once (the path goes upstream as sent).
    public var pathModel: String?
    /// `v1` or `v1beta`, as the Gemini client asked.
    public var geminiVersion: String?

    public var isModelsList: Bool { kind == .models }

    public init(dialect: Dialect, kind: Kind, pathModel: String? = nil, geminiVersion: String? = nil) {
        self.dialect = dialect; self.kind = kind; self.pathModel = pathModel; self.geminiVersion = geminiVersion
    }
}

public enum EndpointMatch: Sendable, Equatable {
    case api(Endpoint)
    case healthz
    case metrics
    /// Codex's WebSocket attempt on GET /v1/responses: answer 426 so it falls back to HTTP + SSE.
    case upgradeRequired(Dialect)
    case methodNotAllowed(Dialect, allowed: String)
    case notFound(Dialect)
}

public enum Endpoints {
    /// `headers` decides the dialect of the shared `GET /v1/models` (anthropic-version / x-goog-* headers).
    public static func match(method: String, path: Substring, header: (String) -> String?) -> EndpointMatch {
        switch path {
        case "/healthz": return method == "GET" || method == "HEAD" ? .healthz : .methodNotAllowed(.openai, allowed: "GET")
        case "/metrics": return method == "GET" ? .metrics : .methodNotAllowed(.openai, allowed: "GET")
        case "/v1/chat/completions": return post(method, .openai, .chatCompletions)
        case "/v1/responses":
            if method == "GET" && (header("upgrade")?.lowercased().contains("websocket") ?? false) { return .upgradeRequired(.openai) }
            return post(method, .openai, .responses)
        case "/v1/responses/compact": return post(method, .openai, .responsesCompact)
        case "/v1/messages": return post(method, .anthropic, .messages)
        case "/v1/messages/count_tokens": return post(method, .anthropic, .countTokens)
        case "/v1/models", "/v1beta/models":
            let dialect: Dialect
            if path == "/v1beta/models" || header("x-goog-api-key") != nil || header("x-goog-api-client") != nil { dialect = .gemini }
            else if header("anthropic-version") != nil { dialect = .anthropic }
            else { dialect = .openai }
            guard method == "GET" else { return .methodNotAllowed(dialect, allowed: "GET") }
            return .api(Endpoint(dialect: dialect, kind: .models, geminiVersion: path.hasPrefix("/v1beta") ? "v1beta" : "v1"))
        default: break
        }
        // Gemini: /{v1|v1beta}/models/{model}:{method}
        for version in ["v1beta", "v1"] {
            let prefix = "/\(version)/models/"
            guard path.hasPrefix(prefix) else { continue }
            let rest = path.dropFirst(prefix.count)
            guard let colon = rest.lastIndex(of: ":") else { return .notFound(.gemini) }
            // Percent-decoded once; what it may hold is RequestChecks.pathModelProblem's to say (a 400 naming
            // the problem, not a 404).
            let model = percentDecodedOnce(rest[..<colon])
            let kind: Endpoint.Kind
            switch rest[rest.index(after: colon)...] {
            case "generateContent": kind = .generateContent
            case "streamGenerateContent": kind = .streamGenerateContent
            case "countTokens": kind = .geminiCountTokens
            default: return .notFound(.gemini)
            }
            guard method == "POST" else { return .methodNotAllowed(.gemini, allowed: "POST") }
            return .api(Endpoint(dialect: .gemini, kind: kind, pathModel: model, geminiVersion: version))
        }
        let dialect: Dialect = header("anthropic-version") != nil ? .anthropic : (header("x-goog-api-key") != nil ? .gemini : .openai)
        return .notFound(dialect)
    }

    /// `%XX` escapes decoded (once: `%252F` becomes `%2F`); a `%` without two hex digits is kept as it is.
    static func percentDecodedOnce(_ s: Substring) -> String {
        guard s.utf8.contains(UInt8(ascii: "%")) else { return String(s) }
        let u = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "%"), i + 2 < u.count,
               let hi = StrictJSON.hexValue(u[i + 1]), let lo = StrictJSON.hexValue(u[i + 2]) {
                out.append(hi << 4 | lo); i += 3
            } else { out.append(u[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func post(_ method: String, _ d: Dialect, _ k: Endpoint.Kind) -> EndpointMatch {
        method == "POST" ? .api(Endpoint(dialect: d, kind: k)) : .methodNotAllowed(d, allowed: "POST")
    }
}

/// Which provider kinds serve a dialect without translation (translation arrives in a later release).
public extension ProviderKind {
    var dialect: Dialect? {
        switch self {
        case .openai, .azureOpenAI, .openAICompatible: return .openai
        case .anthropic: return .anthropic
        case .gemini: return .gemini
        // Subscription accounts and Vertex need OAuth token handling, which comes later.
        case .vertex, .chatGPTAccount, .claudeAccount: return nil
        }
    }
}
