import ProxyPoolCore

/// One error vocabulary per client protocol: why a request failed (`ErrorCause`) and how each protocol says
/// that cause (`ErrorShape`: HTTP status, `type` / Gemini `status`, OpenAI `code`). The proxy's own errors
/// (`ClientErrors.body`) and upstream errors translated for another protocol (each codec's `decodeError` maps
/// the upstream's status and type to a cause, `encodeError` writes it) both go through it, so a client gets
/// the same answer for the same cause whoever raised it.
///
/// Sources for the shapes:
/// - OpenAI: the error codes guide (developers.openai.com/docs/guides/error-codes: 401 invalid authentication
///   or incorrect API key, 403 unsupported region, 429 rate limit or quota, 500 server error, 503 overloaded /
///   slow down) and what the API itself sends: `{"error":{"message","type","param","code"}}`, with `type`
///   `invalid_request_error` for every client error (a wrong key is `invalid_request_error` + `invalid_api_key`),
///   `requests` + `rate_limit_exceeded` for a rate limit, `server_error` for its own failures. openai-python's
///   `_exceptions` picks the exception from the status alone (400 BadRequest, 401 Authentication, 403
///   PermissionDenied, 404 NotFound, 429 RateLimit, >=500 InternalServer), so the status carries the class.
/// - Anthropic: the errors page (docs.claude.com/en/api/errors): 400 invalid_request_error, 401
///   authentication_error, 403 permission_error, 404 not_found_error, 413 request_too_large, 429
///   rate_limit_error, 500 api_error, 529 overloaded_error, as `{"type":"error","error":{"type","message"}}`;
///   the SDK's `ErrorType` also names `timeout_error` (504, GatewayTimeoutError) and `billing_error`.
/// - Gemini: the Google API error model, `{"error":{"code","message","status"}}` with `status` a google.rpc.Code
///   name and `code` its HTTP mapping (code.proto: INVALID_ARGUMENT 400, UNAUTHENTICATED 401, PERMISSION_DENIED
///   403, NOT_FOUND 404, RESOURCE_EXHAUSTED 429, INTERNAL 500, UNAVAILABLE 503, DEADLINE_EXCEEDED 504).
public enum ErrorCause: String, Sendable, Equatable, CaseIterable {
    /// The request is malformed or cannot be served as asked (400).
    case invalidRequest
    /// The conversation is longer than the model's context (400; OpenAI's `context_length_exceeded`, which
    /// Codex reads to tell its user the context is full).
    case contextTooLong
    /// No key, or a key that is not valid (401).
    case authentication
    /// The key may not do this, or this origin/host may not (403).
    case permission
    /// No such endpoint or model (404).
    case notFound
    /// The request's bytes are over the limit (413).
    case tooLarge
    /// A rate limit or quota: come back later (429).
    case rateLimited
    /// The provider is overloaded (Anthropic 529, elsewhere 503).
    case overloaded
    /// proxypoold itself cannot serve right now: draining, out of descriptors, no credential enabled (503).
    case unavailable
    /// The provider failed internally (500).
    case server
    /// No usable answer from the upstream: unreachable, cut off, untranslatable (502, a bad gateway).
    case upstream
    /// Nobody answered in time (504; a client too slow to send its request: 408).
    case timeout
}

/// How one client protocol says a cause: the HTTP status, the body's `type` (OpenAI, Anthropic) or `status`
/// (Gemini), and OpenAI's `code` (nil: `null`).
public struct ErrorShape: Sendable, Equatable {
    public var status: Int
    public var type: String
    public var code: String?
}

extension ErrorCause {
    public func shape(_ family: Family) -> ErrorShape {
        switch family {
        case .openai: return openAI
        case .anthropic: return anthropic
        case .gemini: return gemini
        }
    }

    /// The HTTP status a client of `family` gets for this cause.
    public func status(for family: Family) -> Int { shape(family).status }

