/// Gemini errors: written and read through the Google API error model (ErrorVocabulary.swift).
extension GeminiCodec {
    public static func encodeError(_ error: ErrorInfo) -> JSONNode { ClientErrors.node(.gemini, error) }

    public static func decodeError(status: Int, body: JSONNode?) -> ErrorInfo {
        // Google sometimes answers a stream's error as a one-element array.
        let root = body?.array?.first ?? body
        let e = root?["error"]
        let message = e?["message"]?.string ?? "upstream error (HTTP \(status))"
        return ErrorInfo(kind: errorKind(status: status, name: e?["status"]?.string), message: message, status: status)
    }

    static func errorKind(status: Int, name: String?) -> ErrorInfo.Kind { ErrorCause(geminiStatus: name, status: status) }
}
