import ProxyPoolCore

/// OpenAI's own API (api.openai.com): Responses preferred (it returns reasoning summaries and encrypted
/// reasoning for the next turn, and some models exist only there), Chat Completions too.
public struct OpenAIProvider: Provider {
    public var kind: ProviderKind { .openai }
    public var family: Family { .openai }
    public var defaultBaseURL: String? { "https://api.openai.com/v1" }
    public var options: [String] { ["organization", "project", "api", "ca-file"] }

    public func wires(options: [String: String]) -> [WireProtocol] {
        OpenAIWires.pinned(options) ?? [.openAIResponses, .openAIChat]
    }

    public func passThroughURL(_ r: inout ForwardedRequest, endpoint: Endpoint, credential c: CredentialRoute) -> String {
        OpenAIWires.organisationHeaders(&r, c)
        return r.withQuery(r.base + r.suffix)
    }

    public func tierDefault(_ tier: Tier) -> String? { OpenAIWires.tierDefault(tier) }

    public func probe(_ c: CredentialRoute) -> UpstreamTarget? { modelList(c, path: "/v1/models", family: .openai) }

    public func auth(_ c: CredentialRoute) -> ProviderAuth { .headers(["Authorization: Bearer \(c.secret)"]) }
}

/// What the OpenAI-shaped kinds share.
enum OpenAIWires {
    /// The values of the `api` option: the one OpenAI API a credential is called with.
    static let apiOptionValues = ["chat", "responses"]

    /// An explicit `api` pins the credential to that API: every request is sent in it, translated when the
    /// client speaks the other one (Responses-only models such as gpt-5-pro; servers with Chat only).
    static func pinned(_ options: [String: String]) -> [WireProtocol]? {
        switch options["api"] {
        case "chat": return [.openAIChat]
        case "responses": return [.openAIResponses]
        default: return nil
        }
    }

    static func organisationHeaders(_ r: inout ForwardedRequest, _ c: CredentialRoute) {
        if let org = c.options["organization"] { r.headers.append("OpenAI-Organization: \(org)") }
        if let project = c.options["project"] { r.headers.append("OpenAI-Project: \(project)") }
    }

    static func tierDefault(_ tier: Tier) -> String? {
        switch tier {
        case .flagship: return "gpt-5.1"
        case .standard: return "gpt-5.1"
        case .fast: return "gpt-5-mini"
        case .reasoning: return "gpt-5.1-codex"
        }
    }
}
