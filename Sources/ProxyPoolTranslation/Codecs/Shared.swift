import ProxyPoolCore

/// Helpers every codec uses: typed field reads that fail with the field's path, data URIs, ids, and the
/// reasoning effort ⇄ thinking budget scale.

/// Typed reads of a client's request. Missing or null → nil; the wrong type → a `TranslationError` naming the
/// field, so the client learns exactly what is wrong.
public enum Field {
    public static func string(_ v: JSONNode?, _ path: @autoclosure () -> String) throws(TranslationError) -> String? {
        guard let v, !v.isNull else { return nil }
        guard let s = v.string else { throw mismatch(v, "a string", path()) }
        return s
    }

    public static func int(_ v: JSONNode?, _ path: @autoclosure () -> String) throws(TranslationError) -> Int? {
        guard let v, !v.isNull else { return nil }
        guard let i = v.int else { throw mismatch(v, "an integer", path()) }
        return i
    }

    public static func double(_ v: JSONNode?, _ path: @autoclosure () -> String) throws(TranslationError) -> Double? {
        guard let v, !v.isNull else { return nil }
        guard let d = v.double else { throw mismatch(v, "a number", path()) }
        return d
    }

    public static func bool(_ v: JSONNode?, _ path: @autoclosure () -> String) throws(TranslationError) -> Bool? {
        guard let v, !v.isNull else { return nil }
        guard let b = v.bool else { throw mismatch(v, "a boolean", path()) }
        return b
    }

    public static func array(_ v: JSONNode?, _ path: @autoclosure () -> String) throws(TranslationError) -> [JSONNode]? {
        guard let v, !v.isNull else { return nil }
        guard let a = v.array else { throw mismatch(v, "an array", path()) }
        return a
    }

    public static func object(_ v: JSONNode?, _ path: @autoclosure () -> String) throws(TranslationError) -> JSONNode? {
        guard let v, !v.isNull else { return nil }
        guard v.isObject else { throw mismatch(v, "an object", path()) }
        return v
    }

    public static func required<T>(_ v: T?, _ path: @autoclosure () -> String) throws(TranslationError) -> T {
        guard let v else { throw TranslationError(field: path(), "is required") }
        return v
    }

    static func mismatch(_ v: JSONNode, _ expected: String, _ path: String) -> TranslationError {
        TranslationError(field: path, "must be \(expected), not \(v.typeName == "array" || v.typeName == "object" ? "an" : "a") \(v.typeName)")
    }
}

public extension MediaSource {
    /// `data:image/png;base64,AAAA` → `.base64`; an http(s) URL → `.url`; anything else is refused.
    static func fromURL(_ s: String, field: @autoclosure () -> String) throws(TranslationError) -> MediaSource {
        if s.hasPrefix("data:") {
            guard let comma = s.firstIndex(of: ",") else { throw TranslationError(field: field(), "is a data URI without data") }
            let meta = s[s.index(s.startIndex, offsetBy: 5)..<comma]
            guard meta.hasSuffix(";base64") else { throw TranslationError(field: field(), "is a data URI that is not base64") }
            let type = meta.dropLast(7)
            return .base64(mediaType: type.isEmpty ? "application/octet-stream" : String(type), data: String(s[s.index(after: comma)...]))
        }
        let lower = s.prefix(8).lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            throw TranslationError(field: field(), "must be an http(s) URL or a base64 data URI")
        }
        return .url(s, mediaType: nil)
    }

    /// The `data:` URI form of inline data.
    static func dataURI(mediaType: String, data: String) -> String { "data:\(mediaType);base64,\(data)" }
}

public enum IDs {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)

    /// A random id with a protocol's prefix, e.g. `msg_…`, `chatcmpl-…`, `toolu_…`.
    public static func make(_ prefix: String, length: Int = 24) -> String {
        var g = SystemRandomNumberGenerator()
        return prefix + String(decoding: (0..<length).map { _ in alphabet[Int(g.next(upperBound: UInt64(alphabet.count)))] }, as: UTF8.self)
    }
}

public extension ReasoningEffort {
    /// The thinking budget we send for an effort (Anthropic's minimum budget is 1024).
    var budgetTokens: Int {
        switch self {
        case .minimal: return 1024
        case .low: return 2048
        case .medium: return 8192
        case .high: return 24576
        }
    }

    /// The effort closest to a thinking budget.
    init(budgetTokens: Int) {
        switch budgetTokens {
        case ..<1536: self = .minimal
        case ..<4096: self = .low
        case ..<16384: self = .medium
        default: self = .high
        }
    }
}

/// The end-user id a request carries (Anthropic `metadata.user_id`, OpenAI `safety_identifier` / `user`), as
/// OpenAI takes it: at most 64 characters. A longer id — Claude Code's `user_id` is a JSON object of about 150
/// characters — goes as its SHA-256 in hex (exactly 64): the same user keeps the same id, and nothing of the
/// original is disclosed, which is what OpenAI asks ids to be.
public enum EndUserID {
    public static let openAIMaxLength = 64

    public static func openAI(_ id: String) -> String {
        id.count <= openAIMaxLength ? id : SHA256.hex(Array(id.utf8))
    }
}

extension JSONNode {
    /// A token count from an upstream's usage, made sane whatever its size or form (`999999999999999999`,
    /// `1e300`, `-1`): 0…10^12 (`Saturating.tokens`), so the sums codecs make of a few of them cannot overflow.
    /// nil when the value is not a number.
    public var tokenCount: Int? {
        guard case .number(let n) = self, let t = Saturating.tokens(text: n) else { return nil }
        return Int(t)
    }
}
