/// What a request asks for, recognised from its method and path.
public struct Endpoint: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case chatCompletions, responses, responsesCompact, models
        case messages, countTokens
        case generateContent, streamGenerateContent, geminiCountTokens
        /// Gemini embeddings: served only by a Gemini API credential, never translated.
        case embedContent, batchEmbedContents

        public var isEmbedding: Bool { self == .embedContent || self == .batchEmbedContents }
        /// A subscription CLI asking for its usage limits (Codex, Claude Code): answered from the pool's view.
        case accountUsage
    }
    public var family: Family
    public var kind: Kind
    /// Gemini puts the model in the path: here percent-decoded once (the path goes upstream as sent).
    public var pathModel: String?
    /// `v1` or `v1beta`, as the Gemini client asked; nil for the unversioned `/models/…` some gateway clients
    /// send (upstream it becomes `v1beta`, Gemini CLI's and the genai SDKs' default).
    public var geminiVersion: String?

    public var isModelsList: Bool { kind == .models }

    public init(family: Family, kind: Kind, pathModel: String? = nil, geminiVersion: String? = nil) {
        self.family = family; self.kind = kind; self.pathModel = pathModel; self.geminiVersion = geminiVersion
    }
}

public enum EndpointMatch: Sendable, Equatable {
    case api(Endpoint)
    case healthz
    case metrics
    /// A WebSocket handshake on a Responses path (`GET /v1/responses` with `Upgrade: websocket`, what Codex
    /// opens first): the Responses WebSocket transport. The upgrade is looked at on these paths only; any
    /// other path is served as plain HTTP whatever its Upgrade header says.
    case webSocket(Endpoint)
    case methodNotAllowed(Family, allowed: String)
    case notFound(Family)
}

extension EndpointMatch {
    /// The API endpoint a request is for (an HTTP call or a WebSocket on one): access key and head checks apply.
    public var apiEndpoint: Endpoint? {
        switch self {
        case .api(let e), .webSocket(let e): return e
        default: return nil
        }
    }
}

public enum Endpoints {
    /// `headers` decides the family of the shared `GET /v1/models` (anthropic-version / x-goog-* headers).
    public static func match(method: String, path: Substring, header: (String) -> String?) -> EndpointMatch {
        switch path {
        case "/healthz": return method == "GET" || method == "HEAD" ? .healthz : .methodNotAllowed(.openai, allowed: "GET")
        case "/metrics": return method == "GET" ? .metrics : .methodNotAllowed(.openai, allowed: "GET")
        case "/v1/chat/completions": return post(method, .openai, .chatCompletions)
        case "/v1/responses":
            if method == "GET" && (header("upgrade")?.lowercased().includes("websocket") ?? false) {
                return .webSocket(Endpoint(family: .openai, kind: .responses))
            }
            return post(method, .openai, .responses)
        case "/v1/responses/compact": return post(method, .openai, .responsesCompact)
        case "/v1/messages": return post(method, .anthropic, .messages)
        case "/v1/messages/count_tokens": return post(method, .anthropic, .countTokens)
        // Where Codex (≥ 0.154) and Claude Code read their usage limits: openai/codex
        // codex-rs/backend-client/src/client.rs (`get_rate_limits_many`: {base}/api/codex/usage, or {base}/wham/usage
        // for a base under /backend-api); Claude Code: GET /api/oauth/usage (../shared/notes/clients.md §8).
        case "/api/codex/usage", "/backend-api/wham/usage", "/api/oauth/usage":
            let family: Family = path == "/api/oauth/usage" ? .anthropic : .openai
            guard method == "GET" else { return .methodNotAllowed(family, allowed: "GET") }
            return .api(Endpoint(family: family, kind: .accountUsage))
        case "/v1/models", "/v1beta/models":
            let family: Family
            if path == "/v1beta/models" || header("x-goog-api-key") != nil || header("x-goog-api-client") != nil { family = .gemini }
            // Claude Code's gateway discovery sends anthropic-version and x-api-key (or a Bearer token).
            else if header("anthropic-version") != nil || header("x-api-key") != nil { family = .anthropic }
            else { family = .openai }
            guard method == "GET" else { return .methodNotAllowed(family, allowed: "GET") }
            return .api(Endpoint(family: family, kind: .models, geminiVersion: path.hasPrefix("/v1beta") ? "v1beta" : "v1"))
        default: break
        }
        // Gemini: /{v1|v1beta}/models/{model}:{method}, or /models/{model}:{method} with no version (Gemini CLI
        // in gateway mode sends /v1beta; clients built on other SDKs send the other two: issue 17).
        for version in ["v1beta", "v1", ""] {
            let prefix = version.isEmpty ? "/models/" : "/\(version)/models/"
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
            case "embedContent": kind = .embedContent
            case "batchEmbedContents": kind = .batchEmbedContents
            default: return .notFound(.gemini)
            }
            guard method == "POST" else { return .methodNotAllowed(.gemini, allowed: "POST") }
            return .api(Endpoint(family: .gemini, kind: kind, pathModel: model, geminiVersion: version.isEmpty ? nil : version))
        }
        let family: Family = header("anthropic-version") != nil ? .anthropic : (header("x-goog-api-key") != nil ? .gemini : .openai)
        return .notFound(family)
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

    private static func post(_ method: String, _ d: Family, _ k: Endpoint.Kind) -> EndpointMatch {
        method == "POST" ? .api(Endpoint(family: d, kind: k)) : .methodNotAllowed(d, allowed: "POST")
    }
}
