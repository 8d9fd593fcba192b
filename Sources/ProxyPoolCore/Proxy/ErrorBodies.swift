/// Errors the proxy itself raises, in the client's own protocol, so each SDK shows a clear message.
public enum ProxyErrorKind: Sendable, Equatable {
    case invalidRequest, authentication, permission, notFound, rateLimited, overloaded, upstream, unavailable, tooLarge, timeout

    public var status: Int {
        switch self {
        case .invalidRequest: return 400
        case .authentication: return 401
        case .permission: return 403
        case .notFound: return 404
        case .tooLarge: return 413
        case .rateLimited: return 429
        case .upstream: return 502
        case .overloaded, .unavailable: return 503
        case .timeout: return 504
        }
    }
}

public enum ErrorBodies {
    public static func body(_ dialect: Dialect, _ kind: ProxyErrorKind, _ message: String, status: Int? = nil) -> [UInt8] {
        let m = jsonString(message)
        switch dialect {
        case .openai:
            let (type, code): (String, String) = {
                switch kind {
                case .invalidRequest, .tooLarge: return ("invalid_request_error", "invalid_request")
                case .authentication: return ("invalid_request_error", "invalid_api_key")
                case .permission: return ("invalid_request_error", "forbidden")
                case .notFound: return ("invalid_request_error", "not_found")
                case .rateLimited: return ("requests", "rate_limit_exceeded")
                case .overloaded, .unavailable: return ("server_error", "service_unavailable")
                case .upstream: return ("server_error", "upstream_error")
                case .timeout: return ("server_error", "timeout")
                }
            }()
            return Array(#"{"error":{"message":\#(m),"type":"\#(type)","param":null,"code":"\#(code)"}}"#.utf8)
        case .anthropic:
            let type: String = {
                switch kind {
                case .invalidRequest: return "invalid_request_error"
                case .tooLarge: return "request_too_large"
                case .authentication: return "authentication_error"
                case .permission: return "permission_error"
                case .notFound: return "not_found_error"
                case .rateLimited: return "rate_limit_error"
                case .overloaded, .unavailable: return "overloaded_error"
                case .upstream, .timeout: return "api_error"
                }
            }()
            return Array(#"{"type":"error","error":{"type":"\#(type)","message":\#(m)}}"#.utf8)
        case .gemini:
            let st: String = {
                switch kind {
                case .invalidRequest, .tooLarge: return "INVALID_ARGUMENT"
                case .authentication: return "UNAUTHENTICATED"
                case .permission: return "PERMISSION_DENIED"
                case .notFound: return "NOT_FOUND"
                case .rateLimited: return "RESOURCE_EXHAUSTED"
                case .overloaded, .unavailable: return "UNAVAILABLE"
                case .upstream: return "INTERNAL"
                case .timeout: return "DEADLINE_EXCEEDED"
                }
            }()
            return Array(#"{"error":{"code":\#(status ?? kind.status),"message":\#(m),"status":"\#(st)"}}"#.utf8)
        }
    }

    /// An error event that ends a stream already under way, in the client's SSE dialect.
    public static func streamError(_ dialect: Dialect, _ message: String) -> [UInt8] {
        let m = jsonString(message)
        switch dialect {
        case .anthropic: return Array("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\(m)}}\n\n".utf8)
        case .openai: return Array("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"server_error\",\"code\":\"upstream_error\",\"message\":\(m)}}\n\n".utf8)
        case .gemini: return Array("data: {\"error\":{\"code\":502,\"message\":\(m),\"status\":\"INTERNAL\"}}\n\n".utf8)
        }
    }

    /// A JSON string literal, escaped.
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16) }
                else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
