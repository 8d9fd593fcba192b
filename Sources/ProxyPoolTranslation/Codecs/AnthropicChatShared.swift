import ProxyPoolCore

/// Small helpers shared by the Anthropic Messages and OpenAI Chat codecs: base64 for plain-text documents,
/// the dropped-field list, and reading a tool call's JSON arguments.

/// Plain-text documents (Anthropic's `text` document source) carried inside `MediaSource.base64`, and their text
/// got back for protocols that take text; the coding is Core's `Base64`.
enum TextBase64 {
    static func encode(_ text: String) -> String { Base64.encode(text.utf8) }

    /// The decoded bytes as UTF-8 text; nil when the input is not base64 or the bytes are not UTF-8.
    static func decodeText(_ s: String) -> String? { Base64.decode(s).flatMap { String(validating: $0, as: UTF8.self) } }
}

extension Array where Element == String {
    /// Record a dropped field once.
    mutating func noteDropped(_ name: String) {
        if !contains(name) { append(name) }
    }
}

enum ToolArguments {
    /// A tool call's arguments text as a JSON object. Empty text (OpenAI sends "" for a call without
    /// arguments) is `{}`; anything that is not a JSON object is nil.
    static func object(_ text: String) -> JSONNode? {
        if text.allSatisfy({ $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }) { return .object([]) }
        guard let v = try? JSONParser.parse(text), v.isObject else { return nil }
        return v
    }
}
