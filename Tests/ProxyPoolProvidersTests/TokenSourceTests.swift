import Testing
import ProxyPoolCore
@testable import ProxyPoolProviders

/// A grant whose request names the refresh token it presents, with a margin to test refreshing ahead.
struct FakeGrant: TokenGrant {
    var refreshMarginMillis: Int64 = 0
    func request(_ c: CredentialRoute, refreshToken: String) -> TokenRequest {
        TokenRequest(url: "http://token.test/oauth/token", headers: [], body: Array(refreshToken.utf8))
    }
    func result(status: Int, body: [UInt8], nowMillis: Int64) -> TokenFetchResult { .failed("unused") }
    func headers(token: String) -> [String] { ["Authorization: Bearer \(token)"] }
}

/// The token state machine, without sockets or clocks: the time is whatever the test says.
@Suite struct TokenSourceTests {
    let cred = CredentialRoute(name: "t", provider: .testOAuth, secret: "rt-0", baseURL: "http://x", options: [:], enabled: true, free: false)

    func presented(_ a: TokenSource.Action) -> String? {
        if case .fetch(let r) = a { return String(decoding: r.body, as: UTF8.self) }
        return nil
    }

    @Test func fetchesOnceThenUsesTheCachedTokenUntilItExpires() {
        var s = TokenSource(credential: cred, grant: FakeGrant())
        #expect(presented(s.next(nowMillis: 1_000)) == "rt-0", "no token yet: fetch with the stored secret")
        #expect(s.next(nowMillis: 1_001) == .wait, "a fetch is under way: everyone else waits")
        #expect(s.next(nowMillis: 1_002) == .wait)
        #expect(s.fetched(.success(Token(value: "at-1", expiresAtMillis: 10_000), refreshToken: "rt-1")) == .ready("at-1"))
        #expect(s.next(nowMillis: 2_000) == .use("at-1"))
        #expect(s.next(nowMillis: 9_999) == .use("at-1"))
        #expect(presented(s.next(nowMillis: 10_000)) == "rt-1", "expired: fetch again, with the rotated refresh token")
        #expect(s.fetched(.success(Token(value: "at-2", expiresAtMillis: 20_000), refreshToken: nil)) == .ready("at-2"))
        #expect(s.refreshToken == "rt-1", "not rotated this time: the last one stays")
        #expect(s.next(nowMillis: 10_001) == .use("at-2"))
    }

    @Test func refreshesAheadOfExpiryByTheGrantsMargin() {
        var s = TokenSource(credential: cred, grant: FakeGrant(refreshMarginMillis: 5_000), token: Token(value: "at-old", expiresAtMillis: 20_000))
        #expect(s.next(nowMillis: 14_999) == .use("at-old"))
        #expect(presented(s.next(nowMillis: 15_000)) == "rt-0", "within the margin: replaced before it expires")
    }

    @Test func aStoredTokenAndRefreshTokenAreUsedAsTheyAre() {
        var s = TokenSource(credential: cred, grant: FakeGrant(), token: Token(value: "at-9", expiresAtMillis: 50_000), refreshToken: "rt-9")
        #expect(s.next(nowMillis: 1) == .use("at-9"))
        #expect(presented(s.next(nowMillis: 50_000)) == "rt-9")
    }

    @Test func aRefusedGrantSticksUntilTheCredentialChanges() {
        var s = TokenSource(credential: cred, grant: FakeGrant(), token: Token(value: "at-1", expiresAtMillis: 1_000))
        #expect(presented(s.next(nowMillis: 2_000)) != nil)
        #expect(s.fetched(.refused("invalid_grant: revoked")) == .refused("invalid_grant: revoked"))
        #expect(s.token == nil)
        #expect(s.next(nowMillis: 2_001) == .refused("invalid_grant: revoked"))
        #expect(s.next(nowMillis: 99_000) == .refused("invalid_grant: revoked"), "no new grant is tried with a refused secret")
    }

