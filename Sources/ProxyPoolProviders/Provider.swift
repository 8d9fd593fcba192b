import ProxyPoolCore

/// One kind of upstream: which wire protocols it speaks, where a request for a credential of this kind goes,
/// what a credential of this kind must carry, its tier defaults and its health probe, and how it proves itself
/// (a static header or a token that must be fetched). One file per kind in this folder; a new provider is a new
/// file here and a line in `Providers.of`. No I/O: the daemon carries out what a provider describes.
public protocol Provider: Sendable {
    var kind: ProviderKind { get }
    /// Whether this release serves credentials of this kind (the others are stored, listed and skipped by routing).
    var isServed: Bool { get }
    /// The family of the protocols it speaks (where its credentials are pooled without translation).
    var family: Family { get }
    /// The family of models it serves under their own names; nil for servers that host whatever they host.
    var modelFamily: Family? { get }

    // MARK: The credential
    /// The endpoint used when the credential sets none; nil when it must set one (`credential add --base-url`).
    var defaultBaseURL: String? { get }
    /// Provider settings a credential of this kind may carry beside the options every kind takes.
    var options: [String] { get }
    /// Options that must be present.
    var requiredOptions: [String] { get }
    /// Whether the secret is one word (an API key); JSON key files and token bundles span lines.
    var secretIsOneWord: Bool { get }
    /// Checks of this kind beyond the common ones (`ProviderValidation.credential`).
    func validate(baseURL: String?, options: [String: String]) throws(RPCError)
    /// Checks of the secret's shape beyond size and words (a key file that must parse).
    func validate(secret: String) throws(RPCError)

    // MARK: Serving
    /// The protocols it speaks, preferred first, for a credential with these options.
    func wires(options: [String: String]) -> [WireProtocol]
    /// The URL for a client request passed through as it is (same protocol): `request` has the client's path,
    /// query and headers already filtered; the provider adds what its kind needs (versions, organisations).
    func passThroughURL(_ request: inout ForwardedRequest, endpoint: Endpoint, credential: CredentialRoute) -> String
    /// The built-in model for a tier, until the user sets one.
    func tierDefault(_ tier: Tier) -> String?
    /// The request `credential test` sends (headers without auth); nil when this kind cannot be probed.
    func probe(_ c: CredentialRoute) -> UpstreamTarget?
    /// How a credential of this kind authenticates.
    func auth(_ c: CredentialRoute) -> ProviderAuth
    /// Why a credential of this kind must not serve this app speaking this client protocol (routing skips it and
    /// says why); nil when it may.
    func refusal(app: String, client: Family, options: [String: String]) -> String?
}

/// Where one request goes: its URL and its header lines ("Name: value"), without the credential's auth.
public struct UpstreamTarget: Sendable, Equatable {
    public var url: String
    public var headers: [String]
    public init(url: String, headers: [String]) { self.url = url; self.headers = headers }
}

/// How a credential proves itself upstream.
public enum ProviderAuth: Sendable {
    /// Header lines built from the stored secret (an API key): the same on every request.
    case headers([String])
    /// A short-lived token obtained with the stored secret (a refresh token, a service-account key): the
    /// daemon asks the credential's `TokenSource` and sends `headers(token)`.
    case token(TokenGrant)
}

public extension Provider {
    var isServed: Bool { true }
    var modelFamily: Family? { family }
    var requiredOptions: [String] { [] }
    var secretIsOneWord: Bool { true }
    func validate(baseURL: String?, options: [String: String]) throws(RPCError) {}
    func validate(secret: String) throws(RPCError) {}
    func refusal(app: String, client: Family, options: [String: String]) -> String? { nil }
    var requiresBaseURL: Bool { defaultBaseURL == nil }
    /// Every option a credential of this kind may carry.
    var allowedOptions: [String] { options + ["max-output-tokens"] }

    /// The protocol a request is sent upstream in: the client's own when the upstream speaks it (the bytes pass
    /// through untouched), else the upstream's preferred one (translated).
    func upstreamWire(for client: WireProtocol, options: [String: String]) -> WireProtocol {
        let w = wires(options: options)
        return w.contains(client) ? client : w[0]
    }

    /// A client request passed through: its path and query on the credential's base, the client's headers
    /// minus hop-by-hop, framing and every kind of key. The auth comes separately (`auth(_:)`).
    func target(endpoint: Endpoint, path: Substring, query: Substring?, credential c: CredentialRoute,
                clientHeaders: [(name: String, value: String)], lowerNames: [String]? = nil) -> UpstreamTarget {
        var r = ForwardedRequest(path: path, query: query, base: c.baseURL ?? defaultBaseURL ?? "",
                                 clientHeaders: clientHeaders, lowerNames: lowerNames)
        let url = passThroughURL(&r, endpoint: endpoint, credential: c)
        return UpstreamTarget(url: url, headers: r.headers)
    }

    /// A translated request: sent as a client of `wire` would send it (that protocol's own path, so each kind
    /// places it as it places any request: Azure's deployments, Gemini's model in the path), with none of the
    /// client's headers (they belong to another protocol).
    func target(wire: WireProtocol, model: String, stream: Bool, credential c: CredentialRoute) -> UpstreamTarget {
        let endpoint: Endpoint
        let path: String
        var query: Substring?
        switch wire {
        case .openAIChat: endpoint = Endpoint(family: .openai, kind: .chatCompletions); path = "/v1/chat/completions"
        case .openAIResponses: endpoint = Endpoint(family: .openai, kind: .responses); path = "/v1/responses"
        case .anthropicMessages: endpoint = Endpoint(family: .anthropic, kind: .messages); path = "/v1/messages"
        case .gemini:
            endpoint = Endpoint(family: .gemini, kind: stream ? .streamGenerateContent : .generateContent, pathModel: model, geminiVersion: "v1beta")
            path = "/v1beta/models/\(PathSegment.encode(model)):\(stream ? "streamGenerateContent" : "generateContent")"
            if stream { query = "alt=sse" }
        }
        let headers: [(name: String, value: String)] = [("Content-Type", "application/json"),
                                                        ("Accept", stream ? "text/event-stream" : "application/json"),
                                                        ("User-Agent", "proxypoold")]
        return target(endpoint: endpoint, path: Substring(path), query: query, credential: c, clientHeaders: headers)
    }

    /// The model list at `path` on the credential's base, the request every served kind can be probed with.
    func modelList(_ c: CredentialRoute, path: Substring, family: Family) -> UpstreamTarget {
        target(endpoint: Endpoint(family: family, kind: .models), path: path, query: nil, credential: c, clientHeaders: [])
    }
}
