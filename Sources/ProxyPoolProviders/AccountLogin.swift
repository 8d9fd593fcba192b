import ProxyPoolCore

/// `proxypoolctl login chatgpt|claude`: the OAuth 2.0 authorization-code flow with PKCE (RFC 7636, S256) the
/// official CLIs run, as pure logic: the URLs, the requests, what their answers mean. No I/O here: proxypoolctl
/// listens for the callback, sends the requests and hands the tokens to the daemon.
///
/// ChatGPT, as Codex does it (openai/codex codex-rs/login/src/server.rs, `build_authorize_url`,
/// `exchange_code_for_tokens`, `bind_server`; pkce.rs; device_code_auth.rs):
/// - issuer `https://auth.openai.com`; authorize `{issuer}/oauth/authorize`, token `{issuer}/oauth/token`;
/// - the callback on 127.0.0.1:1455 (1457 registered as the fallback), redirect URI
///   `http://localhost:{port}/auth/callback`;
/// - query `response_type=code, client_id, redirect_uri, scope="openid profile email offline_access
///   api.connectors.read api.connectors.invoke", code_challenge, code_challenge_method=S256,
///   id_token_add_organizations=true, codex_cli_simplified_flow=true, state, originator`;
/// - the exchange: form body `grant_type=authorization_code&code&redirect_uri&client_id&code_verifier`, answered
///   `{id_token, access_token, refresh_token}`;
/// - device code: POST `{issuer}/api/accounts/deviceauth/usercode` `{client_id}` → `{device_auth_id, user_code,
///   interval}`; the user opens `{issuer}/codex/device`; POST `{issuer}/api/accounts/deviceauth/token`
///   `{device_auth_id, user_code}` answers 403/404 while pending, then `{authorization_code, code_challenge,
///   code_verifier}`, exchanged as above with the redirect URI `{issuer}/deviceauth/callback`; 15 minutes at most.
///
/// Claude, as Claude Code does it (its source is not public; the public clients of the same endpoints agree:
/// router-for-me/CLIProxyAPI internal/auth/claude/anthropic_auth.go, sst/opencode-anthropic-auth index.mjs):
/// - authorize `https://claude.ai/oauth/authorize` with `code=true, client_id, response_type=code, redirect_uri,
///   scope="org:create_api_key user:profile user:inference", code_challenge, code_challenge_method=S256, state`;
/// - the callback `http://localhost:54545/callback`; for a pasted code the hosted page
///   `https://console.anthropic.com/oauth/code/callback`, which shows `code#state` to copy;
/// - the exchange: a JSON body `{code, state, grant_type: "authorization_code", client_id, redirect_uri,
///   code_verifier}` at the token endpoint refreshes already use, answered `{access_token, refresh_token,
///   expires_in, account: {email_address}}`.
public enum AccountLogin {
    /// Where the flow's requests go: the providers' own, or (tests) a fake's, from one base URL.
    public struct Endpoints: Sendable, Equatable {
        public var authorize: String
        public var token: String
        /// ChatGPT's device-code API and pages (`{issuer}`); nil for Claude, which has none.
        public var issuer: String?
    }

    public static let chatGPTIssuer = "https://auth.openai.com"

    /// The providers' endpoints, or everything under `base` (the hidden test option): the paths stay the same.
    public static func endpoints(_ kind: ProviderKind, base: String? = nil) -> Endpoints {
        switch kind {
        case .chatGPTAccount:
            let issuer = base.map(trimSlash) ?? chatGPTIssuer
            return Endpoints(authorize: issuer + "/oauth/authorize", token: issuer + "/oauth/token", issuer: issuer)
        default:
            guard let base = base.map(trimSlash) else {
                return Endpoints(authorize: "https://claude.ai/oauth/authorize", token: ClaudeAccountProvider.tokenURL, issuer: nil)
            }
            return Endpoints(authorize: base + "/oauth/authorize", token: base + "/v1/oauth/token", issuer: nil)
        }
    }

    /// The ports the providers registered for the CLIs' callbacks: the first is tried, then the rest.
    public static func callbackPorts(_ kind: ProviderKind) -> [UInt16] { kind == .chatGPTAccount ? [1455, 1457] : [54545] }

    public static func callbackPath(_ kind: ProviderKind) -> String { kind == .chatGPTAccount ? "/auth/callback" : "/callback" }

    /// The redirect URI for a callback on `port`, as the CLIs spell it (`localhost`, while they listen on 127.0.0.1).
    public static func redirectURI(_ kind: ProviderKind, port: UInt16) -> String { "http://localhost:\(port)" + callbackPath(kind) }

    /// Claude's hosted page that shows the code to paste (`--paste`).
    public static let claudePasteRedirect = "https://console.anthropic.com/oauth/code/callback"

