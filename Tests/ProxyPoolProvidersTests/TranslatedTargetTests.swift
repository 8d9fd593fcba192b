import Testing
import ProxyPoolCore
@testable import ProxyPoolProviders

/// A translated request goes where a client of the upstream's own protocol would send it, with the headers
/// its kind adds, none of the client's, and the auth apart.
@Suite struct TranslatedTargetTests {
    func cred(_ p: ProviderKind, _ base: String?, _ options: [String: String] = [:]) -> CredentialRoute {
        CredentialRoute(name: "c", provider: p, secret: "sk-real-secret", baseURL: base, options: options, enabled: true, free: false)
    }

    @Test func eachKindPlacesATranslatedRequest() {
        let openai = Providers.of(.openai).target(wire: .openAIResponses, model: "gpt-5.1", stream: true, credential: cred(.openai, nil, ["project": "p1"]))
        #expect(openai.url == "https://api.openai.com/v1/responses")
        #expect(openai.headers == ["Content-Type: application/json", "Accept: text/event-stream", "User-Agent: proxypoold", "OpenAI-Project: p1"])

        let azure = Providers.of(.azureOpenAI).target(wire: .openAIChat, model: "x", stream: false,
                                                      credential: cred(.azureOpenAI, "https://r.openai.azure.com", ["deployment": "d1", "api-version": "2024-10-21"]))
        #expect(azure.url == "https://r.openai.azure.com/openai/deployments/d1/chat/completions?api-version=2024-10-21")

        let anthropic = Providers.of(.anthropic).target(wire: .anthropicMessages, model: "claude-sonnet-4-5", stream: false,
                                                        credential: cred(.anthropic, nil, ["anthropic-version": "2024-01-01"]))
        #expect(anthropic.url == "https://api.anthropic.com/v1/messages")
        #expect(anthropic.headers.contains("anthropic-version: 2024-01-01") && anthropic.headers.contains("Accept: application/json"))

        let gemini = Providers.of(.gemini).target(wire: .gemini, model: "models/gemini 2.5", stream: true, credential: cred(.gemini, nil))
        #expect(gemini.url == "https://generativelanguage.googleapis.com/v1beta/models/models%2Fgemini%202.5:streamGenerateContent?alt=sse")
        let once = Providers.of(.gemini).target(wire: .gemini, model: "gemini-2.5-pro", stream: false, credential: cred(.gemini, "http://127.0.0.1:9/"))
        #expect(once.url == "http://127.0.0.1:9/v1beta/models/gemini-2.5-pro:generateContent")

        for kind in [ProviderKind.openai, .azureOpenAI, .openAICompatible, .anthropic, .gemini] {
            let t = Providers.of(kind).target(wire: Providers.of(kind).wires(options: [:])[0], model: "m", stream: false,
                                              credential: cred(kind, "https://h.example/openai/v1", ["api-version": "v"]))
            #expect(!t.headers.contains { $0.contains("sk-real-secret") }, "\(kind): the auth is not part of the target")
        }
    }

    @Test func probesAreModelListsForServedKindsOnly() {
        #expect(Providers.of(.openai).probe(cred(.openai, nil))?.url == "https://api.openai.com/v1/models")
        #expect(Providers.of(.anthropic).probe(cred(.anthropic, nil))?.headers.contains("anthropic-version: 2023-06-01") == true)
        #expect(Providers.of(.gemini).probe(cred(.gemini, nil))?.url == "https://generativelanguage.googleapis.com/v1beta/models")
        #expect(Providers.of(.vertex).probe(cred(.vertex, nil, ["project": "p", "location": "global"]))?.url
                == "https://aiplatform.googleapis.com/v1/publishers/google/models/gemini-2.5-flash-lite")
        // Every kind the store accepts is served now (vertex: issue 13; the two subscription kinds: issue 14).
        #expect(ProviderKind.allCases.allSatisfy { Providers.of($0).isServed && $0.servedFamily != nil })
    }

    @Test func tierDefaultsPerKind() {
        #expect(Providers.of(.anthropic).tierDefault(.fast) == "claude-haiku-4-5")
        #expect(Providers.of(.openai).tierDefault(.reasoning) == "gpt-5.1-codex")
        #expect(Providers.of(.vertex).tierDefault(.standard) == "gemini-2.5-flash")
        #expect(Providers.of(.azureOpenAI).tierDefault(.flagship) == nil && Providers.of(.openAICompatible).tierDefault(.fast) == nil)
    }

    @Test func credentialChecksMovedFromTheStore() throws {
        try Providers.validate(kind: .openai, secret: "sk-1", baseURL: nil, options: ["api": "chat", "max-output-tokens": "100"])
        #expect(throws: RPCError.invalidParams("option 'api' must be chat or responses, not 'x'")) {
            try Providers.validate(kind: .openai, secret: "sk-1", baseURL: nil, options: ["api": "x"])
        }
        #expect(throws: RPCError.self) { try Providers.validate(kind: .openAICompatible, secret: "k", baseURL: nil, options: [:]) }
        #expect(throws: RPCError.self) { try Providers.validate(kind: .vertex, secret: "{}", baseURL: nil, options: ["project": "p"]) }
        #expect(throws: RPCError.self) { try Providers.validate(kind: .gemini, secret: "k", baseURL: nil, options: ["organization": "o"]) }
        #expect(throws: RPCError.self) { try Providers.validate(kind: .azureOpenAI, secret: "k", baseURL: "https://r.openai.azure.com", options: [:]) }
        try Providers.validate(kind: .azureOpenAI, secret: "k", baseURL: "https://r.openai.azure.com/openai/v1", options: [:])
    }
}
