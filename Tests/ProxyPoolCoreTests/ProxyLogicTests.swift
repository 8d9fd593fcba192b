import Testing
import FoundationEssentials
@testable import ProxyPoolCore

/// Headers and targets of real client requests (from the shared captures; keys removed).
struct CapturedRequest: Decodable {
    var capture: String
    var method: String
    var target: String
    var headers: [[String]]
    var model: String?
    var stream: Bool?

    func header(_ name: String) -> String? { headers.last { $0[0].lowercased() == name }?[1] }
    var path: Substring { target.split(separator: "?", maxSplits: 1)[0] }
}

let captured: [CapturedRequest] = {
    var url = URL(fileURLWithPath: #filePath)
    url.deleteLastPathComponent()
    let data = try! Data(contentsOf: url.appendingPathComponent("Fixtures/client-requests.json"))
    return try! JSONDecoder().decode([CapturedRequest].self, from: data)
}()

@Suite struct AppDetectionTests {
    @Test func realClientsAreRecognised() {
        #expect(captured.count == 30)
        for r in captured {
            let expected: String
            switch r.capture.split(separator: "_")[0] {
            case "claude-code": expected = "claude-code"
            case "codex", "codex-tui": expected = "codex"
            case "openai-sdk": expected = "openai-sdk"
            case "anthropic-sdk": expected = "anthropic-sdk"
            case "genai-sdk": expected = "google-genai-sdk"
            default: expected = "?"
            }
            #expect(AppDetection.detect(keyApp: nil, userRules: [], header: r.header).app == expected, "\(r.capture)")
        }
    }

    @Test func precedence() {
        let h: (String) -> String? = { ["user-agent": "claude-cli/2.1 (external, cli)", "x-proxypool-app": "my-tool"][$0] }
        #expect(AppDetection.detect(keyApp: "bound", userRules: [], header: h).app == "bound", "the key's app wins")
        #expect(AppDetection.detect(keyApp: nil, userRules: [], header: h).app == "my-tool", "then the explicit label")
        let noLabel: (String) -> String? = { ["user-agent": "claude-cli/2.1 (external, cli)"][$0] }
        let rule = AppRule(header: "User-Agent", match: .contains, value: "EXTERNAL", app: "custom")
        #expect(AppDetection.detect(keyApp: nil, userRules: [rule], header: noLabel).app == "custom", "user rules before built-in")
        #expect(AppDetection.detect(keyApp: nil, userRules: [], header: { _ in nil }).app == "default")
        let bad: (String) -> String? = { ["x-proxypool-app": "bad name!"][$0] }
        #expect(AppDetection.detect(keyApp: nil, userRules: [], header: bad).app == "default", "an invalid label is ignored")
        // What decided, in words.
        #expect(AppDetection.detect(keyApp: "bound", userRules: [], header: h).rule == "access key bound to the app")
        #expect(AppDetection.detect(keyApp: nil, userRules: [], header: h).rule == "X-Proxypool-App header")
        #expect(AppDetection.detect(keyApp: nil, userRules: [rule], header: noLabel).rule == #"your rule: user-agent contains "external""#)
        #expect(AppDetection.detect(keyApp: nil, userRules: [], header: noLabel).rule == #"built-in rule: user-agent prefix "claude-cli/""#)
        #expect(AppDetection.detect(keyApp: nil, userRules: [], header: bad).rule == "no rule matched")
    }

    @Test func keysFromEveryPlace() {
        #expect(ClientKey.find(header: { ["authorization": "Bearer ppk_a"][$0] }, query: nil) == "ppk_a")
        #expect(ClientKey.find(header: { ["authorization": "bearer  ppk_b "][$0] }, query: nil) == "ppk_b")
        #expect(ClientKey.find(header: { ["authorization": "BEARER ppk_f"][$0] }, query: nil) == "ppk_f")
        #expect(ClientKey.find(header: { ["authorization": "Basic dXNlcjpwdw=="][$0] }, query: nil) == nil)
        #expect(ClientKey.find(header: { ["authorization": "Bearer"][$0] }, query: nil) == nil)
        #expect(ClientKey.find(header: { ["authorization": "Bearerppk_g"][$0] }, query: nil) == nil)
        // The scheme compared by bytes: a tab is not the space, other bytes are not letters in another case.
        #expect(ClientKey.find(header: { ["authorization": "Bearer\tppk_i"][$0] }, query: nil) == nil)
        #expect(ClientKey.find(header: { ["authorization": "Bëarer ppk_j"][$0] }, query: nil) == nil)
        #expect(ClientKey.find(header: { ["authorization": "Bearer@ppk_k"][$0] }, query: nil) == nil)
        #expect(ClientKey.bearer("bEaReR   ppk_l  ") == "ppk_l")
        #expect(ClientKey.bearer("Bearer ключ") == "ключ")
        #expect(ClientKey.bearer("Bearer    ") == "")
        #expect(ClientKey.bearer("Bearer a b") == "a b")
        #expect(ClientKey.bearer(String("xBearer ppk_m".dropFirst())) == "ppk_m")
        #expect(ClientKey.find(header: { ["authorization": "Basic x", "x-api-key": "ppk_h"][$0] }, query: nil) == "ppk_h")
        #expect(ClientKey.find(header: { ["x-api-key": "ppk_c"][$0] }, query: nil) == "ppk_c")
        #expect(ClientKey.find(header: { ["x-goog-api-key": "ppk_d"][$0] }, query: nil) == "ppk_d")
        #expect(ClientKey.find(header: { _ in nil }, query: "alt=sse&key=ppk_e") == "ppk_e")
        #expect(ClientKey.find(header: { _ in nil }, query: "alt=sse") == nil)
    }
}

@Suite struct EndpointTests {
    @Test func everyCapturedRequestMatchesAnEndpoint() {
        for r in captured {
            let m = Endpoints.match(method: r.method, path: r.path, header: r.header)
            switch r.capture {
            case "codex_builtin-provider_websocket-upgrade.json": #expect(m == .webSocket(Endpoint(family: .openai, kind: .responses)))
            case "genai-sdk_models-list.json": #expect(m == .api(Endpoint(family: .gemini, kind: .models, geminiVersion: "v1")))
            default:
                guard case .api(let e) = m else { Issue.record("\(r.capture): \(m)"); continue }
                let family = r.capture.hasPrefix("genai") ? Family.gemini : (r.capture.hasPrefix("claude") || r.capture.hasPrefix("anthropic") ? .anthropic : .openai)
                #expect(e.family == family, "\(r.capture)")
                if family == .gemini { #expect(e.pathModel == "gemini-2.5-flash" && e.geminiVersion == "v1") }
            }
        }
    }

    @Test func sharedModelsListPicksTheDialectFromHeaders() {
        #expect(Endpoints.match(method: "GET", path: "/v1/models", header: { _ in nil }) == .api(Endpoint(family: .openai, kind: .models, geminiVersion: "v1")))
        if case .api(let e) = Endpoints.match(method: "GET", path: "/v1/models", header: { $0 == "anthropic-version" ? "2023-06-01" : nil }) {
            #expect(e.family == .anthropic)
        } else { Issue.record("no match") }
        if case .api(let e) = Endpoints.match(method: "GET", path: "/v1beta/models", header: { _ in nil }) { #expect(e.family == .gemini) }
    }

    @Test func others() {
        #expect(Endpoints.match(method: "GET", path: "/healthz", header: { _ in nil }) == .healthz)
        #expect(Endpoints.match(method: "GET", path: "/v1/messages", header: { _ in nil }) == .methodNotAllowed(.anthropic, allowed: "POST"))
        #expect(Endpoints.match(method: "POST", path: "/v1/nope", header: { _ in nil }) == .notFound(.openai))
        #expect(Endpoints.match(method: "POST", path: "/v1beta/models/x:explode", header: { _ in nil }) == .notFound(.gemini))
        #expect(Endpoints.match(method: "POST", path: "/v1beta/models/gemini-2.5-pro:streamGenerateContent", header: { _ in nil })
                == .api(Endpoint(family: .gemini, kind: .streamGenerateContent, pathModel: "gemini-2.5-pro", geminiVersion: "v1beta")))
    }

    /// Gemini CLI in gateway mode (google-gemini/gemini-cli packages/core/src/core/contentGenerator.ts, through
    /// @google/genai's models.ts): four verbs under /v1beta, and the same under /v1 or with no version.
    @Test func geminiGatewayPathsUnderEveryPrefix() {
        let verbs: [(String, Endpoint.Kind)] = [("generateContent", .generateContent), ("streamGenerateContent", .streamGenerateContent),
                                                ("countTokens", .geminiCountTokens), ("embedContent", .embedContent),
                                                ("batchEmbedContents", .batchEmbedContents)]
        for (prefix, version) in [("/v1beta", "v1beta" as String?), ("/v1", "v1"), ("", nil)] {
            for (verb, kind) in verbs {
                let m = Endpoints.match(method: "POST", path: Substring("\(prefix)/models/gemini-embedding-001:\(verb)"), header: { _ in nil })
                #expect(m == .api(Endpoint(family: .gemini, kind: kind, pathModel: "gemini-embedding-001", geminiVersion: version)), "\(prefix) \(verb)")
            }
            #expect(Endpoints.match(method: "GET", path: Substring("\(prefix)/models/m:embedContent"), header: { _ in nil })
                    == .methodNotAllowed(.gemini, allowed: "POST"))
        }
        #expect(Endpoint.Kind.embedContent.isEmbedding && Endpoint.Kind.batchEmbedContents.isEmbedding && !Endpoint.Kind.generateContent.isEmbedding)
        #expect(WireProtocol(endpoint: .embedContent) == nil, "embeddings are never translated")
    }

    @Test func geminiCLIIsRecognisedByItsUserAgent() {
        // contentGenerator.ts: `${GeminiCLI[-<client>]}/${version}/${model} (${platform}; ${arch}; ${surface})`.
        for ua in ["GeminiCLI/0.41.2/gemini-2.5-pro (linux; x64; terminal)", "GeminiCLI-a2a-server/0.41.2/gemini-3-pro-preview (darwin; arm64; vscode)"] {
            let r = AppDetection.detect(keyApp: nil, userRules: [], header: { $0 == "user-agent" ? ua : nil })
            #expect(r.app == "gemini-cli", "\(ua)")
        }
    }
}

@Suite struct CooldownTests {
    let now: Int64 = 1_795_600_000_000

    func verdict(_ status: Int, _ headers: [(String, String)] = [], _ body: String = "", failures: Int = 0) -> FailureVerdict? {
        Cooldowns.verdict(status: status, headers: headers, body: Array(body.utf8), nowMillis: now, consecutiveFailures: failures, capMillis: 1_800_000)
    }

    func until(_ v: FailureVerdict?) -> Int64? { if case .coolDown(let u, _)? = v?.action { return u - now }; return nil }
    func perModel(_ v: FailureVerdict?) -> Bool? { if case .coolDown(_, let p)? = v?.action { return p }; return nil }

    @Test func everyResetSignal() {
        #expect(until(verdict(429, [("Retry-After", "30")])) == 30_000)
        #expect(until(verdict(429, [("retry-after", "1.5")])) == 1_500)
        let date = Cooldowns.parseHTTPDate("Wed, 25 Nov 2026 09:48:20 GMT")!
        #expect(until(verdict(429, [("Retry-After", "Wed, 25 Nov 2026 09:48:20 GMT")])) == date - now)
        #expect(until(verdict(429, [("retry-after-ms", "1500")])) == 1_500)
        #expect(until(verdict(429, [("x-ratelimit-reset-requests", "6m0s"), ("x-ratelimit-remaining-requests", "0"),
                                    ("x-ratelimit-reset-tokens", "1.5s"), ("x-ratelimit-remaining-tokens", "100")])) == 360_000,
                "the exhausted limit's reset")
        #expect(until(verdict(429, [("x-ratelimit-reset-tokens", "20ms")])) == 100, "at least 100 ms")
        #expect(until(verdict(429, [("anthropic-ratelimit-requests-reset", Timestamp.iso8601((now + 60_000) / 1000)),
                                    ("anthropic-ratelimit-requests-remaining", "0")])) == 60_000)
        #expect(until(verdict(429, [], #"{"error":{"type":"usage_limit_reached","resets_in_seconds":3600}}"#)) == 1_800_000, "capped at 30 min")
        #expect(until(verdict(429, [], #"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"retryDelay": "30s"}]}}"#)) == 30_000)
        #expect(until(verdict(429, [], #"{"error":{"message":"Rate limit reached. Please try again in 20s."}}"#)) == 20_000)
        #expect(until(verdict(429, [], #"{"resets_at": \#((now + 90_000) / 1000)}"#)) == 90_000)
    }

    @Test func backoffWithoutSignalsGrowsAndIsCapped() {
        #expect(until(verdict(429)) == 1_000)
        #expect(until(verdict(429, failures: 3)) == 8_000)
        #expect(until(verdict(429, failures: 40)) == 1_800_000)
        #expect(until(verdict(429, [("Retry-After", "999999")])) == 1_800_000, "one bad header cannot stall a tool for hours")
    }

    @Test func scopeAndKinds() {
        #expect(perModel(verdict(429, [("Retry-After", "5")])) == true, "rate limits are per model")
        #expect(perModel(verdict(429, [], #"{"error":{"type":"usage_limit_reached"}}"#)) == false, "quota is per credential")
        #expect(perModel(verdict(529, [], #"{"type":"error","error":{"type":"overloaded_error"}}"#)) == true)
        #expect(verdict(503)?.reason == "overloaded (503)")
        #expect(verdict(401)?.action == .authFailed && verdict(403)?.action == .authFailed)
        #expect(verdict(500)?.action == .retryElsewhere && verdict(502)?.action == .retryElsewhere)
        #expect(verdict(400) == nil && verdict(404) == nil && verdict(200) == nil)
    }

    @Test func timeParsers() {
        #expect(Cooldowns.parseDuration("6m0s") == 360_000)
        #expect(Cooldowns.parseDuration("1h2m3.5s") == 3_723_500)
        #expect(Cooldowns.parseDuration("250ms") == 250)
        #expect(Cooldowns.parseDuration("12") == nil && Cooldowns.parseDuration("5x") == nil)
        #expect(Cooldowns.parseRFC3339("2026-11-25T09:00:00Z") == Cooldowns.parseRFC3339("2026-11-25T10:00:00+01:00"))
        #expect(Cooldowns.parseRFC3339("2026-11-25T09:00:00.250Z")! - Cooldowns.parseRFC3339("2026-11-25T09:00:00Z")! == 250)
        #expect(Cooldowns.parseHTTPDate("Thu, 01 Jan 1970 00:01:00 GMT") == 60_000)
        #expect(Cooldowns.parseHTTPDate("garbage") == nil)
    }
}

