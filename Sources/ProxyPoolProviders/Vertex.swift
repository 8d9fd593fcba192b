import ProxyPoolCore

/// Vertex AI (Google Cloud): Gemini models (publisher `google`) and Claude models (publisher `anthropic`) of
/// one project and region. The credential's secret decides how it proves itself:
/// - a service-account JSON key (`"type": "service_account"`): an RS256-signed JWT assertion exchanged at the
///   key's `token_uri` for an access token (RFC 7523; https://developers.google.com/identity/protocols/oauth2/service-account#httprest);
/// - Application Default Credentials of type `authorized_user` (the file `gcloud auth application-default login`
///   writes): a refresh-token grant at its `token_uri` (default https://oauth2.googleapis.com/token);
/// - anything else is a Vertex API key (express mode), sent as `x-goog-api-key`.
/// Which publisher serves a request is decided by the model's name (`VertexRoute`, carried out by the daemon's
/// Exchange+Vertex.swift): `claude-*` goes to Anthropic's rawPredict, the rest to Google's generateContent.
public struct VertexProvider: Provider {
    public var kind: ProviderKind { .vertex }
    public var family: Family { .gemini }
    /// The `global` endpoint; another region's is `https://{region}-aiplatform.googleapis.com` (`VertexRoute.base`).
    public var defaultBaseURL: String? { "https://aiplatform.googleapis.com" }
    public var options: [String] { ["project", "location", "ca-file"] }
    public var requiredOptions: [String] { ["project", "location"] }
    public var secretIsOneWord: Bool { false }

    public func validate(baseURL: String?, options: [String: String]) throws(RPCError) {
        // The region becomes part of a host name ({region}-aiplatform.googleapis.com): letters, digits and '-' only.
        guard let location = options["location"], (1...64).contains(location.utf8.count),
              location.utf8.allSatisfy({ Validation.isAlnum($0) || $0 == UInt8(ascii: "-") }) else {
            throw .invalidParams("option 'location' of a vertex credential must be a Google Cloud region (us-central1, global: letters, digits and '-')")
        }
        // Project ids go in the path (encoded); the legacy domain-scoped form (example.com:my-project) is allowed.
        guard let project = options["project"], (1...128).contains(project.utf8.count),
              project.utf8.allSatisfy({ Validation.isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") }) else {
            throw .invalidParams("option 'project' of a vertex credential must be a Google Cloud project id (letters, digits, '-', '.', ':')")
        }
    }

    public func validate(secret: String) throws(RPCError) {
        guard secret.hasPrefix("{") else {
            guard !secret.contains(where: { $0.isWhitespace }) else {
                throw .invalidParams("a vertex secret is a service-account JSON key, an authorized_user ADC file or an API key (one word)")
            }
            return
        }
        switch VertexSecret.parse(secret) {
        case .failure(let why): throw .invalidParams("the vertex key file cannot be used: \(why)")
        case .success: return
        }
    }

    public func wires(options: [String: String]) -> [WireProtocol] { [.gemini, .anthropicMessages] }

    /// Only requests that are never translated come here (token counts); conversations are placed by
    /// `VertexRoute`.
    public func passThroughURL(_ r: inout ForwardedRequest, endpoint: Endpoint, credential c: CredentialRoute) -> String {
        let model = endpoint.pathModel ?? ""
        let method = r.path.lastIndex(of: ":").map { String(r.path[r.path.index(after: $0)...]) } ?? "generateContent"
        return VertexRoute.url(c, publisher: .google, model: model, method: method, stream: method == "streamGenerateContent")
    }

    public func tierDefault(_ tier: Tier) -> String? { GeminiShape.tierDefault(tier) }

    /// Claude models a Vertex credential also lists (`/v1/models`), by tier: Anthropic's names as Vertex takes them.
    /// Claude on Vertex by tier, under the ids Vertex documents (with the `@` version Google asks for,
    /// https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude).
    public static func claudeTierDefault(_ tier: Tier) -> String? {
        switch tier {
        case .flagship, .reasoning: return "claude-opus-4-5@20251101"
        case .standard: return "claude-sonnet-4-5@20250929"
        case .fast: return "claude-haiku-4-5@20251001"
        }
    }

    /// `credential test`: a token (or the API key) and a model's card from the publisher catalogue
    /// (`GET /v1/publishers/google/models/{fast tier model}`).
    public func probe(_ c: CredentialRoute) -> UpstreamTarget? {
        let model = PathSegment.encode(GeminiShape.tierDefault(.fast) ?? "gemini-2.5-flash-lite")
        return UpstreamTarget(url: VertexRoute.base(c) + "/v1/publishers/google/models/\(model)",
                              headers: ["Accept: application/json", "User-Agent: proxypoold"])
    }

    public func auth(_ c: CredentialRoute) -> ProviderAuth {
        // The first byte decides (this runs on every request): a JSON key file is parsed only when a token is
        // fetched, off the loop.
        c.secret.hasPrefix("{") ? .token(VertexGrant()) : .headers(["x-goog-api-key: \(c.secret)"])
    }
}

/// A Vertex credential's stored secret, read.
enum VertexSecret {
    case serviceAccount(email: String, keyID: String, privateKey: String, tokenURI: String)
    case authorizedUser(clientID: String, clientSecret: String, refreshToken: String, tokenURI: String)

