import Foundation
import Glibc
import Testing

/// Clients that try to hold the daemon's loop, descriptors, memory or connections: pipelining behind a slow
/// answer, descriptor exhaustion, not reading a stream, unauthenticated bodies, and slow heads and bodies.
@Suite struct HostileClientConnectionTests {
    static let auth = "x-api-key: %KEY%\r\nanthropic-version: 2023-06-01\r\n"
    static let streamBody = #"{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}"#

    func post(_ s: ProxySetup, body: String = streamBody, extra: String = "") -> String {
        "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n\(Self.auth.replacingOccurrences(of: "%KEY%", with: s.key))\(extra)" +
            "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    func send(_ fd: Int32, _ s: String) { let b = Array(s.utf8); _ = b.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, b.count, Int32(MSG_NOSIGNAL)) } }

    /// Read until `marker` is seen, the peer closes, or the socket's receive timeout passes.
    func read(_ fd: Int32, until marker: String? = nil) -> (text: String, closed: Bool) {
        var out = "", buf = [UInt8](repeating: 0, count: 65536)
        while marker.map({ !out.contains($0) }) ?? true {
            let n = recv(fd, &buf, buf.count, 0)
            if n == 0 || (n < 0 && errno == ECONNRESET) { return (out, true) }
            if n < 0 { return (out, false) }
            out += String(decoding: buf[0..<n], as: UTF8.self)
        }
        return (out, false)
    }

    /// User plus system CPU time of a process, all threads, in seconds.
    func cpuSeconds(_ pid: pid_t) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return -1 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14, stime 15.
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func openDescriptors(_ pid: pid_t) -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }

    // MARK: 4. Pipelining behind a slow answer

