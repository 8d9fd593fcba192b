import Foundation
import Glibc
import Testing

@Suite struct ProxyAccessTests {
    @Test func accessKeyIsRequiredAndNeverForwarded() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok~A")])
        let none = try http(port: s.port, "POST", "/v1/messages", headers: [("anthropic-version", "2023-06-01")], body: "{}")
        #expect(none.status == 401 && none.body.contains(#""type":"authentication_error""#) && none.body.contains("no access key given"))
        let wrong = try s.messages(key: "ppk_wrong")
        #expect(wrong.status == 401 && wrong.body.contains("not valid"))
        let oai = try http(port: s.port, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer nope")], body: "{}")
        #expect(oai.status == 401 && oai.body.contains(#""code":"invalid_api_key""#), "OpenAI's error shape")
        let gem = try http(port: s.port, "POST", "/v1beta/models/gemini-2.5-pro:generateContent", headers: [("x-goog-api-key", "nope")], body: "{}")
        #expect(gem.status == 401 && gem.body.contains(#""status":"UNAUTHENTICATED""#), "Gemini's error shape")
        let ok = try s.messages()
        #expect(ok.status == 200 && ok.body.contains("FAKE-UPSTREAM-OK"))
        #expect(ok.header("x-proxypool-credential") == "a")
        #expect(try s.fake.keysSeen() == ["fake-ok~A"], "only the credential's key reached the upstream")
        // The key works from ?key= too (Gemini style), and can be turned off.
        #expect(s.daemon.ctl(["require-key", "off"]).status == 0)
        usleep(100_000)
        #expect(try s.messages(key: "anything").status == 200)
    }

