import ProxyPoolCore

/// A ChatGPT subscription (a Codex login) through the Codex Responses backend. Where Codex itself sends a
/// ChatGPT-login request, and how (public source, openai/codex):
/// - base `https://chatgpt.com/backend-api/codex`, requests at `{base}/responses` (and `/responses/compact`,
///   `/models`): codex-rs/model-provider-info/src/lib.rs, `to_api_provider` (the ChatGPT default base URL);
/// - `Authorization: Bearer <access token>` and `ChatGPT-Account-ID: <account id>`: codex-rs/codex-api/src/auth.rs,
///   `add_auth_headers_to_header_map`;
/// - `originator: codex_cli_rs` on every request: codex-rs/login/src/auth/default_client.rs (`DEFAULT_ORIGINATOR`,
///   `default_headers`); a Codex client's own `originator` and session headers pass through instead.
/// It speaks only the Responses protocol: every other client protocol reaches it through translation.
public struct ChatGPTAccountProvider: Provider {
    public var kind: ProviderKind { .chatGPTAccount }
    public var family: Family { .openai }
    public var defaultBaseURL: String? { "https://chatgpt.com/backend-api/codex" }
    /// `account-id`, `email` and `plan` come from the import (the id token's claims); `token-url` is for tests.
    public var options: [String] { ["account-id", "email", "plan", "token-url", "ca-file"] }
    public var requiredOptions: [String] { ["account-id"] }

    public func validate(baseURL: String?, options: [String: String]) throws(RPCError) {
        try AccountTokens.validateTokenURL(options)
    }

    public func wires(options: [String: String]) -> [WireProtocol] { [.openAIResponses] }

    public func passThroughURL(_ r: inout ForwardedRequest, endpoint: Endpoint, credential c: CredentialRoute) -> String {
        if let id = c.options["account-id"] { r.headers.append("ChatGPT-Account-ID: \(id)") }
        if !r.clientSent("originator") { r.headers.append("originator: codex_cli_rs") }
        // The backend's paths have no /v1: {base}/responses, as Codex's own base_url + "/responses".
        return r.withQuery(r.base + r.suffix)
    }

    public func tierDefault(_ tier: Tier) -> String? { OpenAIWires.tierDefault(tier) }

    /// `credential test`: the backend's model list, as Codex asks for it (codex-rs/codex-api/src/endpoint/models.rs:
    /// `GET {base}/models?client_version=…`, answered `{"models": [{"slug": …}]}`), with the account-id header. The
    /// version is that of the Codex CLI proxypool's end-to-end tests run (0.163.0): the backend lists the models
    /// of clients at least that new.
    public func probe(_ c: CredentialRoute) -> UpstreamTarget? {
        guard var base = c.baseURL ?? defaultBaseURL else { return nil }
        while base.hasSuffix("/") { base.removeLast() }
        return UpstreamTarget(url: base + "/models?client_version=0.163.0",
                              headers: ["ChatGPT-Account-ID: \(c.options["account-id"] ?? "")", "originator: codex_cli_rs", "Accept: application/json"])
    }

    public func auth(_ c: CredentialRoute) -> ProviderAuth {
        .token(Grant(tokenURL: c.options["token-url"] ?? Self.tokenURL))
    }

    /// codex-rs/login/src/auth/manager.rs: `REFRESH_TOKEN_URL` and `CLIENT_ID`.
    static let tokenURL = "https://auth.openai.com/oauth/token"
    static let clientID = "app_EMoamEEZ73f0CkXaXp7hrann"

    /// Codex's refresh (codex-rs/login/src/auth/manager.rs, `request_chatgpt_token_refresh`): a JSON body
    /// `{client_id, grant_type: "refresh_token", refresh_token}`; the answer `{id_token, access_token,
    /// refresh_token}` (each optional; the refresh token rotates). A 401, or an error code
    /// `refresh_token_expired` / `_reused` / `_invalidated` (`classify_refresh_token_failure`), is permanent.
    struct Grant: TokenGrant {
        let tokenURL: String

        func request(_ c: CredentialRoute, refreshToken: String) -> TokenRequest {
            AccountTokens.jsonRequest(url: tokenURL, fields: [("client_id", Self.clientID), ("grant_type", "refresh_token"),
                                                              ("refresh_token", refreshToken)])
        }
        static var clientID: String { ChatGPTAccountProvider.clientID }

        func result(status: Int, body: [UInt8], nowMillis: Int64) -> TokenFetchResult {
            let json = try? JSON.decode(JSONValue.self, from: body)
            if status == 200 {
                guard let token = json?["access_token"]?.stringValue, !token.isEmpty else {
                    return .failed("the token endpoint answered 200 without an access_token")
                }
                // The answer has no expires_in: the access token's own `exp` says (parse_jwt_expiration). Codex
                // refreshes at the latest 8 days after the last refresh (TOKEN_REFRESH_INTERVAL): the fallback.
                let exp = JWT.claims(token)?["exp"]?.intValue.map { Saturating.multiply($0, 1000) }
                    ?? json?["expires_in"]?.intValue.map { Saturating.add(nowMillis, Saturating.multiply(max(0, $0), 1000)) }
                    ?? Saturating.add(nowMillis, 8 * 86_400_000)
                let rotated = json?["refresh_token"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                return .success(Token(value: token, expiresAtMillis: exp), refreshToken: rotated)
            }
            let code = AccountTokens.errorCode(json)
            if status == 401 || ["refresh_token_expired", "refresh_token_reused", "refresh_token_invalidated", "invalid_grant"].contains(code ?? "") {
                return .refused(code ?? "the token endpoint answered 401")
            }
            return .failed("the token endpoint answered \(status)")
        }

        func headers(token: String) -> [String] { ["Authorization: Bearer \(token)"] }

        /// A day ahead: a ChatGPT access token lives about ten days, and a refresh a day early costs nothing.
        var refreshMarginMillis: Int64 { 86_400_000 }
    }
}
