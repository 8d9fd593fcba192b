import Foundation
import Testing

/// `proxypoolctl chat` against the real daemon and the fake upstream: one-shot for each provider kind the fake
/// speaks, the proxy's reason and exit 1 when the route fails, and an interactive chat under a pseudo-terminal.
@Suite struct CtlChatTests {
    @Test func oneShotReachesEachProviderKindThroughTheProxy() throws {
        let s = try ProxySetup(credentials: [("o", "openai", "fake-ok"), ("a", "anthropic", "fake-ok"), ("g", "gemini", "fake-ok"),
                                             ("c", "openai-compatible", "fake-ok")])
        for name in ["o", "a", "g", "c"] {
            let r = s.daemon.ctl(["chat", "--credential", name, "-v", "hello"])
            #expect(r.status == 0, "\(name): \(r.stderr)")
            #expect(r.stdout.hasPrefix("FAKE-UPSTREAM-OK") && r.stdout.hasSuffix("\n"), "\(name): \(r.stdout)")
            #expect(r.stderr.contains("chat: credential \(name)") && r.stderr.contains("usage: "), "\(name): \(r.stderr)")
        }
        // The prompt on standard input; the request reached the fake as the credential's own protocol.
        let piped = s.daemon.ctl(["chat", "--credential", "a"], stdin: "from stdin")
        #expect(piped.status == 0 && piped.stdout.contains("FAKE-UPSTREAM-OK"), "\(piped.stderr)")
        #expect(try s.fake.requests().contains { ($0["path"] as? String) == "/v1/messages" })
        // Through an app's route, as the proxy's log names it.
        _ = s.daemon.ctl(["assign", "my-app", "g"])
        #expect(s.daemon.ctl(["chat", "--app", "my-app", "hi"]).status == 0)
        #expect(s.daemon.log.contains("app=my-app credential=g"))
    }

    @Test func aFailingRouteExitsOneWithTheProxysReason() throws {
        let s = try ProxySetup(credentials: [("bad", "openai", "fake-401")])
        let r = s.daemon.ctl(["chat", "--credential", "bad", "x"])
        #expect(r.status == 1 && r.stderr.contains("HTTP 401") && r.stdout.isEmpty, "\(r.stderr)")
        let none = s.daemon.ctl(["chat", "--credential", "nope", "x"])
        #expect(none.status == 1 && none.stderr.contains("no credential named 'nope'"), "\(none.stderr)")
        #expect(s.daemon.ctl(["chat", "--credential", "bad", "--app", "x", "y"]).status == 64)
        #expect(s.daemon.ctl(["chat", "--credential", "bad"], stdin: "").status == 64)
    }

    @Test func interactiveUnderAPseudoTerminal() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "util-linux script(1) is a test tool (make test-deps)")
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok")])
        let cmd = "printf 'first\\nsecond\\n/exit\\n' | script -qec '\(Repo.ctl) --socket \(s.daemon.socket) chat --credential a' /dev/null"
        let r = run("/bin/sh", ["-c", cmd], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.components(separatedBy: "FAKE-UPSTREAM-OK").count - 1 == 2, "two answers: \(r.stdout)")
        // The second turn carried the first one: the conversation is kept.
        let bodies = try s.fake.requests().compactMap { $0["body"] as? [String: Any] }.compactMap { $0["messages"] as? [Any] }
        #expect(bodies.map(\.count).max() == 3, "\(bodies.map(\.count))")
    }
}