@Suite struct ScannerTests {
    @Test func modelAndStreamFromCapturedShapes() {
        let body = #"{"model":"gpt-5","input":[{"role":"user","content":"say \"model\": \"x\""}],"tools":[{"model":"nested"}],"stream":true}"#
        let f = RequestFields.scan(Array(body.utf8))
        #expect(f.validObject && f.model == "gpt-5" && f.stream == true)
        #expect(RequestFields.scan(Array(#"{"stream":false,"model":"a\/b"}"#.utf8)).model == "a/b")
        #expect(!RequestFields.scan(Array(#"{"model":"a","model":"b"}"#.utf8)).validObject, "parsers disagree on which duplicate wins: refused")
        #expect(!RequestFields.scan(Array("[1,2]".utf8)).validObject)
        #expect(!RequestFields.scan(Array(#"{"model":"a""#.utf8)).validObject)
        #expect(RequestFields.scan(Array(" {\n} ".utf8)).validObject)
        // Backslash runs before a quote: even ends the string, odd escapes the quote.
        let runs = RequestFields.scan(Array(#"{"a":"x\\","model":"m\\\"q","b":["\\\\\"]"],"stream":true}"#.utf8))
        #expect(runs.validObject && runs.model == #"m\"q"# && runs.stream == true)
        #expect(!RequestFields.scan(Array(#"{"model":"a\"}"#.utf8)).validObject, "an escaped closing quote leaves the string open")
    }

    @Test func usageFromEveryAPIAcrossChunkBoundaries() {
        let streams = [
            (#"data: {"usage":{"prompt_tokens":12,"completion_tokens":34,"prompt_tokens_details":{"cached_tokens":5}}}"#, (12, 34, 5)),
            (#"event: response.completed\ndata: {"response":{"usage":{"input_tokens":7,"input_tokens_details":{"cached_tokens":2},"output_tokens":9}}}"#, (7, 9, 2)),
            (#"event: message_start\ndata: {"message":{"usage":{"input_tokens":28,"cache_read_input_tokens":4,"output_tokens":1}}}\n\nevent: message_delta\ndata: {"usage":{"output_tokens":15}}"#, (28, 15, 4)),
            (#"data: {"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":8,"cachedContentTokenCount":1}}"#, (3, 8, 1)),
        ]
        for (text, (i, o, c)) in streams {
            let bytes = Array(text.utf8)
            for split in [1, 3, 7, bytes.count] {
                var u = UsageScanner()
                var k = 0
                while k < bytes.count { u.feed(Array(bytes[k..<min(bytes.count, k + split)])); k += split }
                #expect(u.input == Int64(i) && u.output == Int64(o) && u.cached == Int64(c), "\(text.prefix(40)) split \(split)")
            }
        }
    }
}

/// The usage scanner reads each chunk in place (junction of tail and chunk, then the chunk); it must find what
/// the straightforward version (scan `tail + chunk` as one array) found, for every way a stream is cut.
@Suite struct UsageScannerEquivalenceTests {
    /// The previous implementation, kept as the reference.
    struct Reference {
        var input: Int64 = 0, output: Int64 = 0, cached: Int64 = 0
        var tail: [UInt8] = []
        mutating func feed(_ chunk: [UInt8]) {
            let b = tail + chunk
            var i = 0
            while i < b.count {
                guard b[i] == UInt8(ascii: "\"") else { i += 1; continue }
                if let (v, e) = value(b, i, UsageScanner.inputKeys) { input = max(input, v); i = e; continue }
                if let (v, e) = value(b, i, UsageScanner.outputKeys) { output = max(output, v); i = e; continue }
                if let (v, e) = value(b, i, UsageScanner.cachedKeys) { cached = max(cached, v); i = e; continue }
                i += 1
            }
            tail = Array(b.suffix(48))
        }
        func value(_ b: [UInt8], _ at: Int, _ keys: [[UInt8]]) -> (Int64, Int)? {
            for k in keys where at + k.count < b.count && b[at..<(at + k.count)].elementsEqual(k) {
                var i = at + k.count
                while i < b.count, b[i] == 0x20 || b[i] == UInt8(ascii: ":") { i += 1 }
                var v: Int64 = 0, digits = 0
                while i < b.count, b[i] >= 0x30, b[i] <= 0x39, digits < 18 { v = v * 10 + Int64(b[i] - 0x30); i += 1; digits += 1 }
                if digits == 0 || i == b.count { return nil }
                return (min(v, Saturating.maxTokensPerRequest), i)
            }
            return nil
        }
    }

    @Test func sameResultAsTheReferenceForEverySplit() {
        let pad = String(repeating: " ", count: 70)
        let texts = [
            #"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tok"}}],"usage":{"prompt_tokens":250,"completion_tokens":19,"total_tokens":269,"prompt_tokens_details":{"cached_tokens":128}}}"#,
            #"{"usage":{"input_tokens":1234,"cache_read_input_tokens":99,"output_tokens":"# + pad + #"5678}}"#,
            #"{"usageMetadata":{"promptTokenCount":"# + pad + pad + #"31,"candidatesTokenCount": 8,"cachedContentTokenCount":  1}}"#,
            #"{"prompt_tokens":"# + pad + #"7} {"prompt_tokens":3,"completion_tokens":"# + pad + #"12345678901234567890}"#,
        ]
        for text in texts {
            let bytes = Array(text.utf8)
            for split in 1...bytes.count {
                var u = UsageScanner(), r = Reference()
                var k = 0
                while k < bytes.count {
                    let piece = Array(bytes[k..<min(bytes.count, k + split)])
                    u.feed(piece); r.feed(piece); k += split
                }
                #expect(u.input == r.input && u.output == r.output && u.cached == r.cached, "\(text.prefix(30)) split \(split)")
            }
        }
    }
}

@Suite struct RoutingTests {
    @Test func chainThenRotatedPoolWithAffinity() {
        let usable: (String) -> Bool = { $0 != "cooling" }
        #expect(Routing.candidates(chain: ["b", "cooling", "a"], pool: ["a", "b", "c", "d", "cooling"], usable: usable,
                                   fallbackToPool: true, rotation: 0, affinity: nil) == ["b", "a", "c", "d"])
        #expect(Routing.candidates(chain: ["b"], pool: ["a", "b", "c", "d"], usable: usable, fallbackToPool: true, rotation: 1, affinity: nil)
                == ["b", "c", "d", "a"], "the pool rotates")
        #expect(Routing.candidates(chain: ["b"], pool: ["a", "b", "c", "d"], usable: usable, fallbackToPool: true, rotation: 1, affinity: "a")
                == ["b", "a", "c", "d"], "the conversation's credential first")
        #expect(Routing.candidates(chain: ["b"], pool: ["a", "b", "c"], usable: usable, fallbackToPool: false, rotation: 0, affinity: nil) == ["b"])
        #expect(Routing.candidates(chain: [], pool: [], usable: usable, fallbackToPool: true, rotation: 5, affinity: nil) == [])
    }
}

@Suite struct JSONTextTests {
    // The error-body half of this test moved to ProxyPoolTranslationTests/ErrorVocabularyTests.swift with the
    // error vocabulary.
    @Test func quotedEscapes() {
        #expect(JSONText.quoted("a\u{1}\n") == "\"a\\u0001\\n\"")
    }
}
