import ProxyPoolCore

/// The OAuth 2.0 refresh-token grant (RFC 6749 §6) and its answers (§5.1, §5.2), shared by the kinds that
/// refresh a login.
public enum OAuthRefresh {
    public static func request(url: String, refreshToken: String, extra: [(String, String)] = []) -> TokenRequest {
        let fields = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)] + extra
        let body = fields.map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&")
        return TokenRequest(url: url, headers: ["Content-Type: application/x-www-form-urlencoded", "Accept: application/json",
                                                "User-Agent: proxypoold"], body: Array(body.utf8))
    }

    /// A 200 with `access_token` and `expires_in` (and maybe a rotated `refresh_token`); a 400 or 401 with an
    /// `error` (`invalid_grant`…) is a refusal; anything else a failure worth trying again.
    public static func result(status: Int, body: [UInt8], nowMillis: Int64) -> TokenFetchResult {
        let json = try? JSON.decode(JSONValue.self, from: body)
        if status == 200 {
            guard case .string(let token)? = json?["access_token"], !token.isEmpty else {
                return .failed("the token endpoint answered 200 without an access_token")
            }
            let seconds: Int64
            switch json?["expires_in"] {
            case .int(let n)?: seconds = n
            case .double(let d)?: seconds = d.isFinite ? Int64(max(0, min(d, 1e9))) : 3600
            case .string(let s)?: seconds = Int64(s) ?? 3600
            default: seconds = 3600   // RFC 6749 §5.1: RECOMMENDED, not required
            }
            let rotated: String? = if case .string(let r)? = json?["refresh_token"], !r.isEmpty { r } else { nil }
            return .success(Token(value: token, expiresAtMillis: nowMillis + max(0, min(seconds, 10 * 365 * 86400)) * 1000),
                            refreshToken: rotated)
        }
        if status == 400 || status == 401, case .string(let error)? = json?["error"] {
            if case .string(let d)? = json?["error_description"], !d.isEmpty { return .refused("\(error): \(d)") }
            return .refused(error)
        }
        return .failed("the token endpoint answered \(status)")
    }

    /// application/x-www-form-urlencoded: unreserved characters as they are, everything else %XX.
    static func formEncode(_ s: String) -> String { PathSegment.encode(s) }
}
