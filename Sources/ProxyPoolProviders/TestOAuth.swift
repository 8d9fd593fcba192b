import ProxyPoolCore

/// `test-oauth`: a kind for the daemon's own tests of token sources, never for real use. An OpenAI-compatible
/// server (Chat Completions at `{base}/chat/completions`) whose bearer token comes from a refresh-token grant at
/// `{base}/oauth/token`; the stored secret is the first refresh token, and each grant may rotate it. Only
/// with `test-providers = yes` in proxypoold.conf(5): otherwise the store refuses to add one and routing skips
/// any that exist (`Providers.testProvidersEnabled`).
public struct TestOAuthProvider: Provider {
    public var kind: ProviderKind { .testOAuth }
    public var isServed: Bool { Providers.testProvidersEnabled }
    public var family: Family { .openai }
    public var defaultBaseURL: String? { nil }
    public var options: [String] { ["ca-file"] }

    public func validate(baseURL: String?, options: [String: String]) throws(RPCError) {
        guard Providers.testProvidersEnabled else {
            throw .invalidParams("provider test-oauth is for proxypool's own tests; it needs 'test-providers = yes' in proxypoold.conf")
        }
    }

    public func wires(options: [String: String]) -> [WireProtocol] { [.openAIChat] }

    public func passThroughURL(_ r: inout ForwardedRequest, endpoint: Endpoint, credential c: CredentialRoute) -> String {
        r.withQuery(r.base + r.suffix)
    }

    public func tierDefault(_ tier: Tier) -> String? { OpenAIWires.tierDefault(tier) }

    public func probe(_ c: CredentialRoute) -> UpstreamTarget? { nil }

    public func auth(_ c: CredentialRoute) -> ProviderAuth {
        var base = c.baseURL ?? ""
        while base.hasSuffix("/") { base.removeLast() }
        return .token(Grant(tokenURL: base + "/oauth/token"))
    }

    struct Grant: TokenGrant {
        let tokenURL: String
        func request(_ c: CredentialRoute, refreshToken: String) -> TokenRequest {
            OAuthRefresh.request(url: tokenURL, refreshToken: refreshToken)
        }
        func result(status: Int, body: [UInt8], nowMillis: Int64) -> TokenFetchResult {
            OAuthRefresh.result(status: status, body: body, nowMillis: nowMillis)
        }
        func headers(token: String) -> [String] { ["Authorization: Bearer \(token)"] }
        /// None: the tests decide expiry to the second.
        var refreshMarginMillis: Int64 { 0 }
    }
}
