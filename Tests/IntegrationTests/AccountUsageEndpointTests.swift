import Foundation
import Testing

/// The subscription CLIs' own usage requests (Codex's GET /api/codex/usage and /backend-api/wham/usage, Claude
/// Code's GET /api/oauth/usage), answered with the windows of the account that would serve them now.
@Suite(.serialized) struct AccountUsageEndpointTests {
    static func get(_ s: AccountSetup, _ path: String, key: String) throws -> (HTTPResult, [String: Any]) {
        let r = try http(port: try s.daemon.proxyPort, "GET", path, headers: [("Authorization", "Bearer \(key)")])
        return (r, (try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any]) ?? [:])
    }

    @Test func codexSeesTheWindowsOfTheAccountThatWouldServeIt() throws {
        let s = try AccountSetup()
        for n in ["ka", "kb"] {
            let login = try s.fake.mint("chatgpt", n, expiresIn: 5 * 86400)
            #expect(s.importLogin("codex", n, from: login.path).status == 0)
        }
        let now = Int(Date().timeIntervalSince1970)
        let key = s.key()
        // ka reports 96 % of its 5 hours: past the threshold, so kb would serve next; kb's figures are what Codex sees.
        try s.fake.control(String(decoding: try JSONSerialization.data(withJSONObject: ["quota": [
            "ka": AccountRotationTests.codex(96, minutes: 300, resetIn: 3600),
            "kb": AccountRotationTests.codex(30, minutes: 300, resetIn: 1800, 60, sMinutes: 10080, sResetIn: 86400).merging(
                ["x-codex-credits-has-credits": "True", "x-codex-credits-unlimited": "0", "x-codex-credits-balance": " 5.39 "]) { a, _ in a }]]), as: UTF8.self))
        #expect(try s.chat(key).header("x-proxypool-credential") == "ka")
        #expect(try s.chat(key).header("x-proxypool-credential") == "kb")
        for path in ["/backend-api/wham/usage", "/api/codex/usage"] {
            let (r, j) = try Self.get(s, path, key: key)
            #expect(r.status == 200 && r.header("x-proxypool-credential") == "kb", Comment(rawValue: r.body))
            let rate = j["rate_limit"] as? [String: Any]
            let primary = rate?["primary_window"] as? [String: Any], secondary = rate?["secondary_window"] as? [String: Any]
            #expect(j["plan_type"] as? String == "plus" && rate?["allowed"] as? Bool == true && rate?["limit_reached"] as? Bool == false)
            #expect(primary?["used_percent"] as? Int == 30 && primary?["limit_window_seconds"] as? Int == 18000, Comment(rawValue: r.body))
            #expect(abs((primary?["reset_at"] as? Int ?? 0) - (now + 1800)) <= 2 && (primary?["reset_after_seconds"] as? Int ?? 0) > 1700)
            #expect(secondary?["used_percent"] as? Int == 60 && secondary?["limit_window_seconds"] as? Int == 604800)
            // kb's purchased credits, as its backend reported them in x-codex-credits-*.
            let credits = j["credits"] as? [String: Any]
            #expect(credits?["has_credits"] as? Bool == true && credits?["unlimited"] as? Bool == false && credits?["balance"] as? String == "5.39",
                    Comment(rawValue: r.body))
        }
        let list = s.daemon.ctl(["credential", "list"]).stdout
        #expect(list.contains("kb: ") && list.contains("credits 5.39"), Comment(rawValue: list))
        #expect(s.daemon.ctl(["status"]).stdout.contains("credits 5.39"))
        // No key, no answer: it is an API endpoint like the others.
        let bare = try http(port: try s.daemon.proxyPort, "GET", "/api/codex/usage")
        #expect(bare.status == 401)
        #expect(try http(port: try s.daemon.proxyPort, "POST", "/api/codex/usage", headers: [("Authorization", "Bearer \(key)")], body: "{}").status == 405)
    }

    @Test func claudeCodeSeesItsAccountsFiveHourAndWeek() throws {
        let s = try AccountSetup()
        let login = try s.fake.mint("claude", "kc", expiresIn: 86400)
        #expect(s.importLogin("claude", "kc", from: login.path).status == 0)
        let key = s.key(app: "claude-code")
        let (empty, nothing) = try Self.get(s, "/api/oauth/usage", key: key)
        #expect(empty.status == 200 && nothing["five_hour"] is NSNull && nothing["seven_day"] is NSNull, "nothing known yet")
        let reset = Int(Date().timeIntervalSince1970) + 7200
        try s.fake.control(String(decoding: try JSONSerialization.data(withJSONObject: ["quota": ["kc": [
            "anthropic-ratelimit-unified-5h-utilization": "0.25", "anthropic-ratelimit-unified-5h-reset": String(reset),
            "anthropic-ratelimit-unified-5h-status": "allowed", "anthropic-ratelimit-unified-7d-utilization": "0.5",
            "anthropic-ratelimit-unified-7d-reset": String(reset + 3 * 86400), "anthropic-ratelimit-unified-7d-status": "allowed"]]]), as: UTF8.self))
        #expect(try s.messages(key).status == 200)
        let (r, j) = try Self.get(s, "/api/oauth/usage", key: key)
        let five = j["five_hour"] as? [String: Any], week = j["seven_day"] as? [String: Any]
        #expect(r.status == 200 && five?["utilization"] as? Int == 25 && week?["utilization"] as? Int == 50, Comment(rawValue: r.body))
        let f = ISO8601DateFormatter()
        #expect((five?["resets_at"] as? String).flatMap { f.date(from: $0) }.map { Int($0.timeIntervalSince1970) } == reset)
    }

    /// The requests the fake's usage endpoints got.
    static func polls(_ s: AccountSetup) throws -> [(path: String, headers: [String: String])] {
        let r = try http(port: s.fake.port, "GET", "/__requests", headers: [("Host", "127.0.0.1")])
        let all = (try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [[String: Any]]) ?? []
        return all.compactMap { q in
            guard let p = q["path"] as? String, p.hasSuffix("/usage") else { return nil }
            var h: [String: String] = [:]
            for pair in q["headers"] as? [[String]] ?? [] where pair.count == 2 { h[pair[0].lowercased()] = pair[1] }
            return (p, h)
        }
    }

    @Test func anAccountInUseIsPolledAtMostEveryFiveMinutesAndItsWindowsRoute() throws {
        let s = try AccountSetup()
        for n in ["pa", "pb"] {
            let login = try s.fake.mint("chatgpt", n, expiresIn: 5 * 86400)
            #expect(s.importLogin("codex", n, from: login.path).status == 0)
        }
        let reset = Int(Date().timeIntervalSince1970) + 600
        // pa's own usage endpoint says 97 % of its 5 hours (its answers' headers say nothing).
        try s.fake.control(String(decoding: try JSONSerialization.data(withJSONObject: ["usage": ["pa": ["plan_type": "plus", "rate_limit": [
            "allowed": true, "limit_reached": false,
            "primary_window": ["used_percent": 97, "limit_window_seconds": 18000, "reset_after_seconds": 600, "reset_at": reset]]]]]),
                                      as: UTF8.self))
        let key = s.key()
        #expect(try s.chat(key).header("x-proxypool-credential") == "pa")
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !s.daemon.ctl(["credential", "list"]).stdout.contains("pa: 5h 97 %") { usleep(50_000) }
        #expect(s.daemon.ctl(["credential", "list"]).stdout.contains("pa: 5h 97 %"), "the poll's figures")
        #expect(try s.chat(key).header("x-proxypool-credential") == "pb", "pa is past the threshold: pb serves")
        #expect(try s.chat(key).header("x-proxypool-credential") == "pb")
        usleep(300_000)
        let polls = try Self.polls(s)
        #expect(polls.filter { $0.headers["chatgpt-account-id"] == "acct-pa" }.count == 1, "once in five minutes: \(polls)")
        #expect(polls.filter { $0.headers["chatgpt-account-id"] == "acct-pb" }.count == 1)
        #expect(polls.allSatisfy { $0.path == "/backend-api/wham/usage" && ($0.headers["authorization"] ?? "").hasPrefix("Bearer eyJ") })
    }

    @Test func aClaudeAccountsUsageEndpointIsReadToo() throws {
        let s = try AccountSetup()
        let login = try s.fake.mint("claude", "pc", expiresIn: 86400)
        #expect(s.importLogin("claude", "pc", from: login.path).status == 0)
        try s.fake.control(#"{"usage": {"pc": {"five_hour": {"utilization": 42.0, "resets_at": "2099-01-01T10:00:00.000000+00:00"}, "seven_day": {"utilization": 71, "resets_at": "2099-01-05T09:00:00Z"}}}}"#)
        #expect(try s.messages(s.key(app: "claude-code")).status == 200)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !s.daemon.ctl(["credential", "list"]).stdout.contains("pc: 5h 42 %") { usleep(50_000) }
        let j = try JSONSerialization.jsonObject(with: Data(s.daemon.ctl(["credential", "show", "pc", "--json"]).stdout.utf8)) as? [String: Any]
        let windows = j?["quota"] as? [[String: Any]] ?? []
        #expect(windows.count == 2 && windows.first?["usedPercent"] as? Double == 42 && windows.last?["usedPercent"] as? Double == 71, "\(windows)")
        #expect(windows.first?["resetsAtMillis"] as? Int == 4_070_944_800_000, "2099-01-01T10:00:00Z")
        let poll = try Self.polls(s).first
        #expect(poll?.path == "/api/oauth/usage" && poll?.headers["anthropic-beta"] == "oauth-2025-04-20")
    }
}

/// GET /v1/models through subscription accounts: what their backends list, fetched once and kept.
@Suite(.serialized) struct AccountModelListTests {
    @Test func theBackendsModelListIsFetchedOnceAndListed() throws {
        let s = try AccountSetup()
        let login = try s.fake.mint("chatgpt", "ma", expiresIn: 5 * 86400)
        #expect(s.importLogin("codex", "ma", from: login.path).status == 0)
        let key = s.key(), port = try s.daemon.proxyPort
        func list() throws -> String { try http(port: port, "GET", "/v1/models", headers: [("Authorization", "Bearer \(key)")]).body }
        _ = try list()   // starts the fetch
        let deadline = Date().addingTimeInterval(10)
        var body = ""
        while Date() < deadline { body = try list(); if body.contains("\"gpt-5-codex\"") { break }; usleep(50_000) }
        #expect(body.contains("\"gpt-5-codex\""), "the backend's slug: \(body)")
        let fetched = try s.fake.backendRequests().filter { $0.path.hasPrefix("/backend-api/codex/models") }
        #expect(fetched.count == 1 && fetched[0].headers["chatgpt-account-id"] == "acct-ma", "kept, not asked again: \(fetched.count)")
    }
}
