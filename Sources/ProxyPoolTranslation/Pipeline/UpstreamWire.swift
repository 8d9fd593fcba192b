import ProxyPoolCore

public extension WireProtocol {
    /// The protocol a client endpoint speaks; nil for endpoints that are not a conversation turn (model lists,
    /// token counts, Codex's compaction).
    init?(endpoint: Endpoint.Kind) {
        switch endpoint {
        case .chatCompletions: self = .openAIChat
        case .responses: self = .openAIResponses
        case .messages: self = .anthropicMessages
        case .generateContent, .streamGenerateContent: self = .gemini
        case .models, .countTokens, .geminiCountTokens, .responsesCompact: return nil
        }
    }

    var dialect: Dialect {
        switch self {
        case .openAIChat, .openAIResponses: return .openai
        case .anthropicMessages: return .anthropic
        case .gemini: return .gemini
        }
    }
}

public extension ProviderKind {
    /// The values of the `api` option: the one OpenAI API a credential is called with.
    static let apiOptionValues = ["chat", "responses"]

    /// The protocols this kind of upstream speaks, preferred first. OpenAI's own API prefers Responses (it
    /// returns reasoning summaries and encrypted reasoning for the next turn, and some models exist only
    /// there); Azure and OpenAI-compatible servers prefer Chat Completions, which every one of them has.
    /// The credential option `api=chat|responses` pins the credential to one API; an OpenAI-compatible server
    /// is assumed to have Responses only when it says `api=responses`.
    func wires(options: [String: String]) -> [WireProtocol] {
        // An explicit `api` pins the credential to that API: every request is sent in it, translated when the
        // client speaks the other one (Responses-only models such as gpt-5-pro; servers with Chat only).
        switch options["api"] {
        case "chat": if [.openai, .azureOpenAI, .openAICompatible].contains(self) { return [.openAIChat] }
        case "responses": if [.openai, .azureOpenAI, .openAICompatible].contains(self) { return [.openAIResponses] }
        default: break
        }
        switch self {
        case .openai: return [.openAIResponses, .openAIChat]
        case .azureOpenAI: return [.openAIChat, .openAIResponses]
        case .openAICompatible: return [.openAIChat]
        case .chatGPTAccount: return [.openAIResponses]
        case .anthropic, .claudeAccount: return [.anthropicMessages]
        case .gemini, .vertex: return [.gemini]
        }
    }

    /// The protocol a request is sent upstream in: the client's own when the upstream speaks it (the bytes pass
    /// through untouched), else the upstream's preferred one (translated).
    func upstreamWire(for client: WireProtocol, options: [String: String]) -> WireProtocol {
        let w = wires(options: options)
        return w.contains(client) ? client : w[0]
    }
}

public extension UpstreamTarget {
    /// A translated request's URL and headers: the path of the upstream's own protocol, the credential's auth,
    /// and none of the client's headers (they belong to another protocol).
    static func build(wire: WireProtocol, model: String, stream: Bool, credential c: CredentialRoute) -> (url: String, headers: [String]) {
        let endpoint: Endpoint
        let path: String
        var query: String?
        switch wire {
        case .openAIChat: endpoint = Endpoint(dialect: .openai, kind: .chatCompletions); path = "/v1/chat/completions"
        case .openAIResponses: endpoint = Endpoint(dialect: .openai, kind: .responses); path = "/v1/responses"
        case .anthropicMessages: endpoint = Endpoint(dialect: .anthropic, kind: .messages); path = "/v1/messages"
        case .gemini:
            endpoint = Endpoint(dialect: .gemini, kind: stream ? .streamGenerateContent : .generateContent, pathModel: model, geminiVersion: "v1beta")
            path = "/v1beta/models/\(pathSegment(model)):\(stream ? "streamGenerateContent" : "generateContent")"
            if stream { query = "alt=sse" }
        }
        let headers: [(name: String, value: String)] = [("Content-Type", "application/json"),
                                                        ("Accept", stream ? "text/event-stream" : "application/json"),
                                                        ("User-Agent", "proxypoold")]
        return build(endpoint: endpoint, path: Substring(path), query: query.map { Substring($0) }, credential: c, clientHeaders: headers)
    }

    /// A model name as one path segment: anything but unreserved characters percent-encoded.
    static func pathSegment(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in s.utf8 {
            if Validation.isAlnum(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~") {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