    /// A request pipelined while the previous answer is still streaming waits in the socket: the loop must not
    /// be woken for it on every turn (level-triggered epoll spun at 100 % CPU), and it is served afterwards.
    @Test func pipelinedRequestBehindASlowAnswerDoesNotSpinTheLoop() throws {
        let s = try ProxySetup(credentials: [("slow", "anthropic", "fake-slow-stream-400")])
        let fd = try tcpConnect(s.port, timeout: 30)
        defer { close(fd) }
        send(fd, post(s))
        #expect(read(fd, until: "event: message_start").text.hasPrefix("HTTP/1.1 200"))
        usleep(200_000)
        send(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        usleep(200_000)
        let before = cpuSeconds(s.daemon.pid)
        sleep(8)
        let used = cpuSeconds(s.daemon.pid) - before
        #expect(before >= 0 && used < 0.5, "the daemon used \(used) s of CPU in 8 s while a pipelined request waited")
        // Once the stream is done, the waiting request gets its answer on the same connection.
        let rest = read(fd, until: #"{"status":"ok"}"#)
        #expect(rest.text.contains("message_stop") && rest.text.contains(#"{"status":"ok"}"#), Comment(rawValue: String(rest.text.suffix(300))))
    }

    // MARK: 5. Out of file descriptors

    @Test func outOfDescriptorsNewClientsGet503AndTheLoopDoesNotSpin() throws {
        let dir = makeTempDir("cfg")
        try "max-connections = 90\n".write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
        let fake = try FakeUpstream()
        let d = try DaemonProcess(args: ["--config", dir + "/p.conf"], openFiles: 128)
        let s = try ProxySetup(credentials: [("hang", "anthropic", "fake-hang"), ("ok", "anthropic", "fake-ok")],
                               assign: ["hang": ["hang"], "default": ["ok"]], daemon: d, fake: fake)
        #expect(d.ctl(["fallback", "off"]).status == 0)
        usleep(100_000)
        // Each client holds a connection, and while its upstream hangs, an upstream connection too.
        var clients: [Int32] = []
        defer { clients.forEach { close($0) } }
        let hang = post(s, body: #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#, extra: "X-Proxypool-App: hang\r\n")
        while clients.count < 120 && openDescriptors(d.pid) < 128 {
            let fd = try tcpConnect(s.port, timeout: 5)
            clients.append(fd)
            send(fd, hang)
            usleep(20_000)
        }
        usleep(300_000)
        let limits = (try? String(contentsOfFile: "/proc/\(d.pid)/limits", encoding: .utf8))?.split(separator: "\n").first { $0.hasPrefix("Max open files") } ?? ""
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(d.pid)/fd").sorted { Int($0) ?? 0 < Int($1) ?? 0 }) ?? []
        #expect(openDescriptors(d.pid) >= 127, "the daemon ran out of descriptors: \(limits) \(fds)")
        // A new client waiting to be accepted must neither spin the loop (the listening socket stays readable
        // while accept fails) nor be left unanswered.
        // (Two: the first may still find the last descriptor free.)
        let lateFirst = try tcpConnect(s.port, timeout: 5)
        defer { close(lateFirst) }
        let late = try tcpConnect(s.port, timeout: 5)
        let before = cpuSeconds(d.pid)
        sleep(3)
        let used = cpuSeconds(d.pid) - before
        #expect(before >= 0 && used < 0.5, "the daemon used \(used) s of CPU in 3 s without descriptors")
        let answer = read(late, until: "\r\n\r\n")
        close(late)
        #expect(answer.text.hasPrefix("HTTP/1.1 503") && answer.text.contains("Retry-After: 1"), Comment(rawValue: answer.text))
        // Clients going away give the descriptors back, and the daemon serves again.
        clients.forEach { close($0) }
        clients = []
        var served = 0
        // Up to 30 s: the daemon first has to see every hang-up and close the upstream connections behind them
        // (slow on a loaded machine or under TSan; in the full parallel `swift test` on 2 cores this test takes
        // 80 s where it takes 5 s alone, and 15 s was once not enough).
        for _ in 0..<300 where served != 200 { usleep(100_000); served = (try? s.messages())?.status ?? 0 }
        #expect(served == 200)
        #expect(d.process.isRunning)
    }

    @Test func maxConnectionsTheOpenFilesLimitCannotHoldIsRefusedAtStart() throws {
        let dir = makeTempDir("cfg")
        try "max-connections = 1024\n".write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
        let d = try DaemonProcess(args: ["--config", dir + "/p.conf"], wait: false, openFiles: 128)
        #expect(d.process.wait(timeout: 10) == 78)
        #expect(d.log.contains("max-connections = 1024 needs at least 1056 open files, but the limit is 128"), Comment(rawValue: d.log))
        #expect(d.log.contains("event=open-files-limit"))
    }

    // MARK: 6. A client that stops reading

    @Test func aStreamingClientThatStopsReadingIsDisconnectedAndTheUpstreamCancelled() throws {
        let dir = makeTempDir("cfg")
        try "send-timeout = 2\n".write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
        let s = try ProxySetup(args: ["--config", dir + "/p.conf"], credentials: [("big", "anthropic", "fake-big-20000")])
        let fd = try tcpConnect(s.port, timeout: 10, receiveBuffer: 4096)
        defer { close(fd) }
        send(fd, post(s))
        var head = [UInt8](repeating: 0, count: 512)
        #expect(recv(fd, &head, head.count, 0) > 0)
        // From here on the client reads nothing: the daemon's output stalls at once (small buffers, 20 MB).
        let stalled = Date()
        var aborted = 0
        while aborted == 0 && Date().timeIntervalSince(stalled) < 10 { usleep(100_000); aborted = try s.fake.aborted() }
        let after = Date().timeIntervalSince(stalled)
        #expect(aborted == 1, "the upstream transfer was cancelled")
        #expect(after > 1.5 && after < 4.5, "after send-timeout (2 s), and soon: \(after) s")
        // The connection is closed: what the client still finds ends without the stream's last chunk.
        var total = 0, tail: [UInt8] = [], buf = [UInt8](repeating: 0, count: 65536)
        while case let n = recv(fd, &buf, buf.count, 0), n > 0 { total += n; tail = Array((tail + buf[0..<n]).suffix(16)) }
        #expect(total < 10_000_000 && !String(decoding: tail, as: UTF8.self).hasSuffix("0\r\n\r\n"))
        #expect(s.daemon.log.contains("status=499"))
        #expect(try s.messages().status == 200, "the daemon keeps serving")
    }

    // MARK: 7. The head is checked before the body is read

    @Test func refusedHeadsAreAnsweredBeforeTheirBodyAndClosed() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok")])
        func refusal(_ head: String) throws -> (text: String, closed: Bool) {
            let fd = try tcpConnect(s.port, timeout: 3)
            defer { close(fd) }
            send(fd, head)   // the body (tens of MiB) is never sent
            let answer = read(fd, until: "\r\n\r\n")
            guard answer.text.contains("\r\n\r\n") else { return answer }
            let rest = read(fd)   // the rest of the answer, then the daemon's end of the connection
            return (answer.text + rest.text, rest.closed)
        }
        let big = "Content-Type: application/json\r\nContent-Length: 30000000\r\n"
        let noKey = try refusal("POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nanthropic-version: 2023-06-01\r\n\(big)Expect: 100-continue\r\n\r\n")
        #expect(noKey.text.hasPrefix("HTTP/1.1 401") && noKey.text.contains("no access key given"), Comment(rawValue: noKey.text))
        #expect(!noKey.text.contains("100 Continue") && noKey.text.contains("Connection: close") && noKey.closed)
        let badKey = try refusal("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ppk_nope\r\n\(big)\r\n")
        #expect(badKey.text.hasPrefix("HTTP/1.1 401") && badKey.text.contains("invalid_api_key") && badKey.closed, Comment(rawValue: badKey.text))
        let host = try refusal("POST /v1/messages HTTP/1.1\r\nHost: evil.example.invalid\r\nx-api-key: \(s.key)\r\n\(big)Expect: 100-continue\r\n\r\n")
        #expect(host.text.hasPrefix("HTTP/1.1 421") && !host.text.contains("100 Continue") && host.closed, Comment(rawValue: host.text))
        let origin = try refusal("POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example.invalid\r\nx-api-key: \(s.key)\r\n\(big)\r\n")
        #expect(origin.text.hasPrefix("HTTP/1.1 403") && origin.text.contains("cross-origin") && origin.closed, Comment(rawValue: origin.text))
        // The default body limit is 32 MiB, and a larger Content-Length is refused before the body too.
        let tooLarge = try refusal("POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: \(s.key)\r\nContent-Length: 33554433\r\n\r\n")
        #expect(tooLarge.text.hasPrefix("HTTP/1.1 413") && tooLarge.closed, Comment(rawValue: tooLarge.text))
        // An admitted request still gets its go-ahead.
        let fd = try tcpConnect(s.port, timeout: 5)
        defer { close(fd) }
        let body = #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#
        send(fd, "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: \(s.key)\r\nanthropic-version: 2023-06-01\r\nContent-Length: \(body.utf8.count)\r\nExpect: 100-continue\r\n\r\n")
        #expect(read(fd, until: "\r\n\r\n").text.hasPrefix("HTTP/1.1 100 Continue"))
        send(fd, body)
        #expect(read(fd, until: "FAKE-UPSTREAM-OK").text.contains("HTTP/1.1 200 OK"))
        #expect(try s.fake.requests().count == 1, "no refused request reached the upstream")
    }

    @Test func bodiesBeyondMaxBufferedBytesGet503UntilRoomIsMade() throws {
        let dir = makeTempDir("cfg")
        try "max-body-bytes = 1048576\nmax-buffered-bytes = 1572864\n".write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
        let s = try ProxySetup(args: ["--config", dir + "/p.conf"], credentials: [("a", "anthropic", "fake-ok")])
        let prefix = #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":""#, suffix = #""}]}"#
        let body = prefix + String(repeating: "x", count: 1_000_000 - prefix.utf8.count - suffix.utf8.count) + suffix
        let request = post(s, body: body, extra: "")
        let headEnd = request.range(of: "\r\n\r\n")!.upperBound
        // A holds room for 1 MB while its body is on the way; B's 1 MB does not fit beside it.
        let a = try tcpConnect(s.port, timeout: 10)
        defer { close(a) }
        send(a, String(request[..<headEnd]) + String(body.prefix(100_000)))
        usleep(300_000)
        let b = try tcpConnect(s.port, timeout: 5)
        send(b, String(request[..<headEnd]))
        let refused = read(b, until: "}")
        close(b)
        #expect(refused.text.hasPrefix("HTTP/1.1 503") && refused.text.contains("Retry-After: 1") && refused.text.contains("retry shortly"),
                Comment(rawValue: refused.text))
        send(a, String(body.dropFirst(100_000)))
        #expect(read(a, until: "FAKE-UPSTREAM-OK").text.hasPrefix("HTTP/1.1 200"))
        // The room is given back when A's response is done.
        let again = try http(port: s.port, "POST", "/v1/messages", headers: [("x-api-key", s.key), ("anthropic-version", "2023-06-01")], body: body)
        #expect(again.status == 200)
    }

    // MARK: Slow clients, with the default timeouts

    /// Each default holds a slowloris to about 10 s: a silent new connection, an idle keep-alive connection, a
    /// head sent a byte a second, a stalled body, a body trickling below 1 KiB/s, and `Expect: 100-continue`
    /// with no body after it.
    @Test func slowClientsAreDisconnectedAfterTheDefaultTimeouts() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok")])
        let key = s.key, port = s.port
        enum Outcome: Equatable { case closed(Double), answered(Int, Double), nothing(String) }
        let cases: [(String, @Sendable (Int32) -> Void, Bool)] = [
            ("silent new connection", { _ in }, false),
            ("idle keep-alive connection", { fd in
                self.send(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                _ = self.read(fd, until: #"{"status":"ok"}"#)
            }, false),
            ("head a byte a second", { fd in
                for c in "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
                    self.send(fd, String(c))
                    usleep(1_000_000)
                    var probe: UInt8 = 0
                    if recv(fd, &probe, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) >= 0 { return }   // answered or closed
                }
            }, true),
            ("stalled body", { fd in
                self.send(fd, "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: \(key)\r\nContent-Length: 1000\r\n\r\n{\"model\"")
            }, true),
            ("body below the minimum rate", { fd in
                self.send(fd, "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: \(key)\r\nContent-Length: 100000\r\n\r\n")
                for _ in 0..<20 {
                    self.send(fd, "x")
                    usleep(1_000_000)
                    var probe: UInt8 = 0
                    if recv(fd, &probe, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) >= 0 { return }
                }
            }, true),
            ("100-continue without a body", { fd in
                self.send(fd, "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: \(key)\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n")
                _ = self.read(fd, until: "100 Continue\r\n\r\n")
            }, true),
        ]
        final class Outcomes: @unchecked Sendable {
            let lock = NSLock()
            var list: [Outcome]
            init(_ n: Int) { list = [Outcome](repeating: .nothing("not run"), count: n) }
        }
        let outcomes = Outcomes(cases.count)
        DispatchQueue.concurrentPerform(iterations: cases.count) { i in
            let outcome: Outcome
            do {
                let fd = try tcpConnect(port, timeout: 16)
                defer { close(fd) }
                let start = Date()
                cases[i].1(fd)
                var text = ""
                var buf = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = recv(fd, &buf, buf.count, 0)
                    if n > 0 { text += String(decoding: buf[0..<n], as: UTF8.self); continue }
                    let t = Date().timeIntervalSince(start)
                    let final = text.components(separatedBy: "HTTP/1.1 ").last.flatMap { Int($0.prefix(3)) }
                    if n == 0 { outcome = cases[i].2 ? .answered(final ?? 0, t) : .closed(t) } else { outcome = .nothing("after \(t) s: \(text)") }
                    break
                }
            } catch { outcome = .nothing("\(error)") }
            outcomes.lock.withLock { outcomes.list[i] = outcome }
        }
        for (i, c) in cases.enumerated() {
            let ok: Bool
            switch outcomes.list[i] {
            case .closed(let t): ok = !c.2 && t > 8.5 && t < 13
            case .answered(let status, let t): ok = c.2 && status == 408 && t > 8.5 && t < 13.5
            case .nothing: ok = false
            }
            #expect(ok, "\(c.0): \(outcomes.list[i])")
        }
    }
}
