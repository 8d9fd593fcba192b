import Testing
import ProxyPoolCore
@testable import ProxyPoolTranslation

/// One error vocabulary per client protocol: a client gets the same status, `type` and `code` for the same
/// cause whether proxypoold raised the error (`ClientErrors.body`, what the daemon answers with) or an upstream
/// of another protocol did and it was translated (`Translator.translateError`).
@Suite struct ErrorVocabularyTests {
    /// What each client protocol documents for a cause (see ErrorVocabulary.swift for the sources): the HTTP
    /// status, then OpenAI's `error.type` / `error.code`, Anthropic's `error.type`, Gemini's `error.status`.
    struct Documented: Sendable {
        let cause: ErrorCause
        let openAI: (Int, String, String?)
        let anthropic: (Int, String)
        let gemini: (Int, String)
    }

    static let documented: [Documented] = [
        Documented(cause: .invalidRequest, openAI: (400, "invalid_request_error", nil), anthropic: (400, "invalid_request_error"), gemini: (400, "INVALID_ARGUMENT")),
        Documented(cause: .authentication, openAI: (401, "invalid_request_error", "invalid_api_key"), anthropic: (401, "authentication_error"), gemini: (401, "UNAUTHENTICATED")),
        Documented(cause: .permission, openAI: (403, "invalid_request_error", "permission_denied"), anthropic: (403, "permission_error"), gemini: (403, "PERMISSION_DENIED")),
        Documented(cause: .notFound, openAI: (404, "invalid_request_error", "not_found"), anthropic: (404, "not_found_error"), gemini: (404, "NOT_FOUND")),
        Documented(cause: .tooLarge, openAI: (413, "invalid_request_error", "request_too_large"), anthropic: (413, "request_too_large"), gemini: (413, "INVALID_ARGUMENT")),
        Documented(cause: .rateLimited, openAI: (429, "requests", "rate_limit_exceeded"), anthropic: (429, "rate_limit_error"), gemini: (429, "RESOURCE_EXHAUSTED")),
        Documented(cause: .overloaded, openAI: (503, "server_error", "server_is_overloaded"), anthropic: (529, "overloaded_error"), gemini: (503, "UNAVAILABLE")),
        Documented(cause: .server, openAI: (500, "server_error", nil), anthropic: (500, "api_error"), gemini: (500, "INTERNAL")),
        Documented(cause: .timeout, openAI: (504, "server_error", "timeout"), anthropic: (504, "timeout_error"), gemini: (504, "DEADLINE_EXCEEDED")),
    ]

