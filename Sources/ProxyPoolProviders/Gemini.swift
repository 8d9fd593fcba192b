import ProxyPoolCore

/// Google's Gemini API (generativelanguage.googleapis.com) with an API key in `x-goog-api-key`; the model is
/// in the path.
public struct GeminiProvider: Provider {
    public var kind: ProviderKind { .gemini }
    public var family: Family { .gemini }
    public var defaultBaseURL: String? { "https://generativelanguage.googleapis.com" }
    public var options: [String] { ["ca-file"] }

    public func wires(options: [String: String]) -> [WireProtocol] { [.gemini] }

    public func passThroughURL(_ r: inout ForwardedRequest, endpoint: Endpoint, credential c: CredentialRoute) -> String {
        r.withQuery(r.base + String(r.path))
    }

    public func tierDefault(_ tier: Tier) -> String? { GeminiShape.tierDefault(tier) }

    public func probe(_ c: CredentialRoute) -> UpstreamTarget? { modelList(c, path: "/v1beta/models", family: .gemini) }

    public func auth(_ c: CredentialRoute) -> ProviderAuth { .headers(["x-goog-api-key: \(c.secret)"]) }
}

enum GeminiShape {
    static func tierDefault(_ tier: Tier) -> String? {
        switch tier {
        case .flagship: return "gemini-2.5-pro"
        case .standard: return "gemini-2.5-flash"
        case .fast: return "gemini-2.5-flash-lite"
        case .reasoning: return "gemini-2.5-pro"
        }
    }
}
