import ProxyPoolCore

/// A Claude subscription (a Claude Code login): Anthropic's Messages API with the OAuth access token as
/// `Authorization: Bearer` and the OAuth beta flag `oauth-2025-04-20` added to the client's `anthropic-beta`.
/// Claude Code's source is not public; the shape is the one public OAuth clients of the same endpoints use
/// (github.com/sst/opencode-anthropic-auth, index.mjs: token endpoint, client id, the JSON refresh body, the
/// beta flag, no `x-api-key`).
///
/// Anthropic refuses subscription requests that do not look like Claude Code (400 "Third-party apps now draw
/// from your extra usage…", ../shared/notes/clients.md §8), so by default such a credential serves only the
/// `claude-code` app speaking the Anthropic protocol, its body forwarded unchanged (`refusal(app:client:)`);
/// the option `allow-any-app=yes` lifts that.
public struct ClaudeAccountProvider: Provider {
    public var kind: ProviderKind { .claudeAccount }
    public var family: Family { .anthropic }
    public var defaultBaseURL: String? { "https://api.anthropic.com" }
    public var options: [String] { ["email", "plan", "allow-any-app", "anthropic-version", "token-url", "ca-file"] }

    public func validate(baseURL: String?, options: [String: String]) throws(RPCError) {
        if let v = options["allow-any-app"], v != "yes", v != "no" {
            throw .invalidParams("option 'allow-any-app' must be yes or no, not '\(v)'")
        }
        try AccountTokens.validateTokenURL(options)
    }

    public func wires(options: [String: String]) -> [WireProtocol] { [.anthropicMessages] }

    public func passThroughURL(_ r: inout ForwardedRequest, endpoint: Endpoint, credential c: CredentialRoute) -> String {
        AnthropicShape.versionHeader(&r, c)
        Self.addBeta(&r.headers, Self.oauthBeta)
        return r.withQuery(r.base + String(r.path))
    }

    public func tierDefault(_ tier: Tier) -> String? { AnthropicShape.tierDefault(tier) }

    /// `credential test`: Anthropic's model list with the OAuth bearer and beta (as every request of the account).
    public func probe(_ c: CredentialRoute) -> UpstreamTarget? { modelList(c, path: "/v1/models", family: .anthropic) }

    public func auth(_ c: CredentialRoute) -> ProviderAuth {
        .token(Grant(tokenURL: c.options["token-url"] ?? Self.tokenURL))
    }

    public func refusal(app: String, client: Family, options: [String: String]) -> String? {
        if options["allow-any-app"] == "yes" || (app == "claude-code" && client == .anthropic) { return nil }
        return "is a Claude subscription and serves only Claude Code in the Anthropic protocol (app \(app) is not; 'allow-any-app=yes' lifts this)"
    }

    static let oauthBeta = "oauth-2025-04-20"
    static let tokenURL = "https://console.anthropic.com/v1/oauth/token"
    static let clientID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"

    /// `flag` added to the `anthropic-beta` line the client sent (once), or a line of its own.
    static func addBeta(_ headers: inout [String], _ flag: String) {
        for (i, h) in headers.enumerated() {
            guard let colon = h.firstIndex(of: ":"), h[..<colon].lowercased() == "anthropic-beta" else { continue }
            let flags = h[h.index(after: colon)...].split(separator: ",").map { $0.trimming(" \t") }
            if !flags.contains(flag) { headers[i] = h + "," + flag }
            return
        }
        headers.append("anthropic-beta: \(flag)")
    }

    /// The refresh-token grant with a JSON body `{grant_type, refresh_token, client_id}`, answered as RFC 6749
    /// says (`access_token`, `expires_in`, a rotated `refresh_token`; `error` on a 400).
    struct Grant: TokenGrant {
        let tokenURL: String
        func request(_ c: CredentialRoute, refreshToken: String) -> TokenRequest {
            AccountTokens.jsonRequest(url: tokenURL, fields: [("grant_type", "refresh_token"), ("refresh_token", refreshToken),
                                                              ("client_id", ClaudeAccountProvider.clientID)])
        }
        func result(status: Int, body: [UInt8], nowMillis: Int64) -> TokenFetchResult {
            OAuthRefresh.result(status: status, body: body, nowMillis: nowMillis)
        }
        func headers(token: String) -> [String] { ["Authorization: Bearer \(token)"] }
        /// Four hours ahead: a Claude access token lives about eight.
        var refreshMarginMillis: Int64 { 4 * 3_600_000 }
    }
}

/// What the two subscription kinds share.
public enum AccountTokens {
    /// A POST with a JSON object of string fields.
    static func jsonRequest(url: String, fields: [(String, String)]) -> TokenRequest {
        let body = "{" + fields.map { "\(JSONText.quoted($0.0)):\(JSONText.quoted($0.1))" }.joined(separator: ",") + "}"
        return TokenRequest(url: url, headers: ["Content-Type: application/json", "Accept: application/json", "User-Agent: proxypoold"],
                            body: Array(body.utf8))
    }

    /// `error` as a string, `error.code`, or `code`: the shapes token endpoints answer with.
    static func errorCode(_ json: JSONValue?) -> String? {
        if let e = json?["error"]?.stringValue { return e }
        if let e = json?["error"]?["code"]?.stringValue { return e }
        return json?["code"]?.stringValue
    }

    /// `token-url` sends the refresh token elsewhere: only proxypool's own tests may set it.
    static func validateTokenURL(_ options: [String: String]) throws(RPCError) {
        guard let u = options["token-url"] else { return }
        guard Providers.testProvidersEnabled else {
            throw .invalidParams("option 'token-url' is for proxypool's own tests; it needs 'test-providers = yes' in proxypoold.conf")
        }
        try Validation.baseURL(u)
    }

    /// What `status` says a refused login needs, for the kinds that are logins.
    public static func fix(kind: ProviderKind, credential: String) -> String? {
        switch kind {
        case .chatGPTAccount:
            return "log in again: 'proxypoolctl login chatgpt \(credential) --replace' (or 'codex login', then 'proxypoolctl credential import codex \(credential) --replace')"
        case .claudeAccount:
            return "log in again: 'proxypoolctl login claude \(credential) --replace' (or 'claude /login', then 'proxypoolctl credential import claude \(credential) --replace')"
        default: return nil
        }
    }
}