    /// Upstream error answers in each provider's documented shape, by the cause they mean.
    static let upstream: [ErrorCause: [(WireProtocol, Int, String)]] = [
        .invalidRequest: [
            (.openAIChat, 400, #"{"error":{"message":"Unrecognized request argument","type":"invalid_request_error","param":null,"code":null}}"#),
            (.anthropicMessages, 400, #"{"type":"error","error":{"type":"invalid_request_error","message":"messages: field required"},"request_id":"req_1"}"#),
            (.gemini, 400, #"{"error":{"code":400,"message":"Invalid JSON payload","status":"INVALID_ARGUMENT"}}"#),
        ],
        .authentication: [
            (.openAIChat, 401, #"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#),
            (.anthropicMessages, 401, #"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#),
            (.gemini, 401, #"{"error":{"code":401,"message":"Request had invalid authentication credentials","status":"UNAUTHENTICATED"}}"#),
        ],
        .permission: [
            (.openAIChat, 403, #"{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":null,"code":"unsupported_country_region_territory"}}"#),
            (.anthropicMessages, 403, #"{"type":"error","error":{"type":"permission_error","message":"not allowed"}}"#),
            (.gemini, 403, #"{"error":{"code":403,"message":"The caller does not have permission","status":"PERMISSION_DENIED"}}"#),
        ],
        .notFound: [
            (.openAIChat, 404, #"{"error":{"message":"The model does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#),
            (.anthropicMessages, 404, #"{"type":"error","error":{"type":"not_found_error","message":"model: x"}}"#),
            (.gemini, 404, #"{"error":{"code":404,"message":"models/x is not found","status":"NOT_FOUND"}}"#),
        ],
        .tooLarge: [
            (.openAIChat, 413, "<html>413 Request Entity Too Large</html>"),
            (.anthropicMessages, 413, #"{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum size"}}"#),
            (.gemini, 413, ""),
        ],
        .rateLimited: [
            (.openAIChat, 429, #"{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#),
            (.openAIResponses, 429, #"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#),
            (.anthropicMessages, 429, #"{"type":"error","error":{"type":"rate_limit_error","message":"rate limit"}}"#),
            (.gemini, 429, #"{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}"#),
        ],
        .overloaded: [
            (.openAIChat, 503, #"{"error":{"message":"The engine is currently overloaded","type":"server_error","param":null,"code":"server_is_overloaded"}}"#),
            (.openAIResponses, 503, #"{"error":{"message":"Slow down","type":"server_error","param":null,"code":"slow_down"}}"#),
            (.anthropicMessages, 529, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
            (.gemini, 503, #"{"error":{"code":503,"message":"The model is overloaded","status":"UNAVAILABLE"}}"#),
        ],
        .server: [
            (.openAIChat, 500, #"{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"#),
            (.anthropicMessages, 500, #"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#),
            (.gemini, 500, #"{"error":{"code":500,"message":"An internal error has occurred","status":"INTERNAL"}}"#),
        ],
        .timeout: [
            (.openAIChat, 504, ""),
            (.anthropicMessages, 504, #"{"type":"error","error":{"type":"timeout_error","message":"Request timed out"}}"#),
            (.gemini, 504, #"{"error":{"code":504,"message":"Deadline expired","status":"DEADLINE_EXCEEDED"}}"#),
        ],
    ]

    static let clients: [WireProtocol] = [.openAIChat, .openAIResponses, .anthropicMessages, .gemini]

    /// What a client reads off an error body: its status, then type and code as the protocol names them.
    static func said(_ body: [UInt8], _ client: WireProtocol) -> [String?] {
        let j = try! JSONParser.parse(body)
        switch client.family {
        case .openai: return [j["error"]?["type"]?.string, j["error"]?["code"]?.string, j["error"]?["param"]?.isNull == true ? "param:null" : nil]
        case .anthropic: return [j["type"]?.string, j["error"]?["type"]?.string]
        case .gemini: return [j["error"]?["status"]?.string, j["error"]?["code"]?.int.map(String.init)]
        }
    }

    static func expected(_ d: Documented, _ client: WireProtocol) -> (Int, [String?]) {
        switch client.family {
        case .openai: return (d.openAI.0, [d.openAI.1, d.openAI.2, "param:null"])
        case .anthropic: return (d.anthropic.0, ["error", d.anthropic.1])
        case .gemini: return (d.gemini.0, [d.gemini.1, String(d.gemini.0)])
        }
    }

    @Test(arguments: documented.map(\.cause))
    func proxyRaisedAndTranslatedAgree(_ cause: ErrorCause) throws {
        let doc = try #require(Self.documented.first { $0.cause == cause })
        for client in Self.clients {
            let (status, shape) = Self.expected(doc, client)
            // Raised by the proxy (the daemon answers with the cause's status unless the HTTP layer names one).
            #expect(cause.status(for: client.family) == status, "\(client) \(cause): status")
            #expect(Self.said(ClientErrors.body(client.family, cause, "m"), client) == shape, "\(client) \(cause): proxy-raised body")
            // Raised by an upstream of another protocol, translated.
            for (wire, upstreamStatus, body) in Self.upstream[cause] ?? [] where wire != client {
                let t = Translator.translateError(status: upstreamStatus, body: Array(body.utf8), from: wire, to: client)
                #expect(t.info.kind == cause, "\(wire) \(upstreamStatus) read as \(t.info.kind), not \(cause)")
                #expect(t.info.status == status, "\(wire) → \(client) \(cause): status")
                #expect(Self.said(t.body, client) == shape, "\(wire) → \(client) \(cause): translated body")
            }
        }
    }

    /// A translated error body, read back by its own codec, keeps its cause (what a client reads is what we meant).
    @Test(arguments: ErrorCause.allCases)
    func everyCauseRoundTrips(_ cause: ErrorCause) {
        for client in Self.clients {
            let codec = Codecs.codec(client)
            let status = cause.status(for: client.family)
            let back = codec.decodeError(status: status, body: codec.encodeError(ErrorInfo(kind: cause, message: "m", status: status))).kind
            // Anthropic and Gemini say a too-long context as a plain invalid request; the proxy's own "unavailable"
            // reads back as the provider's overloaded; both keep their status class.
            let same: Set<ErrorCause> = switch (cause, client.family) {
            case (.contextTooLong, .anthropic), (.contextTooLong, .gemini): [.invalidRequest]
            case (.unavailable, _): [.overloaded, .unavailable]
            case (.upstream, .anthropic), (.upstream, .gemini): [.server, .upstream]
            case (.tooLarge, .gemini): [.invalidRequest]
            default: [cause]
            }
            #expect(same.contains(back), "\(client) \(cause) read back as \(back)")
        }
    }

    /// Moved from ProxyPoolCoreTests (ErrorBodyTests) with ErrorBodies.swift: the proxy's own bodies, escaped.
    @Test func eachDialectsShape() throws {
        let o = try JSONParser.parse(ClientErrors.body(.openai, .rateLimited, "slow \"down\""))
        #expect(o["error"]?["message"] == .string("slow \"down\"") && o["error"]?["code"] == .string("rate_limit_exceeded"))
        let a = try JSONParser.parse(ClientErrors.body(.anthropic, .authentication, "no"))
        #expect(a["type"] == .string("error") && a["error"]?["type"] == .string("authentication_error"))
        let g = try JSONParser.parse(ClientErrors.body(.gemini, .rateLimited, "wait"))
        #expect(g["error"]?["code"] == .int(429) && g["error"]?["status"] == .string("RESOURCE_EXHAUSTED"))
        // An HTTP-layer status (408 for a client too slow to send) is kept, and Gemini repeats it as `code`.
        let slow = try JSONParser.parse(ClientErrors.body(.gemini, .timeout, "slow", status: 408))
        #expect(slow["error"]?["code"] == .int(408) && slow["error"]?["status"] == "DEADLINE_EXCEEDED")
    }

    /// An error that ends a stream: the same type and code whether the proxy ends a passed-through stream
    /// (`ClientErrors.streamError`) or a translated stream carries the upstream's error (the codec's encoder).
    @Test(arguments: [ErrorCause.upstream, .rateLimited, .overloaded, .timeout])
    func streamErrorsAgree(_ cause: ErrorCause) throws {
        for client in Self.clients {
            var translated: [UInt8] = []
            let enc = Codecs.codec(client).makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext(geminiSSE: true))
            enc.encode(.messageStart(id: "a", model: "m", usage: nil), into: &translated)
            enc.encode(.error(ErrorInfo(kind: cause, message: "m", status: 200)), into: &translated)
            let raised = CodecFixtures.sseEvents(ClientErrors.streamError(client.family, cause, "m"))
            let last = try #require(CodecFixtures.sseEvents(translated).last)
            let t = try JSONParser.parse(last.data), r = try JSONParser.parse(try #require(raised.first).data)
            let shape = cause.shape(client.family)
            switch client {
            case .openAIChat:
                #expect(t["error"]?["type"]?.string == shape.type && t["error"]?["code"]?.string == shape.code)
                #expect(r["error"]?["type"]?.string == shape.type && r["error"]?["code"]?.string == shape.code && raised.first?.event == "error")
            case .openAIResponses:
                #expect(last.event == "response.failed" && t["response"]?["error"]?["code"]?.string == shape.code ?? shape.type)
                #expect(r["error"]?["type"]?.string == shape.type && r["error"]?["code"]?.string == shape.code)
            case .anthropicMessages:
                #expect(last.event == "error" && raised.first?.event == "error" && t == r)
            case .gemini:
                #expect(t == r && t["error"]?["status"]?.string == shape.type && t["error"]?["code"]?.int == shape.status)
            }
        }
    }
}