    @Test func hostOriginAndMalformedRequests() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok")])
        let evil = try http(port: s.port, "GET", "/healthz", headers: [("Host", "evil.example.invalid")])
        #expect(evil.status == 421 && evil.body.contains("not allowed"))
        #expect(try http(port: s.port, "GET", "/healthz", headers: [("Host", "localhost:\(s.port)")]).status == 200)
        let cors = try s.messages(headers: [("Origin", "https://evil.example.invalid")])
        #expect(cors.status == 403 && cors.body.contains("cross-origin"))
        let bad = try http(port: s.port, "", "", raw: Array("POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".utf8))
        #expect(bad.status == 400 && bad.body.contains("Content-Length"))
        let smuggle = try http(port: s.port, "", "", raw: Array("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".utf8))
        #expect(smuggle.status == 400)
        let garbage = try http(port: s.port, "", "", raw: Array("\u{1}\u{2}garbage\r\n\r\n".utf8))
        #expect(garbage.status == 400 || garbage.status == 505)
        #expect(try s.messages().status == 200, "the daemon keeps serving")
        // A WebSocket handshake is admitted like any API request (WebSocketTests has the rest).
        let ws = try http(port: s.port, "GET", "/v1/responses", headers: [("Upgrade", "websocket"), ("Connection", "Upgrade")])
        #expect(ws.status == 401, "no access key")
        let old = try http(port: s.port, "GET", "/v1/responses", headers: [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Authorization", "Bearer \(s.key)")])
        #expect(old.status == 426 && old.header("sec-websocket-version") == "13", "no Sec-WebSocket-Version: answered 426 naming 13")
        #expect(try http(port: s.port, "GET", "/v1/nothing", headers: [("Authorization", "Bearer \(s.key)")]).status == 404)
    }

    @Test func bodyLimitAndHeaderTimeout() throws {
        let dir = makeTempDir("cfg")
        try "max-body-bytes = 2048\nheader-timeout = 1\n".write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
        let s = try ProxySetup(args: ["--config", dir + "/p.conf"], credentials: [("a", "anthropic", "fake-ok")])
        let big = try http(port: s.port, "POST", "/v1/messages", headers: [("x-api-key", s.key), ("anthropic-version", "2023-06-01")],
                           body: String(repeating: "x", count: 5000))
        #expect(big.status == 413 && big.body.contains("request_too_large"))
        // A client that sends half a head and stalls is answered 408 and dropped.
        let fd = try tcpConnect(s.port, timeout: 5)
        let partial = Array("POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n".utf8)
        _ = partial.withUnsafeBytes { send(fd, $0.baseAddress, partial.count, 0) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buf, buf.count, 0)
        close(fd)
        #expect(n > 0 && String(decoding: buf[0..<max(n, 0)], as: UTF8.self).hasPrefix("HTTP/1.1 408"))
        #expect(try s.messages().status == 200)
    }
}

@Suite struct ProxyRoutingTests {
    @Test func chainOrderFailoverCooldownAndStatus() throws {
        let s = try ProxySetup(credentials: [("limited", "anthropic", "fake-429-retry-after-30"), ("ok", "anthropic", "fake-ok~OK"),
                                             ("other", "anthropic", "fake-ok~OTHER")],
                               assign: ["claude-code": ["limited", "ok"]])
        let cc = [("User-Agent", "claude-cli/2.1.331 (external, sdk-cli)")]
        let first = try s.messages(headers: cc)
        #expect(first.status == 200 && first.header("x-proxypool-credential") == "ok", "failover before the first byte")
        let second = try s.messages(headers: cc)
        #expect(second.status == 200 && second.header("x-proxypool-credential") == "ok")
        #expect(try s.fake.keysSeen() == ["fake-429-retry-after-30", "fake-ok~OK", "fake-ok~OK"], "the cooling credential is skipped")
        let status = s.daemon.ctl(["status"]).stdout
        #expect(status.contains("limited") && status.contains("cooling") && status.contains("rate-limited (429)"))
        #expect(s.daemon.log.contains("credential limited rate-limited (429); cooling down for claude-sonnet-4-5 until"))
        // Per model: another model may still use it.
        _ = try s.messages(headers: cc, model: "claude-haiku-4-5")
        #expect(try s.fake.keysSeen().last == "fake-ok~OK" && (try s.fake.keysSeen().filter { $0.hasPrefix("fake-429") }.count) == 2)
        // Usage and apps are recorded (batched once a second).
        usleep(1_500_000)
        let apps = s.daemon.ctl(["apps"]).stdout
        #expect(apps.contains("claude-code") && apps.contains(#"built-in rule: user-agent prefix "claude-cli/""#), Comment(rawValue: apps))
        let usage = s.daemon.ctl(["usage", "--by", "credential", "--json"]).stdout
        #expect(usage.contains("\"credential\" : \"ok\"") && usage.contains("\"inputTokens\""))
        let metrics = try http(port: s.port, "GET", "/metrics", headers: [("Authorization", "Bearer \(s.key)")]).body
        #expect(metrics.contains(#"proxypool_requests_total{app="claude-code",code="200",credential="ok"} 3"#))
        #expect(metrics.contains(#"proxypool_cooldowns{credential="limited"}"#))
        // Two of the three requests failed over once; each was timed to its first byte.
        #expect(metrics.contains("# TYPE proxypool_failovers_total counter\nproxypool_failovers_total{app=\"claude-code\"} 2\n"))
        #expect(metrics.contains(#"proxypool_request_duration_seconds_count{credential="ok"} 3"#))
        #expect(metrics.contains(#"proxypool_upstream_ttfb_seconds_count{credential="ok"} 3"#))
        #expect(metrics.contains(#"proxypool_request_duration_seconds_sum{credential="ok"} "#))
        #expect(!metrics.contains("proxypool_errors_total"))
    }

    /// Bytes after a complete answer mean the upstream is out of step: the connection is closed, not pooled.
    @Test func anUpstreamConnectionWithBytesPastTheAnswerIsNotReused() throws {
        let s = try ProxySetup(credentials: [("t", "anthropic", "fake-trailing-response")], assign: ["claude-code": ["t"]])
        for _ in 0..<3 {
            let r = try s.messages(headers: [("X-Proxypool-App", "claude-code")])
            #expect(r.status == 200 && r.body.contains("FAKE-UPSTREAM-OK") && !r.body.contains("FAKE-TRAILING-WRONG-ANSWER"), Comment(rawValue: r.body))
        }
        #expect(try s.fake.requests().count == 3)
    }

