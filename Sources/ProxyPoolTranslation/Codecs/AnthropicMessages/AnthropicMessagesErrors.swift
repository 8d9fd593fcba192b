import ProxyPoolCore

/// Anthropic errors: written and read through the Anthropic vocabulary (ErrorVocabulary.swift).
extension AnthropicMessagesCodec {
    public static func encodeError(_ error: ErrorInfo) -> JSONNode { ClientErrors.node(.anthropic, error) }

    static func errorKind(type: String?, status: Int) -> ErrorInfo.Kind { ErrorCause(anthropicType: type, status: status) }

    public static func decodeError(status: Int, body: JSONNode?) -> ErrorInfo {
        let e = body?["error"]
        let type = e?["type"]?.string
        let message = e?["message"]?.string ?? e?.string ?? body?["message"]?.string ?? "upstream error (HTTP \(status))"
        return ErrorInfo(kind: errorKind(type: type, status: status), message: message, status: status)
    }
}
