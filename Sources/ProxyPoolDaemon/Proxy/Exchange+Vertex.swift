import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolTranslation
import ProxyPoolProviders

/// A conversation turn for a Vertex AI credential. Vertex serves two publishers under one credential, so the
/// protocol is chosen by the model (`VertexRoute.publisher`), not by the credential: a Claude model goes to
/// Anthropic's `rawPredict` / `streamRawPredict` as a Messages body without `model` and with Vertex's
/// `anthropic_version`; any other model to Google's `generateContent` / `streamGenerateContent`, with a role on
/// every content. A client of that protocol passes through (the body reshaped only); the others are translated.
extension Exchange {
    func prepareVertex(_ c: CredentialRoute, _ clientWire: WireProtocol?) throws(TranslationError) -> (url: String, headers: [String], body: [UInt8])? {
        guard let clientWire else {
            if endpoint.kind == .countTokens { return try claudeTokenCount(c) }
            // A Gemini token count (the other request a Vertex credential gets: it is in the Gemini pool).
            plan = Plan(upstreamWire: nil, translated: false, upstreamModel: model)
            let t = Providers.of(.vertex).target(endpoint: endpoint, path: request.head.path, query: nil, credential: c, clientHeaders: [])
            return (t.url, ["Content-Type: application/json", "Accept: application/json", "User-Agent: proxypoold"],
                    try VertexBody.countTokens(request.body))
        }
        guard var upstreamModel = vertexModel(c), !upstreamModel.isEmpty else { throw TranslationError(field: "model", "a Vertex AI request needs a model") }
        let publisher = VertexRoute.publisher(for: upstreamModel)
        if publisher == .anthropic { upstreamModel = VertexRoute.claudeModelID(upstreamModel) }
        let wire = VertexRoute.wire(publisher)
        var headers = ["Content-Type: application/json", "Accept: \(stream ? "text/event-stream" : "application/json")", "User-Agent: proxypoold"]
        var body: [UInt8]
        // A Gemini client's stream passed through comes back in the framing it asked for (SSE or a JSON array).
        var sse = stream
        // Vertex fetches no file by URL: a Gemini request naming one is re-encoded with the file inline.
        if wire == clientWire && !(wire == .gemini && VertexBody.namesFileURI(request.body)) {
            plan = Plan(upstreamWire: wire, translated: false, upstreamModel: upstreamModel)
            body = request.body
            if wire == .gemini { sse = stream && clientContext.geminiSSE }
            if wire == .anthropicMessages, let beta = request.head.header("anthropic-beta") {
                var dropped: [String] = []
                if let kept = VertexRoute.filterBetas(beta, dropped: &dropped) { headers.append("anthropic-beta: \(kept)") }
                if !dropped.isEmpty {
                    service.logger.debug("credential \(c.name): betas Vertex AI refuses were dropped: \(dropped.joined(separator: ", "))",
                                         event: "vertex-betas-dropped", [.init("CREDENTIAL", c.name)])
                }
            }
        } else {
            // Vertex fetches no file by URL either: media named by URL are fetched and sent inline.
            guard let req = try translatedRequest(from: clientWire, to: wire, model: upstreamModel, credential: c, upstreamName: "Vertex AI") else { return nil }
            plan = Plan(upstreamWire: wire, translated: true, upstreamModel: upstreamModel)
            body = try Translator.encodeRequest(req, to: wire)
        }
        let url = VertexRoute.url(c, publisher: publisher, model: upstreamModel, method: VertexRoute.method(publisher, stream: stream), stream: sse)
        return (url, headers, try VertexBody.shape(body, wire))
    }

    /// The model a Vertex credential is asked for. Its tier maps are Gemini's; a Claude model is Vertex's own
    /// too, so only an alias renames one.
    private func vertexModel(_ c: CredentialRoute) -> String? {
        guard let m = model else { return nil }
        let d = service.mapModel(m, c)
        return VertexRoute.publisher(for: m) == .anthropic && d.tier != nil ? m : d.model
    }

    /// An Anthropic client's token count for a Claude model: Vertex's one count-tokens endpoint, the model
    /// (Vertex's id) in the body beside `anthropic_version`, the answer (`{"input_tokens": N}`) Anthropic's own.
    private func claudeTokenCount(_ c: CredentialRoute) throws(TranslationError) -> (url: String, headers: [String], body: [UInt8]) {
        guard let m = vertexModel(c), VertexRoute.publisher(for: m) == .anthropic else {
            throw TranslationError(field: "model", "Vertex AI counts Anthropic-protocol tokens for Claude models only")
        }
        let id = VertexRoute.claudeModelID(m)
        plan = Plan(upstreamWire: nil, translated: false, upstreamModel: id)
        guard var json = try? JSONParser.parse(request.body), json.isObject else { throw TranslationError(field: nil, "the request body is not a JSON object") }
        json.set("model", .string(id))
        json.set("anthropic_version", .string(VertexRoute.anthropicVersion))
        var headers = ["Content-Type: application/json", "Accept: application/json", "User-Agent: proxypoold"]
        var dropped: [String] = []
        if let beta = request.head.header("anthropic-beta"), let kept = VertexRoute.filterBetas(beta, dropped: &dropped) {
            headers.append("anthropic-beta: \(kept)")
        }
        return (VertexRoute.claudeCountTokensURL(c), headers, JSONWriter.bytes(json))
    }
}

/// The body changes Vertex needs over each publisher's own API.
enum VertexBody {
    private static let fileURIKey = Array(#""fileUri""#.utf8)

    /// Whether a Gemini body may name a file by URI (a text that merely mentions it costs a translation, no more).
    static func namesFileURI(_ body: [UInt8]) -> Bool {
        guard body.count >= fileURIKey.count else { return false }
        return body.withUnsafeBufferPointer { b in
            (0...(b.count - fileURIKey.count)).contains { i in b[i] == 0x22 && b[(i + 1)..<(i + fileURIKey.count)].elementsEqual(fileURIKey.dropFirst()) }
        }
    }

    /// Gemini's countTokens takes `contents` or a whole `generateContentRequest`; Vertex's takes the fields of
    /// the request itself (https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/count-tokens).
    static func countTokens(_ body: [UInt8]) throws(TranslationError) -> [UInt8] {
        guard var json = try? JSONParser.parse(body), json.isObject else { throw TranslationError(field: nil, "the request body is not a JSON object") }
        if var inner = json["generateContentRequest"], inner.isObject {
            inner.set("model", nil)
            json = inner
        }
        return try shape(JSONWriter.bytes(json), .gemini)
    }

    static func shape(_ body: [UInt8], _ wire: WireProtocol) throws(TranslationError) -> [UInt8] {
        guard var json = try? JSONParser.parse(body), json.isObject else { throw TranslationError(field: nil, "the request body is not a JSON object") }
        switch wire {
        case .anthropicMessages:
            // https://docs.anthropic.com/en/api/claude-on-vertex-ai: the model is in the URL, the version in the body.
            json.set("model", nil)
            json.set("anthropic_version", .string(VertexRoute.anthropicVersion))
        case .gemini:
            // Vertex refuses a content without a role (the Gemini API takes it as the user's).
            guard let contents = json["contents"]?.array else { break }
            json.set("contents", .array(contents.map { content in
                var c = content
                if c.isObject, c["role"]?.string == nil { c.set("role", .string("user")) }
                return c
            }))
        default:
            break
        }
        return JSONWriter.bytes(json)
    }
}
