import Foundation
import Glibc
import Testing

/// `proxypoolctl login chatgpt|claude`: the authorization-code flow with PKCE against the fake sign-in and
/// token endpoints (Tests/FakeUpstream/fake_accounts.py checks the S256 challenge against the verifier), the
/// callback listener on 127.0.0.1 only and gone after its callback, a foreign state refused, the tokens in
/// the daemon and never on the terminal.
@Suite(.serialized) struct AccountLoginTests {
    /// proxypoolctl running in the background, its output in files (`stdin`: a FIFO this test writes later).
    final class Login {
        let child: Child
        let dir = makeTempDir("login")
        private var fifo: Int32 = -1

        init(_ s: AccountSetup, _ args: [String], fifoStdin: Bool = false) throws {
            var stdin: String?
            if fifoStdin {
                stdin = dir + "/in"
                mkfifo(stdin!, 0o600)
                fifo = open(stdin!, O_RDWR)   // a FIFO opened read-write never blocks: the child's open finds a writer
            }
            child = try Child(Repo.ctl, args, env: baseEnvironment.merging(["PROXYPOOL_SOCKET": s.daemon.socket]) { _, n in n },
                              stdin: stdin, stdout: dir + "/out", stderr: dir + "/err")
        }

        var stdout: String { (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? "" }

        /// The first printed line holding `marker`, once it is there.
        func line(containing marker: String, timeout: TimeInterval = 30) throws -> String {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let l = stdout.split(separator: "\n").first(where: { $0.contains(marker) }) { return l.trimmingCharacters(in: .whitespaces) }
                if !child.isRunning { break }
                usleep(20_000)
            }
            throw HarnessError("no line with \(marker): \(stdout) \(stderr)")
        }

        func paste(_ text: String) { _ = Array((text + "\n").utf8).withUnsafeBytes { write(fifo, $0.baseAddress, $0.count) } }

        deinit { if fifo >= 0 { close(fifo) } }
    }

    static func query(_ url: String) -> [String: String] {
        var out: [String: String] = [:]
        for item in URLComponents(string: url)?.queryItems ?? [] { out[item.name] = item.value ?? "" }
        return out
    }

