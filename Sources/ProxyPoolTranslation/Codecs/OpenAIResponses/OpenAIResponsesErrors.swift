/// OpenAI Responses errors: the same OpenAI vocabulary as Chat (ErrorVocabulary.swift); the body of an error
/// answer is the same object, so it is read the same way.
extension OpenAIResponsesCodec {
    public static func encodeError(_ error: ErrorInfo) -> JSONNode { ClientErrors.node(.openai, error) }

    public static func decodeError(status: Int, body: JSONNode?) -> ErrorInfo { OpenAIChatCodec.decodeError(status: status, body: body) }

    /// A stream's `response.failed` / `error` event names only a code (`ResponseError.code`), or a type.
    static func errorKind(status: Int, code: String) -> ErrorInfo.Kind { ErrorCause(openAIType: code, code: code, status: status) }

    /// `ResponseError.code` of a failed response: the vocabulary's code, or its type where it has none.
    static func errorCode(_ kind: ErrorInfo.Kind) -> String { kind.openAI.code ?? kind.openAI.type }
}