    var openAI: ErrorShape {
        switch self {
        case .invalidRequest: return ErrorShape(status: 400, type: "invalid_request_error", code: nil)
        case .contextTooLong: return ErrorShape(status: 400, type: "invalid_request_error", code: "context_length_exceeded")
        case .authentication: return ErrorShape(status: 401, type: "invalid_request_error", code: "invalid_api_key")
        case .permission: return ErrorShape(status: 403, type: "invalid_request_error", code: "permission_denied")
        case .notFound: return ErrorShape(status: 404, type: "invalid_request_error", code: "not_found")
        case .tooLarge: return ErrorShape(status: 413, type: "invalid_request_error", code: "request_too_large")
        case .rateLimited: return ErrorShape(status: 429, type: "requests", code: "rate_limit_exceeded")
        case .overloaded: return ErrorShape(status: 503, type: "server_error", code: "server_is_overloaded")
        case .unavailable: return ErrorShape(status: 503, type: "server_error", code: "service_unavailable")
        case .server: return ErrorShape(status: 500, type: "server_error", code: nil)
        case .upstream: return ErrorShape(status: 502, type: "server_error", code: "upstream_error")
        case .timeout: return ErrorShape(status: 504, type: "server_error", code: "timeout")
        }
    }

    var anthropic: ErrorShape {
        switch self {
        case .invalidRequest, .contextTooLong: return ErrorShape(status: 400, type: "invalid_request_error")
        case .authentication: return ErrorShape(status: 401, type: "authentication_error")
        case .permission: return ErrorShape(status: 403, type: "permission_error")
        case .notFound: return ErrorShape(status: 404, type: "not_found_error")
        case .tooLarge: return ErrorShape(status: 413, type: "request_too_large")
        case .rateLimited: return ErrorShape(status: 429, type: "rate_limit_error")
        case .overloaded: return ErrorShape(status: 529, type: "overloaded_error")
        // Claude Code waits and retries on overloaded_error; a proxy that cannot serve for a moment is that.
        case .unavailable: return ErrorShape(status: 503, type: "overloaded_error")
        case .server: return ErrorShape(status: 500, type: "api_error")
        case .upstream: return ErrorShape(status: 502, type: "api_error")
        case .timeout: return ErrorShape(status: 504, type: "timeout_error")
        }
    }

    var gemini: ErrorShape {
        switch self {
        case .invalidRequest, .contextTooLong: return ErrorShape(status: 400, type: "INVALID_ARGUMENT")
        // Refused by the proxy's HTTP layer before Google's mapping applies: the status stays 413.
        case .tooLarge: return ErrorShape(status: 413, type: "INVALID_ARGUMENT")
        case .authentication: return ErrorShape(status: 401, type: "UNAUTHENTICATED")
        case .permission: return ErrorShape(status: 403, type: "PERMISSION_DENIED")
        case .notFound: return ErrorShape(status: 404, type: "NOT_FOUND")
        case .rateLimited: return ErrorShape(status: 429, type: "RESOURCE_EXHAUSTED")
        case .overloaded, .unavailable: return ErrorShape(status: 503, type: "UNAVAILABLE")
        case .server: return ErrorShape(status: 500, type: "INTERNAL")
        case .upstream: return ErrorShape(status: 502, type: "INTERNAL")
        case .timeout: return ErrorShape(status: 504, type: "DEADLINE_EXCEEDED")
        }
    }
}

extension ErrorShape {
    init(status: Int, type: String) { self.init(status: status, type: type, code: nil) }
}

// MARK: - Reading an upstream's error: its status and type → a cause

extension ErrorCause {
    /// The cause an HTTP status means when the body says nothing more precise.
    public init(status: Int) {
        switch status {
        case 401: self = .authentication
        case 402, 403: self = .permission
        case 404: self = .notFound
        case 408, 504: self = .timeout
        case 413: self = .tooLarge
        case 429: self = .rateLimited
        case 503, 529: self = .overloaded
        case 502: self = .upstream
        case 400..<500: self = .invalidRequest
        default: self = .server
        }
    }

