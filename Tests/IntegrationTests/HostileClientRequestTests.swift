import Foundation
import Glibc
import Testing

/// Malformed, ambiguous or oversized requests from a hostile client, across the four APIs, against the real
/// daemon and the fake upstream. For each: a 4xx (never a 5xx, never no answer), within 10 s, in the client's
/// own error format; the upstream saw nothing of it; /healthz answers afterwards; the daemon is alive at the end.
@Suite struct HostileClientRequestTests {
    struct API: Sendable {
        var name: String
        var dialect: String
        var path: String
        var validBody: String
        /// The access key, the way this API's clients send it.
        var auth: @Sendable (String) -> [(String, String)]
        var modelInBody: Bool { dialect != "gemini" }
    }

    static let apis = [
        API(name: "chat", dialect: "openai", path: "/v1/chat/completions",
            validBody: #"{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}"#, auth: { [("Authorization", "Bearer \($0)")] }),
        API(name: "responses", dialect: "openai", path: "/v1/responses",
            validBody: #"{"model":"gpt-5","input":[{"role":"user","content":"hi"}]}"#, auth: { [("Authorization", "Bearer \($0)")] }),
        API(name: "messages", dialect: "anthropic", path: "/v1/messages",
            validBody: #"{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#,
            auth: { [("x-api-key", $0), ("anthropic-version", "2023-06-01")] }),
        API(name: "gemini", dialect: "gemini", path: "/v1beta/models/gemini-2.5-pro:generateContent",
            validBody: #"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#, auth: { [("x-goog-api-key", $0)] }),
    ]

    struct Case {
        var label: String
        var api: API
        var bytes: [UInt8]
        var expected: Int? = nil
    }

    /// A whole request: the API's path (or `target`), its auth headers, `Connection: close`, a Content-Length
    /// unless the headers frame the body themselves.
    static func request(_ api: API, key: String, target: String? = nil, headers: [(String, String)] = [], body: [UInt8],
                        auth: Bool = true) -> [UInt8] {
        var h = [("Host", "127.0.0.1"), ("Content-Type", "application/json")] + (auth ? api.auth(key) : []) + headers
        if !headers.contains(where: { $0.0.lowercased() == "transfer-encoding" }) { h.append(("Content-Length", String(body.count))) }
        h.append(("Connection", "close"))
        var out = Array("POST \(target ?? api.path) HTTP/1.1\r\n".utf8)
        for (k, v) in h { out += Array("\(k): \(v)\r\n".utf8) }
        return out + Array("\r\n".utf8) + body
    }

    // MARK: The cases

    /// Bodies that break JSON, UTF-8, the nesting limit or the model/stream rules. `member` puts a member first
    /// in the top-level object; `inText` puts raw bytes into the prompt's text (a string deep in the body).
    static func bodyCases(_ api: API, key: String) -> [Case] {
        let valid = Array(api.validBody.utf8)
        func member(_ m: String) -> [UInt8] { member(Array(m.utf8)) }
        func member(_ m: [UInt8]) -> [UInt8] { [0x7B] + m + [0x2C] + valid.dropFirst() }
        func inText(_ b: [UInt8]) -> [UInt8] {
            let s = api.validBody, r = s.range(of: "\"hi\"")!
            return Array(s[..<r.lowerBound].utf8) + [0x22] + b + [0x22] + Array(s[r.upperBound...].utf8)
        }
        func inModelValue(_ b: [UInt8]) -> [UInt8] { member(Array(#""model":""#.utf8) + b + [0x22]) }
        func withoutModel() -> [UInt8] { Array(api.validBody.replacingOccurrences(of: #""model":"gpt-5","#, with: "")
                                                .replacingOccurrences(of: #""model":"claude-sonnet-4-5","#, with: "").utf8) }
        func withModel(_ json: String) -> [UInt8] {
            api.modelInBody ? Array(api.validBody.replacing(#/"model":"[^"]*"/#, with: #""model":\#(json)"#).utf8)
                            : member(#""model":\#(json)"#)
        }
        var bodies: [(String, [UInt8])] = [
            ("empty body", []), ("whitespace only", Array(" \r\n".utf8)), ("array", Array("[]".utf8)), ("null", Array("null".utf8)),
            ("string", Array(#""x""#.utf8)), ("unclosed", Array(api.validBody.dropLast().utf8)), ("lone brace", Array("{".utf8)),
            ("trailing garbage", valid + Array(" x".utf8)), ("second object", valid + Array("{}".utf8)), ("trailing NUL", valid + [0]),
            ("trailing comma", Array(api.validBody.dropLast().utf8) + Array(",}".utf8)), ("BOM", [0xEF, 0xBB, 0xBF] + valid),
            ("NaN", member(#""t":NaN"#)), ("Infinity", member(#""t":Infinity"#)), ("-Infinity", member(#""t":-Infinity"#)),
            ("leading zero", member(#""t":01"#)), ("bare dot", member(#""t":1."#)), ("plus", member(#""t":+1"#)), ("hex", member(#""t":0x10"#)),
            ("empty exponent", member(#""t":1e"#)), ("single quotes", member(#""t":'x'"#)), ("unquoted key", member("t:1")),
            ("missing colon", member(#""t" 1"#)), ("undefined", member(#""t":undefined"#)), ("comment", member(#""t":1 /* c */"#)),
            ("bad escape \\x", inText(Array(#"\x41"#.utf8))), ("bad escape \\'", inText(Array(#"\'"#.utf8))),
            ("short \\u", inText(Array(#"\u12"#.utf8))), ("non-hex \\u", inText(Array(#"\u12G4"#.utf8))),
            ("depth 129", member(#""t":"# + String(repeating: "[", count: 128) + String(repeating: "]", count: 128))),
            ("depth 100000", member(#""t":"# + String(repeating: "[", count: 100_000))),
            ("duplicate stream", member(#""stream":false"# + #","stream":true"#)),
            ("escaped duplicate stream", member(#""str\u0065am":true,"stream":false"#)),
            ("model number", withModel("5")), ("model array", withModel(#"["gpt-5"]"#)), ("model object", withModel(#"{"id":"gpt-5"}"#)),
            ("model true", withModel("true")), ("stream string", member(#""stream":"true""#)), ("stream number", member(#""stream":1"#)),
            ("two models", member(#""model":"cheap","model":"dear""#)),
        ]
        // Where the body carries the model: it is read, stored and logged, so it is bounded and plain.
        if api.modelInBody {
            bodies += [("duplicate model", member(#""model":"cheap""#)), ("escaped duplicate model", member(#""mod\u0065l":"cheap""#)),
                       ("model missing", withoutModel()), ("model null", withModel("null")),
                       ("model 257 bytes", withModel("\"\(String(repeating: "m", count: 257))\"")),
                       ("model 2 MiB", withModel("\"\(String(repeating: "m", count: 2 << 20))\"")),
                       ("model with space", withModel(#""gpt 5""#)), ("model with escaped LF", withModel(#""gpt\n5""#)),
                       ("model non-ASCII", withModel(#""gpt-é""#)), ("model empty", withModel(#""""#))]
        }
        // Raw control characters and bad UTF-8, in the prompt text and in the model's value.
        let badStrings: [(String, [UInt8])] = [
            ("raw LF", [0x61, 0x0A, 0x62]), ("raw NUL", [0x61, 0x00]), ("raw 0x1F", [0x1F]), ("raw tab", [0x09]),
            ("overlong /", [0xC0, 0xAF]), ("overlong 3-byte", [0xE0, 0x80, 0xAF]), ("overlong 4-byte", [0xF0, 0x80, 0x80, 0xAF]),
            ("encoded surrogate", [0xED, 0xA0, 0x80]), ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80]), ("byte F5", [0xF5, 0x80, 0x80, 0x80]),
            ("byte FF", [0xFF]), ("lone continuation", [0x80]), ("cut sequence", [0xE4, 0xB8]),
        ]
        for (label, b) in badStrings {
            bodies.append(("\(label) in text", inText(b)))
            bodies.append(("\(label) in model", inModelValue(b)))
            bodies.append(("\(label) in a key", member([0x22] + b + Array(#"":1"#.utf8))))
        }
        return bodies.map { Case(label: "\(api.name): \($0.0)", api: api, bytes: request(api, key: key, body: $0.1), expected: 400) }
    }

    /// Heads the proxy refuses: encodings it does not read, unbounded labels and session ids, keys in URLs.
    static func headCases(_ api: API, key: String) -> [Case] {
        let valid = Array(api.validBody.utf8)
        var heads: [(String, [(String, String)], Int)] = [
            ("gzip", [("Content-Encoding", "gzip")], 415), ("br", [("Content-Encoding", "br")], 415),
            ("gzip, identity", [("Content-Encoding", "gzip, identity")], 415),
            ("identity then gzip", [("Content-Encoding", "identity"), ("Content-Encoding", "gzip")], 415),
            ("app 65 bytes", [("X-Proxypool-App", String(repeating: "a", count: 65))], 400),
            ("app with space", [("X-Proxypool-App", "my app")], 400), ("app with slash", [("X-Proxypool-App", "a/b")], 400),
            ("app non-ASCII", [("X-Proxypool-App", "appé")], 400),
            ("session 257 bytes", [("x-claude-code-session-id", String(repeating: "s", count: 257))], 400),
            ("session 60 KiB", [("session-id", String(repeating: "s", count: 60_000))], 400),
            ("session with space", [("conversation_id", "a b")], 400), ("session non-ASCII", [("session-id", "sé")], 400),
        ]
        heads.append(("unsupported Expect", [("Expect", "nothing")], 417))
        var cases = heads.map { Case(label: "\(api.name): \($0.0)", api: api, bytes: request(api, key: key, headers: $0.1, body: valid), expected: $0.2) }
        if api.dialect != "gemini" {
            cases.append(Case(label: "\(api.name): ?key= only", api: api,
                              bytes: request(api, key: key, target: api.path + "?key=\(key)", body: valid, auth: false), expected: 400))
            cases.append(Case(label: "\(api.name): ?key= beside a header key", api: api,
                              bytes: request(api, key: key, target: api.path + "?beta=true&key=\(key)", body: valid), expected: 400))
        }
        return cases
    }

    /// Gemini model names in the path that must never be spliced into the upstream URL.
    static func pathCases(key: String) -> [Case] {
        let api = apis[3]
        let models = ["..%2F..%2F..%2Fetc%2Fpasswd", "x%3Fkey%3Devil", "x%23frag", "x%252F..", "x%zz", "", String(repeating: "m", count: 257),
                      "a%00b", "a%0Ab", "a%0D%0AX-Injected:%201", "a%7F", "a%20b", "..", "gemini..pro", "a/b", "a%2Fb", "%C3%A9",
                      "%2E%2E", String(repeating: "%41", count: 300)]
        var cases: [Case] = []
        for m in models {
            for method in ["generateContent", "streamGenerateContent", "countTokens"] {
                cases.append(Case(label: "gemini path model \(m.prefix(40)) :\(method)", api: api,
                                  bytes: request(api, key: key, target: "/v1beta/models/\(m):\(method)", body: Array(api.validBody.utf8)), expected: 400))
            }
        }
        return cases
    }

    /// Chunked bodies with bare line ends or control characters in their framing.
    static func chunkedCases(_ api: API, key: String) -> [Case] {
        let body = api.validBody
        let hex = String(body.utf8.count, radix: 16)
        let framings = [
            ("size line ends in LF", "\(hex)\n\(body)\n0\n\n"), ("size line ends in CR", "\(hex)\r\(body)\r\n0\r\n\r\n"),
            ("last chunk ends in LF", "\(hex)\r\n\(body)\r\n0\n\n"), ("trailer ends in LF", "\(hex)\r\n\(body)\r\n0\r\nX-T: 1\n\n"),
            ("blank line is a bare LF", "\(hex)\r\n\(body)\r\n0\r\n\n"),
            ("extension with a control character", "\(hex);a=\u{1}\r\n\(body)\r\n0\r\n\r\n"),
            ("extension with a line break", "\(hex);a=b\nc\r\n\(body)\r\n0\r\n\r\n"),
            ("extension with DEL", "\(hex);a=\"\u{7F}\"\r\n\(body)\r\n0\r\n\r\n"),
        ]
        return framings.map { Case(label: "\(api.name): chunked, \($0.0)", api: api,
                                   bytes: request(api, key: key, headers: [("Transfer-Encoding", "chunked")], body: Array($0.1.utf8)), expected: 400) }
    }

    // MARK: Running them

    /// Runs `cases` one by one and checks every promise; returns how many were run.
    @discardableResult
    static func run(_ cases: [Case], _ s: ProxySetup) throws -> Int {
        var seen = try upstreamSeq(s, since: 0)
        for c in cases {
            let start = Date()
            let r = try http(port: s.port, "", "", raw: c.bytes, timeout: 10)
            let elapsed = Date().timeIntervalSince(start)
            #expect((400..<500).contains(r.status), "\(c.label): status \(r.status) \(r.body.prefix(200))")
            if let e = c.expected { #expect(r.status == e, "\(c.label): \(r.status), expected \(e): \(r.body.prefix(200))") }
            #expect(elapsed < 10, "\(c.label): answered after \(elapsed) s")
            #expect(inClientFormat(r.body, c.api.dialect, status: r.status), "\(c.label): not in the \(c.api.dialect) error format: \(r.body.prefix(200))")
            let now = try upstreamSeq(s, since: seen)
            #expect(now == seen, "\(c.label): the upstream received it")
            seen = now
            #expect(try http(port: s.port, "GET", "/healthz", timeout: 10).status == 200, "\(c.label): /healthz after it")
        }
        return cases.count
    }

    /// The sequence number of the fake upstream's last recorded request, read from the text (a recorded body
    /// may hold NaN, which JSONSerialization refuses; only what came after `since` is fetched).
    static func upstreamSeq(_ s: ProxySetup, since: Int) throws -> Int {
        let r = try http(port: s.fake.port, "GET", "/__requests?since=\(since)", headers: [("Host", "127.0.0.1")])
        guard r.status == 200 else { throw HarnessError("fake upstream /__requests: \(r.status)") }
        return r.body.matches(of: #/"seq": (\d+)/#).compactMap { Int($0.1) }.max() ?? since
    }

    /// The error shape each SDK parses.
    static func inClientFormat(_ body: String, _ dialect: String, status: Int) -> Bool {
        guard let j = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let e = j["error"] as? [String: Any], let message = e["message"] as? String, !message.isEmpty else { return false }
        switch dialect {
        case "openai": return e["type"] is String && e.keys.contains("code")
        case "anthropic": return j["type"] as? String == "error" && e["type"] is String
        default: return e["code"] as? Int == status && e["status"] is String
        }
    }

    static func setup() throws -> ProxySetup {
        try ProxySetup(credentials: [("o", "openai", "fake-ok~O"), ("a", "anthropic", "fake-ok~A"), ("g", "gemini", "fake-ok~G")])
    }

    /// Each API's valid request goes through (so "the upstream received nothing" means something), before and after.
    static func expectValidRequestsServed(_ s: ProxySetup) throws {
        for api in apis {
            let before = try upstreamSeq(s, since: 0)
            let r = try http(port: s.port, "", "", raw: request(api, key: s.key, body: Array(api.validBody.utf8)), timeout: 10)
            #expect(r.status == 200, "\(api.name) valid request: \(r.status) \(r.body.prefix(200))")
            #expect(try upstreamSeq(s, since: before) == before + 1, "\(api.name) valid request reached the upstream")
        }
    }

    @Test func malformedBodies() throws {
        let s = try Self.setup()
        try Self.expectValidRequestsServed(s)
        let n = try Self.run(Self.apis.flatMap { Self.bodyCases($0, key: s.key) }, s)
        #expect(n > 200)
        try Self.expectValidRequestsServed(s)
        #expect(s.daemon.process.isRunning)
    }

    @Test func hostileHeadsPathsAndFraming() throws {
        let s = try Self.setup()
        let cases = Self.apis.flatMap { Self.headCases($0, key: s.key) + Self.chunkedCases($0, key: s.key) } + Self.pathCases(key: s.key)
        let n = try Self.run(cases, s)
        #expect(n > 100)
        try Self.expectValidRequestsServed(s)
        // The refused model names were never stored: the usage table knows only the valid requests' models.
        usleep(500_000)   // usage rows are written by the background writer
        let usage = s.daemon.ctl(["usage"])
        #expect(usage.status == 0 && !usage.stdout.contains("mmmm") && !usage.stdout.contains("passwd"), Comment(rawValue: usage.stdout + usage.stderr))
        #expect(s.daemon.process.isRunning)
    }
}