    /// The TCP sockets listening on `port`, by local address as /proc/net/tcp{,6} spell it (hex).
    static func listeners(port: UInt16) -> [String] {
        let hexPort = String(format: "%04X", port)
        return ["/proc/net/tcp", "/proc/net/tcp6"].flatMap { file -> [String] in
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").dropFirst().compactMap { row in
                let f = row.split(separator: " ")
                guard f.count > 3, f[3] == "0A", f[1].hasSuffix(":" + hexPort) else { return nil }
                return String(f[1].dropLast(5))
            }
        }
    }

    @Test func chatGPTSignInWithPKCEOnALoopbackListenerThatClosesAfterItsCallback() throws {
        let s = try AccountSetup()
        try s.fake.control(#"{"login_as": "lena"}"#)
        let login = try Login(s, ["login", "chatgpt", "lena", "--auth-base", s.fake.url, "--base-url", s.fake.url + "/backend-api/codex",
                                  "--callback-port", "0"])
        let url = try login.line(containing: "/oauth/authorize?")
        let q = Self.query(url)
        #expect(url.hasPrefix(s.fake.url + "/oauth/authorize?"))
        #expect(q["client_id"] == "app_EMoamEEZ73f0CkXaXp7hrann" && q["response_type"] == "code" && q["code_challenge_method"] == "S256")
        #expect(q["scope"] == "openid profile email offline_access api.connectors.read api.connectors.invoke")
        #expect(q["originator"] == "codex_cli_rs" && q["codex_cli_simplified_flow"] == "true" && q["id_token_add_organizations"] == "true")
        let redirect = try #require(q["redirect_uri"].flatMap(URL.init(string:)))
        #expect(redirect.host == "localhost" && redirect.path == "/auth/callback")
        let port = try #require(redirect.port.map { UInt16($0) })
        #expect(Self.listeners(port: port) == ["0100007F"], "listening on 127.0.0.1 only")

        // A callback that is not from this sign-in: refused, nothing exchanged, the wait goes on.
        let forged = try http(port: port, "GET", "/auth/callback?code=ac-999&state=forged")
        #expect(forged.status == 400 && forged.body.contains("State mismatch"))
        let exchanged = try s.fake.exchanges()
        #expect(login.child.isRunning && exchanged == 0)

        // The browser: the sign-in page sends it back to the callback with the code and the state.
        let page = try http(port: s.fake.port, "GET", String(url.dropFirst(s.fake.url.count)))
        let location = try #require(page.header("location"), Comment(rawValue: page.body))
        let back = try http(port: port, "GET", String(location.dropFirst("http://localhost:\(port)".count)))
        #expect(back.status == 200 && back.body.contains("Signed in"), Comment(rawValue: back.body))
        #expect(login.child.wait(timeout: 30) == 0, Comment(rawValue: login.stderr))
        #expect(login.stdout.contains("Signed in (lena@example.com, plus) as credential lena (chatgpt-account)"), Comment(rawValue: login.stdout))
        #expect(try s.fake.exchanges() == 1)

        // Gone: a second callback finds nobody.
        #expect(throws: (any Error).self) { try http(port: port, "GET", String(location.dropFirst("http://localhost:\(port)".count))) }
        #expect(Self.listeners(port: port).isEmpty)

        // The login serves, with the account id from the id token; its token was never printed.
        let show = s.daemon.ctl(["credential", "show", "lena"]).stdout
        #expect(show.contains("acct-lena") && show.contains("lena@example.com"), Comment(rawValue: show))
        let c = try s.chat(s.key())
        #expect(c.status == 200 && c.body.contains("hi from chatgpt lena"), Comment(rawValue: c.body + s.daemon.log))
        let bearer = try #require(try s.fake.backendRequests().last?.headers["authorization"]).dropFirst("Bearer ".count)
        #expect(try s.fake.grants().grants == 0, "the signed-in token is used as it is")
        for text in [login.stdout, login.stderr, s.daemon.log] { #expect(!text.contains(bearer)) }
    }

    @Test func claudePastedCodeIsExchangedAndAForeignOneRefused() throws {
        let s = try AccountSetup()
        try s.fake.control(#"{"login_as": "mia"}"#)
        let args = ["login", "claude", "--paste", "--auth-base", s.fake.url, "--base-url", s.fake.url]

        // Another sign-in's code (its state is not ours): refused before anything is sent.
        let foreign = s.daemon.ctl(args, stdin: "ac-1#not-this-state\n")
        #expect(foreign.status == 1 && foreign.stderr.contains("state mismatch"), Comment(rawValue: foreign.stderr))
        #expect(try s.fake.exchanges() == 0)

        let login = try Login(s, args, fifoStdin: true)
        let url = try login.line(containing: "/oauth/authorize?")
        let q = Self.query(url)
        #expect(q["client_id"] == "9d1c250a-e61b-44d9-88ed-5944d1962f5e" && q["code"] == "true" && q["code_challenge_method"] == "S256")
        #expect(q["redirect_uri"] == "https://console.anthropic.com/oauth/code/callback" && q["scope"] == "org:create_api_key user:profile user:inference")
        // The hosted page shows code#state; the user pastes it.
        let page = try http(port: s.fake.port, "GET", String(url.dropFirst(s.fake.url.count)))
        let shown = try #require((try JSONSerialization.jsonObject(with: Data(page.body.utf8)) as? [String: String])?["paste"], Comment(rawValue: page.body))
        login.paste(shown)
        #expect(login.child.wait(timeout: 30) == 0, Comment(rawValue: login.stderr))
        #expect(login.stdout.contains("as credential claude-mia-example.com (claude-account)"), Comment(rawValue: login.stdout))
        #expect(try s.fake.exchanges() == 1)

        _ = s.daemon.ctl(["assign", "claude-code", "claude-mia-example.com"])
        let m = try s.messages(s.key(app: "claude-code"))
        #expect(m.status == 200 && m.body.contains("hi from claude mia"), Comment(rawValue: m.body + s.daemon.log))
    }

    @Test func chatGPTDeviceCodeIsPolledUntilTheUserEntersIt() throws {
        let s = try AccountSetup()
        try s.fake.control(#"{"login_as": "noor"}"#)
        let login = try Login(s, ["login", "chatgpt", "noor", "--device", "--auth-base", s.fake.url, "--base-url", s.fake.url + "/backend-api/codex"])
        #expect(try login.line(containing: "/codex/device") == s.fake.url + "/codex/device")
        let code = try login.line(containing: "UC-")
        usleep(1_500_000)
        #expect(login.child.isRunning, "still waiting for the user")
        #expect(try http(port: s.fake.port, "GET", "/codex/device?user_code=\(code)").status == 200)
        #expect(login.child.wait(timeout: 30) == 0, Comment(rawValue: login.stderr))
        #expect(login.stdout.contains("as credential noor (chatgpt-account)"))
        let c = try s.chat(s.key())
        #expect(c.status == 200 && c.body.contains("hi from chatgpt noor"), Comment(rawValue: c.body + s.daemon.log))

        // Signing in again (after 'login expired'): --replace gives the credential the new login.
        let again = try Login(s, ["login", "chatgpt", "noor", "--device", "--replace", "--auth-base", s.fake.url,
                                  "--base-url", s.fake.url + "/backend-api/codex"])
        let code2 = try again.line(containing: "UC-")
        #expect(try http(port: s.fake.port, "GET", "/codex/device?user_code=\(code2)").status == 200)
        #expect(again.child.wait(timeout: 30) == 0, Comment(rawValue: again.stderr))
        #expect(try s.fake.exchanges() == 2 && (try s.chat(s.key())).status == 200)
    }
}
