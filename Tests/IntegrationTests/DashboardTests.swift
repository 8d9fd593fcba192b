import Foundation
import Testing

/// The dashboard on the proxy port, against the real binaries: sign-in by one-time link, the session cookie,
/// the API's CSRF / Origin / Host checks, and the API doing what the control socket does.
@Suite struct DashboardTests {
    struct Signed {
        let daemon: DaemonProcess
        let port: UInt16
        let cookie: String
        let csrf: String
        var origin: String { "http://127.0.0.1:\(port)" }

        func api(_ method: String, _ body: String = "{}", csrf: String? = nil, origin: String?? = nil, cookie: String? = nil,
                 host: String? = nil) throws -> HTTPResult {
            var h: [(String, String)] = [("Cookie", "proxypool_session=\(cookie ?? self.cookie)"), ("X-CSRF-Token", csrf ?? self.csrf),
                                         ("Content-Type", "application/json")]
            if let o = origin ?? self.origin { h.append(("Origin", o)) }
            if let host { h.append(("Host", host)) }
            return try http(port: port, "POST", "/api/v0/" + method, headers: h, body: body)
        }
    }

    /// A daemon, a link from `proxypoolctl dashboard`, and the session it turns into.
    func signIn() throws -> (Signed, link: String) {
        let d = try DaemonProcess()
        let port = try d.proxyPort
        let r = d.ctl(["dashboard"])
        #expect(r.status == 0, "\(r.stderr)")
        let link = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(link.hasPrefix("http://127.0.0.1:\(port)/ui/login?token="))
        let path = String(link.dropFirst("http://127.0.0.1:\(port)".count))
        let login = try http(port: port, "GET", path)
        #expect(login.status == 303 && login.header("location") == "/")
        let setCookie = try #require(login.header("set-cookie"))
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/"))
        let cookie = String(setCookie.split(separator: ";")[0].dropFirst("proxypool_session=".count))
        let page = try http(port: port, "GET", "/", headers: [("Cookie", "proxypool_session=\(cookie)")])
        #expect(page.status == 200 && page.header("content-security-policy")?.contains("script-src 'self'") == true)
        let csrf = try #require(page.body.range(of: #"name="csrf" content="[0-9a-f]{64}"#, options: .regularExpression)
            .map { String(page.body[$0].suffix(64)) })
        return (Signed(daemon: d, port: port, cookie: cookie, csrf: csrf), path)
    }

    @Test func aOneTimeLinkSignsInOnceAndTheAPIDoesWhatTheControlSocketDoes() throws {
        let (s, path) = try signIn()
        // The link works once.
        #expect(try http(port: s.port, "GET", path).status == 403)
        // Added in the page, seen by proxypoolctl; the secret never comes back.
        let add = try s.api("credential.add", #"{"name":"web-key","provider":"openai","secret":"sk-dashboard-secret-7781","baseURL":"http://127.0.0.1:9/v1"}"#)
        #expect(add.status == 200 && add.body.contains(#""secretRedacted":"sk-…7781""#), "\(add.body)")
        #expect(s.daemon.ctl(["credential", "list"]).stdout.contains("web-key"))
        // Added by proxypoolctl, seen in the page's list.
        #expect(s.daemon.ctl(["credential", "add", "ctl-key", "--provider", "anthropic", "--key-stdin"], stdin: "sk-ant-ctl-secret-9911").status == 0)
        let list = try s.api("credential.list")
        #expect(list.status == 200 && list.body.contains(#""name":"ctl-key""#) && list.body.contains(#""name":"web-key""#))
        #expect(!list.body.contains("sk-dashboard-secret-7781") && !list.body.contains("sk-ant-ctl-secret-9911"))
        // Control errors keep their names, with an HTTP status to match.
        let dup = try s.api("credential.add", #"{"name":"web-key","provider":"openai","secret":"sk-x"}"#)
        #expect(dup.status == 409 && dup.body.contains("already-exists"), "\(dup.body)")
        #expect(try s.api("no.such").status == 404)
        #expect(try s.api("status", "[1]").status == 400)
        // The session is named in the log, never the secret, the link's token or the cookie.
        let log = s.daemon.log
        #expect(log.contains("dashboard_session="))
        #expect(!log.contains("sk-dashboard-secret-7781") && !log.contains(s.cookie) && !log.contains(String(path.suffix(64))))
    }

    @Test func withoutAValidSessionTokenOrOriginTheAPIRefuses() throws {
        let (s, _) = try signIn()
        #expect(try s.api("status").status == 200)
        #expect(try s.api("status", csrf: String(repeating: "0", count: 64)).status == 403, "wrong CSRF token")
        #expect(try s.api("status", origin: .some(nil)).status == 403, "no Origin")
        #expect(try s.api("status", origin: "http://evil.example").status == 403, "foreign Origin")
        #expect(try s.api("status", host: "evil.example").status == 421, "foreign Host (DNS rebinding)")
        #expect(try s.api("status", cookie: String(repeating: "a", count: 64)).status == 401, "unknown session")
        #expect(try http(port: s.port, "GET", "/api/v0/status").status == 405)
        // Without a session the page only says how to get one.
        let page = try http(port: s.port, "GET", "/")
        #expect(page.status == 200 && page.body.contains("proxypoolctl dashboard") && !page.body.contains("csrf"))
        #expect(try http(port: s.port, "GET", "/ui/login?token=" + String(repeating: "b", count: 64)).status == 403)
        #expect(try http(port: s.port, "HEAD", "/").status == 200)
        // --logout-all ends the session.
        let out = s.daemon.ctl(["dashboard", "--logout-all"])
        #expect(out.status == 0 && out.stdout.contains("Ended 1 dashboard session"))
        #expect(try s.api("status").status == 401)
    }

    @Test func chatAndLiveLogCheckTheirInput() throws {
        let (s, _) = try signIn()
        let both = try s.api("chat", #"{"credential":"a","app":"b","request":{"model":"m","messages":[]}}"#)
        #expect(both.status == 400 && both.body.contains("not both"), "\(both.body)")
        #expect(try s.api("chat", #"{"request":"hi"}"#).status == 400)
        #expect(try s.api("chat", #"{"credential":"../x","request":{}}"#).status == 400)
        // A credential that does not exist: the proxy's own error, in the client's (OpenAI) format.
        let none = try s.api("chat", #"{"credential":"nope","request":{"model":"gpt-5.1","messages":[{"role":"user","content":"x"}]}}"#)
        #expect(none.status == 503 && none.body.contains("nope (removed)"), "\(none.body)")
        #expect(try s.api("chat", "{}", cookie: String(repeating: "c", count: 64)).status == 401)
        let cookie = [("Cookie", "proxypool_session=\(s.cookie)")]
        #expect(try http(port: s.port, "GET", "/api/v0/live", headers: cookie).status == 403, "no csrf")
        #expect(try http(port: s.port, "GET", "/api/v0/live?csrf=\(String(repeating: "0", count: 64))", headers: cookie).status == 403)
        #expect(try http(port: s.port, "GET", "/api/v0/live?csrf=\(s.csrf)").status == 401, "no session")
    }
}
