import Testing
import ProxyPoolCore
@testable import ProxyPoolProviders

/// Subscription accounts: reading the CLIs' login files, where their requests go with which headers, the
/// refresh grants and what their answers mean, and who a Claude subscription may serve.
@Suite struct AccountTests {
    static func jwt(_ claims: String) -> String { "eyJhbGciOiJub25lIn0." + Base64.encode(Array(claims.utf8)).replacingAll("=", "") + ".sig" }
    static let idToken = jwt(#"{"email":"alice@example.com","https://api.openai.com/auth":{"chatgpt_plan_type":"plus","chatgpt_account_id":"acct-1"}}"#)
    static let access = jwt(#"{"exp":1900000000}"#)

    static func auth(_ tokens: String) -> [UInt8] { Array(#"{"OPENAI_API_KEY":null,"tokens":\#(tokens),"last_refresh":"2026-12-01T00:00:00Z"}"#.utf8) }

    @Test func codexAuthJSON() throws {
        let a = try AccountImport.codex(Self.auth(#"{"id_token":"\#(Self.idToken)","access_token":"\#(Self.access)","refresh_token":"rt_1","account_id":"acct-1"}"#))
        #expect(a.kind == .chatGPTAccount && a.refreshToken == "rt_1" && a.accessToken == Self.access)
        #expect(a.accessTokenExpiresAtMillis == 1_900_000_000_000)
        #expect(a.options == ["email": "alice@example.com", "plan": "plus", "account-id": "acct-1"])
        #expect(a.defaultName == "chatgpt-alice-example.com")
        // The account id may come from the id token alone.
        let b = try AccountImport.codex(Self.auth(#"{"id_token":"\#(Self.idToken)","access_token":"x","refresh_token":"rt_1"}"#))
        #expect(b.accountID == "acct-1" && b.accessTokenExpiresAtMillis == 0, "an opaque access token: refreshed before first use")
    }

    @Test(arguments: [
        ("not json", "is not JSON"),
        ("[]", "is not a JSON object"),
        (#"{"OPENAI_API_KEY":"sk-1"}"#, "holds an API key"),
        (#"{"tokens":{"access_token":"a","refresh_token":"r"}}"#, "tokens.id_token is missing"),
        (#"{"tokens":{"id_token":"nope","access_token":"a","refresh_token":"r"}}"#, "not a JWT"),
        (#"{"tokens":{"id_token":"a.e30.c","access_token":"a","refresh_token":"r"}}"#, "names no ChatGPT account"),
        (#"{"tokens":{"id_token":"a.e30.c","access_token":"a","refresh_token":"two words"}}"#, "not one word"),
    ])
    func malformedCodexFiles(file: String, message: String) {
        #expect { try AccountImport.codex(Array(file.utf8)) } throws: { ($0 as? AccountImportError)?.message.contains(message) == true }
    }

    @Test func claudeCredentialsJSON() throws {
        let file = #"{"claudeAiOauth":{"accessToken":"sk-ant-oat01-a","refreshToken":"sk-ant-ort01-r","expiresAt":1785956423181,"scopes":["user:inference"],"subscriptionType":"max"}}"#
        let a = try AccountImport.claude(Array(file.utf8), claudeJSON: Array(#"{"oauthAccount":{"emailAddress":"bob@example.com"}}"#.utf8))
        #expect(a.kind == .claudeAccount && a.refreshToken == "sk-ant-ort01-r" && a.accessTokenExpiresAtMillis == 1785956423181)
        #expect(a.options == ["email": "bob@example.com", "plan": "max"] && a.defaultName == "claude-bob-example.com")
        #expect(try AccountImport.claude(Array(file.utf8)).defaultName == "claude-max")
        #expect { try AccountImport.claude(Array(#"{"claudeAiOauth":{"accessToken":"a","refreshToken":"r"}}"#.utf8)) } throws: {
            ($0 as? AccountImportError)?.message.contains("expiresAt") == true
        }
        #expect { try AccountImport.claude(Array(#"{"mcpOAuth":{}}"#.utf8)) } throws: {
            ($0 as? AccountImportError)?.message.contains("claudeAiOauth") == true
        }
    }

    func cred(_ k: ProviderKind, _ options: [String: String] = [:]) -> CredentialRoute {
        CredentialRoute(name: "acc", provider: k, secret: "rt_secret", baseURL: nil, options: options, enabled: true, free: false)
    }

    @Test func chatGPTRequestsGoToTheCodexBackendWithTheAccountHeader() {
        let p = Providers.of(.chatGPTAccount)
        let t = p.target(wire: .openAIResponses, model: "gpt-5.1", stream: true, credential: cred(.chatGPTAccount, ["account-id": "acct-1"]))
        #expect(t.url == "https://chatgpt.com/backend-api/codex/responses")
        #expect(t.headers.contains("ChatGPT-Account-ID: acct-1") && t.headers.contains("originator: codex_cli_rs"))
        // A Codex client's own originator goes instead of ours.
        let pass = p.target(endpoint: Endpoint(family: .openai, kind: .responses), path: "/v1/responses", query: nil,
                            credential: cred(.chatGPTAccount, ["account-id": "acct-1"]), clientHeaders: [("originator", "codex_exec"), ("session-id", "s1")])
        #expect(pass.headers.filter { $0.lowercased().hasPrefix("originator:") } == ["originator: codex_exec"] && pass.headers.contains("session-id: s1"))
        #expect(p.isServed && p.refusal(app: "claude-code", client: .anthropic, options: [:]) == nil)
    }

    @Test func chatGPTGrant() throws {
        guard case .token(let g) = Providers.of(.chatGPTAccount).auth(cred(.chatGPTAccount)) else { Issue.record("no grant"); return }
        let r = g.request(cred(.chatGPTAccount), refreshToken: "rt_1")
        #expect(r.url == "https://auth.openai.com/oauth/token" && r.headers.contains("Content-Type: application/json"))
        #expect(String(decoding: r.body, as: UTF8.self) == #"{"client_id":"app_EMoamEEZ73f0CkXaXp7hrann","grant_type":"refresh_token","refresh_token":"rt_1"}"#)
        let ok = g.result(status: 200, body: Array(#"{"access_token":"\#(Self.access)","refresh_token":"rt_2","id_token":"x"}"#.utf8), nowMillis: 5)
        #expect(ok == .success(Token(value: Self.access, expiresAtMillis: 1_900_000_000_000), refreshToken: "rt_2"))
        #expect(g.result(status: 400, body: Array(#"{"error":{"code":"refresh_token_reused"}}"#.utf8), nowMillis: 0) == .refused("refresh_token_reused"))
        #expect(g.result(status: 401, body: [], nowMillis: 0) == .refused("the token endpoint answered 401"))
        #expect(g.result(status: 503, body: [], nowMillis: 0) == .failed("the token endpoint answered 503"))
        #expect(g.refreshMarginMillis == 86_400_000 && g.headers(token: "t") == ["Authorization: Bearer t"])
    }

    @Test func claudeAccountSendsTheOAuthBetaAndServesOnlyClaudeCode() throws {
        let p = Providers.of(.claudeAccount)
        let t = p.target(endpoint: Endpoint(family: .anthropic, kind: .messages), path: "/v1/messages", query: "beta=true", credential: cred(.claudeAccount),
                         clientHeaders: [("anthropic-beta", "claude-code-20250219,effort-2025-11-24"), ("x-api-key", "ppk_local"), ("anthropic-version", "2023-06-01")])
        #expect(t.url == "https://api.anthropic.com/v1/messages?beta=true")
        #expect(t.headers.contains("anthropic-beta: claude-code-20250219,effort-2025-11-24,oauth-2025-04-20"))
        #expect(!t.headers.contains { $0.contains("ppk_local") })
        let bare = p.target(wire: .anthropicMessages, model: "claude-sonnet-4-5", stream: false, credential: cred(.claudeAccount))
        #expect(bare.headers.contains("anthropic-beta: oauth-2025-04-20"))
        #expect(p.refusal(app: "claude-code", client: .anthropic, options: [:]) == nil)
        #expect(p.refusal(app: "anthropic-sdk", client: .anthropic, options: [:])?.contains("only Claude Code") == true)
        #expect(p.refusal(app: "claude-code", client: .openai, options: [:]) != nil, "never translated")
        #expect(p.refusal(app: "anthropic-sdk", client: .openai, options: ["allow-any-app": "yes"]) == nil)
        guard case .token(let g) = p.auth(cred(.claudeAccount)) else { Issue.record("no grant"); return }
        let r = g.request(cred(.claudeAccount), refreshToken: "rt_1")
        #expect(r.url == "https://console.anthropic.com/v1/oauth/token")
        #expect(String(decoding: r.body, as: UTF8.self) == #"{"grant_type":"refresh_token","refresh_token":"rt_1","client_id":"9d1c250a-e61b-44d9-88ed-5944d1962f5e"}"#)
        #expect(g.result(status: 400, body: Array(#"{"error":"invalid_grant"}"#.utf8), nowMillis: 0) == .refused("invalid_grant"))
        #expect(g.refreshMarginMillis == 4 * 3_600_000)
    }

    @Test func optionsAreChecked() {
        #expect(throws: RPCError.self) { try Providers.validate(kind: .claudeAccount, secret: "r", baseURL: nil, options: ["allow-any-app": "maybe"]) }
        #expect(throws: RPCError.self) { try Providers.validate(kind: .chatGPTAccount, secret: "r", baseURL: nil, options: [:]) }   // needs account-id
        #expect(throws: RPCError.self) { try Providers.validate(kind: .chatGPTAccount, secret: "r", baseURL: nil, options: ["account-id": "a", "token-url": "http://127.0.0.1:1"]) }
        #expect(AccountTokens.fix(kind: .chatGPTAccount, credential: "c")?.contains("credential import codex c --replace") == true)
        #expect(AccountTokens.fix(kind: .chatGPTAccount, credential: "c")?.contains("proxypoolctl login chatgpt c --replace") == true)
        #expect(AccountTokens.fix(kind: .claudeAccount, credential: "c")?.contains("proxypoolctl login claude c --replace") == true)
    }
}

private extension String {
    func replacingAll(_ a: Character, _ b: String) -> String { String(self.filter { $0 != a }) + b }
}
