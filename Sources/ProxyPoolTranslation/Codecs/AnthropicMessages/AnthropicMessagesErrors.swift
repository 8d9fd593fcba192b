import ProxyPoolCore

extension AnthropicMessagesCodec {
    static func errorType(_ k: ErrorInfo.Kind) -> String {
        switch k {
        case .invalidRequest: return "invalid_request_error"
        case .authentication: return "authentication_error"
        case .permission: return "permission_error"
        case .notFound: return "not_found_error"
        case .tooLarge: return "request_too_large"
        case .rateLimited: return "rate_limit_error"
        case .overloaded: return "overloaded_error"
        case .server: return "api_error"
        case .timeout: return "timeout_error"
        }
    }

    public static func encodeError(_ error: ErrorInfo) -> JSONNode {
        ["type": "error", "error": ["type": .string(errorType(error.kind)), "message": .string(error.message)]]
    }
}

extension AnthropicMessagesCodec {
    static func errorKind(type: String?, status: Int) -> ErrorInfo.Kind {
        switch type {
        case "invalid_request_error": return .invalidRequest
        case "authentication_error": return .authentication
        case "permission_error", "billing_error": return .permission
        case "not_found_error": return .notFound
        case "request_too_large": return .tooLarge
        case "rate_limit_error": return .rateLimited
        case "overloaded_error": return .overloaded
        case "api_error": return .server
        case "timeout_error": return .timeout
        default: return StatusKind.of(status)
        }
    }

    public static func decodeError(status: Int, body: JSONNode?) -> ErrorInfo {
        let e = body?["error"]
        let type = e?["type"]?.string
        let message = e?["message"]?.string ?? e?.string ?? body?["message"]?.string ?? "upstream error (HTTP \(status))"
        return ErrorInfo(kind: errorKind(type: type, status: status), message: message, status: status)
    }
}
