import ProxyPoolCore

// Kinds the store and the control plane accept but this release does not serve: they need a token that is
// fetched, signed or refreshed (issue 13). Each becomes a file of its own, with a `TokenGrant`, when
// it is served; until then routing skips its credentials and `credential test` refuses them.

/// Vertex AI (Google Cloud): service accounts, ADC and API keys (issue 13).
public struct VertexProvider: Provider {
    public var kind: ProviderKind { .vertex }
    public var isServed: Bool { false }
    public var family: Family { .gemini }
    public var defaultBaseURL: String? { "https://aiplatform.googleapis.com" }
    public var options: [String] { ["project", "location", "ca-file"] }
    public var requiredOptions: [String] { ["project", "location"] }
    public var secretIsOneWord: Bool { false }
    public func wires(options: [String: String]) -> [WireProtocol] { [.gemini] }
    public func passThroughURL(_ r: inout ForwardedRequest, endpoint: Endpoint, credential c: CredentialRoute) -> String {
        r.withQuery(r.base + String(r.path))
    }
    public func tierDefault(_ tier: Tier) -> String? { GeminiShape.tierDefault(tier) }
    public func probe(_ c: CredentialRoute) -> UpstreamTarget? { nil }
    public func auth(_ c: CredentialRoute) -> ProviderAuth { .headers(["x-goog-api-key: \(c.secret)"]) }
}
