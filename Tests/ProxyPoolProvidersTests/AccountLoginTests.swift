import Testing
import ProxyPoolCore
@testable import ProxyPoolProviders

/// The pure half of `proxypoolctl login`: PKCE, the callback's parameters, the exchange's answers.
@Suite struct AccountLoginUnitTests {
    @Test func pkceMatchesRFC7636AppendixB() {
        // RFC 7636 Appendix B: these 32 octets give this verifier and this S256 challenge.
        let octets: [UInt8] = [116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77,
                               105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121]
        let p = PKCE(randomBytes: octets)
        #expect(p.verifier == "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(p.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        let made = PKCE.make()
        #expect(made.verifier.count == 86 && made.verifier != PKCE.make().verifier, "64 random bytes, unpadded base64url")
    }

    @Test func callbackParametersAreReadFromAnAddressOrAPastedCode() {
        #expect(AccountLogin.callback("/auth/callback?code=a%2Fb+c&state=s%3D1") == .code("a/b c", state: "s=1"))
        #expect(AccountLogin.callback(" http://localhost:1455/auth/callback?state=x&code=k#frag \n") == .code("k", state: "x"))
        #expect(AccountLogin.callback("abc#st") == .code("abc", state: "st"))
        #expect(AccountLogin.callback("/callback?error=access_denied&error_description=no") == .error("access_denied: no"))
        #expect(AccountLogin.callback("/callback?state=x") == nil)
        #expect(AccountLogin.callback("two words") == nil)
        #expect(AccountLogin.callback("") == nil)
    }

    @Test func exchangeAnswersBecomeLoginsOrClearErrors() throws {
        let claude = try AccountLogin.exchangeResult(.claudeAccount, status: 200,
            body: Array(#"{"access_token":"at","refresh_token":"rt","expires_in":28800,"account":{"email_address":"a@b.c"}}"#.utf8), nowMillis: 1000)
        #expect(claude.accessToken == "at" && claude.refreshToken == "rt" && claude.email == "a@b.c")
        #expect(claude.accessTokenExpiresAtMillis == 1000 + 28_800_000)
        #expect(throws: AccountImportError("the token endpoint answered 400: invalid_grant (bad code)")) {
            try AccountLogin.exchangeResult(.claudeAccount, status: 400, body: Array(#"{"error":"invalid_grant","error_description":"bad code"}"#.utf8), nowMillis: 0)
        }
        // ChatGPT's answer holds no account id of its own: the id token's claims give it, as an import reads them.
        let idToken = "e30." + Base64URL.encode(Array(#"{"email":"x@y.z","https://api.openai.com/auth":{"chatgpt_account_id":"acct-1","chatgpt_plan_type":"pro"}}"#.utf8)) + ".s"
        let chatgpt = try AccountLogin.exchangeResult(.chatGPTAccount, status: 200,
            body: Array(#"{"id_token":"\#(idToken)","access_token":"a.b.c","refresh_token":"r1"}"#.utf8), nowMillis: 0)
        #expect(chatgpt.accountID == "acct-1" && chatgpt.plan == "pro" && chatgpt.email == "x@y.z" && chatgpt.refreshToken == "r1")
        let noAccount = "e30." + Base64URL.encode(Array(#"{"email":"x@y.z"}"#.utf8)) + ".s"
        #expect(throws: AccountImportError("the sign-in's answer names no ChatGPT account (account_id, or chatgpt_account_id in the id token)")) {
            try AccountLogin.exchangeResult(.chatGPTAccount, status: 200,
                body: Array(#"{"id_token":"\#(noAccount)","access_token":"a.b.c","refresh_token":"r1"}"#.utf8), nowMillis: 0)
        }
    }

    @Test func theExchangeRequestsAreTheCLIsOwn() {
        let e = AccountLogin.endpoints(.chatGPTAccount)
        #expect(e.authorize == "https://auth.openai.com/oauth/authorize" && e.token == "https://auth.openai.com/oauth/token")
        let r = AccountLogin.exchangeRequest(.chatGPTAccount, e, code: "c&d", verifier: "v", redirectURI: "http://localhost:1455/auth/callback", state: "s")
        #expect(String(decoding: r.body, as: UTF8.self)
                == "grant_type=authorization_code&code=c%26d&redirect_uri=http%3A%2F%2Flocalhost%3A1455%2Fauth%2Fcallback&client_id=app_EMoamEEZ73f0CkXaXp7hrann&code_verifier=v")
        let c = AccountLogin.endpoints(.claudeAccount)
        #expect(c.authorize == "https://claude.ai/oauth/authorize" && c.token == "https://console.anthropic.com/v1/oauth/token")
        let j = AccountLogin.exchangeRequest(.claudeAccount, c, code: "c", verifier: "v", redirectURI: AccountLogin.claudePasteRedirect, state: "s")
        #expect(String(decoding: j.body, as: UTF8.self).contains(#""grant_type":"authorization_code""#) && j.headers.contains("Content-Type: application/json"))
    }
}
