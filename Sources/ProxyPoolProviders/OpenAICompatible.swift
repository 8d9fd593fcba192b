import ProxyPoolCore

/// A server that speaks OpenAI's API for models of its own (vLLM, Ollama, OpenRouter, Groq…): Chat
/// Completions, which every one of them has; Responses only when the credential says `api=responses`.
public struct OpenAICompatibleProvider: Provider {
    public var kind: ProviderKind { .openAICompatible }
    public var family: Family { .openai }
    /// It serves whatever it hosts, under the names it hosts them by.
    public var modelFamily: Family? { nil }
    public var defaultBaseURL: String? { nil }
    public var options: [String] { ["api", "ca-file"] }

    public func wires(options: [String: String]) -> [WireProtocol] { OpenAIWires.pinned(options) ?? [.openAIChat] }

    public func passThroughURL(_ r: inout ForwardedRequest, endpoint: Endpoint, credential c: CredentialRoute) -> String {
        OpenAIWires.organisationHeaders(&r, c)
        return r.withQuery(r.base + r.suffix)
    }

    /// No fixed catalogue: the user names the models.
    public func tierDefault(_ tier: Tier) -> String? { nil }

    public func probe(_ c: CredentialRoute) -> UpstreamTarget? { modelList(c, path: "/v1/models", family: .openai) }

    public func auth(_ c: CredentialRoute) -> ProviderAuth { .headers(["Authorization: Bearer \(c.secret)"]) }
}
