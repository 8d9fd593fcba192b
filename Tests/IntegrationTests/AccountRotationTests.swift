import Foundation
import Testing

/// Quota: the subscription backends' headers become per-account windows (status, credential list, --json raw),
/// accounts rotate at the threshold to the one whose binding window resets soonest, and a usage limit fails
/// over before the client sees it.
@Suite(.serialized) struct AccountRotationTests {
    func accounts(_ s: AccountSetup, _ names: [String]) throws {
        for n in names {
            let login = try s.fake.mint("chatgpt", n, expiresIn: 5 * 86400)
            let r = s.importLogin("codex", n, from: login.path)
            guard r.status == 0 else { throw HarnessError("import: \(r.stderr)") }
        }
    }

    func quota(_ s: AccountSetup, _ q: [String: [String: String]]) throws {
        let data = try JSONSerialization.data(withJSONObject: ["quota": q])
        try s.fake.control(String(decoding: data, as: UTF8.self))
    }

    static func codex(_ p: Double, minutes: Int, resetIn: Int, _ s: Double = 10, sMinutes: Int = 10080, sResetIn: Int = 5 * 86400) -> [String: String] {
        let now = Int(Date().timeIntervalSince1970)
        return ["x-codex-primary-used-percent": String(p), "x-codex-primary-window-minutes": String(minutes), "x-codex-primary-reset-at": String(now + resetIn),
                "x-codex-secondary-used-percent": String(s), "x-codex-secondary-window-minutes": String(sMinutes), "x-codex-secondary-reset-at": String(now + sResetIn)]
    }

    @Test func headersBecomeWindowsInStatusAndList() throws {
        let s = try AccountSetup()
        try accounts(s, ["qa"])
        try quota(s, ["qa": Self.codex(42, minutes: 300, resetIn: 3600, 71, sMinutes: 10080, sResetIn: 3 * 86400)])
        #expect(try s.chat(s.key()).status == 200)
        let status = s.daemon.ctl(["status"]).stdout
        #expect(status.contains("Subscription accounts:") && status.contains("5h 42 % (resets ") && status.contains("week 71 % (resets "),
                Comment(rawValue: status))
        let list = s.daemon.ctl(["credential", "list"]).stdout
        #expect(list.contains("Quota:") && list.contains("qa: 5h 42 %"), Comment(rawValue: list))
        let json = try JSONSerialization.jsonObject(with: Data(s.daemon.ctl(["status", "--json"]).stdout.utf8)) as? [String: Any]
        let acc = (json?["accounts"] as? [[String: Any]])?.first
        let windows = acc?["windows"] as? [[String: Any]] ?? []
        #expect(acc?["plan"] as? String == "plus" && acc?["login"] as? String == "ok")
        #expect(windows.map { $0["usedPercent"] as? Double } == [42, 71] && windows.map { $0["windowMinutes"] as? Int } == [300, 10080])
        #expect((windows.first?["resetsAtMillis"] as? Int ?? 0) > Int(Date().timeIntervalSince1970) * 1000)
    }

    @Test func staysOnOneAccountThenMovesToTheSoonestReset() throws {
        let s = try AccountSetup()
        try accounts(s, ["ra", "rb", "rc"])
        let key = s.key()
        func served() throws -> String? {
            let r = try s.chat(key)
            #expect(r.status == 200, Comment(rawValue: r.body))
            return r.header("x-proxypool-credential")
        }
        #expect(try (0..<4).map { _ in try served() } == ["ra", "ra", "ra", "ra"], "one account while it is under the threshold")
        try quota(s, ["ra": Self.codex(96, minutes: 300, resetIn: 3600)])
        #expect(try served() == "ra", "this answer brings the figures")
        #expect(try served() == "rb", "ra crossed 95 %: the next account under it")
        // All past the threshold: the soonest reset of each one's binding window wins (rc's week resets in 10 minutes).
        try quota(s, ["ra": Self.codex(96, minutes: 300, resetIn: 3600), "rb": Self.codex(97, minutes: 300, resetIn: 7200),
                      "rc": Self.codex(20, minutes: 300, resetIn: 9000, 99, sMinutes: 10080, sResetIn: 600)])
        // rb serves (and learns its 97 %), then rc (still under, until it reports 99 % of its week); then every
        // one is past the threshold and rc, whose binding window resets first, stays.
        let order = try (0..<4).map { _ in try served() }
        #expect(order == ["rb", "rc", "rc", "rc"], "\(order)")
    }

    @Test func usageLimitReachedFailsOverBeforeTheClientSeesIt() throws {
        let s = try AccountSetup()
        try accounts(s, ["ua", "ub"])
        try s.fake.control(#"{"usage_limit": {"ua": "429"}}"#)
        let r = try s.chat(s.key())
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "ub", Comment(rawValue: r.body))
        let status = s.daemon.ctl(["status"]).stdout
        #expect(status.contains("usage limit reached"), Comment(rawValue: status))
    }

    @Test func claudeUnifiedHeadersBecomeWindows() throws {
        let s = try AccountSetup()
        let login = try s.fake.mint("claude", "cw", expiresIn: 86400)
        #expect(s.importLogin("claude", "cw", from: login.path).status == 0)
        let reset = Int(Date().timeIntervalSince1970) + 7200
        try quota(s, ["cw": ["anthropic-ratelimit-unified-5h-utilization": "0.25", "anthropic-ratelimit-unified-5h-reset": String(reset),
                             "anthropic-ratelimit-unified-5h-status": "allowed", "anthropic-ratelimit-unified-7d-utilization": "0.5",
                             "anthropic-ratelimit-unified-7d-reset": String(reset + 86400 * 3), "anthropic-ratelimit-unified-7d-status": "allowed"]])
        #expect(try s.messages(s.key(app: "claude-code")).status == 200)
        let status = s.daemon.ctl(["status"]).stdout
        #expect(status.contains("5h 25 %") && status.contains("week 50 %"), Comment(rawValue: status))
    }
}

