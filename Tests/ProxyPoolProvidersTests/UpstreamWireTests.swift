import Testing
import ProxyPoolCore
@testable import ProxyPoolProviders

/// Which protocol a request goes upstream in, per provider kind and its `api` option.
@Suite struct UpstreamWireTests {
    @Test(arguments: [
        // kind, api option, client, expected upstream protocol
        (ProviderKind.openai, nil, WireProtocol.openAIChat, WireProtocol.openAIChat),                 // both APIs: as sent
        (.openai, nil, .openAIResponses, .openAIResponses),
        (.openai, nil, .anthropicMessages, .openAIResponses),                                         // preferred: Responses
        (.openai, "responses", .openAIChat, .openAIResponses),                                        // pinned: translated
        (.openai, "chat", .openAIResponses, .openAIChat),
        (.openai, "chat", .gemini, .openAIChat),
        (.azureOpenAI, nil, .openAIResponses, .openAIResponses),
        (.azureOpenAI, nil, .anthropicMessages, .openAIChat),
        (.azureOpenAI, "responses", .openAIChat, .openAIResponses),
        (.openAICompatible, nil, .openAIResponses, .openAIChat),                                      // Chat only by default
        (.openAICompatible, "responses", .openAIChat, .openAIResponses),
        (.openAICompatible, "responses", .openAIResponses, .openAIResponses),
        (.anthropic, nil, .openAIChat, .anthropicMessages),
        (.anthropic, "chat", .openAIChat, .anthropicMessages),                                        // api means nothing there
        (.gemini, nil, .gemini, .gemini),
        (.chatGPTAccount, nil, .openAIChat, .openAIResponses),
    ] as [(ProviderKind, String?, WireProtocol, WireProtocol)])
    func upstreamProtocol(kind: ProviderKind, api: String?, client: WireProtocol, expected: WireProtocol) {
        #expect(Providers.of(kind).upstreamWire(for: client, options: api.map { ["api": $0] } ?? [:]) == expected)
    }
}