    static let defaultTokenURI = "https://oauth2.googleapis.com/token"

    static func parse(_ secret: String) -> Result<VertexSecret, ParseFailure> {
        guard let json = try? JSON.decode(JSONValue.self, from: Array(secret.utf8)), case .object = json else {
            return .failure(ParseFailure("it is not a JSON object"))
        }
        func field(_ k: String) -> String? { json[k]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
        let tokenURI = field("token_uri") ?? defaultTokenURI
        guard tokenURI.hasPrefix("https://") || tokenURI.hasPrefix("http://127.0.0.1:") || tokenURI.hasPrefix("http://localhost:") else {
            return .failure(ParseFailure("its token_uri must be an https URL"))
        }
        switch field("type") {
        case "service_account":
            guard let email = field("client_email"), let key = field("private_key") else {
                return .failure(ParseFailure("a service_account key needs client_email and private_key"))
            }
            guard key.includes("PRIVATE KEY-----") else { return .failure(ParseFailure("its private_key is not a PEM private key")) }
            return .success(.serviceAccount(email: email, keyID: field("private_key_id") ?? "", privateKey: key, tokenURI: tokenURI))
        case "authorized_user":
            guard let id = field("client_id"), let s = field("client_secret"), let rt = field("refresh_token") else {
                return .failure(ParseFailure("an authorized_user file needs client_id, client_secret and refresh_token"))
            }
            return .success(.authorizedUser(clientID: id, clientSecret: s, refreshToken: rt, tokenURI: tokenURI))
        case let t?:
            return .failure(ParseFailure("type '\(t.prefix(40))' is not service_account or authorized_user"))
        case nil:
            return .failure(ParseFailure("it has no type (service_account or authorized_user)"))
        }
    }

    struct ParseFailure: Error { let why: String; init(_ w: String) { why = w } }
}

extension VertexSecret.ParseFailure: CustomStringConvertible { var description: String { why } }

/// The token grant of a Vertex credential with a JSON key: a JWT-bearer grant for a service account, a
/// refresh-token grant for ADC. Both are answered as RFC 6749 §5 says; a refusal reads Google's
/// `error_description` (what `status` shows after "auth failed:").
struct VertexGrant: TokenGrant {
    static let scope = "https://www.googleapis.com/auth/cloud-platform"
    static let jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    /// Google's assertions live at most an hour (https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests).
    static let assertionSeconds: Int64 = 3600

