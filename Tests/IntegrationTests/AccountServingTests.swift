import Foundation
import Testing

/// Subscription accounts serving: a Claude login only for Claude Code (body unchanged, OAuth bearer and beta),
/// a refused refresh marking the account "login expired" with the command that fixes it while the next account
/// answers, and no token in any log line, control reply or metric.
@Suite(.serialized) struct AccountServingTests {
    @Test func claudeLoginServesClaudeCodeWithTheBodyUnchangedAndSkipsOtherApps() throws {
        let s = try AccountSetup()
        let login = try s.fake.mint("claude", "ivy", expiresIn: 86400)
        #expect(s.importLogin("claude", "ivy", from: login.path).status == 0)
        let r = try s.messages(s.key(app: "claude-code"))
        #expect(r.status == 200 && r.body.contains("hi from claude ivy"), Comment(rawValue: r.body + s.daemon.log))
        let sent = try s.fake.backendRequests()
        #expect(sent.count == 1 && sent[0].path == "/v1/messages?beta=true")
        #expect(sent.first?.body == AccountSetup.claudeBody, "the body is forwarded byte for byte")
        #expect(sent.first?.headers["authorization"] == "Bearer \(loginSecrets(login.text)[0])" && sent.first?.headers["x-api-key"] == nil)
        #expect(sent.first?.headers["anthropic-beta"] == "claude-code-20250219,effort-2025-11-24,oauth-2025-04-20")

        // Another app (here the Anthropic SDK's default) skips it, and says why.
        let other = try s.messages(s.key(app: "my-script"))
        #expect(other.status == 503 && other.body.contains("ivy is a Claude subscription and serves only Claude Code"), Comment(rawValue: other.body))
        let chat = try s.chat(s.key(app: "claude-code"))
        #expect(chat.status == 503 && chat.body.contains("serves only Claude Code in the Anthropic protocol"), "never translated: \(chat.body)")
        #expect(try s.fake.backendRequests().count == 1)

        // --allow-any-app lifts it.
        let open = try s.fake.mint("claude", "jon", expiresIn: 86400)
        #expect(s.importLogin("claude", "jon", from: open.path, extra: ["--allow-any-app"]).status == 0)
        let now = try s.messages(s.key(app: "my-script"))
        #expect(now.status == 200 && now.header("x-proxypool-credential") == "jon", Comment(rawValue: now.body))
    }

    @Test func refusedRefreshIsLoginExpiredWithItsFixAndTheNextAccountAnswers() throws {
        let s = try AccountSetup()
        // Account a: its access token expired and its refresh token already spent (the CLI refreshed it).
        let a = try s.fake.mint("chatgpt", "kim", expiresIn: -60)
        let spent = a.text.replacingOccurrences(of: loginSecrets(a.text)[1], with: "rt-spent-elsewhere")
        try spent.write(toFile: a.path, atomically: true, encoding: .utf8)
        #expect(s.importLogin("codex", "a", from: a.path).status == 0)
        let b = try s.fake.mint("chatgpt", "lee", expiresIn: 5 * 86400)
        #expect(s.importLogin("codex", "b", from: b.path).status == 0)
        _ = s.daemon.ctl(["assign", "default", "a", "b"])
        let key = s.key()
        let r = try s.chat(key)
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "b", Comment(rawValue: r.body + s.daemon.log))
        #expect(try s.fake.grants() == (0, 1))
        let status = s.daemon.ctl(["status"]).stdout
        #expect(status.contains("login expired (refresh_token_reused)") && status.contains("proxypoolctl credential import codex a --replace"),
                Comment(rawValue: status))
        #expect(try s.chat(key).header("x-proxypool-credential") == "b" && (try s.fake.grants()) == (0, 1), "not asked again")

        // The fix: a new login for a, imported over it.
        let again = try s.fake.mint("chatgpt", "kim", expiresIn: 5 * 86400)
        let rep = s.importLogin("codex", "a", from: again.path, extra: ["--replace"])
        #expect(rep.status == 0, Comment(rawValue: rep.stderr))
        let back = try s.chat(key)
        #expect(back.status == 200 && back.header("x-proxypool-credential") == "a", Comment(rawValue: back.body + s.daemon.log))
        #expect(!s.daemon.ctl(["status"]).stdout.contains("login expired"))
    }

    @Test func noTokenInLogsRepliesOrMetrics() throws {
        let s = try AccountSetup()
        let c = try s.fake.mint("chatgpt", "max", expiresIn: 3600)   // refreshed at once: new tokens too
        let d = try s.fake.mint("claude", "ned", expiresIn: 86400)
        #expect(s.importLogin("codex", "c", from: c.path).status == 0)
        let imported = s.importLogin("claude", "d", from: d.path, extra: ["--json"])
        let key = s.key(app: "claude-code")
        #expect(try s.chat(key).status == 200)   // c serves it (d refuses translation)
        let k2 = s.key()
        #expect(try s.chat(k2).status == 200)
        #expect(try s.messages(key).status == 200)
        var secrets = loginSecrets(c.text) + loginSecrets(d.text)
        // The tokens the fake issued on refresh, as the backend saw them.
        secrets += try s.fake.backendRequests().compactMap { $0.headers["authorization"].map { String($0.dropFirst(7)) } }
        let metrics = try http(port: try s.daemon.proxyPort, "GET", "/metrics", headers: [("Authorization", "Bearer \(k2)")]).body
        let outputs = [s.daemon.log, metrics, imported.stdout, imported.stderr,
                       s.daemon.ctl(["credential", "list", "--json"]).stdout, s.daemon.ctl(["credential", "show", "c", "--json"]).stdout,
                       s.daemon.ctl(["status", "--json"]).stdout, s.daemon.ctl(["status"]).stdout]
        #expect(secrets.count >= 6)
        for secret in secrets where secret.count > 8 {
            for (i, o) in outputs.enumerated() { #expect(!o.contains(secret), "output \(i) holds a token") }
        }
    }
}

