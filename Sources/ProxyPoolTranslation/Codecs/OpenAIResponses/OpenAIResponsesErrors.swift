extension OpenAIResponsesCodec {
    static func errorCode(_ kind: ErrorInfo.Kind) -> String {
        switch kind {
        case .invalidRequest: return "invalid_request_error"
        case .authentication: return "invalid_api_key"
        case .permission: return "permission_denied"
        case .notFound: return "model_not_found"
        case .tooLarge: return "context_length_exceeded"
        case .rateLimited: return "rate_limit_exceeded"
        case .overloaded: return "server_is_overloaded"
        case .server: return "server_error"
        case .timeout: return "server_error"
        }
    }

    static func errorType(_ kind: ErrorInfo.Kind) -> String {
        switch kind {
        case .invalidRequest, .notFound, .tooLarge, .authentication: return "invalid_request_error"
        case .permission: return "permission_error"
        case .rateLimited: return "rate_limit_error"
        case .overloaded, .server, .timeout: return "server_error"
        }
    }

    public static func encodeError(_ error: ErrorInfo) -> JSONNode {
        ["error": ["message": .string(error.message), "type": .string(errorType(error.kind)), "param": .null,
                   "code": .string(errorCode(error.kind))]]
    }
}

extension OpenAIResponsesCodec {
    public static func decodeError(status: Int, body: JSONNode?) -> ErrorInfo {
        let e = body?["error"]
        let message = e?["message"]?.string ?? body?["message"]?.string ?? "upstream error (HTTP \(status))"
        let code = e?["code"]?.string ?? e?["type"]?.string ?? ""
        return ErrorInfo(kind: errorKind(status: status, code: code), message: message, status: status)
    }

    static func errorKind(status: Int, code: String) -> ErrorInfo.Kind {
        switch code {
        case "rate_limit_exceeded", "insufficient_quota", "requests", "tokens": return .rateLimited
        case "context_length_exceeded": return .tooLarge
        case "invalid_api_key": return .authentication
        case "server_is_overloaded", "slow_down": return .overloaded
        case "model_not_found": return .notFound
        default: break
        }
        switch status {
        case 400, 422: return .invalidRequest
        case 401: return .authentication
        case 403: return .permission
        case 404: return .notFound
        case 413: return .tooLarge
        case 429: return .rateLimited
        case 503, 529: return .overloaded
        case 408, 504: return .timeout
        default:
            if code == "server_error" { return .server }
            return status >= 500 ? .server : .invalidRequest
        }
    }

    static func statusFor(_ kind: ErrorInfo.Kind) -> Int {
        switch kind {
        case .invalidRequest: return 400
        case .authentication: return 401
        case .permission: return 403
        case .notFound: return 404
        case .tooLarge: return 400
        case .rateLimited: return 429
        case .overloaded: return 503
        case .server: return 500
        case .timeout: return 504
        }
    }
}