    /// Building a service account's request signs: off the loop.
    var requestBlocks: Bool { true }
    /// Five minutes: a token is replaced well before it could expire on its way upstream.
    var refreshMarginMillis: Int64 { 300_000 }

    func request(_ c: CredentialRoute, refreshToken: String) -> TokenRequest {
        switch VertexSecret.parse(c.secret) {
        case .failure(let f):
            return TokenRequest(url: "", headers: [], body: [], failure: "the key file cannot be used: \(f.why)")
        case .success(.authorizedUser(let id, let secret, let stored, let uri)):
            // A refresh token rotated by the endpoint (Google does not, but RFC 6749 §6 allows it) wins over the file's.
            let rt = refreshToken.hasPrefix("{") ? stored : refreshToken
            return OAuthRefresh.request(url: uri, refreshToken: rt, extra: [("client_id", id), ("client_secret", secret)])
        case .success(.serviceAccount(let email, let keyID, let pem, let uri)):
            do throws(RS256.Failure) {
                let assertion = try Self.assertion(email: email, keyID: keyID, pem: pem, audience: uri, nowSeconds: Timestamp.now())
                let body = "grant_type=\(OAuthRefresh.formEncode(Self.jwtBearer))&assertion=\(assertion)"
                return TokenRequest(url: uri, headers: ["Content-Type: application/x-www-form-urlencoded", "Accept: application/json",
                                                        "User-Agent: proxypoold"], body: Array(body.utf8))
            } catch {
                return TokenRequest(url: "", headers: [], body: [], failure: "the service-account key cannot sign: \(error.message)")
            }
        }
    }

    /// header.claims.signature, each base64url (RFC 7519 §3): `iss` and `sub` the service account, `aud` the
    /// token endpoint, `scope` cloud-platform, an hour's life.
    static func assertion(email: String, keyID: String, pem: String, audience: String, nowSeconds: Int64) throws(RS256.Failure) -> String {
        let q = JSONText.quoted
        let header = keyID.isEmpty ? #"{"alg":"RS256","typ":"JWT"}"# : #"{"alg":"RS256","typ":"JWT","kid":\#(q(keyID))}"#
        let claims = #"{"iss":\#(q(email)),"sub":\#(q(email)),"aud":\#(q(audience)),"scope":\#(q(scope)),"iat":\#(nowSeconds),"exp":\#(nowSeconds + assertionSeconds)}"#
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        let signature = try RS256.sign(Array(signingInput.utf8), pem: pem)
        return signingInput + "." + Base64URL.encode(signature)
    }

    func result(status: Int, body: [UInt8], nowMillis: Int64) -> TokenFetchResult {
        let r = OAuthRefresh.result(status: status, body: body, nowMillis: nowMillis)
        guard case .refused = r else { return r }
        // Google's words alone ("Invalid JWT Signature.", "Token has been expired or revoked."), else the code.
        let json = try? JSON.decode(JSONValue.self, from: body)
        if let d = json?["error_description"]?.stringValue, !d.isEmpty { return .refused(String(d.prefix(300))) }
        return r
    }

    func headers(token: String) -> [String] { ["Authorization: Bearer \(token)"] }
}

/// Where a Vertex request goes and how its body is shaped, by publisher
/// (https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/projects.locations.publishers.models,
/// https://docs.anthropic.com/en/api/claude-on-vertex-ai).
public enum VertexRoute {
    public enum Publisher: String, Sendable { case google, anthropic }

    /// The body field Vertex takes instead of Anthropic's `anthropic-version` header.
    public static let anthropicVersion = "vertex-2023-10-16"

