extension GeminiCodec {
    static func statusName(_ kind: ErrorInfo.Kind) -> String {
        switch kind {
        case .invalidRequest, .tooLarge: return "INVALID_ARGUMENT"
        case .authentication: return "UNAUTHENTICATED"
        case .permission: return "PERMISSION_DENIED"
        case .notFound: return "NOT_FOUND"
        case .rateLimited: return "RESOURCE_EXHAUSTED"
        case .overloaded: return "UNAVAILABLE"
        case .server: return "INTERNAL"
        case .timeout: return "DEADLINE_EXCEEDED"
        }
    }

    public static func encodeError(_ error: ErrorInfo) -> JSONNode {
        ["error": ["code": .int(error.status), "message": .string(error.message), "status": .string(statusName(error.kind))]]
    }
}

extension GeminiCodec {
    public static func decodeError(status: Int, body: JSONNode?) -> ErrorInfo {
        // Google sometimes answers a stream's error as a one-element array.
        let root = body?.array?.first ?? body
        let e = root?["error"]
        let message = e?["message"]?.string ?? "upstream error (HTTP \(status))"
        return ErrorInfo(kind: errorKind(status: status, name: e?["status"]?.string), message: message, status: status)
    }

    static func errorKind(status: Int, name: String?) -> ErrorInfo.Kind {
        switch name {
        case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE": return .invalidRequest
        case "UNAUTHENTICATED": return .authentication
        case "PERMISSION_DENIED": return .permission
        case "NOT_FOUND": return .notFound
        case "RESOURCE_EXHAUSTED": return .rateLimited
        case "UNAVAILABLE": return .overloaded
        case "INTERNAL", "UNKNOWN", "DATA_LOSS": return .server
        case "DEADLINE_EXCEEDED": return .timeout
        default: break
        }
        switch status {
        case 400: return .invalidRequest
        case 401: return .authentication
        case 403: return .permission
        case 404: return .notFound
        case 413: return .tooLarge
        case 429: return .rateLimited
        case 503: return .overloaded
        case 504: return .timeout
        default: return status >= 500 ? .server : .invalidRequest
        }
    }
}
