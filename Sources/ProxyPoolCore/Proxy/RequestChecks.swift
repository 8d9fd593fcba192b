/// What the proxy refuses before any upstream is contacted, beyond the HTTP framing (HTTPRequestParser) and the
/// body's JSON (RequestFields.scan). On the same-protocol path the body goes upstream as it came, so everything
/// the proxy reads itself (and then stores, logs or keys a cache with) must be unambiguous and bounded:
/// - model names: 1 to `maxModelBytes` bytes of printable ASCII without space (0x21–0x7E); one in a Gemini path,
///   read after percent-decoding it once, holds none of `/ ? # %` and no `..` either;
/// - session ids (x-claude-code-session-id, session-id, conversation_id): 1 to `maxSessionBytes` bytes, 0x21–0x7E;
/// - an `X-Proxypool-App` label: an app name (Validation.name: 1 to 64 letters, digits, `-`, `_`, `.`);
/// - a local key in `?key=` only on the Gemini endpoints (a key in a URL ends up in logs and histories);
/// - no `Content-Encoding` but `identity` (415): the body is read and forwarded as it came.
/// Semantic checks (is the model known, are the messages well formed) stay the upstream's business.
public enum RequestChecks {
    public static let maxModelBytes = 256
    public static let maxSessionBytes = 256
    public static let maxAppBytes = 64
    /// The headers a conversation id comes in, in the order they are read.
    public static let sessionHeaders = ["x-claude-code-session-id", "session-id", "conversation_id"]

    /// A refused request: the status and a sentence naming the problem.
    public struct Refusal: Sendable, Equatable, Error {
        public var status: Int
        public var message: String
        public init(_ status: Int, _ message: String) { self.status = status; self.message = message }
    }

    /// The checks that need only the head. `lowerNames[i]` is the lower-cased name of `headers[i]`.
    public static func head(_ endpoint: Endpoint, headers: [(name: String, value: String)], lowerNames: [String],
                            query: Substring?) -> Refusal? {
        // One pass over the names; the query and the path model after it.
        for i in lowerNames.indices {
            // Every name checked here starts with c, s or x: the others skip the string comparisons.
            switch lowerNames[i].utf8.first {
            case UInt8(ascii: "c"), UInt8(ascii: "s"), UInt8(ascii: "x"): break
            default: continue
            }
            // ... and is 10, 15, 16 or 24 bytes long: Content-Type and Content-Length skip them too.
            switch lowerNames[i].utf8.count {
            case 10, 15, 16, 24: break
            default: continue
            }
            switch lowerNames[i] {
            case "content-encoding":
                let v = headers[i].value
                guard v.utf8.count == 8, v.lowercased() == "identity" else {
                    return Refusal(415, "Content-Encoding '\(shown(v))' is not supported; send the body uncompressed")
                }
            case AppDetection.labelHeader:
                guard (try? Validation.name(headers[i].value, what: "app")) != nil else {
                    return Refusal(400, "X-Proxypool-App '\(shown(headers[i].value))' is not an app name: 1 to \(maxAppBytes) letters, digits, '-', '_' or '.', starting with a letter or digit")
                }
            case sessionHeaders[0], sessionHeaders[1], sessionHeaders[2]:
                if let why = tokenProblem(headers[i].value, max: maxSessionBytes) { return Refusal(400, "the \(headers[i].name) header \(why)") }
            default: break
            }
        }
        if endpoint.family != .gemini, let q = query, q.split(separator: "&").contains(where: { $0.hasPrefix("key=") }) {
            return Refusal(400, "an access key in the URL (?key=) is accepted only on the Gemini endpoints; send it in a header "
                                + "(Authorization: Bearer … or x-api-key), where it stays out of logs")
        }
        if let m = endpoint.pathModel, let why = pathModelProblem(m) { return Refusal(400, why) }
        return nil
    }

    /// The checks on what the body scan found: its JSON, and a model where the endpoint carries one in the body.
    public static func body(_ f: RequestFields, endpoint: Endpoint) -> Refusal? {
        if let problem = f.problem { return Refusal(400, "the request body is not accepted: \(problem)") }
        guard endpoint.kind.modelInBody else { return nil }
        guard let m = f.model else { return Refusal(400, "\"model\" is missing from the request body") }
        if let why = tokenProblem(m, max: maxModelBytes) { return Refusal(400, "\"model\" \(why)") }
        return nil
    }

    /// Why `s` is not 1 to `max` bytes of printable ASCII without space; nil when it is.
    public static func tokenProblem(_ s: String, max: Int) -> String? {
        let u = s.utf8
        if u.isEmpty { return "is empty" }
        if u.count > max { return "is \(u.count) bytes long; at most \(max) are accepted" }
        for c in u where c < 0x21 || c > 0x7E {
            return "may hold only printable ASCII characters without spaces (found byte 0x\(StrictJSON.hex2(c)))"
        }
        return nil
    }

    /// Why a model taken from a Gemini path (percent-decoded once) cannot be sent on; nil when it can.
    public static func pathModelProblem(_ m: String) -> String? {
        if let why = tokenProblem(m, max: maxModelBytes) { return "the model in the path \(why)" }
        for c in m.utf8 where c == UInt8(ascii: "/") || c == UInt8(ascii: "?") || c == UInt8(ascii: "#") || c == UInt8(ascii: "%") {
            return "the model in the path may not hold '\(Character(Unicode.Scalar(c)))' (also not percent-encoded)"
        }
        if m.includes("..") { return "the model in the path may not hold '..'" }
        return nil
    }

    /// A client's string shown in a message: at most 64 characters, control characters as '?'.
    static func shown(_ s: String) -> String {
        let cut = s.unicodeScalars.prefix(64).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) }
        return String(cut) + (s.unicodeScalars.count > 64 ? "…" : "")
    }
}

public extension Endpoint.Kind {
    /// Whether the body carries the model (everything but Gemini, where it is in the path, and model lists).
    var modelInBody: Bool {
        switch self {
        case .chatCompletions, .responses, .responsesCompact, .messages, .countTokens: return true
        case .models, .generateContent, .streamGenerateContent, .geminiCountTokens, .embedContent, .batchEmbedContents, .accountUsage: return false
        }
    }
}