    @Test func aFailedFetchIsTriedAgainOnTheNextRequest() {
        var s = TokenSource(credential: cred, grant: FakeGrant())
        #expect(presented(s.next(nowMillis: 1)) == "rt-0")
        #expect(s.fetched(.failed("the token endpoint answered 503")) == .failed("the token endpoint answered 503"))
        #expect(presented(s.next(nowMillis: 2)) == "rt-0", "transient: the next request fetches again")
    }
}

/// RFC 6749 §5.1 / §5.2 answers, as the refresh-token grant reads them.
@Suite struct OAuthRefreshTests {
    @Test func successWithRotationAndExpiry() {
        let r = OAuthRefresh.result(status: 200, body: Array(#"{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt2"}"#.utf8),
                                    nowMillis: 1_000)
        #expect(r == .success(Token(value: "at", expiresAtMillis: 1_000 + 3_600_000), refreshToken: "rt2"))
        let noRotation = OAuthRefresh.result(status: 200, body: Array(#"{"access_token":"at","expires_in":"60"}"#.utf8), nowMillis: 0)
        #expect(noRotation == .success(Token(value: "at", expiresAtMillis: 60_000), refreshToken: nil))
    }

    @Test func refusalsAndFailures() {
        #expect(OAuthRefresh.result(status: 400, body: Array(#"{"error":"invalid_grant","error_description":"revoked"}"#.utf8), nowMillis: 0)
                == .refused("invalid_grant: revoked"))
        #expect(OAuthRefresh.result(status: 401, body: Array(#"{"error":"invalid_client"}"#.utf8), nowMillis: 0) == .refused("invalid_client"))
        #expect(OAuthRefresh.result(status: 503, body: Array("busy".utf8), nowMillis: 0) == .failed("the token endpoint answered 503"))
        #expect(OAuthRefresh.result(status: 400, body: Array("<html>".utf8), nowMillis: 0) == .failed("the token endpoint answered 400"),
                "a 400 that is not an OAuth error says nothing about the grant")
        if case .failed = OAuthRefresh.result(status: 200, body: Array(#"{"token_type":"Bearer"}"#.utf8), nowMillis: 0) {} else {
            Issue.record("a 200 without access_token is no token")
        }
    }

    @Test func theRequestIsAFormPost() {
        let r = OAuthRefresh.request(url: "http://h/oauth/token", refreshToken: "a b/c")
        #expect(r.method == "POST" && r.headers.contains("Content-Type: application/x-www-form-urlencoded"))
        #expect(String(decoding: r.body, as: UTF8.self) == "grant_type=refresh_token&refresh_token=a%20b%2Fc")
    }
}

@Suite struct TestProviderTests {
    /// Without `test-providers = yes` the kind cannot be added (the daemon sets the switch at start; tests never do).
    @Test func testOAuthIsRefusedUnlessEnabled() {
        #expect(!Providers.testProvidersEnabled)
        #expect(throws: RPCError.self) {
            try Providers.validate(kind: .testOAuth, secret: "rt-1", baseURL: "http://127.0.0.1:1", options: [:])
        }
        #expect(ProviderKind.testOAuth.servedFamily == nil, "and routing skips it")
        #expect(!ProviderKind.allCases.contains(.testOAuth), "no listing or help text names it")
    }

    @Test func itsTokenGrantAndHeader() {
        let c = CredentialRoute(name: "t", provider: .testOAuth, secret: "rt-1", baseURL: "http://127.0.0.1:9/", options: [:], enabled: true, free: false)
        guard case .token(let grant) = Providers.of(.testOAuth).auth(c) else { Issue.record("test-oauth authenticates with a token"); return }
        let r = grant.request(c, refreshToken: "rt-1")
        #expect(r.url == "http://127.0.0.1:9/oauth/token")
        #expect(grant.headers(token: "at") == ["Authorization: Bearer at"])
        let t = Providers.of(.testOAuth).target(wire: .openAIChat, model: "gpt-5.1", stream: false, credential: c)
        #expect(t.url == "http://127.0.0.1:9/chat/completions" && !t.headers.contains { $0.hasPrefix("Authorization") })
    }
}
