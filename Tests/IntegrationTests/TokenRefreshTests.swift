import Foundation
import Testing

/// Token sources end to end, through the test-only `test-oauth` kind (`test-providers = yes`) and the fake's
/// refresh-token endpoint: tokens cached until they expire, one grant for many waiting requests, rotated
/// refresh tokens kept across a restart, and a refused grant marking the credential while the next answers.
@Suite(.serialized) struct TokenRefreshTests {
    struct Setup {
        let daemon: DaemonProcess
        let fake: FakeUpstream
        let key: String

        init(credentials: [(name: String, provider: String, secret: String)], assign: [String] = [], stateDir: String? = nil,
             fake existing: FakeUpstream? = nil) throws {
            fake = try existing ?? FakeUpstream()
            let conf = makeTempDir("conf") + "/proxypoold.conf"
            try "test-providers = yes\n".write(toFile: conf, atomically: true, encoding: .utf8)
            daemon = try DaemonProcess(args: ["--config", conf], stateDir: stateDir)
            for c in credentials {
                let r = daemon.ctl(["credential", "add", c.name, "--provider", c.provider, "--base-url", fake.url + "/v1", "--key-stdin"], stdin: c.secret)
                guard r.status == 0 else { throw HarnessError("credential add: \(r.stderr)") }
            }
            if !assign.isEmpty { _ = daemon.ctl(["assign", "default"] + assign) }
            key = daemon.ctl(["key", "create"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func chat() throws -> HTTPResult {
            try http(port: try daemon.proxyPort, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                     body: #"{"model":"gpt-5.1","messages":[{"role":"user","content":"hello"}]}"#)
        }

        func grants() throws -> (grants: Int, refused: Int) {
            let r = try http(port: fake.port, "GET", "/__oauth", headers: [("Host", "127.0.0.1")])
            let j = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any] ?? [:]
            return (j["grants"] as? Int ?? -1, j["refused"] as? Int ?? -1)
        }
    }

    @Test func testProviderKindsNeedTheSwitch() throws {
        let d = try DaemonProcess()
        let r = d.ctl(["credential", "add", "t", "--provider", "test-oauth", "--base-url", "http://127.0.0.1:9/v1", "--key-stdin"], stdin: "rt~a~60")
        #expect(r.status != 0 && r.stderr.contains("test-providers"), Comment(rawValue: r.stdout + r.stderr))
    }

    @Test func tokenIsCachedUntilItExpiresThenRefreshedAndTheRotatedOneOutlivesARestart() throws {
        let s = try Setup(credentials: [("t", "test-oauth", "rt~exp~2")])
        for _ in 0..<3 {
            let r = try s.chat()
            #expect(r.status == 200 && r.header("x-proxypool-credential") == "t", Comment(rawValue: r.body))
        }
        #expect(try s.grants().grants == 1, "one grant; the token is used until it expires")
        usleep(2_300_000)
        #expect(try s.chat().status == 200)
        #expect(try s.grants() == (2, 0), "expired: refreshed once, with the rotated refresh token (the first is spent)")

        // The rotated refresh token was committed: a restarted daemon presents it, not the spent secret.
        let stateDir = s.daemon.stateDir
        s.daemon.stop()
        usleep(2_300_000)
        let again = try Setup(credentials: [], stateDir: stateDir, fake: s.fake)
        let r = try again.chat()
        #expect(r.status == 200, Comment(rawValue: r.body + again.daemon.log))
        #expect(try again.grants() == (3, 0), "a spent refresh token would have been refused")
    }

    @Test func fiftyConcurrentRequestsShareOneGrant() throws {
        let s = try Setup(credentials: [("t", "test-oauth", "rt~slow~3600")])
        let port = try s.daemon.proxyPort
        let key = s.key
        let statuses = Mutex200()
        DispatchQueue.concurrentPerform(iterations: 50) { _ in
            let r = try? http(port: port, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                              body: #"{"model":"gpt-5.1","messages":[{"role":"user","content":"hello"}]}"#)
            statuses.add(r?.status ?? 0)
        }
        #expect(statuses.all == Array(repeating: 200, count: 50), Comment(rawValue: "\(statuses.all)"))
        #expect(try s.grants() == (1, 0), "the token endpoint saw exactly one grant")
    }

    @Test func refusedGrantMarksTheCredentialAndTheNextAnswers() throws {
        let s = try Setup(credentials: [("gone", "test-oauth", "rt~revoked~3600"), ("backup", "openai-compatible", "fake-ok~backup")],
                          assign: ["gone", "backup"])
        let r = try s.chat()
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "backup", Comment(rawValue: r.body))
        #expect(try s.grants() == (0, 1))
        let status = s.daemon.ctl(["status"]).stdout
        #expect(status.contains("auth-failed") && status.contains("the refresh token was revoked"), Comment(rawValue: status))
        // Marked: the next request goes straight to the backup, no second grant.
        #expect(try s.chat().header("x-proxypool-credential") == "backup")
        #expect(try s.grants() == (0, 1))
    }
}

/// Statuses collected from concurrent requests.
final class Mutex200: @unchecked Sendable {
    private let lock = NSLock()
    private var statuses: [Int] = []
    func add(_ s: Int) { lock.lock(); statuses.append(s); lock.unlock() }
    var all: [Int] { lock.lock(); defer { lock.unlock() }; return statuses.sorted() }
}