    /// Betas Vertex answers 400 "Unexpected value(s) … for the anthropic-beta header" to, as reported in
    /// https://github.com/anthropics/claude-code/issues/12429, https://github.com/anthropics/claude-agent-sdk-typescript/issues/307,
    /// https://github.com/anthropics/claude-code/issues/34802, https://github.com/BerriAI/litellm/issues/19984 and
    /// https://github.com/vercel/ai/issues/10981; the others (interleaved thinking, context management…) go through.
    public static let refusedBetas: Set<String> = [
        "web-search-2025-03-05", "effort-2025-11-24", "tool-search-tool-2025-10-19", "prompt-caching-scope-2026-01-05",
        "adaptive-thinking-2026-01-28", "structured-outputs-2025-11-13", "oauth-2025-04-20", "files-api-2025-04-14",
    ]

    /// Which publisher serves a model: Claude models are Anthropic's, the rest Google's.
    public static func publisher(for model: String) -> Publisher {
        ModelMapping.family(of: model) == .anthropic ? .anthropic : .google
    }

    public static func wire(_ p: Publisher) -> WireProtocol { p == .anthropic ? .anthropicMessages : .gemini }

    /// A Claude model as Vertex names it. Anthropic's API dates a version with a dash
    /// (`claude-sonnet-4-5-20250929`, what Claude Code and the Anthropic SDKs send); Vertex with `@`
    /// (`claude-sonnet-4-5@20250929`) and answers 404 to the dashed form. Undated and `@` ids pass unchanged.
    public static func claudeModelID(_ model: String) -> String {
        let u = Array(model.utf8)
        guard !u.contains(UInt8(ascii: "@")), u.count > 9, u[u.count - 9] == UInt8(ascii: "-"),
              u[(u.count - 8)...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return model }
        return String(decoding: u[..<(u.count - 9)], as: UTF8.self) + "@" + String(decoding: u[(u.count - 8)...], as: UTF8.self)
    }

    /// Anthropic's token count on Vertex: one endpoint for every Claude model, the model named in the body
    /// (https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude-count-tokens).
    public static func claudeCountTokensURL(_ c: CredentialRoute) -> String {
        let p = PathSegment.encode(c.options["project"] ?? ""), l = PathSegment.encode(c.options["location"] ?? "global")
        return base(c) + "/v1/projects/\(p)/locations/\(l)/publishers/anthropic/models/count-tokens:rawPredict"
    }

    /// The credential's endpoint: its base URL, else the `global` endpoint or the region's.
    public static func base(_ c: CredentialRoute) -> String {
        if var b = c.baseURL {
            while b.hasSuffix("/") { b.removeLast() }
            return b
        }
        let location = c.options["location"] ?? "global"
        return location == "global" ? "https://aiplatform.googleapis.com" : "https://\(location)-aiplatform.googleapis.com"
    }

    /// `{base}/v1/projects/{P}/locations/{L}/publishers/{publisher}/models/{M}:{method}`; Google's streams as SSE.
    public static func url(_ c: CredentialRoute, publisher: Publisher, model: String, method: String, stream: Bool) -> String {
        let p = PathSegment.encode(c.options["project"] ?? ""), l = PathSegment.encode(c.options["location"] ?? "global")
        let u = base(c) + "/v1/projects/\(p)/locations/\(l)/publishers/\(publisher.rawValue)/models/\(PathSegment.encode(model, keepingAt: true)):\(method)"
        return publisher == .google && stream ? u + "?alt=sse" : u
    }

    /// The method a conversation turn calls.
    public static func method(_ p: Publisher, stream: Bool) -> String {
        switch p {
        case .google: return stream ? "streamGenerateContent" : "generateContent"
        case .anthropic: return stream ? "streamRawPredict" : "rawPredict"
        }
    }

    /// An `anthropic-beta` value without the betas Vertex refuses; nil when none is left. `dropped` gets those removed.
    public static func filterBetas(_ value: String, dropped: inout [String]) -> String? {
        var kept: [String] = []
        for b in value.split(separator: ",") {
            let name = b.trimming(" \t")
            if name.isEmpty { continue }
            if refusedBetas.contains(name) { dropped.append(name) } else { kept.append(name) }
        }
        return kept.isEmpty ? nil : kept.joined(separator: ",")
    }
}