    /// An OpenAI (Chat or Responses) error: `code` first (the precise one), then `type`, then the status.
    init(openAIType type: String?, code: String?, status: Int) {
        switch code ?? "" {
        case "rate_limit_exceeded", "insufficient_quota": self = .rateLimited; return
        case "invalid_api_key": self = .authentication; return
        case "context_length_exceeded": self = .contextTooLong; return
        case "server_is_overloaded", "slow_down", "service_unavailable", "overloaded": self = .overloaded; return
        case "model_not_found", "not_found": self = .notFound; return
        case "request_too_large": self = .tooLarge; return
        case "permission_denied", "unsupported_country_region_territory": self = .permission; return
        case "timeout": self = .timeout; return
        case "upstream_error": self = .upstream; return
        default: break
        }
        switch type ?? "" {
        // A 2xx/5xx status with a client-error type (a stream's error event, a confused server): trust the type.
        case "invalid_request_error" where status < 400 || status >= 500: self = .invalidRequest
        case "authentication_error": self = .authentication
        case "permission_error", "permission_denied", "request_forbidden": self = .permission
        case "rate_limit_error", "requests", "tokens", "insufficient_quota": self = .rateLimited
        case "server_error" where status < 500: self = .server
        default: self = ErrorCause(status: status)
        }
    }

    /// An Anthropic error `type` (its errors page and SDK), else the status.
    init(anthropicType type: String?, status: Int) {
        switch type {
        case "invalid_request_error": self = .invalidRequest
        case "authentication_error": self = .authentication
        case "permission_error", "billing_error": self = .permission
        case "not_found_error": self = .notFound
        case "request_too_large": self = .tooLarge
        case "rate_limit_error": self = .rateLimited
        case "overloaded_error": self = .overloaded
        case "api_error": self = .server
        case "timeout_error": self = .timeout
        default: self = ErrorCause(status: status)
        }
    }

    /// A google.rpc.Code name (Gemini's `error.status`), else the status.
    init(geminiStatus name: String?, status: Int) {
        switch name {
        case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE": self = .invalidRequest
        case "UNAUTHENTICATED": self = .authentication
        case "PERMISSION_DENIED": self = .permission
        case "NOT_FOUND": self = .notFound
        case "RESOURCE_EXHAUSTED": self = .rateLimited
        case "UNAVAILABLE": self = .overloaded
        case "INTERNAL", "UNKNOWN", "DATA_LOSS": self = .server
        case "DEADLINE_EXCEEDED": self = .timeout
        default: self = ErrorCause(status: status)
        }
    }
}

// MARK: - Writing: the one writer per client protocol

/// Error bodies and stream error events in the client's protocol, for errors the proxy raises and for
/// translated ones (the codecs' `encodeError` call `node`).
public enum ClientErrors {
    /// The JSON error body a client of `family` gets; `status` (default: the cause's) is the one answered
    /// with, which Gemini repeats as `code`.
    public static func node(_ family: Family, _ cause: ErrorCause, _ message: String, status: Int? = nil) -> JSONNode {
        let s = cause.shape(family)
        switch family {
        case .openai:
            return ["error": ["message": .string(message), "type": .string(s.type), "param": nil, "code": s.code.map { .string($0) } ?? .null]]
        case .anthropic:
            return ["type": "error", "error": ["type": .string(s.type), "message": .string(message)]]
        case .gemini:
            return ["error": ["code": .int(status ?? s.status), "message": .string(message), "status": .string(s.type)]]
        }
    }

    public static func node(_ family: Family, _ info: ErrorInfo) -> JSONNode { node(family, info.kind, info.message, status: info.status) }

    /// An error the proxy raises, as body bytes.
    public static func body(_ family: Family, _ cause: ErrorCause, _ message: String, status: Int? = nil) -> [UInt8] {
        JSONWriter.bytes(node(family, cause, message, status: status))
    }

    /// An error event that ends a stream already under way (passed through untranslated), in the client's SSE
    /// family: Anthropic's `error` event; for OpenAI an `error` event whose data carries `error` (openai-python
    /// raises on it, for Chat and Responses streams alike); for Gemini a chunk that is an error body.
    public static func streamError(_ family: Family, _ cause: ErrorCause, _ message: String) -> [UInt8] {
        var out: [UInt8] = []
        switch family {
        case .anthropic:
            SSEWriter.event("error", node(.anthropic, cause, message), into: &out)
        case .openai:
            guard case .object(var fields) = node(.openai, cause, message) else { return out }
            fields.insert((key: "type", value: "error"), at: 0)
            SSEWriter.event("error", .object(fields), into: &out)
        case .gemini:
            SSEWriter.event(nil, node(.gemini, cause, message), into: &out)
        }
        return out
    }
}