/// Anthropic's third-party 400 ("Third-party apps now draw from your extra usage…") is a state of its own.
@Suite(.serialized) struct AccountThirdPartyTests {
    @Test func thirdParty400IsItsOwnStateAndTheAccountIsSkippedAfter() throws {
        let s = try AccountSetup()
        let login = try s.fake.mint("claude", "oli", expiresIn: 86400)
        #expect(s.importLogin("claude", "oli", from: login.path, extra: ["--allow-any-app"]).status == 0)
        let key = s.key(app: "my-script")
        // Not Claude Code's betas: the fake answers as Anthropic does.
        let r = try http(port: try s.daemon.proxyPort, "POST", "/v1/messages",
                         headers: [("x-api-key", key), ("anthropic-version", "2023-06-01"), ("Content-Type", "application/json")],
                         body: AccountSetup.claudeBody)
        #expect(r.status == 400 && r.body.contains("Third-party apps"), Comment(rawValue: r.body))
        let status = s.daemon.ctl(["status"]).stdout
        #expect(status.contains("plan refuses third-party use") && !status.contains("rate"), Comment(rawValue: status))
        let again = try s.messages(key)
        #expect(again.status == 503 && again.body.contains("plan refuses third-party use"), Comment(rawValue: again.body))
        #expect(try s.fake.backendRequests().count == 1)
    }
}

/// A token the upstream refuses before its expiry: one refresh, the same account again.
@Suite(.serialized) struct AccountUnauthorizedTests {
    @Test func a401RefreshesOnceAndRetriesTheSameAccount() throws {
        let s = try AccountSetup()
        let login = try s.fake.mint("chatgpt", "pia", expiresIn: 5 * 86400)
        #expect(s.importLogin("codex", "p", from: login.path).status == 0)
        let key = s.key()
        #expect(try s.chat(key).status == 200 && (try s.fake.grants()) == (0, 0))
        try s.fake.control(#"{"revoke_access": true}"#)
        let r = try s.chat(key)
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "p", Comment(rawValue: r.body + s.daemon.log))
        #expect(try s.fake.grants() == (1, 0), "one refresh after the 401")
        let auths = try s.fake.backendRequests().compactMap { $0.headers["authorization"] }
        #expect(auths.count == 3 && auths[1] == auths[0] && auths[2] != auths[1], "the same account, with the new token: \(auths)")
        #expect(!s.daemon.ctl(["status"]).stdout.contains("auth failed"))
    }
}

/// `credential test` on subscription logins: a token from the daemon's own token source (refreshed when due,
/// the rotated refresh token stored), then the backend's model list with it.
@Suite(.serialized) struct AccountCredentialTestTests {
    @Test func testingALoginObtainsItsTokenAndListsModels() throws {
        let s = try AccountSetup()
        let due = try s.fake.mint("chatgpt", "ta", expiresIn: 3600)   // within a day of expiry: refreshed first
        #expect(s.importLogin("codex", "ta", from: due.path).status == 0)
        let t = s.daemon.ctl(["credential", "test", "ta"])
        #expect(t.status == 0 && t.stdout.contains("ok, HTTP 200"), Comment(rawValue: t.stdout + t.stderr + s.daemon.log))
        #expect(try s.fake.grants() == (1, 0), "one refresh, by the token source")
        let models = try s.fake.backendRequests().filter { $0.path.hasPrefix("/backend-api/codex/models") }
        #expect(models.count == 1 && models[0].path == "/backend-api/codex/models?client_version=0.163.0" && models[0].headers["chatgpt-account-id"] == "acct-ta")
        // The rotated refresh token was kept: a request afterwards uses the new token, no second refresh.
        #expect(try s.chat(s.key()).status == 200 && (try s.fake.grants()) == (1, 0))

        let claude = try s.fake.mint("claude", "tb", expiresIn: 86400)
        #expect(s.importLogin("claude", "tb", from: claude.path).status == 0)
        let c = s.daemon.ctl(["credential", "test", "tb"])
        #expect(c.status == 0 && c.stdout.contains("ok"), Comment(rawValue: c.stdout + c.stderr))

        // A refused refresh: the test fails, says so, and the account is marked.
        let gone = try s.fake.mint("chatgpt", "tc", expiresIn: 60)
        #expect(s.importLogin("codex", "tc", from: gone.path).status == 0)
        try s.fake.control(#"{"refuse": true}"#)
        let f = s.daemon.ctl(["credential", "test", "tc"])
        #expect(f.status == 1 && f.stdout.contains("FAILED") && f.stdout.contains("login expired"), Comment(rawValue: f.stdout + f.stderr))
        #expect(s.daemon.ctl(["status"]).stdout.contains("tc"))
    }
}