/// Codex's backend may report a usage limit inside a 200 stream: held until its first real event, it fails over
/// before the client has a byte.
@Suite(.serialized) struct AccountStreamLimitTests {
    func streamChat(_ s: AccountSetup, _ key: String) throws -> HTTPResult {
        try http(port: try s.daemon.proxyPort, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                 body: #"{"model":"gpt-5.1","stream":true,"messages":[{"role":"user","content":"hello"}]}"#)
    }

    @Test func usageLimitInsideA200StreamFailsOver() throws {
        let s = try AccountSetup()
        for n in ["va", "vb"] {
            let login = try s.fake.mint("chatgpt", n, expiresIn: 5 * 86400)
            #expect(s.importLogin("codex", n, from: login.path).status == 0)
        }
        let key = s.key()
        let ok = try streamChat(s, key)
        #expect(ok.status == 200 && ok.header("x-proxypool-credential") == "va" && ok.body.contains("hi from chatgpt va"), Comment(rawValue: ok.body))
        try s.fake.control(#"{"usage_limit": {"va": "stream"}}"#)
        let r = try streamChat(s, key)
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "vb", Comment(rawValue: r.body + s.daemon.log))
        #expect(r.body.contains("hi from chatgpt vb") && !r.body.contains("usage_limit"), Comment(rawValue: r.body))
        #expect(s.daemon.ctl(["status"]).stdout.contains("usage limit reached"))
    }
}

/// A Claude subscription past its 5-hour window (Anthropic's 429 with the unified headers): the whole account
/// cools down until the window resets, and the next account answers.
@Suite(.serialized) struct ClaudeWindowRejectionTests {
    @Test func aRejectedFiveHourWindowFailsOverAndCoolsTheAccountUntilItsReset() throws {
        let s = try AccountSetup()
        for n in ["za", "zb"] {
            let login = try s.fake.mint("claude", n, expiresIn: 86400)
            #expect(s.importLogin("claude", n, from: login.path).status == 0)
        }
        _ = s.daemon.ctl(["assign", "claude-code", "za", "zb"])
        let reset = Int(Date().timeIntervalSince1970) + 3 * 3600
        let data = try JSONSerialization.data(withJSONObject: ["usage_limit": ["za": "429"], "quota": ["za": [
            "anthropic-ratelimit-unified-status": "rejected", "anthropic-ratelimit-unified-5h-status": "rejected",
            "anthropic-ratelimit-unified-5h-reset": String(reset), "anthropic-ratelimit-unified-5h-utilization": "1.0"]]])
        try s.fake.control(String(decoding: data, as: UTF8.self))
        let key = s.key(app: "claude-code")
        let m = try s.messages(key)
        #expect(m.status == 200 && m.header("x-proxypool-credential") == "zb" && m.body.contains("hi from claude zb"), Comment(rawValue: m.body + s.daemon.log))
        let status = s.daemon.ctl(["status"]).stdout
        #expect(status.contains("usage limit reached (5h)"), Comment(rawValue: status))
        // Another model: the whole account is cooling, not one model.
        let other = AccountSetup.claudeBody.replacingOccurrences(of: "claude-sonnet-4-5", with: "claude-haiku-4-5")
        #expect(try s.messages(key, body: other).header("x-proxypool-credential") == "zb")
    }
}
