import ProxyPoolCore

// Kinds the store and the control plane accept but this release does not serve: they need a token that is
// fetched, signed or refreshed (issue 14). Each becomes a file of its own, with a `TokenGrant`, when
// it is served; until then routing skips its credentials and `credential test` refuses them.

/// A ChatGPT subscription through the Codex backend (issue 14).
public struct ChatGPTAccountProvider: Provider {
    public var kind: ProviderKind { .chatGPTAccount }
    public var isServed: Bool { false }
    public var family: Family { .openai }
    public var defaultBaseURL: String? { "https://api.openai.com/v1" }
    public var options: [String] { ["ca-file"] }
    public var secretIsOneWord: Bool { false }
    public func wires(options: [String: String]) -> [WireProtocol] { [.openAIResponses] }
    public func passThroughURL(_ r: inout ForwardedRequest, endpoint: Endpoint, credential c: CredentialRoute) -> String {
        OpenAIWires.organisationHeaders(&r, c)
        return r.withQuery(r.base + r.suffix)
    }
    public func tierDefault(_ tier: Tier) -> String? { OpenAIWires.tierDefault(tier) }
    public func probe(_ c: CredentialRoute) -> UpstreamTarget? { nil }
    public func auth(_ c: CredentialRoute) -> ProviderAuth { .headers(["Authorization: Bearer \(c.secret)"]) }
}

/// A Claude subscription (issue 14).
public struct ClaudeAccountProvider: Provider {
    public var kind: ProviderKind { .claudeAccount }
    public var isServed: Bool { false }
    public var family: Family { .anthropic }
    public var defaultBaseURL: String? { "https://api.anthropic.com" }
    public var options: [String] { ["ca-file"] }
    public var secretIsOneWord: Bool { false }
    public func wires(options: [String: String]) -> [WireProtocol] { [.anthropicMessages] }
    public func passThroughURL(_ r: inout ForwardedRequest, endpoint: Endpoint, credential c: CredentialRoute) -> String {
        AnthropicShape.versionHeader(&r, c)
        return r.withQuery(r.base + String(r.path))
    }
    public func tierDefault(_ tier: Tier) -> String? { AnthropicShape.tierDefault(tier) }
    public func probe(_ c: CredentialRoute) -> UpstreamTarget? { nil }
    public func auth(_ c: CredentialRoute) -> ProviderAuth { .headers(["x-api-key: \(c.secret)"]) }
}
