import ProxyPoolCore

extension OpenAIChatCodec {
    static func errorTypeAndCode(_ k: ErrorInfo.Kind) -> (String, String?) {
        switch k {
        case .invalidRequest: return ("invalid_request_error", nil)
        case .authentication: return ("authentication_error", "invalid_api_key")
        case .permission: return ("permission_error", nil)
        case .notFound: return ("invalid_request_error", "not_found")
        case .tooLarge: return ("invalid_request_error", "request_too_large")
        case .rateLimited: return ("rate_limit_error", "rate_limit_exceeded")
        case .overloaded: return ("server_error", "overloaded")
        case .server: return ("server_error", nil)
        case .timeout: return ("server_error", "timeout")
        }
    }

    public static func encodeError(_ error: ErrorInfo) -> JSONNode {
        let (type, code) = errorTypeAndCode(error.kind)
        return ["error": ["message": .string(error.message), "type": .string(type), "param": nil, "code": code.map { .string($0) } ?? .null]]
    }
}

extension OpenAIChatCodec {
    static func errorKind(type: String?, code: String?, status: Int) -> ErrorInfo.Kind {
        switch code ?? "" {
        case "rate_limit_exceeded", "insufficient_quota": return .rateLimited
        case "invalid_api_key": return .authentication
        case "context_length_exceeded": return .invalidRequest
        default: break
        }
        switch type ?? "" {
        case "invalid_request_error" where status < 400 || status >= 500: return .invalidRequest
        case "authentication_error": return .authentication
        case "permission_error": return .permission
        case "rate_limit_error", "requests", "tokens": return .rateLimited
        default: return StatusKind.of(status)
        }
    }

    public static func decodeError(status: Int, body: JSONNode?) -> ErrorInfo {
        // OpenAI: {"error":{...}}; some compatible servers answer with a list of those or a bare message.
        let root = body?.array?.first ?? body
        let e = root?["error"]
        let message = e?["message"]?.string ?? e?.string ?? root?["message"]?.string ?? "upstream error (HTTP \(status))"
        let code = e?["code"]?.string ?? e?["code"]?.int.map { String($0) }
        return ErrorInfo(kind: errorKind(type: e?["type"]?.string, code: code, status: status), message: message, status: status)
    }
}
