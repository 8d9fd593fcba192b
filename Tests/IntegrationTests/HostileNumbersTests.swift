import Foundation
import Glibc
import ProxyPoolStore
import Testing

/// Numbers from a hostile or broken upstream (issue 12): a 429 saying "wait 1e300 seconds" and usage of
/// 999999999999999999 tokens once trapped the daemon (Int64(Double) and `+` overflow); with Restart=on-failure
/// the next request to that credential killed it again. The daemon must stay up, cut the wait to cooldown-max and
/// clamp the usage it records.
@Suite struct HostileNumbersTests {
    static let cooldownMax = 120
    static let tokenCap: Int64 = 1_000_000_000_000

    func config(_ text: String = "") throws -> [String] {
        let dir = makeTempDir("cfg")
        try "cooldown-max = \(Self.cooldownMax)\n\(text)".write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
        return ["--config", dir + "/p.conf"]
    }

    func expectAlive(_ s: ProxySetup, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(s.daemon.process.isRunning, "the daemon survived \(what)", sourceLocation: sourceLocation)
        #expect(try http(port: s.port, "GET", "/healthz").status == 200, "and still answers /healthz", sourceLocation: sourceLocation)
    }

    /// Each key answers 429 with a wait far beyond any sane one, in one of the places waits are read from.
    @Test(arguments: [
        "fake-429-retry-after-huge",        // Retry-After: 1e300
        "fake-429-retry-after-ms-huge",     // retry-after-ms: 1e300
        "fake-429-retry-after-date-far",    // Retry-After: an HTTP date in the year 2147483647
        "fake-429-reset-far",               // x-ratelimit-reset-requests: 99999999999999h, anthropic reset 9999-12-31
        "fake-usage-limit-far",             // resets_in_seconds / resets_at 400 digits long
    ])
    func aHugeWaitIsCutToCooldownMax(key: String) throws {
        let s = try ProxySetup(args: try config(), credentials: [("h", "anthropic", key)], assign: ["tool": ["h"]])
        let app = [("X-Proxypool-App", "tool")]
        let r = try s.messages(headers: app)
        try expectAlive(s, key)
        // The only credential is cooling: the client is told when to come back, which is at most cooldown-max.
        #expect(r.status == 429, Comment(rawValue: r.body))
        let retry = Int(r.header("retry-after") ?? "") ?? -1
        #expect((Self.cooldownMax - 5...Self.cooldownMax).contains(retry), "Retry-After \(retry) is cooldown-max, not the upstream's wait")
        let health = (try s.daemon.status()["health"] as? [[String: Any]]) ?? []
        let h = try #require(health.first { $0["name"] as? String == "h" })
        #expect(h["state"] as? String == "cooling")
        let left = (h["secondsLeft"] as? NSNumber)?.intValue ?? -1
        #expect((Self.cooldownMax - 5...Self.cooldownMax).contains(left), "status shows \(left) s left: cooldown-max")
        // The credential is skipped now, and the daemon goes on serving.
        let again = try s.messages(headers: app)
        let asked = try s.fake.requests().count
        #expect(again.status == 429 && asked == 1, "the cooling credential was not asked again")
        try expectAlive(s, key + " twice")
    }

