import ProxyPoolCore

/// Anthropic's Messages API with an API key in `x-api-key`; an `anthropic-version` always goes (the client's
/// own when it sent one, else the credential's option, else 2023-06-01).
public struct AnthropicProvider: Provider {
    public var kind: ProviderKind { .anthropic }
    public var family: Family { .anthropic }
    public var defaultBaseURL: String? { "https://api.anthropic.com" }
    public var options: [String] { ["anthropic-version", "ca-file"] }

    public func wires(options: [String: String]) -> [WireProtocol] { [.anthropicMessages] }

    public func passThroughURL(_ r: inout ForwardedRequest, endpoint: Endpoint, credential c: CredentialRoute) -> String {
        AnthropicShape.versionHeader(&r, c)
        return r.withQuery(r.base + String(r.path))
    }

    public func tierDefault(_ tier: Tier) -> String? { AnthropicShape.tierDefault(tier) }

    public func probe(_ c: CredentialRoute) -> UpstreamTarget? { modelList(c, path: "/v1/models", family: .anthropic) }

    public func auth(_ c: CredentialRoute) -> ProviderAuth { .headers(["x-api-key: \(c.secret)"]) }
}

enum AnthropicShape {
    /// A version the client's Connection header names is its hop only: ours goes instead.
    static func versionHeader(_ r: inout ForwardedRequest, _ c: CredentialRoute) {
        if !r.clientSent("anthropic-version") || r.connectionNamed.contains("anthropic-version") {
            r.headers.append("anthropic-version: \(c.options["anthropic-version"] ?? "2023-06-01")")
        }
    }

    static func tierDefault(_ tier: Tier) -> String? {
        switch tier {
        case .flagship: return "claude-opus-4-5"
        case .standard: return "claude-sonnet-4-5"
        case .fast: return "claude-haiku-4-5"
        case .reasoning: return "claude-opus-4-5"
        }
    }
}
