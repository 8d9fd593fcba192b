import Foundation
import Glibc
import Testing

/// What proxypoold shows, and to whom: /metrics needs a key, /healthz says only ok, Host is read strictly, and no
/// client string can forge a line of the daemon's log.
@Suite struct ExposureTests {
    @Test func metricsNeedAnAccessKeyUnlessMadePublic() throws {
        let s = try ProxySetup(credentials: [("secret-cred-name", "anthropic", "fake-ok")], keyApp: "secret-app-name")
        #expect(try s.messages().status == 200)
        let anonymous = try http(port: s.port, "GET", "/metrics")
        #expect(anonymous.status == 401, "\(anonymous)")
        #expect(anonymous.body.contains("needs a local access key") && anonymous.body.contains("metrics-public"))
        #expect(!anonymous.body.contains("secret-cred-name") && !anonymous.body.contains("secret-app-name"))
        #expect(try http(port: s.port, "GET", "/metrics", headers: [("Authorization", "Bearer ppk_wrong")]).status == 401)
        for auth in [("Authorization", "Bearer \(s.key)"), ("x-api-key", s.key)] {
            let m = try http(port: s.port, "GET", "/metrics", headers: [auth])
            #expect(m.status == 200 && m.body.contains(#"credential="secret-cred-name""#), "\(auth.0): \(m)")
        }
        // /healthz stays open and says nothing but ok.
        let health = try http(port: s.port, "GET", "/healthz")
        #expect(health.status == 200 && health.body == #"{"status":"ok"}"#, "\(health)")

        let dir = makeTempDir("cfg")
        try "metrics-public = yes\n".write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
        let open = try ProxySetup(args: ["--config", dir + "/p.conf"], credentials: [("c", "anthropic", "fake-ok")])
        _ = try open.messages()
        let m = try http(port: open.port, "GET", "/metrics")
        #expect(m.status == 200 && m.body.contains(#"credential="c""#), "\(m)")
    }

    @Test func hostIsReadStrictly() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok")])
        for host in ["[::1]evil.example", "localhost:evil.example", "127.0.0.1:evil.example", "localhost:\(s.port)@evil.example",
                     "localhost:0", "localhost:", "[::1]:\(s.port)x", "127.0.0.1 evil.example"] {
            let r = try http(port: s.port, "GET", "/healthz", headers: [("Host", host)])
            #expect(r.status == 421, "Host: \(host) got \(r.status)")
        }
        for host in ["LOCALHOST:\(s.port)", "[::1]:\(s.port)", "127.0.0.1", "[::1]"] {
            #expect(try http(port: s.port, "GET", "/healthz", headers: [("Host", host)]).status == 200, "Host: \(host)")
        }
        let origin = try s.messages(headers: [("Origin", "http://localhost:evil.example")])
        #expect(origin.status == 403, "\(origin.status)")
        #expect(try s.messages(headers: [("Origin", "http://localhost:\(s.port)")]).status == 200)
    }

    @Test func clientStringsCannotForgeALogLine() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok")])
        // A model name with a line break (JSON's \n), and an app rule value with one: both reach a log record.
        let served = try s.messages(model: #"claude-sonnet-4-5\nproxypoold[1]: error: forged-by-model"#)
        let rule = s.daemon.ctl(["app", "rule", "add", "User-Agent", "prefix", "x\nproxypoold[1]: error: forged-by-rule", "someapp"])
        #expect(rule.status == 0, "\(rule)")
        usleep(200_000)
        let lines = s.daemon.log.split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix("proxypoold[1]:") }, "a forged line: \(s.daemon.log)")
        #expect(s.daemon.log.contains(#"'x\nproxypoold[1]: error: forged-by-rule'"#), "\(s.daemon.log)")
        // The model may be refused before routing; when it is served, its record shows it escaped.
        if served.status == 200 {
            #expect(s.daemon.log.contains(#"model=claude-sonnet-4-5\nproxypoold[1]: error: forged-by-model"#), "\(s.daemon.log)")
        }
    }
}
