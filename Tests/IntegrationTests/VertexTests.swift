import Foundation
import Glibc
import Testing

/// The fake Google token endpoint and Vertex backend (Tests/FakeUpstream/fake_vertex.py) in front of the fake
/// upstream; its public key is the half of a test key made here with the openssl CLI (never committed).
final class FakeVertex {
    let upstream: FakeUpstream
    let child: Child
    let port: UInt16
    let dir = makeTempDir("vertex")
    let privateKeyPEM: String

    init() throws {
        upstream = try FakeUpstream()
        let key = dir + "/test-only-key.pem", pub = dir + "/test-only-key.pub.pem"
        for args in [["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key], ["pkey", "-in", key, "-pubout", "-out", pub]] {
            let r = run("/usr/bin/openssl", args)
            guard r.status == 0 else { throw HarnessError("openssl \(args[0]): \(r.stderr)") }
        }
        privateKeyPEM = try String(contentsOfFile: key, encoding: .utf8)
        let portFile = dir + "/port"
        child = try Child("/usr/bin/env", ["python3", Repo.root + "/Tests/FakeUpstream/fake_vertex.py", "--port-file", portFile,
                                           "--upstream", upstream.url, "--public-key", pub], env: baseEnvironment, stderr: dir + "/log")
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let s = try? String(contentsOfFile: portFile, encoding: .utf8), let p = UInt16(s.trimmingCharacters(in: .whitespacesAndNewlines)) {
                port = p
                return
            }
            usleep(20_000)
        }
        throw HarnessError("fake vertex did not start: \((try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? "")")
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var tokenURL: String { url + "/token" }

    /// A service-account key file as Google issues them, for this fake's token endpoint.
    func serviceAccount(email: String = "sa-test@proj.iam.gserviceaccount.com", keyID: String = "kid-0123456789abcdef") -> String {
        let o: [String: String] = ["type": "service_account", "project_id": "proj", "private_key_id": keyID, "private_key": privateKeyPEM,
                                   "client_email": email, "client_id": "1234567890", "token_uri": tokenURL]
        return String(decoding: try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
    }

    /// An authorized_user ADC file (what `gcloud auth application-default login` writes), for this fake.
    func adc(refreshToken: String = "1//fake-adc-refresh-token-abcdef") -> String {
        let o = ["type": "authorized_user", "client_id": "fake-adc-client.apps.googleusercontent.com",
                 "client_secret": "fake-adc-client-secret", "refresh_token": refreshToken, "token_uri": tokenURL]
        return String(decoding: try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
    }

    func state() throws -> [String: Any] {
        let r = try http(port: port, "GET", "/__vertex", headers: [("Host", "127.0.0.1")])
        return (try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any]) ?? [:]
    }

    func count(_ k: String) throws -> Int { try state()[k] as? Int ?? -1 }
    func requests() throws -> [[String: Any]] { try state()["requests"] as? [[String: Any]] ?? [] }

    deinit { child.signal(SIGKILL); _ = child.wait() }
}

@Suite(.serialized) struct VertexTests {
    struct Setup {
        let vertex: FakeVertex
        let daemon: DaemonProcess
        let key: String
        let port: UInt16

        /// Credentials of kind vertex (project "proj" unless given, us-central1) at the fake, in the default app's chain.
        init(_ credentials: [(name: String, secret: String, project: String)], vertex existing: FakeVertex? = nil) throws {
            vertex = try existing ?? FakeVertex()
            daemon = try DaemonProcess(args: ["--log-level", "debug"])
            for c in credentials {
                let r = daemon.ctl(["credential", "add", c.name, "--provider", "vertex", "--project", c.project, "--region", "us-central1",
                                    "--base-url", vertex.url, "--key-stdin"], stdin: c.secret)
                guard r.status == 0 else { throw HarnessError("credential add: \(r.stderr)") }
            }
            _ = daemon.ctl(["assign", "default"] + credentials.map(\.name))
            key = daemon.ctl(["key", "create"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            port = try daemon.proxyPort
        }

        func messages(_ model: String, stream: Bool = false, beta: String? = nil) throws -> HTTPResult {
            try http(port: port, "POST", "/v1/messages",
                     headers: [("x-api-key", key), ("anthropic-version", "2023-06-01"), ("Content-Type", "application/json")] + (beta.map { [("anthropic-beta", $0)] } ?? []),
                     body: #"{"model":"\#(model)","max_tokens":64,"stream":\#(stream),"messages":[{"role":"user","content":"hello"}]}"#)
        }

        func responses(_ model: String, stream: Bool = false) throws -> HTTPResult {
            try http(port: port, "POST", "/v1/responses", headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                     body: #"{"model":"\#(model)","stream":\#(stream),"input":"hello"}"#)
        }

        func chat(_ model: String, stream: Bool = false) throws -> HTTPResult {
            try http(port: port, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                     body: #"{"model":"\#(model)","stream":\#(stream),"messages":[{"role":"user","content":"hello"}]}"#)
        }
    }

    enum Mode: String, CaseIterable { case serviceAccount, adc, apiKey }

    static func secret(_ m: Mode, _ v: FakeVertex) -> String {
        switch m {
        case .serviceAccount: return v.serviceAccount()
        case .adc: return v.adc()
        case .apiKey: return "vx-key-ok-0123456789abcdef"
        }
    }

    @Test(arguments: Mode.allCases) func everyClientProtocolReachesGeminiAndClaudeModels(_ mode: Mode) throws {
        let v = try FakeVertex()
        let s = try Setup([("gcp", Self.secret(mode, v), "proj")], vertex: v)
        for model in ["claude-sonnet-4-5", "gemini-2.5-flash"] {
            for (what, r) in [("messages", try s.messages(model)), ("messages stream", try s.messages(model, stream: true)),
                              ("responses", try s.responses(model)), ("responses stream", try s.responses(model, stream: true)),
                              ("chat", try s.chat(model)), ("chat stream", try s.chat(model, stream: true))] {
                // A stream's marker comes in pieces ("FAKE-UPSTREAM-", "OK").
                #expect(r.status == 200 && r.body.contains(what.hasSuffix("stream") ? "FAKE-UPSTREAM-" : "FAKE-UPSTREAM-OK") && r.header("x-proxypool-credential") == "gcp",
                        Comment(rawValue: "\(mode) \(model) \(what): \(r.status) \(r.body.prefix(600)) \(String(s.daemon.log.suffix(1500)))"))
            }
        }
        let reqs = try v.requests()
        let expected = mode == .apiKey ? "api-key" : "bearer"
        #expect(reqs.count == 12 && reqs.allSatisfy { $0["auth"] as? String == expected && $0["project"] as? String == "proj"
            && $0["location"] as? String == "us-central1" }, Comment(rawValue: "\(reqs)"))
        let methods = Set(reqs.map { "\($0["publisher"] ?? "")/\($0["model"] ?? ""):\($0["method"] ?? "")" })
        #expect(methods == ["anthropic/claude-sonnet-4-5:rawPredict", "anthropic/claude-sonnet-4-5:streamRawPredict",
                            "google/gemini-2.5-flash:generateContent", "google/gemini-2.5-flash:streamGenerateContent"], Comment(rawValue: "\(methods)"))
        if mode != .apiKey { #expect(try v.count(mode == .adc ? "refresh_grants" : "jwt_grants") == 1, "one token for twelve requests") }
    }

    @Test func betasVertexRefusesAreDroppedAndTheOthersKept() throws {
        let s = try Setup([("gcp", "vx-key-ok-0123456789abcdef", "proj")])
        let r = try s.messages("claude-sonnet-4-5", beta: "web-search-2025-03-05, interleaved-thinking-2025-05-14,effort-2025-11-24")
        #expect(r.status == 200, Comment(rawValue: r.body))
        #expect(try s.vertex.requests().last?["beta"] as? String == "interleaved-thinking-2025-05-14")
        #expect(s.daemon.log.contains("web-search-2025-03-05, effort-2025-11-24"), "the dropped betas are in the debug log")
    }

    @Test func aTokenIsReplacedFiveMinutesBeforeItExpires() throws {
        let v = try FakeVertex()
        // A token that lives 302 s: usable for 2 s, then replaced although the fake would still take it.
        let s = try Setup([("gcp", v.serviceAccount(email: "sa-exp302@proj.iam.gserviceaccount.com"), "proj")], vertex: v)
        for _ in 0..<3 { #expect(try s.chat("gemini-2.5-flash").status == 200) }
        #expect(try v.count("jwt_grants") == 1)
        usleep(2_500_000)
        #expect(try s.chat("gemini-2.5-flash").status == 200)
        #expect(try v.count("jwt_grants") == 2, "replaced before its expiry, with a fresh assertion")
        #expect(try v.count("refused") == 0)
    }

    @Test(arguments: [Mode.serviceAccount, Mode.adc]) func fiftyConcurrentRequestsShareOneTokenRequest(_ mode: Mode) throws {
        let v = try FakeVertex()
        let secret = mode == .adc ? v.adc(refreshToken: "1//fake-adc-slow-token") : v.serviceAccount(email: "sa-slow@proj.iam.gserviceaccount.com")
        let s = try Setup([("gcp", secret, "proj")], vertex: v)
        let port = s.port, key = s.key
        let statuses = Mutex200()
        DispatchQueue.concurrentPerform(iterations: 50) { i in
            let model = i % 2 == 0 ? "gemini-2.5-flash" : "claude-haiku-4-5"
            let r = try? http(port: port, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                              body: #"{"model":"\#(model)","messages":[{"role":"user","content":"hello"}]}"#)
            statuses.add(r?.status ?? 0)
        }
        #expect(statuses.all == Array(repeating: 200, count: 50), Comment(rawValue: "\(statuses.all)"))
        #expect(try v.count(mode == .adc ? "refresh_grants" : "jwt_grants") == 1, "the token endpoint saw exactly one grant")
    }

    @Test(arguments: [Mode.serviceAccount, Mode.adc]) func aRevokedKeyIsMarkedAuthFailedAndTheNextAnswers(_ mode: Mode) throws {
        let v = try FakeVertex()
        let gone = mode == .adc ? v.adc(refreshToken: "1//fake-adc-revoked") : v.serviceAccount(keyID: "revoked-key-0123456789")
        let s = try Setup([("gone", gone, "proj"), ("backup", "vx-key-ok-backup-0123456789", "proj")], vertex: v)
        let r = try s.messages("claude-sonnet-4-5")
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "backup", Comment(rawValue: r.body))
        let why = mode == .adc ? "Token has been expired or revoked." : "Invalid JWT Signature."
        let status = s.daemon.ctl(["status"]).stdout
        #expect(status.contains("auth failed: \(why)"), Comment(rawValue: status))
        #expect(try s.chat("gemini-2.5-flash").header("x-proxypool-credential") == "backup")
        #expect(try v.count("refused") == 1, "marked: no second grant")
    }

    @Test func quotaIsARateLimitWithGooglesDelayAndPermissionDeniedIsAuthFailed() throws {
        let s = try Setup([("quota", "vx-key-ok-quota-0123456789", "quota-project"), ("denied", "vx-key-denied-0123456789", "proj"),
                           ("ok", "vx-key-ok-last-0123456789", "proj")])
        let started = Date()
        let r = try s.chat("gemini-2.5-flash")
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "ok", Comment(rawValue: r.body))
        let status = s.daemon.ctl(["status", "--json"]).stdout
        #expect(status.contains("auth failed"), Comment(rawValue: status))
        let log = s.daemon.log
        #expect(log.contains("credential quota") && log.contains("cooling down"), Comment(rawValue: String(log.suffix(3000))))
        // Cooling for Google's 7 s (RetryInfo), not the default backoff (1 s the first time).
        let cooldown = String(log.split(separator: "\n").first { $0.contains("event=cooldown") && $0.contains("credential=quota") } ?? "")
        let until = cooldown.split(separator: " ").first { $0.hasPrefix("until=") }.flatMap { ISO8601DateFormatter().date(from: String($0.dropFirst(6).prefix(20))) }
        let ahead = (until?.timeIntervalSince(started) ?? 0)
        #expect(ahead > 5 && ahead < 10, Comment(rawValue: cooldown))
    }

    @Test func noTokenOrKeyMaterialInLogsRepliesOrMetrics() throws {
        let v = try FakeVertex()
        let sa = v.serviceAccount(), adc = v.adc()
        let s = try Setup([("sa", sa, "proj"), ("adc", adc, "proj"), ("key", "vx-key-ok-secretpart-0123456789", "proj")], vertex: v)
        for chain in [["sa"], ["adc"], ["key"]] {
            _ = s.daemon.ctl(["assign", "default"] + chain)
            #expect(try s.messages("claude-sonnet-4-5").status == 200)
            #expect(try s.chat("gemini-2.5-flash", stream: true).status == 200)
        }
        let show = s.daemon.ctl(["credential", "show", "sa"]).stdout
        #expect(show.contains("sa-test@proj.iam.gserviceaccount.com") && show.contains("kid-0123456789abcdef"), Comment(rawValue: show))
        var seen = s.daemon.log
        for args in [["credential", "list", "--json"], ["credential", "show", "sa", "--json"], ["credential", "show", "adc", "--json"],
                     ["credential", "show", "key"], ["status", "--json"], ["usage", "--json"]] {
            seen += s.daemon.ctl(args).stdout
        }
        seen += try http(port: s.port, "GET", "/metrics", headers: [("Authorization", "Bearer \(s.key)")]).body
        let issued = try v.state()["issued"] as? [String] ?? []
        #expect(issued.count == 2)
        let pemBody = v.privateKeyPEM.split(separator: "\n").dropFirst().first.map(String.init) ?? "MII"
        for secret in issued + [pemBody, "1//fake-adc-refresh-token-abcdef", "fake-adc-client-secret", "vx-key-ok-secretpart", "PRIVATE KEY"] {
            #expect(!seen.contains(secret), Comment(rawValue: "\(secret.prefix(12))… leaked"))
        }
    }

    @Test func aKeyFileThatCannotBeUsedIsRefusedAtAdd() throws {
        let d = try DaemonProcess()
        for (secret, why) in [(#"{"type":"service_account","client_email":"x@y.iam.gserviceaccount.com"}"#, "client_email and private_key"),
                              (#"{"type":"external_account"}"#, "not service_account or authorized_user"),
                              ("two words", "one word")] {
            let r = d.ctl(["credential", "add", "bad", "--provider", "vertex", "--project", "p", "--region", "global", "--key-stdin"], stdin: secret)
            #expect(r.status != 0 && r.stderr.contains(why), Comment(rawValue: r.stderr))
        }
        let r = d.ctl(["credential", "add", "np", "--provider", "vertex", "--region", "global", "--key-stdin"], stdin: "vx-key-ok-0123456789")
        #expect(r.status != 0 && r.stderr.contains("--project"), Comment(rawValue: r.stderr))
    }
}

extension VertexTests {
    /// The fake checks signatures for real: a key it does not know the public half of is refused, and the
    /// credential is marked with Google's reason.
    @Test func anAssertionSignedWithAnotherKeyIsRefused() throws {
        let v = try FakeVertex()
        let other = v.dir + "/other-test-only-key.pem"
        #expect(run("/usr/bin/openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other]).status == 0)
        var sa = try JSONSerialization.jsonObject(with: Data(v.serviceAccount().utf8)) as! [String: String]
        sa["private_key"] = try String(contentsOfFile: other, encoding: .utf8)
        let secret = String(decoding: try JSONSerialization.data(withJSONObject: sa), as: UTF8.self)
        let s = try Setup([("forged", secret, "proj")], vertex: v)
        let r = try s.chat("gemini-2.5-flash")
        #expect(r.status >= 500 && r.body.contains("Invalid JWT Signature."), Comment(rawValue: r.body))
        #expect(try v.count("jwt_grants") == 0 && v.count("refused") == 1)
        #expect(s.daemon.ctl(["status"]).stdout.contains("auth failed: Invalid JWT Signature."))
    }
}

extension VertexTests {
    @Test func credentialTestObtainsATokenAndReadsAModelAndARefusalMarksIt() throws {
        let v = try FakeVertex()
        let s = try Setup([("sa", v.serviceAccount(), "proj"), ("adc", v.adc(), "proj"), ("key", "vx-key-ok-0123456789abcdef", "proj"),
                           ("gone", v.serviceAccount(keyID: "revoked-0123456789"), "proj")], vertex: v)
        for name in ["sa", "adc", "key"] {
            let r = s.daemon.ctl(["credential", "test", name])
            #expect(r.status == 0 && r.stdout.contains("ok"), Comment(rawValue: name + ": " + r.stdout + r.stderr))
        }
        let r = s.daemon.ctl(["credential", "test", "gone"])
        #expect(r.status != 0 && r.stdout.contains("auth failed: Invalid JWT Signature."), Comment(rawValue: r.stdout + r.stderr))
        #expect(s.daemon.ctl(["status"]).stdout.contains("gone"))
        let paths = try v.requests().compactMap { $0["path"] as? String }
        #expect(paths.filter { $0 == "/v1/publishers/google/models/gemini-2.5-flash-lite" }.count == 3, Comment(rawValue: "\(paths)"))
    }

    @Test func theModelListNamesGeminiAndClaudeModelsInTheClientsFormat() throws {
        let s = try Setup([("gcp", "vx-key-ok-0123456789abcdef", "proj")])
        let openai = try http(port: s.port, "GET", "/v1/models", headers: [("Authorization", "Bearer \(s.key)")])
        #expect(openai.body.contains(#""id":"gemini-2.5-pro""#) && openai.body.contains(#""id":"claude-sonnet-4-5@20250929""#), Comment(rawValue: openai.body))
        let gemini = try http(port: s.port, "GET", "/v1beta/models", headers: [("x-goog-api-key", s.key)])
        #expect(gemini.body.contains(#""name":"models/gemini-2.5-flash""#) && gemini.body.contains(#""name":"models/claude-opus-4-5@20251101""#), Comment(rawValue: gemini.body))
    }
}

extension VertexTests {
    /// A Gemini client's token count goes to Google's countTokens on Vertex, unwrapped and with roles.
    @Test func aGeminiTokenCountGoesToVertexCountTokens() throws {
        let s = try Setup([("gcp", "vx-key-ok-0123456789abcdef", "proj")])
        for body in [#"{"contents":[{"parts":[{"text":"hello"}]}]}"#,
                     #"{"generateContentRequest":{"model":"models/gemini-2.5-flash","contents":[{"parts":[{"text":"hello"}]}]}}"#] {
            let r = try http(port: s.port, "POST", "/v1beta/models/gemini-2.5-flash:countTokens",
                             headers: [("x-goog-api-key", s.key), ("Content-Type", "application/json")], body: body)
            #expect(r.status == 200 && r.body.contains("totalTokens") && r.header("x-proxypool-estimate") == nil, Comment(rawValue: r.body))
        }
        #expect(try s.vertex.requests().map { $0["method"] as? String } == ["countTokens", "countTokens"])
    }
}

extension VertexTests {
    /// libcrypto is opened on the first signature, like libcurl: a daemon that never signs never maps it.
    @Test func libcryptoIsMappedOnlyOnceAnAssertionIsSigned() throws {
        let v = try FakeVertex()
        let s = try Setup([("key", "vx-key-ok-0123456789abcdef", "proj"), ("sa", v.serviceAccount(), "proj")], vertex: v)
        func mapped() -> Bool { run("/bin/cat", ["/proc/\(s.daemon.pid)/maps"]).stdout.contains("libcrypto") }
        _ = s.daemon.ctl(["assign", "default", "key"])
        #expect(try s.chat("gemini-2.5-flash").status == 200)
        #expect(!mapped(), "an API key needs no signature")
        _ = s.daemon.ctl(["assign", "default", "sa"])
        let r = try s.chat("gemini-2.5-flash")
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "sa")
        let grants = try v.count("jwt_grants")
        #expect(mapped(), Comment(rawValue: "\(s.daemon.pid) \(grants)"))
    }
}

extension VertexTests {
    /// A key whose private_key OpenSSL cannot read is refused without a request, marked, and the next answers.
    @Test func aKeyThatCannotSignIsMarkedWithoutAGrant() throws {
        let v = try FakeVertex()
        var sa = try JSONSerialization.jsonObject(with: Data(v.serviceAccount().utf8)) as! [String: String]
        sa["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        let broken = String(decoding: try JSONSerialization.data(withJSONObject: sa), as: UTF8.self)
        let s = try Setup([("broken", broken, "proj"), ("backup", "vx-key-ok-backup-0123456789", "proj")], vertex: v)
        let r = try s.chat("gemini-2.5-flash")
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "backup", Comment(rawValue: r.body))
        #expect(try v.count("jwt_grants") == 0 && v.count("refused") == 0, "nothing was sent to the token endpoint")
        let status = s.daemon.ctl(["status"]).stdout
        #expect(status.contains("auth failed: the service-account key cannot sign"), Comment(rawValue: status))
    }
}

extension VertexTests {
    /// Vertex fetches no http(s) file: a Gemini client's fileData URL is fetched and sent inline.
    @Test func aGeminiFileURLIsSentInline() throws {
        let v = try FakeVertex()
        let conf = makeTempDir("conf") + "/p.conf"
        try "fetch-private-urls = yes\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(args: ["--config", conf])
        let add = daemon.ctl(["credential", "add", "gcp", "--provider", "vertex", "--project", "proj", "--region", "global",
                              "--base-url", v.url, "--key-stdin"], stdin: "vx-key-ok-0123456789abcdef")
        #expect(add.status == 0, Comment(rawValue: add.stderr))
        let key = daemon.ctl(["key", "create"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let body = #"{"contents":[{"role":"user","parts":[{"text":"what is this"},{"fileData":{"mimeType":"image/png","fileUri":"\#(v.upstream.url)/__image.png"}}]}]}"#
        let r = try http(port: try daemon.proxyPort, "POST", "/v1beta/models/gemini-2.5-flash:generateContent",
                         headers: [("x-goog-api-key", key), ("Content-Type", "application/json")], body: body)
        #expect(r.status == 200 && r.body.contains("FAKE-IMAGE image/png"), Comment(rawValue: r.body))
        #expect(try v.requests().last?["method"] as? String == "generateContent")
    }
}

extension VertexTests {
    /// Claude Code sends Anthropic's dated ids (claude-sonnet-4-5-20250929); Vertex knows them only with "@"
    /// (the fake answers 404 to the dashed form, as Vertex does).
    @Test func aDatedClaudeIdIsSentAsVertexNamesIt() throws {
        let s = try Setup([("gcp", "vx-key-ok-0123456789abcdef", "proj")])
        for stream in [false, true] {
            let r = try s.messages("claude-sonnet-4-5-20250929", stream: stream)
            #expect(r.status == 200 && r.body.contains("FAKE-UPSTREAM-"), Comment(rawValue: "\(r.status) \(r.body.prefix(400))"))
        }
        let chat = try s.chat("claude-haiku-4-5-20251001")
        #expect(chat.status == 200, Comment(rawValue: chat.body))
        let models = try s.vertex.requests().map { $0["model"] as? String }
        #expect(models == ["claude-sonnet-4-5@20250929", "claude-sonnet-4-5@20250929", "claude-haiku-4-5@20251001"], Comment(rawValue: "\(models)"))
    }

    /// An Anthropic client's token count for a Claude model is Vertex's count-tokens, not an estimate; a
    /// Gemini model's stays with Gemini clients (the Anthropic protocol counts Claude models only).
    @Test func aClaudeTokenCountGoesToVertexCountTokens() throws {
        let s = try Setup([("gcp", "vx-key-ok-0123456789abcdef", "proj")])
        let headers = [("x-api-key", s.key), ("anthropic-version", "2023-06-01"), ("Content-Type", "application/json"),
                       ("anthropic-beta", "token-counting-2024-11-01,web-search-2025-03-05")]
        let r = try http(port: s.port, "POST", "/v1/messages/count_tokens", headers: headers,
                         body: #"{"model":"claude-sonnet-4-5-20250929","messages":[{"role":"user","content":"how many tokens is this?"}]}"#)
        #expect(r.status == 200 && r.body.contains("input_tokens") && r.header("x-proxypool-estimate") == nil
                && r.header("x-proxypool-credential") == "gcp", Comment(rawValue: "\(r.status) \(r.body) \(String(s.daemon.log.suffix(1200)))"))
        let seen = try s.vertex.requests()
        #expect(seen.count == 1 && seen[0]["model"] as? String == "count-tokens" && seen[0]["method"] as? String == "rawPredict"
                && seen[0]["counted_model"] as? String == "claude-sonnet-4-5@20250929"
                && seen[0]["beta"] as? String == "token-counting-2024-11-01", Comment(rawValue: "\(seen)"))
        // No Claude model: no Vertex credential speaks for it, so the proxy estimates (and says so).
        let g = try http(port: s.port, "POST", "/v1/messages/count_tokens", headers: headers,
                         body: #"{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}"#)
        #expect(g.status == 200 && g.header("x-proxypool-estimate") != nil, Comment(rawValue: "\(g.status) \(g.body)"))
        #expect(try s.vertex.requests().count == 1)
    }

    /// `--adc=FILE` copies the given ADC file (plain `--adc` reads gcloud's).
    @Test func anADCFileIsTakenFromTheGivenPath() throws {
        let v = try FakeVertex()
        let daemon = try DaemonProcess(args: [])
        let file = v.dir + "/adc.json"
        try v.adc().write(toFile: file, atomically: true, encoding: .utf8)
        let add = daemon.ctl(["credential", "add", "gcp", "--provider", "vertex", "--project", "proj", "--region", "us-central1",
                              "--base-url", v.url, "--adc=" + file])
        #expect(add.status == 0, Comment(rawValue: add.stderr))
        #expect(daemon.ctl(["credential", "show", "gcp"]).stdout.contains("authorized_user (ADC)"))
        let missing = daemon.ctl(["credential", "add", "gcp2", "--provider", "vertex", "--project", "proj", "--adc=" + v.dir + "/none.json"])
        #expect(missing.status != 0 && missing.stderr.contains("none.json"), Comment(rawValue: missing.stderr))
        let key = daemon.ctl(["key", "create"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let r = try http(port: try daemon.proxyPort, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                         body: #"{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hello"}]}"#)
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "gcp", Comment(rawValue: r.body))
        #expect(try v.count("refresh_grants") == 1)
    }
}
