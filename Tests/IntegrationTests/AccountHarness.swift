import Foundation
import Glibc

/// The fake subscription backends (Tests/FakeUpstream/fake_accounts.py): a ChatGPT Codex backend and Claude's
/// Messages API, each with its OAuth token endpoint, and the logins the CLIs would hold (`mint`).
final class FakeAccounts: @unchecked Sendable {
    let child: Child
    let port: UInt16
    let dir = makeTempDir("fake-accounts")

    init() throws {
        let portFile = dir + "/port"
        child = try Child("/usr/bin/env", ["python3", Repo.root + "/Tests/FakeUpstream/fake_accounts.py", "--port-file", portFile],
                          env: baseEnvironment, stderr: dir + "/log")
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let s = try? String(contentsOfFile: portFile, encoding: .utf8), let p = UInt16(s) { port = p; return }
            usleep(20_000)
        }
        throw HarnessError("fake accounts did not start: \((try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? "")")
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// A login file as the CLI holds it, written to a file of its own; its path and JSON text.
    func mint(_ kind: String, _ name: String, expiresIn seconds: Int) throws -> (path: String, text: String) {
        let r = try http(port: port, "GET", "/__mint?kind=\(kind)&name=\(name)&exp=\(seconds)", headers: [("Host", "127.0.0.1")])
        guard r.status == 200 else { throw HarnessError("mint: \(r.status) \(r.body)") }
        let path = dir + "/\(kind)-\(name)-\(UInt32.random(in: 0...UInt32.max)).json"
        try r.body.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, r.body)
    }

    func control(_ json: String) throws { _ = try http(port: port, "POST", "/__control", headers: [("Host", "127.0.0.1")], body: json) }

    func grants() throws -> (grants: Int, refused: Int) {
        let j = try JSONSerialization.jsonObject(with: Data(try http(port: port, "GET", "/__grants", headers: [("Host", "127.0.0.1")]).body.utf8)) as? [String: Any]
        return (j?["grants"] as? Int ?? -1, j?["refused"] as? Int ?? -1)
    }

    /// Authorization codes redeemed at the token endpoints (`proxypoolctl login`).
    func exchanges() throws -> Int {
        let j = try JSONSerialization.jsonObject(with: Data(try http(port: port, "GET", "/__grants", headers: [("Host", "127.0.0.1")]).body.utf8)) as? [String: Any]
        return j?["exchanges"] as? Int ?? -1
    }

    /// Requests to the backends (not to the token endpoints, nor the daemon's usage polls): path, headers by lower-case name, body.
    func backendRequests() throws -> [(path: String, headers: [String: String], body: String)] {
        let r = try http(port: port, "GET", "/__requests", headers: [("Host", "127.0.0.1")])
        let all = (try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [[String: Any]]) ?? []
        return all.compactMap { q in
            guard let p = q["path"] as? String, !p.contains("oauth/token"), !p.hasSuffix("/usage") else { return nil }
            var h: [String: String] = [:]
            for pair in q["headers"] as? [[String]] ?? [] where pair.count == 2 { h[pair[0].lowercased()] = pair[1] }
            return (p, h, q["body"] as? String ?? "")
        }
    }

    deinit { child.signal(SIGKILL); _ = child.wait() }
}

/// A daemon with `test-providers = yes` (token endpoints may point at the fake), and imports into it.
struct AccountSetup {
    let daemon: DaemonProcess
    let fake: FakeAccounts

    init(fake existing: FakeAccounts? = nil) throws {
        fake = try existing ?? FakeAccounts()
        let conf = makeTempDir("conf") + "/proxypoold.conf"
        try "test-providers = yes\n".write(toFile: conf, atomically: true, encoding: .utf8)
        daemon = try DaemonProcess(args: ["--config", conf])
    }

    /// `credential import codex|claude NAME --from FILE`, its backend and token endpoint on the fake.
    @discardableResult
    func importLogin(_ cli: String, _ name: String?, from path: String, extra: [String] = []) -> RunResult {
        let base = cli == "codex" ? fake.url + "/backend-api/codex" : fake.url
        let token = cli == "codex" ? fake.url + "/oauth/token" : fake.url + "/v1/oauth/token"
        return daemon.ctl(["credential", "import", cli] + (name.map { [$0] } ?? []) + ["--from", path, "--base-url", base, "--token-url", token] + extra)
    }

    func key(app: String? = nil) -> String {
        daemon.ctl(["key", "create"] + (app.map { ["--app", $0] } ?? [])).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func chat(_ key: String) throws -> HTTPResult {
        try http(port: try daemon.proxyPort, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                 body: #"{"model":"gpt-5.1","messages":[{"role":"user","content":"hello"}]}"#)
    }

    static let claudeBody = #"{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hello"}],"metadata":{"user_id":"u"}}"#

    func messages(_ key: String, body: String = AccountSetup.claudeBody) throws -> HTTPResult {
        try http(port: try daemon.proxyPort, "POST", "/v1/messages?beta=true",
                 headers: [("x-api-key", key), ("anthropic-version", "2023-06-01"), ("anthropic-beta", "claude-code-20250219,effort-2025-11-24"),
                           ("User-Agent", "claude-cli/2.1.331 (external, sdk-cli)"), ("x-app", "cli"), ("Content-Type", "application/json")],
                 body: body)
    }
}

/// The values of a minted login file that must never leave the daemon.
func loginSecrets(_ text: String) -> [String] {
    guard let j = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [] }
    let inner = (j["tokens"] ?? j["claudeAiOauth"]) as? [String: Any] ?? [:]
    return ["access_token", "refresh_token", "id_token", "accessToken", "refreshToken"].compactMap { inner[$0] as? String }
}