    /// Like requests in a row are added up before they reach the maps the store is written from: runs, a key
    /// change in the middle, two apps and two access keys must still give exact counts.
    @Test func usageAddsUpRunsOfLikeRequestsExactly() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok~A")], assign: ["one": ["a"], "two": ["a"]])
        let other = s.daemon.ctl(["key", "create"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let one = [("X-Proxypool-App", "one")], two = [("X-Proxypool-App", "two")]
        let sends: [(String?, [(String, String)], String)] = [
            (nil, one, "claude-sonnet-4-5"), (nil, one, "claude-sonnet-4-5"), (nil, one, "claude-sonnet-4-5"),
            (nil, one, "claude-haiku-4-5"), (nil, two, "claude-sonnet-4-5"), (other, two, "claude-sonnet-4-5"),
            (nil, one, "claude-sonnet-4-5"), (nil, one, "claude-sonnet-4-5"),
        ]
        for (key, headers, model) in sends { #expect(try s.messages(key: key, headers: headers, model: model).status == 200) }
        usleep(1_500_000)
        let rows = try JSONSerialization.jsonObject(with: Data(s.daemon.ctl(["usage", "--json"]).stdout.utf8)) as! [[String: Any]]
        func requests(_ app: String, _ model: String) -> Int64 {
            rows.filter { $0["app"] as? String == app && $0["model"] as? String == model }.reduce(0) { $0 + (($1["requests"] as? NSNumber)?.int64Value ?? 0) }
        }
        #expect(requests("one", "claude-sonnet-4-5") == 5)
        #expect(requests("one", "claude-haiku-4-5") == 1)
        #expect(requests("two", "claude-sonnet-4-5") == 2)
        let apps = s.daemon.ctl(["apps", "--json"]).stdout
        let appRows = try JSONSerialization.jsonObject(with: Data(apps.utf8)) as! [[String: Any]]
        #expect(appRows.first { $0["app"] as? String == "one" }?["requests"] as? NSNumber == 6)
        #expect(appRows.first { $0["app"] as? String == "two" }?["requests"] as? NSNumber == 2)
        #expect(appRows.first { $0["app"] as? String == "one" }?["recognisedBy"] as? String == "X-Proxypool-App header", Comment(rawValue: apps))
        // More of the same after a batch was written adds to it.
        #expect(try s.messages(headers: two).status == 200)
        usleep(1_500_000)
        let after = try JSONSerialization.jsonObject(with: Data(s.daemon.ctl(["usage", "--json"]).stdout.utf8)) as! [[String: Any]]
        #expect(after.filter { $0["app"] as? String == "two" }.reduce(Int64(0)) { $0 + (($1["requests"] as? NSNumber)?.int64Value ?? 0) } == 3)
    }

    @Test func fallbackToPoolAndAllCooling429() throws {
        let s = try ProxySetup(credentials: [("l1", "anthropic", "fake-429-retry-after-30~1"), ("l2", "anthropic", "fake-429-retry-after-60~2")],
                               assign: ["claude-code": ["l1"]])
        let cc = [("User-Agent", "claude-cli/2.1.331 (external, sdk-cli)")]
        let r = try s.messages(headers: cc)
        #expect(r.status == 429 && r.header("retry-after") == "30", "every candidate cooling: Retry-After = earliest recovery")
        #expect(r.body.contains("no credential for app claude-code is available: l1 rate-limited (429) until"))
        #expect(r.body.contains(#""type":"rate_limit_error""#))
        #expect(Set(try s.fake.keysSeen()) == ["fake-429-retry-after-30~1", "fake-429-retry-after-60~2"], "the pool was tried after the chain")
        let again = try s.messages(headers: cc)
        #expect(again.status == 429 && Int(again.header("retry-after") ?? "") ?? 99 <= 30)
        #expect(try s.fake.keysSeen().count == 2, "no upstream call while everything cools down")
        _ = s.daemon.ctl(["fallback", "off"])
        let noPool = try ProxySetup(credentials: [("solo", "anthropic", "fake-ok~S")], assign: [:])
        _ = noPool.daemon.ctl(["fallback", "off"])
        usleep(100_000)
        let unassigned = try noPool.messages(headers: cc)
        #expect(unassigned.status == 503 && unassigned.body.contains("no credential for app claude-code is available"))
    }

    @Test func cooldownsSurviveARestart() throws {
        let s = try ProxySetup(credentials: [("limited", "anthropic", "fake-429-retry-after-600"), ("ok", "anthropic", "fake-ok")],
                               assign: ["default": ["limited", "ok"]])
        #expect(try s.messages().status == 200)
        usleep(1_500_000)   // the writer's batch
        #expect(s.daemon.stop() == 0)
        let again = try DaemonProcess(stateDir: s.daemon.stateDir)
        #expect(again.ctl(["status"]).stdout.contains("rate-limited (429)"))
        let port = try again.proxyPort
        let r = try http(port: port, "POST", "/v1/messages", headers: [("x-api-key", s.key), ("anthropic-version", "2023-06-01")],
                         body: #"{"model":"claude-sonnet-4-5","messages":[]}"#)
        #expect(r.header("x-proxypool-credential") == "ok")
        #expect(try s.fake.keysSeen().filter { $0.hasPrefix("fake-429") }.count == 1, "the restarted daemon did not retry the cooling credential")
    }

    @Test func authFailureMarksTheCredentialUntilChanged() throws {
        let s = try ProxySetup(credentials: [("bad", "anthropic", "fake-401"), ("ok", "anthropic", "fake-ok")], assign: ["default": ["bad", "ok"]])
        #expect(try s.messages().header("x-proxypool-credential") == "ok")
        #expect(s.daemon.ctl(["status"]).stdout.contains("auth-failed"))
        _ = try s.messages()
        #expect(try s.fake.keysSeen().filter { $0 == "fake-401" }.count == 1)
        // Disabling and enabling the credential (or re-adding it) clears the mark.
        _ = s.daemon.ctl(["credential", "disable", "bad"]); _ = s.daemon.ctl(["credential", "enable", "bad"])
        usleep(200_000)
        #expect(!s.daemon.ctl(["status"]).stdout.contains("auth-failed"))
    }

    @Test func credentialTestAsksTheUpstreamAndSetsOrClearsAuthFailed() throws {
        let s = try ProxySetup(credentials: [("o", "openai", "fake-ok"), ("g", "gemini", "fake-ok"), ("a", "anthropic", "fake-401"),
                                             ("wrong", "anthropic", "not-a-fake-key-1234")], assign: ["default": ["a", "g"]])
        for name in ["o", "g"] {
            let r = s.daemon.ctl(["credential", "test", name])
            #expect(r.status == 0 && r.stdout.contains("Credential \(name): ok, HTTP 200"), Comment(rawValue: r.stdout + r.stderr))
        }
        let seen = try s.fake.requests().map { "\($0["method"] ?? "") \($0["path"] ?? "")" }
        #expect(seen.contains("GET /v1/models") && seen.contains("GET /v1beta/models"), Comment(rawValue: "\(seen)"))

        // A key the upstream refuses: exit 1, the upstream's words (never the key), and the credential is set aside.
        let bad = s.daemon.ctl(["credential", "test", "wrong"])
        #expect(bad.status == 1 && bad.stdout.contains("FAILED, HTTP 401"), Comment(rawValue: bad.stdout + bad.stderr))
        #expect(!bad.stdout.contains("not-a-fake-key") && !s.daemon.log.contains("not-a-fake-key"))
        #expect(s.daemon.ctl(["credential", "show", "wrong"]).stdout.contains("failed: HTTP 401"))

        // A credential marked auth-failed by a proxied 401 that then passes its test is used again.
        _ = try s.messages()
        func authFailed() throws -> [String] {
            let j = try JSONSerialization.jsonObject(with: Data(s.daemon.ctl(["status", "--json"]).stdout.utf8)) as? [String: Any]
            return ((j?["health"] as? [[String: Any]]) ?? []).filter { $0["state"] as? String == "auth-failed" }.compactMap { $0["name"] as? String }.sorted()
        }
        #expect(try authFailed() == ["a", "wrong"])
        #expect(s.daemon.ctl(["credential", "test", "a"]).status == 0)
        usleep(200_000)
        #expect(try authFailed() == ["wrong"])

        // Nothing answers: exit 1 with curl's reason.
        let dead = s.daemon.ctl(["credential", "add", "dead", "--provider", "openai-compatible", "--base-url", "http://127.0.0.1:9/v1", "--key-stdin"], stdin: "k")
        #expect(dead.status == 0)
        let r = s.daemon.ctl(["credential", "test", "dead"])
        #expect(r.status == 1 && r.stdout.contains("no answer"), Comment(rawValue: r.stdout))
    }

    @Test func onlyOneCandidateAnsweringErrorIsPassedOn() throws {
        let s = try ProxySetup(credentials: [("err", "anthropic", "fake-500")], assign: ["default": ["err"]])
        let r = try s.messages()
        #expect(r.status == 500 && r.header("x-proxypool-credential") == "err", "the upstream's own error when nothing else can answer")
    }
}

@Suite struct ProxyStreamingTests {
    @Test func noFailoverAfterTheFirstByte() throws {
        let s = try ProxySetup(credentials: [("breaks", "anthropic", "fake-reset-midstream"), ("ok", "anthropic", "fake-ok")],
                               assign: ["default": ["breaks", "ok"]])
        let r = try s.messages(stream: true)
        #expect(r.status == 200 && r.body.contains("message_start"))
        #expect(r.body.contains("event: error") && r.body.contains("failed mid-response"), "the stream ends with the protocol's error event")
        #expect(try s.fake.keysSeen() == ["fake-reset-midstream"], "no second upstream once bytes went out")
    }

    @Test func slowStreamIsForwardedChunkByChunk() throws {
        let s = try ProxySetup(credentials: [("slow", "anthropic", "fake-slow-stream-100")], assign: ["default": ["slow"]])
        let fd = try tcpConnect(s.port, timeout: 10)
        defer { close(fd) }
        let body = #"{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}"#
        let req = Array("POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: \(s.key)\r\nanthropic-version: 2023-06-01\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        _ = req.withUnsafeBytes { send(fd, $0.baseAddress, req.count, 0) }
        var arrivals: [Date] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        var total = ""
        let start = Date()
        while !total.contains("message_stop") && Date().timeIntervalSince(start) < 10 {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            arrivals.append(Date())
            total += String(decoding: buf[0..<n], as: UTF8.self)
        }
        #expect(total.contains("message_stop"))
        #expect(arrivals.count >= 10, "events arrived separately (\(arrivals.count) reads), not as one buffered body")
        #expect(arrivals.first!.timeIntervalSince(start) < 0.5, "the head and first event came at once")
    }

    @Test func clientDisconnectAbortsTheUpstream() throws {
        let s = try ProxySetup(credentials: [("slow", "anthropic", "fake-slow-stream-200")], assign: ["default": ["slow"]])
        let fd = try tcpConnect(s.port, timeout: 10)
        let body = #"{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}"#
        let req = Array("POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: \(s.key)\r\nanthropic-version: 2023-06-01\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        _ = req.withUnsafeBytes { send(fd, $0.baseAddress, req.count, 0) }
        var buf = [UInt8](repeating: 0, count: 4096)
        #expect(recv(fd, &buf, buf.count, 0) > 0)
        close(fd)
        var aborted = 0
        for _ in 0..<40 where aborted == 0 { usleep(100_000); aborted = try s.fake.aborted() }
        #expect(aborted == 1, "the upstream saw its client go away")
        #expect(s.daemon.log.contains("status=499") && s.daemon.log.contains("client closed the connection"))
    }

    @Test func noSecretInTheLogOfProxiedRequests() throws {
        let s = try ProxySetup(args: ["--log-level", "debug"], credentials: [("a", "anthropic", "fake-ok~SECRETTAGXYZ123")])
        _ = try s.messages(); _ = try s.messages(stream: true)
        s.daemon.stop()
        #expect(!s.daemon.log.contains("SECRETTAGXYZ123"))
        #expect(!s.daemon.log.contains(String(s.key.dropFirst(4).prefix(20))), "nor the access key")
        #expect(s.daemon.log.contains("event=request"))
    }

    @Test func aRequestLineSaysEachFactOnce() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok~A")])
        _ = try s.messages()
        s.daemon.stop()
        let line = s.daemon.log.split(separator: "\n").first { $0.contains("[event=request") } ?? ""
        // The message names app, credential, model, status, attempts and latency; the bracket adds the counts only.
        let parts = line.split(separator: "[event=request")
        let message = parts.first ?? "", bracket = parts.count == 2 ? parts[1] : ""
        #expect(message.contains(" app=") && message.contains(" credential=a model=claude-sonnet-4-5 status=200 attempts=1 "), "\(line)")
        #expect(bracket.contains(" input_tokens=") && bracket.contains(" output_tokens=") && bracket.contains(" cached_tokens="), "\(line)")
        for repeated in [" app=", " credential=", " model=", " status=", " attempts=", " latency_ms="] {
            #expect(!bracket.contains(repeated), "\(repeated) in \(line)")
        }
    }
}

@Suite struct ProxyAppRuleTests {
    @Test func userRulesComeBeforeBuiltInOnes() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok~A"), ("b", "anthropic", "fake-ok~B")],
                               assign: ["claude-code": ["a"], "my-agent": ["b"]])
        let ua = [("User-Agent", "claude-cli/2.1.331 (external, sdk-cli) my-agent/1.0")]
        #expect(try s.messages(headers: ua).header("x-proxypool-credential") == "a", "built-in rule: claude-code")
        let add = s.daemon.ctl(["app", "rule", "add", "User-Agent", "contains", "MY-AGENT", "my-agent"])
        #expect(add.status == 0 && add.stdout.hasPrefix("Added rule 1: user-agent contains 'my-agent' → my-agent"))
        usleep(100_000)
        #expect(try s.messages(headers: ua).header("x-proxypool-credential") == "b", "the user's rule wins")
        #expect(try s.messages(headers: [("X-Proxypool-App", "claude-code")] + ua).header("x-proxypool-credential") == "a", "the explicit label wins over rules")
        #expect(s.daemon.ctl(["app", "rule", "list"]).stdout.contains("built-in  originator"))
        #expect(s.daemon.ctl(["app", "rule", "add", "User-Agent", "regex", "x", "y"]).status == 64)
        #expect(s.daemon.ctl(["app", "rule", "remove", "1"]).status == 0)
        usleep(100_000)
        #expect(try s.messages(headers: ua).header("x-proxypool-credential") == "a")
        #expect(s.daemon.ctl(["app", "rule", "remove", "1"]).status == 1)
    }

    @Test func keyBoundToAnAppDecidesTheApp() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok~A"), ("b", "anthropic", "fake-ok~B")],
                               assign: ["claude-code": ["a"], "bound": ["b"]], keyApp: "bound")
        let r = try s.messages(headers: [("User-Agent", "claude-cli/2.1.331 (external, sdk-cli)")])
        #expect(r.header("x-proxypool-credential") == "b")
    }
}

@Suite struct ProxyUpstreamKindsTests {
    @Test func azureDeploymentsFormAndHungUpstreamFailover() throws {
        let dir = makeTempDir("cfg")
        try "first-byte-timeout = 1\n".write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
        let fake = try FakeUpstream()
        let d = try DaemonProcess(args: ["--config", dir + "/p.conf"])
        _ = d.ctl(["credential", "add", "hung", "--provider", "openai", "--base-url", fake.url + "/v1", "--key-stdin"], stdin: "fake-hang")
        _ = d.ctl(["credential", "add", "az", "--provider", "azure-openai", "--base-url", fake.url, "--api-version", "2024-10-21",
                   "--deployment", "gpt4o", "--key-stdin"], stdin: "fake-ok~AZ")
        _ = d.ctl(["assign", "default", "hung", "az"])
        let key = d.ctl(["key", "create"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let started = Date()
        let r = try http(port: try d.proxyPort, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer \(key)")],
                         body: #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#)
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "az" && r.body.contains("FAKE-UPSTREAM-OK"))
        #expect(Date().timeIntervalSince(started) < 5, "the hung upstream was given up after first-byte-timeout")
        let seen = try fake.requests()
        let azure = seen.first { ($0["key"] as? String) == "fake-ok~AZ" }
        #expect((azure?["path"] as? String) == "/openai/deployments/gpt4o/chat/completions")
        #expect(d.log.contains("credential hung") || d.log.contains("hung: the upstream sent no response"))
    }

    @Test func httpsUpstreamTrustedThroughACAFile() throws {
        let dir = makeTempDir("tls")
        let gen = run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                                           "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"])
        guard gen.status == 0 else { Issue.record("openssl failed: \(gen.stderr)"); return }
        let portFile = dir + "/port"
        let child = try Child("/usr/bin/env", ["python3", Repo.root + "/Tests/FakeUpstream/fake_upstream.py", "--port-file", portFile,
                                                "--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem"], env: baseEnvironment, stderr: dir + "/log")
        defer { child.signal(SIGKILL); child.wait() }
        var port = ""
        for _ in 0..<200 where port.isEmpty { usleep(20_000); port = ((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
        let d = try DaemonProcess()
        _ = d.ctl(["credential", "add", "tls", "--provider", "anthropic", "--base-url", "https://127.0.0.1:\(port)", "--ca-file", dir + "/cert.pem", "--key-stdin"], stdin: "fake-ok")
        _ = d.ctl(["credential", "add", "untrusted", "--provider", "anthropic", "--base-url", "https://127.0.0.1:\(port)", "--key-stdin"], stdin: "fake-ok")
        _ = d.ctl(["credential", "add", "trailing", "--provider", "anthropic", "--base-url", "https://127.0.0.1:\(port)", "--ca-file", dir + "/cert.pem", "--key-stdin"],
                  stdin: "fake-trailing-response")
        let key = d.ctl(["key", "create"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        func call(_ app: String) throws -> HTTPResult {
            try http(port: try d.proxyPort, "POST", "/v1/messages", headers: [("x-api-key", key), ("anthropic-version", "2023-06-01"), ("X-Proxypool-App", app)],
                     body: #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#)
        }
        _ = d.ctl(["fallback", "off"]); _ = d.ctl(["assign", "trusting", "tls"]); _ = d.ctl(["assign", "naive", "untrusted"])
        _ = d.ctl(["assign", "smuggled", "trailing"])
        usleep(100_000)
        let ok = try call("trusting")
        #expect(ok.status == 200 && ok.body.contains("FAKE-UPSTREAM-OK"))
        // A stream over TLS, then more requests on the kept connection.
        let streamed = try http(port: try d.proxyPort, "POST", "/v1/messages",
                                headers: [("x-api-key", key), ("anthropic-version", "2023-06-01"), ("X-Proxypool-App", "trusting")],
                                body: #"{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}"#)
        #expect(streamed.status == 200 && streamed.content.contains("event: content_block_delta") && streamed.content.hasSuffix("event: message_stop\ndata: {\"type\": \"message_stop\"}\n\n"), Comment(rawValue: String(streamed.content.suffix(200))))
        for _ in 0..<3 { #expect(try call("trusting").status == 200) }
        // An answer followed by bytes nobody asked for (its own TLS record, read ahead with the answer): the
        // connection is not pooled, so the next request gets its own answer.
        for _ in 0..<3 {
            let r = try call("smuggled")
            #expect(r.status == 200 && r.body.contains("FAKE-UPSTREAM-OK") && !r.body.contains("FAKE-TRAILING-WRONG-ANSWER"), Comment(rawValue: r.body))
        }
        // A big stream to a client that reads slowly: the upstream is held back whenever more than the
        // high-water mark waits for the client, and what TLS read ahead meanwhile is delivered (nothing lost,
        // nothing stuck).
        _ = d.ctl(["credential", "add", "big", "--provider", "anthropic", "--base-url", "https://127.0.0.1:\(port)", "--ca-file", dir + "/cert.pem", "--key-stdin"],
                  stdin: "fake-big-6000")
        _ = d.ctl(["assign", "bigapp", "big"])
        usleep(150_000)
        let slow = try http(port: try d.proxyPort, "POST", "/v1/messages",
                            headers: [("x-api-key", key), ("anthropic-version", "2023-06-01"), ("X-Proxypool-App", "bigapp")],
                            body: #"{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}"#,
                            timeout: 30, receiveBuffer: 8192, readPause: 1000)
        #expect(slow.status == 200 && slow.content.hasSuffix("event: message_stop\ndata: {\"type\": \"message_stop\"}\n\n"), Comment(rawValue: String(slow.content.suffix(200))))
        // The fake's text is exactly 6000 KiB: the deltas put together must be that long.
        var text = 0
        for line in slow.content.split(separator: "\n") where line.hasPrefix("data: ") {
            guard let j = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any],
                  let delta = j["delta"] as? [String: Any], let t = delta["text"] as? String else { continue }
            text += t.utf8.count
        }
        #expect(text == 6000 * 1024, "every piece of the 6 MB answer arrived")
        let bad = try call("naive")
        #expect(bad.status == 502 && bad.body.contains("untrusted"), "a self-signed upstream is refused without the CA file")
    }
}

@Suite struct HTTPServerBehaviourTests {
    func send(_ fd: Int32, _ s: String) { let b = Array(s.utf8); _ = b.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, b.count, Int32(MSG_NOSIGNAL)) } }

    /// Read until `marker` has been seen `count` times (or the peer closes / times out).
    func read(_ fd: Int32, until marker: String, count: Int = 1) -> String {
        var out = "", buf = [UInt8](repeating: 0, count: 65536)
        while out.components(separatedBy: marker).count - 1 < count {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            out += String(decoding: buf[0..<n], as: UTF8.self)
        }
        return out
    }

    @Test func expectContinueChunkedBodyKeepAliveAndPipelining() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok")])
        let fd = try tcpConnect(s.port, timeout: 10)
        defer { close(fd) }
        let body = #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#
        let auth = "x-api-key: \(s.key)\r\nanthropic-version: 2023-06-01\r\n"
        // 1. Expect: 100-continue: the go-ahead comes before the body is sent.
        send(fd, "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n\(auth)Content-Length: \(body.utf8.count)\r\nExpect: 100-continue\r\n\r\n")
        #expect(read(fd, until: "\r\n\r\n").hasPrefix("HTTP/1.1 100 Continue\r\n\r\n"))
        send(fd, body)
        let first = read(fd, until: "FAKE-UPSTREAM-OK")
        #expect(first.hasPrefix("HTTP/1.1 200 OK") && first.contains("FAKE-UPSTREAM-OK"))
        // 2. A chunked request body on the same (kept-alive) connection.
        let half = body.utf8.count / 2
        let a = String(body.prefix(half)), b = String(body.dropFirst(half))
        send(fd, "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n\(auth)Transfer-Encoding: chunked\r\n\r\n" +
             "\(String(a.utf8.count, radix: 16))\r\n\(a)\r\n\(String(b.utf8.count, radix: 16))\r\n\(b)\r\n0\r\n\r\n")
        #expect(read(fd, until: "FAKE-UPSTREAM-OK").contains("HTTP/1.1 200 OK"))
        // 3. Two pipelined requests in one write: two answers, in order.
        let one = "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n\(auth)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        send(fd, one + one)
        let two = read(fd, until: "FAKE-UPSTREAM-OK", count: 2)
        #expect(two.components(separatedBy: "HTTP/1.1 200 OK").count - 1 == 2)
    }

    @Test func connectionCapAndIdleTimeout() throws {
        let dir = makeTempDir("cfg")
        try "max-connections = 2\nidle-timeout = 1\n".write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
        let s = try ProxySetup(args: ["--config", dir + "/p.conf"], credentials: [("a", "anthropic", "fake-ok")])
        let c1 = try tcpConnect(s.port, timeout: 5), c2 = try tcpConnect(s.port, timeout: 5)
        usleep(200_000)
        let c3 = try tcpConnect(s.port, timeout: 5)
        #expect(read(c3, until: "\r\n\r\n").hasPrefix("HTTP/1.1 503"), "over max-connections: refused at once")
        close(c3)
        // Idle keep-alive connections are closed after idle-timeout, freeing their slots.
        var buf = [UInt8](repeating: 0, count: 16)
        let started = Date()
        #expect(recv(c1, &buf, 16, 0) == 0 && recv(c2, &buf, 16, 0) == 0)
        #expect(Date().timeIntervalSince(started) < 4)
        close(c1); close(c2)
        #expect(try s.messages().status == 200)
    }
}

@Suite struct HTTPServerResilienceTests {
    /// Answers the server writes at once (health checks, errors it raises itself) must not nest: a client that
    /// keeps its connection full of requests once overflowed the loop thread's stack and crashed the daemon.
    @Test func manyPipelinedRequestsOnOneConnection() throws {
        let d = try DaemonProcess()
        let port = try d.proxyPort
        let fd = try tcpConnect(port, timeout: 20)
        defer { close(fd) }
        let n = 20_000
        let one = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        let unauthorized = "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}"
        // Written from a second thread while this one reads, so neither side's buffers fill up.
        let requests = Array(String(repeating: one + unauthorized, count: n / 2).utf8)
        let writer = Thread {
            var off = 0
            while off < requests.count {
                let w = requests.withUnsafeBytes { send(fd, $0.baseAddress! + off, min(65536, requests.count - off), Int32(MSG_NOSIGNAL)) }
                if w <= 0 { return }
                off += w
            }
        }
        writer.start()
        var answered = 0, buf = [UInt8](repeating: 0, count: 65536), tail = ""
        while answered < n {
            let r = recv(fd, &buf, buf.count, 0)
            if r <= 0 { break }
            let text = tail + String(decoding: buf[0..<r], as: UTF8.self)
            answered += text.components(separatedBy: "HTTP/1.1 ").count - 1
            tail = String(text.suffix(8))
            answered -= tail.components(separatedBy: "HTTP/1.1 ").count - 1
        }
        answered += tail.components(separatedBy: "HTTP/1.1 ").count - 1
        #expect(answered == n, "answers: \(answered) of \(n)")
        #expect(d.process.isRunning, "the daemon is still alive")
        #expect(d.ctl(["status"]).status == 0)
    }
}
