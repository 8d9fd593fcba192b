import ProxyPoolCore

/// Azure OpenAI: a resource endpoint with deployments and an `api-version`, or the `/openai/v1` form. Chat
/// Completions preferred (every deployment has it); the key goes in `api-key`.
public struct AzureOpenAIProvider: Provider {
    public var kind: ProviderKind { .azureOpenAI }
    public var family: Family { .openai }
    public var defaultBaseURL: String? { nil }
    public var options: [String] { ["deployment", "api-version", "api", "ca-file"] }

    public func validate(baseURL: String?, options: [String: String]) throws(RPCError) {
        if options["api-version"] == nil, let url = baseURL, !url.includes("/openai/v1") {
            throw .invalidParams("an azure-openai credential with a resource endpoint needs --api-version (or a base URL ending in /openai/v1)")
        }
    }

    public func wires(options: [String: String]) -> [WireProtocol] {
        OpenAIWires.pinned(options) ?? [.openAIChat, .openAIResponses]
    }

    public func passThroughURL(_ r: inout ForwardedRequest, endpoint: Endpoint, credential c: CredentialRoute) -> String {
        if r.base.includes("/openai/v1") { return r.withQuery(r.base + r.suffix) }
        let version = "api-version=\(c.options["api-version"] ?? "")"
        switch endpoint.kind {
        case .chatCompletions:
            return r.withQuery(r.base + "/openai/deployments/\(c.options["deployment"] ?? "_")/chat/completions", extra: version)
        default:
            return r.withQuery(r.base + "/openai" + r.suffix, extra: version)
        }
    }

    /// Deployments have no fixed catalogue: the user names them (`proxypoolctl tier set`).
    public func tierDefault(_ tier: Tier) -> String? { nil }

    public func probe(_ c: CredentialRoute) -> UpstreamTarget? { modelList(c, path: "/v1/models", family: .openai) }

    public func auth(_ c: CredentialRoute) -> ProviderAuth { .headers(["api-key: \(c.secret)"]) }
}
