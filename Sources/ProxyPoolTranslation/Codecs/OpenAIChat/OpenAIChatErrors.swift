import ProxyPoolCore

/// OpenAI Chat errors: written and read through the OpenAI vocabulary (ErrorVocabulary.swift), the same one
/// the proxy's own errors and OpenAI Responses use.
extension OpenAIChatCodec {
    public static func encodeError(_ error: ErrorInfo) -> JSONNode { ClientErrors.node(.openai, error) }

    static func errorKind(type: String?, code: String?, status: Int) -> ErrorInfo.Kind {
        ErrorCause(openAIType: type, code: code, status: status)
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