    /// Every protocol's usage shape, read both from bytes passed through (the usage scanner) and from translated
    /// answers (each codec), reporting 999999999999999999 tokens a request: each request counts 10^12, the sums
    /// are exact, and the daemon lives through more than twenty of them.
    @Test func hugeUsageIsClampedPerRequestAndAddsUp() throws {
        let s = try ProxySetup(args: try config(),
                               credentials: [("a", "anthropic", "fake-usage-huge~a"), ("o", "openai", "fake-usage-huge~o"),
                                             ("g", "gemini", "fake-usage-huge~g"), ("oc", "openai-compatible", "fake-usage-huge~oc")],
                               assign: ["msg-a": ["a"], "chat-o": ["o"], "resp-o": ["o"], "gem-g": ["g"],
                                        "chat-a": ["a"], "msg-o": ["o"], "msg-g": ["g"], "msg-oc": ["oc"]])
        #expect(s.daemon.ctl(["tier", "set", "openai-compatible", "standard", "local-model"]).status == 0)
        usleep(150_000)
        func send(_ app: String, stream: Bool) throws -> HTTPResult {
            let h = [("X-Proxypool-App", app), ("Content-Type", "application/json")]
            let msg = #"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":\#(stream),"messages":[{"role":"user","content":"hi FAKE-TEXT-ONLY"}]}"#
            let options = stream ? #","stream_options":{"include_usage":true}"# : ""
            let chat = #"{"model":"gpt-5","stream":\#(stream)\#(options),"messages":[{"role":"user","content":"hi FAKE-TEXT-ONLY"}]}"#
            switch app {
            case "chat-o", "chat-a":
                return try http(port: s.port, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer \(s.key)")] + h, body: chat)
            case "resp-o":
                return try http(port: s.port, "POST", "/v1/responses", headers: [("Authorization", "Bearer \(s.key)")] + h,
                                body: #"{"model":"gpt-5","stream":\#(stream),"input":"hi FAKE-TEXT-ONLY"}"#)
            case "gem-g":
                let method = stream ? "streamGenerateContent?alt=sse" : "generateContent"
                return try http(port: s.port, "POST", "/v1beta/models/gemini-2.5-flash:\(method)", headers: [("x-goog-api-key", s.key)] + h,
                                body: #"{"contents":[{"role":"user","parts":[{"text":"hi FAKE-TEXT-ONLY"}]}]}"#)
            default:
                return try http(port: s.port, "POST", "/v1/messages", headers: [("x-api-key", s.key), ("anthropic-version", "2023-06-01")] + h, body: msg)
            }
        }
        let apps = ["msg-a", "chat-o", "resp-o", "gem-g", "chat-a", "msg-o", "msg-g", "msg-oc"]
        var sent: [String: Int64] = [:]
        // Three rounds over every route (one streamed), then a dozen like requests in a row: they add up in one
        // run of the writer, where ten unclamped reports overflow.
        for round in 0..<3 {
            for app in apps {
                let r = try send(app, stream: round == 1)
                #expect(r.status == 200, "\(app) round \(round): \(r.body.prefix(300))")
                sent[app, default: 0] += 1
            }
        }
        for _ in 0..<12 {
            #expect(try send("msg-a", stream: false).status == 200)
            sent["msg-a", default: 0] += 1
        }
        try expectAlive(s, "\(sent.values.reduce(0, +)) answers reporting 999999999999999999 tokens")
        usleep(1_500_000)
        let usage = s.daemon.ctl(["usage", "--json"])
        #expect(usage.status == 0, Comment(rawValue: usage.stderr))
        let rows = try JSONSerialization.jsonObject(with: Data(usage.stdout.utf8)) as? [[String: Any]] ?? []
        func total(_ app: String, _ field: String) -> Int64 {
            rows.filter { $0["app"] as? String == app }.reduce(0) { $0 + (($1[field] as? NSNumber)?.int64Value ?? -1) }
        }
        for app in apps {
            let n = sent[app] ?? 0
            #expect(total(app, "requests") == n, "\(app): every request counted")
            #expect(total(app, "inputTokens") == n * Self.tokenCap, "\(app): each request's input counts 10^12")
            #expect((0...n * Self.tokenCap).contains(total(app, "outputTokens")) && (0...n * Self.tokenCap).contains(total(app, "cachedTokens")))
        }
        // Summed by credential in proxypoolctl too (credential a serves two apps).
        let byCredential = s.daemon.ctl(["usage", "--by", "credential", "--json"])
        let sums = try JSONSerialization.jsonObject(with: Data(byCredential.stdout.utf8)) as? [[String: Any]] ?? []
        let a = sums.first { $0["credential"] as? String == "a" }
        #expect((a?["inputTokens"] as? NSNumber)?.int64Value == ((sent["msg-a"] ?? 0) + (sent["chat-a"] ?? 0)) * Self.tokenCap)
        #expect(s.daemon.ctl(["usage", "--by", "app"]).status == 0)
    }

    /// An answer reporting Int64.max tokens, translated: the codecs add counts up (total_tokens = input + output).
    @Test(arguments: ["9223372036854775807", "99999999999999999999999999999"])
    func usageBeyondInt64IsClampedWhenTranslated(tokens: String) throws {
        let s = try ProxySetup(args: try config(), credentials: [("a", "anthropic", "fake-usage-\(tokens)~a")], assign: ["tool": ["a"]])
        for stream in [false, true] {
            let r = try http(port: s.port, "POST", "/v1/chat/completions",
                             headers: [("Authorization", "Bearer \(s.key)"), ("Content-Type", "application/json"), ("X-Proxypool-App", "tool")],
                             body: #"{"model":"gpt-5.1","stream":\#(stream)\#(stream ? #","stream_options":{"include_usage":true}"# : ""),"messages":[{"role":"user","content":"hi FAKE-TEXT-ONLY"}]}"#)
            #expect(r.status == 200)
            #expect(r.content.contains(#""prompt_tokens":1000000000000"#), "the client is told the clamped count: \(r.content.suffix(400))")
        }
        try expectAlive(s, "\(tokens) tokens")
        usleep(1_500_000)
        let rows = try JSONSerialization.jsonObject(with: Data(s.daemon.ctl(["usage", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        #expect(rows.reduce(Int64(0)) { $0 + (($1["inputTokens"] as? NSNumber)?.int64Value ?? 0) } == 2 * Self.tokenCap)
    }

    /// Sums already at Int64.max in the store (written before usage was clamped): adding more stays at Int64.max,
    /// and proxypoolctl adding rows up saturates instead of trapping.
    @Test func savedSumsAtInt64MaxSaturate() throws {
        let dir = makeTempDir("sat")
        do {
            let store = try Store(directory: dir + "/state")
            let day = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
            let rows = (0..<3).map { i in
                Store.UsageDelta(day: day, app: "app\(i)", credential: "c", model: "m", upstreamModel: "m", requests: .max, errors: 0,
                                 input: .max, output: .max, cached: .max)
            }
            try store.applyProxyBatch(cooldownsSet: [], cooldownsCleared: [], usage: rows, apps: [], keysUsed: [])
            try store.applyProxyBatch(cooldownsSet: [], cooldownsCleared: [], usage: rows, apps: [], keysUsed: [])
        }
        let d = try DaemonProcess(stateDir: dir + "/state")
        let plain = try JSONSerialization.jsonObject(with: Data(d.ctl(["usage", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
        #expect(plain.count == 3 && plain.allSatisfy { ($0["inputTokens"] as? NSNumber)?.int64Value == .max }, "a sum past Int64.max stays Int64.max")
        let r = d.ctl(["usage", "--by", "credential", "--json"])
        #expect(r.status == 0, Comment(rawValue: r.stderr))
        let sums = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(sums.count == 1 && (sums.first?["inputTokens"] as? NSNumber)?.int64Value == .max && (sums.first?["requests"] as? NSNumber)?.int64Value == .max)
        #expect(d.ctl(["usage", "--by", "credential"]).stdout.contains(String(Int64.max)))
    }
}
