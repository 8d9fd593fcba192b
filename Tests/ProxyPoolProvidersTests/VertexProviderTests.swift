import Foundation
import Testing
import ProxyPoolCore
@testable import ProxyPoolProviders

@Suite struct VertexProviderTests {
    func cred(_ secret: String = "vx-key", base: String? = nil, location: String = "us-central1") -> CredentialRoute {
        CredentialRoute(name: "gcp", provider: .vertex, secret: secret, baseURL: base, options: ["project": "my-proj", "location": location],
                        enabled: true, free: false)
    }

    @Test func endpointsByRegionAndPublisher() {
        #expect(VertexRoute.url(cred(location: "global"), publisher: .google, model: "gemini-2.5-pro", method: "generateContent", stream: false)
                == "https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global/publishers/google/models/gemini-2.5-pro:generateContent")
        #expect(VertexRoute.url(cred(), publisher: .google, model: "gemini-2.5-pro", method: "streamGenerateContent", stream: true)
                == "https://us-central1-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse")
        #expect(VertexRoute.url(cred(base: "http://127.0.0.1:9/"), publisher: .anthropic, model: "claude-sonnet-4-5@20250929", method: "streamRawPredict", stream: true)
                == "http://127.0.0.1:9/v1/projects/my-proj/locations/us-central1/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict")
        #expect(VertexRoute.publisher(for: "claude-opus-4-5") == .anthropic && VertexRoute.publisher(for: "gemini-2.5-flash") == .google)
        #expect(VertexRoute.method(.anthropic, stream: false) == "rawPredict" && VertexRoute.method(.google, stream: true) == "streamGenerateContent")
    }

    @Test func claudeIdsAreDatedWithAnAtSign() {
        #expect(VertexRoute.claudeModelID("claude-sonnet-4-5-20250929") == "claude-sonnet-4-5@20250929")
        #expect(VertexRoute.claudeModelID("claude-3-5-haiku-20241022") == "claude-3-5-haiku@20241022")
        for same in ["claude-sonnet-4-5@20250929", "claude-sonnet-4-5", "claude-opus-4-1", "claude-x-2025092", "claude-x-2025092a", "20250929", "-20250929"] {
            #expect(VertexRoute.claudeModelID(same) == same, Comment(rawValue: same))
        }
        for t in Tier.allCases { #expect(VertexProvider.claudeTierDefault(t)?.contains("@") == true) }
    }

    @Test func betasVertexRefusesAreDropped() {
        var dropped: [String] = []
        #expect(VertexRoute.filterBetas("web-search-2025-03-05, interleaved-thinking-2025-05-14,effort-2025-11-24", dropped: &dropped)
                == "interleaved-thinking-2025-05-14")
        #expect(dropped == ["web-search-2025-03-05", "effort-2025-11-24"])
        #expect(VertexRoute.filterBetas("oauth-2025-04-20", dropped: &dropped) == nil)
    }

    @Test func theSecretDecidesTheAuth() {
        guard case .headers(let h) = VertexProvider().auth(cred("vx-key-123")) else { Issue.record("an API key is a header"); return }
        #expect(h == ["x-goog-api-key: vx-key-123"])
        guard case .token(let g) = VertexProvider().auth(cred(#"{"type":"authorized_user"}"#)) else { Issue.record("a key file is a token"); return }
        #expect(g.requestBlocks && g.refreshMarginMillis == 300_000 && g.headers(token: "t") == ["Authorization: Bearer t"])
    }

    @Test func keyFilesAreCheckedAtAdd() throws {
        #expect(throws: RPCError.self) { try VertexProvider().validate(secret: #"{"type":"service_account","client_email":"a@b"}"#) }
        #expect(throws: RPCError.self) { try VertexProvider().validate(secret: #"{"type":"external_account"}"#) }
        #expect(throws: RPCError.self) { try VertexProvider().validate(secret: #"{"type":"authorized_user","client_id":"i","client_secret":"s","refresh_token":"r","token_uri":"http://evil.example/token"}"#) }
        #expect(throws: RPCError.self) { try VertexProvider().validate(baseURL: nil, options: ["project": "a/b", "location": "global"]) }
        #expect(throws: RPCError.self) { try VertexProvider().validate(baseURL: nil, options: ["project": "p", "location": "evil.example:80"]) }
        try VertexProvider().validate(baseURL: nil, options: ["project": "example.com:my-proj", "location": "europe-west4"])
    }

    @Test func adcIsARefreshGrantWithTheClient() {
        let adc = #"{"type":"authorized_user","client_id":"cid","client_secret":"cs","refresh_token":"1//rt","token_uri":"http://127.0.0.1:5/token"}"#
        let r = VertexGrant().request(cred(adc), refreshToken: adc)
        #expect(r.url == "http://127.0.0.1:5/token" && r.failure == nil)
        #expect(String(decoding: r.body, as: UTF8.self) == "grant_type=refresh_token&refresh_token=1%2F%2Frt&client_id=cid&client_secret=cs")
        let deflt = #"{"type":"authorized_user","client_id":"cid","client_secret":"cs","refresh_token":"1//rt"}"#
        #expect(VertexGrant().request(cred(deflt), refreshToken: deflt).url == "https://oauth2.googleapis.com/token")
    }

    @Test func aRefusalReadsGooglesDescription() {
        let body = Array(#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#.utf8)
        #expect(VertexGrant().result(status: 400, body: body, nowMillis: 0) == .refused("Invalid JWT Signature."))
        let ok = Array(#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}"#.utf8)
        #expect(VertexGrant().result(status: 200, body: ok, nowMillis: 1000) == .success(Token(value: "ya29.x", expiresAtMillis: 3_600_000), refreshToken: nil))
    }

    @Test func aKeyThatCannotSignIsRefusedWithoutARequest() {
        let sa = #"{"type":"service_account","client_email":"a@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}"#
        let r = VertexGrant().request(cred(sa), refreshToken: sa)
        #expect(r.failure?.contains("cannot sign") == true && r.body.isEmpty)
    }

    /// An assertion signed with a key made by the openssl CLI verifies with its public half (openssl dgst).
    @Test func theAssertionIsAnRS256JWTWithGooglesClaims() throws {
        let dir = NSTemporaryDirectory() + "proxypool-jwt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func openssl(_ args: [String]) throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = args
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        #expect(try openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", dir + "/k.pem"]) == 0)
        #expect(try openssl(["pkey", "-in", dir + "/k.pem", "-pubout", "-out", dir + "/pub.pem"]) == 0)
        let pem = try String(contentsOfFile: dir + "/k.pem", encoding: .utf8)
        let jwt = try VertexGrant.assertion(email: "sa@p.iam.gserviceaccount.com", keyID: "kid1", pem: pem, audience: "https://oauth2.googleapis.com/token",
                                            nowSeconds: 1_800_000_000)
        let parts = jwt.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        func decode(_ s: String) -> Data {
            var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while b.count % 4 != 0 { b += "=" }
            return Data(base64Encoded: b)!
        }
        #expect(String(decoding: decode(parts[0]), as: UTF8.self) == #"{"alg":"RS256","typ":"JWT","kid":"kid1"}"#)
        #expect(String(decoding: decode(parts[1]), as: UTF8.self) == #"{"iss":"sa@p.iam.gserviceaccount.com","sub":"sa@p.iam.gserviceaccount.com","aud":"https://oauth2.googleapis.com/token","scope":"https://www.googleapis.com/auth/cloud-platform","iat":1800000000,"exp":1800003600}"#)
        try Data((parts[0] + "." + parts[1]).utf8).write(to: URL(fileURLWithPath: dir + "/msg"))
        try decode(parts[2]).write(to: URL(fileURLWithPath: dir + "/sig"))
        #expect(try openssl(["dgst", "-sha256", "-verify", dir + "/pub.pem", "-signature", dir + "/sig", dir + "/msg"]) == 0)
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: dir + "/msg"))
        #expect(try openssl(["dgst", "-sha256", "-verify", dir + "/pub.pem", "-signature", dir + "/sig", dir + "/msg"]) != 0)
    }

    @Test func keyFilesAreShownByWhatNamesThem() {
        #expect(Redaction.redact(#"{"type":"service_account","client_email":"sa@p.iam.gserviceaccount.com","private_key_id":"abc123","private_key":"-----BEGIN PRIVATE KEY-----\nMIIsecret\n"}"#)
                == "service account sa@p.iam.gserviceaccount.com (key abc123)")
        #expect(Redaction.redact(#"{"type":"authorized_user","refresh_token":"1//secret-refresh"}"#) == "authorized_user (ADC)")
    }

    @Test func aBlockingGrantAsksForABuildNotARequest() {
        var s = TokenSource(credential: cred(#"{"type":"authorized_user"}"#), grant: VertexGrant())
        #expect(s.next(nowMillis: 0) == .build)
        #expect(s.next(nowMillis: 0) == .wait, "one fetch at a time")
        #expect(s.fetched(.success(Token(value: "t", expiresAtMillis: 400_000), refreshToken: nil)) == .ready("t"))
        #expect(s.next(nowMillis: 99_000) == .use("t"))
        #expect(s.next(nowMillis: 100_001) == .build, "within five minutes of its expiry: replaced")
    }
}
