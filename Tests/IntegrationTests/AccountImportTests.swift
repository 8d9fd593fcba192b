import Foundation
import Testing

/// `credential import codex|claude`: real-shaped login files into credentials, the files untouched, clear
/// errors on malformed ones, and the imported token used as it is until it nears its expiry.
@Suite(.serialized) struct AccountImportTests {
    @Test func importsACodexLoginLeavesTheFileAloneAndServesChatThroughTheCodexBackend() throws {
        let s = try AccountSetup()
        let login = try s.fake.mint("chatgpt", "alice", expiresIn: 10 * 86400)
        let r = s.importLogin("codex", nil, from: login.path)
        #expect(r.status == 0, Comment(rawValue: r.stderr))
        #expect(r.stdout.contains("as credential chatgpt-alice-example.com") && r.stdout.contains("refreshes its tokens from now on"), Comment(rawValue: r.stdout))
        #expect(try String(contentsOfFile: login.path, encoding: .utf8) == login.text, "the source file is never modified")
        let show = s.daemon.ctl(["credential", "show", "chatgpt-alice-example.com", "--json"]).stdout
        #expect(show.contains("\"account-id\" : \"acct-alice\"") || show.contains("\"account-id\":\"acct-alice\""), Comment(rawValue: show))
        #expect(show.contains("alice@example.com") && show.contains("plus"))

        // An OpenAI Chat client reaches the Responses-only account through translation, with the imported token.
        let c = try s.chat(s.key())
        #expect(c.status == 200 && c.body.contains("hi from chatgpt alice") && c.header("x-proxypool-credential") == "chatgpt-alice-example.com",
                Comment(rawValue: c.body + s.daemon.log))
        let sent = try s.fake.backendRequests()
        #expect(sent.count == 1 && sent[0].path == "/backend-api/codex/responses")
        let access = loginSecrets(login.text)[0]
        #expect(sent.first?.headers["authorization"] == "Bearer \(access)" && sent.first?.headers["chatgpt-account-id"] == "acct-alice")
        #expect(sent.first?.headers["originator"] == "codex_cli_rs")
        #expect(try s.fake.grants() == (0, 0), "ten days left: the imported token is used, no refresh")
    }

    @Test func moveTakesTheTokensOutOfTheFileAfterTheImportAndKeepsABackup() throws {
        let s = try AccountSetup()
        let codex = try s.fake.mint("chatgpt", "ivy", expiresIn: 10 * 86400)
        chmod(codex.path, 0o640)
        let r = s.importLogin("codex", "ivy", from: codex.path, extra: ["--move"])
        #expect(r.status == 0 && r.stdout.contains("they were removed from \(codex.path)"), Comment(rawValue: r.stdout + r.stderr))
        let left = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: codex.path))) as? [String: Any]
        #expect(left != nil && left?["tokens"] == nil && left?["last_refresh"] as? String == "2026-12-01T00:00:00Z", "only the login is gone")
        let dir = (codex.path as NSString).deletingLastPathComponent, base = (codex.path as NSString).lastPathComponent
        let backups = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(base + ".proxypool-backup-") }
        #expect(backups.count == 1)
        let backup = dir + "/" + (backups.first ?? "")
        #expect((try? String(contentsOfFile: backup, encoding: .utf8)) == codex.text, "the backup is the file as it was")
        var st = stat()
        #expect(stat(backup, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(stat(codex.path, &st) == 0 && st.st_mode & 0o777 == 0o640, "the file keeps its mode")
        let now = try String(contentsOfFile: codex.path, encoding: .utf8)
        for secret in loginSecrets(codex.text) { #expect(!r.stdout.contains(secret) && !now.contains(secret)) }
        #expect(try s.chat(s.key()).status == 200, "the daemon has the login")

        // Claude: the file's other members stay; a failed import changes nothing.
        let claude = try s.fake.mint("claude", "jo", expiresIn: 86400)
        var obj = try JSONSerialization.jsonObject(with: Data(claude.text.utf8)) as! [String: Any]
        obj["mcpOAuth"] = ["server": "kept"]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
        try text.write(toFile: claude.path, atomically: true, encoding: .utf8)
        let clash = s.importLogin("claude", "ivy", from: claude.path, extra: ["--move"])
        let unchanged = try String(contentsOfFile: claude.path, encoding: .utf8)
        #expect(clash.status != 0 && unchanged == text, "not imported: not moved")
        #expect(s.importLogin("claude", "jo", from: claude.path, extra: ["--move"]).status == 0)
        let rest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: claude.path))) as? [String: Any]
        #expect(rest?["claudeAiOauth"] == nil && (rest?["mcpOAuth"] as? [String: String]) == ["server": "kept"])
    }

    @Test func malformedFilesAreRefusedClearly() throws {
        let s = try AccountSetup()
        let dir = makeTempDir("bad")
        for (name, text, message) in [("a.json", "{not json", "is not JSON"),
                                      ("b.json", #"{"OPENAI_API_KEY":"sk-x"}"#, "holds an API key"),
                                      ("c.json", #"{"tokens":{"id_token":"x","access_token":"a","refresh_token":"r"}}"#, "not a JWT")] {
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            let r = s.importLogin("codex", "x", from: dir + "/" + name)
            #expect(r.status == 1 && r.stderr.contains(message), Comment(rawValue: r.stderr))
        }
        let claude = s.importLogin("claude", "y", from: dir + "/a.json")
        #expect(claude.status == 1 && claude.stderr.contains("is not JSON"))
        let missing = s.importLogin("claude", "y", from: dir + "/none.json")
        #expect(missing.status == 1 && missing.stderr.contains("cannot read"))
        #expect(s.daemon.ctl(["credential", "list", "--json"]).stdout.filter { !$0.isWhitespace } == "[]")
    }

    @Test func defaultFilesComeFromCodexHomeAndHome() throws {
        let s = try AccountSetup()
        let home = makeTempDir("home")
        try FileManager.default.createDirectory(atPath: home + "/codex", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: home + "/.claude", withIntermediateDirectories: true)
        try s.fake.mint("chatgpt", "carol", expiresIn: 86400 * 5).text.write(toFile: home + "/codex/auth.json", atomically: true, encoding: .utf8)
        try s.fake.mint("claude", "dave", expiresIn: 86400).text.write(toFile: home + "/.claude/.credentials.json", atomically: true, encoding: .utf8)
        try #"{"oauthAccount":{"emailAddress":"dave@example.com"}}"#.write(toFile: home + "/.claude.json", atomically: true, encoding: .utf8)
        let env = ["HOME": home, "CODEX_HOME": home + "/codex"]
        let a = s.daemon.ctl(["credential", "import", "codex", "--base-url", s.fake.url + "/backend-api/codex"], env: env)
        let b = s.daemon.ctl(["credential", "import", "claude", "--base-url", s.fake.url], env: env)
        #expect(a.status == 0 && a.stdout.contains("chatgpt-carol-example.com"), Comment(rawValue: a.stderr))
        #expect(b.status == 0 && b.stdout.contains("claude-dave-example.com"), Comment(rawValue: b.stderr))
        let again = s.daemon.ctl(["credential", "import", "codex"], env: env)
        #expect(again.status != 0 && again.stderr.contains("already exists"))
    }

    @Test func tokensAreRefreshedAheadOfExpiryAndOnlyThen() throws {
        let s = try AccountSetup()
        // ChatGPT: a day ahead. 12 hours left → refreshed before use; the refreshed token goes upstream.
        let soon = try s.fake.mint("chatgpt", "erin", expiresIn: 12 * 3600)
        #expect(s.importLogin("codex", "erin", from: soon.path).status == 0)
        let key = s.key()
        let r = try s.chat(key)
        #expect(r.status == 200, Comment(rawValue: r.body + s.daemon.log))
        #expect(try s.fake.grants() == (1, 0))
        let used = try s.fake.backendRequests().last?.headers["authorization"]
        #expect(used != nil && used != "Bearer \(loginSecrets(soon.text)[0])", "the new token, not the imported one")
        #expect(try s.chat(key).status == 200 && (try s.fake.grants()) == (1, 0), "the new one lasts: no second refresh")

        // Claude: four hours ahead. Six hours left → no refresh; three hours left → one.
        let ck = s.key(app: "claude-code")
        let fresh = try s.fake.mint("claude", "fay", expiresIn: 6 * 3600)
        #expect(s.importLogin("claude", "fay", from: fresh.path).status == 0)
        _ = s.daemon.ctl(["assign", "claude-code", "fay"])
        #expect(try s.messages(ck).status == 200 && (try s.fake.grants()) == (1, 0))
        let stale = try s.fake.mint("claude", "gus", expiresIn: 3 * 3600)
        #expect(s.importLogin("claude", "gus", from: stale.path).status == 0)
        _ = s.daemon.ctl(["assign", "claude-code", "gus"])
        let m = try s.messages(ck)
        #expect(m.status == 200 && m.header("x-proxypool-credential") == "gus", Comment(rawValue: m.body))
        #expect(try s.fake.grants() == (2, 0))
    }

    @Test func twoAccountRefreshesAreAtLeastFiveSecondsApart() throws {
        let s = try AccountSetup()
        for n in ["sa", "sb"] {
            let login = try s.fake.mint("chatgpt", n, expiresIn: 3600)   // both within a day of expiry
            #expect(s.importLogin("codex", n, from: login.path).status == 0)
        }
        let key = s.key(app: "codex")
        _ = s.daemon.ctl(["assign", "codex", "sa"])
        let t0 = Date()
        #expect(try s.chat(key).header("x-proxypool-credential") == "sa")
        let first = Date().timeIntervalSince(t0)
        _ = s.daemon.ctl(["assign", "codex", "sb"])
        #expect(try s.chat(key).header("x-proxypool-credential") == "sb")
        let both = Date().timeIntervalSince(t0)
        #expect(try s.fake.grants() == (2, 0))
        #expect(first < 4 && both >= 4.9, "the second refresh waited its turn: \(first) s, then \(both) s")
    }

    @Test func fiftyConcurrentRequestsShareOneRefresh() throws {
        let s = try AccountSetup()
        let login = try s.fake.mint("chatgpt", "hal", expiresIn: 60)
        #expect(s.importLogin("codex", "hal", from: login.path).status == 0)
        try s.fake.control(#"{"grant_delay": 1.0}"#)
        let port = try s.daemon.proxyPort, key = s.key()
        let statuses = Mutex200()
        DispatchQueue.concurrentPerform(iterations: 50) { _ in
            let r = try? http(port: port, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                              body: #"{"model":"gpt-5.1","messages":[{"role":"user","content":"hello"}]}"#)
            statuses.add(r?.status ?? 0)
        }
        #expect(statuses.all == Array(repeating: 200, count: 50), Comment(rawValue: "\(statuses.all)"))
        #expect(try s.fake.grants() == (1, 0), "one refresh for all fifty")
    }
}