    public static func authorizeURL(_ kind: ProviderKind, _ e: Endpoints, redirectURI: String, pkce: PKCE, state: String) -> String {
        let query: [(String, String)]
        switch kind {
        case .chatGPTAccount:
            query = [("response_type", "code"), ("client_id", ChatGPTAccountProvider.clientID), ("redirect_uri", redirectURI),
                     ("scope", "openid profile email offline_access api.connectors.read api.connectors.invoke"),
                     ("code_challenge", pkce.challenge), ("code_challenge_method", "S256"), ("id_token_add_organizations", "true"),
                     ("codex_cli_simplified_flow", "true"), ("state", state), ("originator", "codex_cli_rs")]
        default:
            query = [("code", "true"), ("client_id", ClaudeAccountProvider.clientID), ("response_type", "code"), ("redirect_uri", redirectURI),
                     ("scope", "org:create_api_key user:profile user:inference"), ("code_challenge", pkce.challenge),
                     ("code_challenge_method", "S256"), ("state", state)]
        }
        return e.authorize + "?" + query.map { "\($0.0)=\(PathSegment.encode($0.1))" }.joined(separator: "&")
    }

    /// The authorization-code grant for `code`.
    public static func exchangeRequest(_ kind: ProviderKind, _ e: Endpoints, code: String, verifier: String, redirectURI: String,
                                       state: String) -> TokenRequest {
        switch kind {
        case .chatGPTAccount:
            let body = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                        ("client_id", ChatGPTAccountProvider.clientID), ("code_verifier", verifier)]
                .map { "\($0.0)=\(PathSegment.encode($0.1))" }.joined(separator: "&")
            return TokenRequest(url: e.token, headers: ["Content-Type: application/x-www-form-urlencoded", "Accept: application/json",
                                                        "User-Agent: proxypoolctl"], body: Array(body.utf8))
        default:
            var r = AccountTokens.jsonRequest(url: e.token, fields: [("code", code), ("state", state), ("grant_type", "authorization_code"),
                                                                     ("client_id", ClaudeAccountProvider.clientID),
                                                                     ("redirect_uri", redirectURI), ("code_verifier", verifier)])
            r.headers = r.headers.map { $0 == "User-Agent: proxypoold" ? "User-Agent: proxypoolctl" : $0 }
            return r
        }
    }

    /// The exchange's answer as a login to store, or why there is none (the endpoint's own error code, never a token).
    public static func exchangeResult(_ kind: ProviderKind, status: Int, body: [UInt8], nowMillis: Int64) throws(AccountImportError) -> ImportedAccount {
        let json = try? JSON.decode(JSONValue.self, from: body)
        guard status == 200 else {
            let code = AccountTokens.errorCode(json)
            let description = json?["error_description"]?.stringValue ?? json?["error"]?["message"]?.stringValue
            throw AccountImportError("the token endpoint answered \(status)" + (code.map { ": \($0)" } ?? "")
                                     + (description.map { " (\(String($0.prefix(200))))" } ?? ""))
        }
        guard case .object(let o)? = json else { throw AccountImportError("the token endpoint's answer is not a JSON object") }
        switch kind {
        case .chatGPTAccount:
            // The same three tokens Codex writes to auth.json: read them as an import would.
            var tokens = o
            tokens["account_id"] = nil
            guard let file = try? JSON.encode(JSONValue.object(["tokens": .object(tokens)])) else {
                throw AccountImportError("the token endpoint's answer cannot be read")
            }
            do { return try AccountImport.codex(file) } catch {
                // Read as auth.json is read; said as what it is here.
                throw AccountImportError(error.message.replacingEvery("auth.json", with: "the sign-in's answer").replacingEvery("tokens.", with: ""))
            }
        default:
            guard case .string(let access)? = o["access_token"], !access.isEmpty, case .string(let refresh)? = o["refresh_token"], !refresh.isEmpty else {
                throw AccountImportError("the token endpoint's answer has no access_token and refresh_token")
            }
            let seconds = max(0, min(o["expires_in"]?.intValue ?? 3600, 10 * 365 * 86400))
            return ImportedAccount(kind: .claudeAccount, refreshToken: refresh, accessToken: access,
                                   accessTokenExpiresAtMillis: Saturating.add(nowMillis, Saturating.multiply(seconds, 1000)),
                                   email: o["account"]?["email_address"]?.stringValue, plan: nil, accountID: nil)
        }
    }

    /// What came back on the callback (or was pasted): the code and the state, or the provider's error.
    public enum Callback: Sendable, Equatable {
        case code(String, state: String?)
        case error(String)
    }

    /// The parameters of a callback URL, a path with its query (`/auth/callback?code=…&state=…`), or, for Claude's
    /// hosted page, `code#state` as pasted. Nil when it holds neither a code nor an error.
    public static func callback(_ text: String) -> Callback? {
        let t = text.trimming(" \t\r\n")
        guard !t.isEmpty, t.utf8.count <= 16 * 1024 else { return nil }
        if let q = t.firstIndex(of: "?") {
            var params: [String: String] = [:]
            let query = t[t.index(after: q)...].prefix { $0 != "#" }
            for pair in query.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2 else { continue }
                params[formDecoded(kv[0])] = formDecoded(kv[1])
            }
            if let e = params["error"], !e.isEmpty {
                return .error(e + (params["error_description"].map { ": " + String($0.prefix(300)) } ?? ""))
            }
            guard let code = params["code"], !code.isEmpty else { return nil }
            return .code(code, state: params["state"])
        }
        // `code#state` (Claude's page), or a bare code.
        guard !t.contains(where: { $0.isWhitespace || $0 == "/" }) else { return nil }
        let parts = t.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        guard !parts[0].isEmpty else { return nil }
        return .code(String(parts[0]), state: parts.count == 2 ? String(parts[1]) : nil)
    }

    /// `%XX` decoded and `+` as a space (application/x-www-form-urlencoded, as browsers send queries).
    static func formDecoded(_ s: Substring) -> String {
        let u = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "%"), i + 2 < u.count, let hi = hexValue(u[i + 1]), let lo = hexValue(u[i + 2]) {
                out.append(hi << 4 | lo); i += 3
            } else {
                out.append(u[i] == UInt8(ascii: "+") ? UInt8(ascii: " ") : u[i]); i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func trimSlash(_ s: String) -> String { s.hasSuffix("/") ? String(s.dropLast()) : s }

    // MARK: ChatGPT's device code (codex-rs/login/src/device_code_auth.rs)

    public struct DeviceCode: Sendable, Equatable {
        public var deviceAuthID: String
        public var userCode: String
        /// Seconds between polls, as the server asks (1…30 here).
        public var interval: Int
        public var verificationURL: String
    }

    public static func deviceCodeRequest(_ e: Endpoints) -> TokenRequest {
        AccountTokens.jsonRequest(url: (e.issuer ?? chatGPTIssuer) + "/api/accounts/deviceauth/usercode",
                                  fields: [("client_id", ChatGPTAccountProvider.clientID)])
    }

    /// The user-code answer; Codex takes `user_code` or `usercode`, and `interval` as a string of digits.
    public static func deviceCode(_ e: Endpoints, status: Int, body: [UInt8]) throws(AccountImportError) -> DeviceCode {
        if status == 404 { throw AccountImportError("device code login is not enabled for this account server; use the browser login or --paste") }
        guard status == 200, let j = try? JSON.decode(JSONValue.self, from: body),
              let id = j["device_auth_id"]?.stringValue, !id.isEmpty,
              let code = j["user_code"]?.stringValue ?? j["usercode"]?.stringValue, !code.isEmpty else {
            throw AccountImportError("the device code request answered \(status) without a device_auth_id and user_code")
        }
        let interval = j["interval"]?.stringValue.flatMap { Int($0.trimming(" ")) } ?? j["interval"]?.intValue.map { Int($0) } ?? 5
        return DeviceCode(deviceAuthID: id, userCode: code, interval: max(1, min(interval, 30)),
                          verificationURL: (e.issuer ?? chatGPTIssuer) + "/codex/device")
    }

    public static func devicePollRequest(_ e: Endpoints, _ d: DeviceCode) -> TokenRequest {
        AccountTokens.jsonRequest(url: (e.issuer ?? chatGPTIssuer) + "/api/accounts/deviceauth/token",
                                  fields: [("device_auth_id", d.deviceAuthID), ("user_code", d.userCode)])
    }

    public enum DevicePoll: Sendable, Equatable {
        case pending
        /// The code to exchange, with the verifier the server made for it and the redirect URI it stands for.
        case authorized(code: String, verifier: String, redirectURI: String)
    }

    public static func devicePoll(_ e: Endpoints, status: Int, body: [UInt8]) throws(AccountImportError) -> DevicePoll {
        if status == 403 || status == 404 { return .pending }
        guard status == 200, let j = try? JSON.decode(JSONValue.self, from: body),
              let code = j["authorization_code"]?.stringValue, !code.isEmpty,
              let verifier = j["code_verifier"]?.stringValue, !verifier.isEmpty else {
            throw AccountImportError("the device login answered \(status) without an authorization code")
        }
        return .authorized(code: code, verifier: verifier, redirectURI: (e.issuer ?? chatGPTIssuer) + "/deviceauth/callback")
    }

    /// Device codes expire after 15 minutes (Codex's `max_wait`).
    public static let deviceMaxWaitMillis: Int64 = 15 * 60_000
}

/// A PKCE verifier and its S256 challenge (RFC 7636 §4.1–4.2), as Codex makes them (pkce.rs): 64 random bytes
/// as unpadded base64url for the verifier, the unpadded base64url SHA-256 of it for the challenge.
public struct PKCE: Sendable, Equatable {
    public let verifier: String
    public let challenge: String

    public init(randomBytes: [UInt8]) {
        verifier = Base64URL.encode(randomBytes)
        challenge = Base64URL.encode(SHA256.hash(Array(verifier.utf8)))
    }

    public static func make() -> PKCE { PKCE(randomBytes: randomBytes(64)) }

    /// A random `state` (32 bytes, base64url), as Codex's `generate_state`.
    public static func state() -> String { Base64URL.encode(randomBytes(32)) }

    static func randomBytes(_ n: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()   // getrandom(2)
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }
}
