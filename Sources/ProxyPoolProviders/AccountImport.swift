import ProxyPoolCore

/// A subscription login read from a CLI's own token file: what `proxypoolctl credential import` sends to the
/// daemon. No I/O here: the caller reads the file (and never writes it).
public struct ImportedAccount: Sendable, Equatable {
    public var kind: ProviderKind
    /// The refresh token: the credential's secret, from which the daemon obtains every later access token.
    public var refreshToken: String
    public var accessToken: String
    /// When the access token stops being accepted (wall-clock ms); 0 when the file does not say (then the daemon
    /// refreshes it before first use).
    public var accessTokenExpiresAtMillis: Int64
    public var email: String?
    public var plan: String?
    /// ChatGPT's workspace/account id (the `ChatGPT-Account-ID` header); nil for Claude.
    public var accountID: String?

    /// The options stored beside the secret (none of them secret).
    public var options: [String: String] {
        var o: [String: String] = [:]
        if let email { o["email"] = email }
        if let plan { o["plan"] = plan }
        if let accountID { o["account-id"] = accountID }
        return o
    }

    /// A credential name from the account: `chatgpt-` or `claude-` and the email (or plan) with every character a
    /// name may not hold turned into `-`.
    public var defaultName: String {
        let prefix = kind == .chatGPTAccount ? "chatgpt" : "claude"
        guard let base = email ?? plan, !base.isEmpty else { return prefix + "-account" }
        let cleaned = String(base.unicodeScalars.prefix(60).map { s -> Character in
            s.isASCII && (Validation.isAlnum(UInt8(s.value)) || s == "." || s == "_" || s == "-") ? Character(s) : "-"
        })
        return prefix + "-" + cleaned
    }
}

public struct AccountImportError: Error, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

public enum AccountImport {
    /// Codex CLI's `auth.json`: `{"OPENAI_API_KEY": …, "tokens": {"id_token", "access_token", "refresh_token",
    /// "account_id"}, "last_refresh": …}`; the id token's claims hold the email (`email`, or
    /// `https://api.openai.com/profile.email`) and, under `https://api.openai.com/auth`, `chatgpt_plan_type` and
    /// `chatgpt_account_id`. The access token's `exp` claim is its expiry. Source: openai/codex
    /// codex-rs/login/src/token_data.rs (TokenData, IdClaims, AuthClaims, parse_jwt_expiration) and
    /// codex-rs/login/src/auth/storage.rs (AuthDotJson).
    public static func codex(_ bytes: [UInt8]) throws(AccountImportError) -> ImportedAccount {
        let root = try object(bytes, file: "auth.json")
        guard case .object(let tokens)? = root["tokens"] else {
            if case .string(let k)? = root["OPENAI_API_KEY"], !k.isEmpty {
                throw AccountImportError("this auth.json holds an API key, not a ChatGPT login; add the key with 'proxypoolctl credential add NAME --provider openai --key-stdin'")
            }
            throw AccountImportError("auth.json has no \"tokens\" object: is Codex logged in with ChatGPT ('codex login')?")
        }
        let refresh = try string(tokens, "refresh_token", in: "tokens")
        let access = try string(tokens, "access_token", in: "tokens")
        let idToken = try string(tokens, "id_token", in: "tokens")
        guard let claims = JWT.claims(idToken) else { throw AccountImportError("tokens.id_token is not a JWT with a JSON payload") }
        let auth = claims["https://api.openai.com/auth"]
        var email = claims["email"]?.stringValue
        if email == nil { email = claims["https://api.openai.com/profile"]?["email"]?.stringValue }
        let accountID = tokens["account_id"]?.stringValue ?? auth?["chatgpt_account_id"]?.stringValue
        guard let accountID, !accountID.isEmpty else {
            throw AccountImportError("auth.json names no ChatGPT account (tokens.account_id, or chatgpt_account_id in the id token)")
        }
        let exp = JWT.claims(access)?["exp"]?.intValue.map { Saturating.multiply($0, 1000) } ?? 0
        return ImportedAccount(kind: .chatGPTAccount, refreshToken: refresh, accessToken: access, accessTokenExpiresAtMillis: exp,
                               email: email, plan: auth?["chatgpt_plan_type"]?.stringValue, accountID: accountID)
    }

    /// Claude Code's `~/.claude/.credentials.json`: `{"claudeAiOauth": {"accessToken", "refreshToken",
    /// "expiresAt" (ms), "scopes", "subscriptionType", "rateLimitTier"}}`. The email is not in it: `claudeJSON`,
    /// the optional `~/.claude.json`, gives it (`oauthAccount.emailAddress`). Shape as documented by the public
    /// tools that read it (e.g. github.com/steipete/CodexBar, ClaudeOAuthTests.swift); Claude Code's own source is
    /// not public.
    public static func claude(_ bytes: [UInt8], claudeJSON: [UInt8]? = nil) throws(AccountImportError) -> ImportedAccount {
        let root = try object(bytes, file: ".credentials.json")
        guard case .object(let o)? = root["claudeAiOauth"] else {
            throw AccountImportError(".credentials.json has no \"claudeAiOauth\" object: is Claude Code logged in with a Claude subscription ('claude /login')?")
        }
        let refresh = try string(o, "refreshToken", in: "claudeAiOauth")
        let access = try string(o, "accessToken", in: "claudeAiOauth")
        guard let expires = o["expiresAt"]?.intValue else { throw AccountImportError("claudeAiOauth.expiresAt is missing or not a number") }
        var email: String?
        if let extra = claudeJSON, let j = try? JSON.decode(JSONValue.self, from: extra) {
            email = j["oauthAccount"]?["emailAddress"]?.stringValue
        }
        return ImportedAccount(kind: .claudeAccount, refreshToken: refresh, accessToken: access,
                               accessTokenExpiresAtMillis: max(0, expires), email: email,
                               plan: o["subscriptionType"]?.stringValue, accountID: nil)
    }

    private static func object(_ bytes: [UInt8], file: String) throws(AccountImportError) -> JSONValue {
        guard let v = try? JSON.decode(JSONValue.self, from: bytes) else { throw AccountImportError("\(file) is not JSON") }
        guard case .object = v else { throw AccountImportError("\(file) is not a JSON object") }
        return v
    }

    private static func string(_ o: [String: JSONValue], _ key: String, in parent: String) throws(AccountImportError) -> String {
        guard case .string(let s)? = o[key] else { throw AccountImportError("\(parent).\(key) is missing or not a string") }
        let t = s.trimming(" \t\r\n")
        guard !t.isEmpty, t.utf8.count <= 16 * 1024, !t.contains(where: { $0.isWhitespace }) else {
            throw AccountImportError("\(parent).\(key) is empty, too long, or not one word")
        }
        return t
    }
}

/// The claims of a JWT (header.payload.signature, the payload base64url JSON). Read only, never verified: the
/// issuer checks its own tokens; we only want the account's email, plan, id and expiry.
public enum JWT {
    public static func claims(_ token: String) -> JSONValue? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty, parts[1].utf8.count <= 64 * 1024, let bytes = Base64.decode(String(parts[1])),
              let v = try? JSON.decode(JSONValue.self, from: bytes), case .object = v else { return nil }
        return v
    }
}

extension JSONValue {
    var intValue: Int64? {
        switch self {
        case .int(let n): return n
        case .double(let d) where d.isFinite: return Int64(max(-1e15, min(d, 1e15)))
        default: return nil
        }
    }
}
