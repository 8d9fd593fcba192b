import Foundation
import Glibc
import Testing

/// How the daemon reaches the fake upstream: our own client over plain HTTP, our own client over TLS (curl
/// connects), or libcurl's multi interface (a base URL our client leaves to curl: "127.1" is 127.0.0.1 written
/// short, which only curl reads).
enum UpstreamTransport: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case http, tls, curl
    var testDescription: String { rawValue }
}

/// The fake upstream over one transport, and a daemon with one credential per behaviour asked for: each the
/// only credential of an app named like it (fallback off, so a refused answer never reaches another one).
final class HostileSetup {
    let transport: UpstreamTransport
    let dir = makeTempDir("hostile")
    let fake: Child
    let fakePort: UInt16
    let daemon: DaemonProcess
    let key: String
    let port: UInt16

    init(_ transport: UpstreamTransport, behaviours: [String], daemonArgs: [String] = []) throws {
        self.transport = transport
        var fakeArgs = [Repo.root + "/Tests/FakeUpstream/fake_upstream.py", "--port-file", dir + "/port"]
        if transport == .tls {
            let gen = run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                                               "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"])
            guard gen.status == 0 else { throw HarnessError("openssl failed: \(gen.stderr)") }
            fakeArgs += ["--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem"]
        }
        fake = try Child("/usr/bin/env", ["python3"] + fakeArgs, env: baseEnvironment, stderr: dir + "/fake.log")
        var p: UInt16?
        for _ in 0..<500 where p == nil {
            usleep(20_000)
            p = UInt16(((try? String(contentsOfFile: dir + "/port", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let p else { throw HarnessError("fake upstream did not start") }
        fakePort = p
        daemon = try DaemonProcess(args: daemonArgs)
        _ = daemon.ctl(["fallback", "off"])
        for b in behaviours {
            var add = ["credential", "add", b, "--provider", "anthropic", "--base-url", Self.baseURL(transport, p), "--key-stdin"]
            if transport == .tls { add += ["--ca-file", dir + "/cert.pem"] }
            let r = daemon.ctl(add, stdin: "fake-\(b)")
            guard r.status == 0 else { throw HarnessError("credential add: \(r.stderr)") }
            _ = daemon.ctl(["assign", b, b])
        }
        key = daemon.ctl(["key", "create"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        port = try daemon.proxyPort
        usleep(150_000)   // the snapshot with the new credentials reaches the loop
    }

    deinit { fake.signal(SIGKILL); _ = fake.wait() }

    var baseURL: String { Self.baseURL(transport, fakePort) }

    static func baseURL(_ transport: UpstreamTransport, _ port: UInt16) -> String {
        switch transport {
        case .http: return "http://127.0.0.1:\(port)"
        case .tls: return "https://127.0.0.1:\(port)"
        case .curl: return "http://127.1:\(port)"
        }
    }

    /// The requests the fake recorded (asked with the curl tool: the fake may speak TLS only).
    func recorded() -> [[String: Any]] {
        var args = ["-s", "--max-time", "10", (transport == .tls ? "https" : "http") + "://127.0.0.1:\(fakePort)/__requests"]
        if transport == .tls { args += ["--cacert", dir + "/cert.pem"] }
        let r = run("/usr/bin/curl", args)
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    /// A non-streamed Messages request for app `app`, as one string (for a kept-alive connection).
    func messages(app: String, extraHeaders: [(String, String)] = []) -> String {
        let body = #"{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hello"}]}"#
        var head = "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: \(key)\r\nanthropic-version: 2023-06-01\r\n"
            + "Content-Type: application/json\r\nX-Proxypool-App: \(app)\r\nContent-Length: \(body.utf8.count)\r\n"
        for (k, v) in extraHeaders { head += "\(k): \(v)\r\n" }
        return head + "\r\n" + body
    }

    /// One request on a connection of its own, and its answer (nil when the daemon closed before it was whole).
    func exchange(app: String) throws -> KeepAliveClient.Response? {
        let c = try KeepAliveClient(port: port)
        c.send(messages(app: app))
        return c.response()
    }

    var daemonAlive: Bool { daemon.process.isRunning && ((try? http(port: port, "GET", "/healthz").status) ?? 0) == 200 }
}

/// A client that keeps its connection open: requests one after another, each answer read by its own framing
/// (Content-Length or chunked), so whatever a proxy sends past an answer is read as the next one.
final class KeepAliveClient {
    struct Response {
        var status: Int
        /// The head as received (status line and header lines, CRLFs included).
        var head: [UInt8]
        var headers: [(String, String)]
        /// The body, chunk framing removed.
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ n: String) -> String? { headers.last { $0.0.lowercased() == n }?.1 }
    }

    let fd: Int32
    private var buffer: [UInt8] = []
    private var closed = false

    init(port: UInt16) throws { fd = try tcpConnect(port, timeout: 20) }
    deinit { close(fd) }

    func send(_ s: String) {
        let b = Array(s.utf8)
        _ = b.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, b.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Read more into the buffer; false once the connection is closed (or timed out).
    private func fill() -> Bool {
        if closed { return false }
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buf, buf.count, 0)
        guard n > 0 else { closed = true; return false }
        buffer += buf[0..<n]
        return true
    }

    private func find(_ needle: [UInt8], from: Int) -> Int? {
        guard buffer.count >= needle.count + from else { return nil }
        return (from...(buffer.count - needle.count)).first { i in needle.indices.allSatisfy { buffer[i + $0] == needle[$0] } }
    }

    /// The next response; nil when the connection closed (or went quiet for the socket timeout) before it was whole.
    func response() -> Response? {
        var headEnd: Int?
        while true {
            headEnd = find([13, 10, 13, 10], from: 0)
            if headEnd != nil { break }
            if !fill() { return nil }
        }
        let head = Array(buffer[..<(headEnd! + 4)])
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        let headers = lines.dropFirst().compactMap { l -> (String, String)? in
            guard let c = l.firstIndex(of: ":") else { return nil }
            return (String(l[..<c]), l[l.index(after: c)...].trimmingCharacters(in: .whitespaces))
        }
        var r = Response(status: status, head: head, headers: headers, body: [])
        var i = head.count
        if r.header("transfer-encoding")?.lowercased() == "chunked" {
            while true {
                guard let lineEnd = find([13, 10], from: i) else { if fill() { continue } else { return nil } }
                guard let size = Int(String(decoding: buffer[i..<lineEnd], as: UTF8.self), radix: 16) else { return nil }
                while buffer.count < lineEnd + 2 + size + 2 { if !fill() { return nil } }
                r.body += buffer[(lineEnd + 2)..<(lineEnd + 2 + size)]
                i = lineEnd + 2 + size + 2
                if size == 0 { break }
            }
        } else {
            let length = Int(r.header("content-length") ?? "0") ?? 0
            while buffer.count < i + length { if !fill() { return nil } }
            r.body = Array(buffer[i..<(i + length)])
            i += length
        }
        buffer.removeFirst(i)
        return r
    }
}

extension [UInt8] {
    /// A CR not followed by LF, or any other control character but HTAB, CR and LF.
    var hasBareCROrControl: Bool {
        indices.contains { i in
            let b = self[i]
            return (b == 13 && (i + 1 == count || self[i + 1] != 10)) || (b < 32 && b != 9 && b != 10 && b != 13) || b == 127
        }
    }
}

@Suite struct HostileUpstreamAnswerTests {
    /// Content-Length and Transfer-Encoding: chunked together (RFC 9112 §6.3: chunked wins, the connection is not
    /// reused). The length covers only the answer; the chunks carry a whole second response after it. A client on
    /// a kept-alive connection must get each answer once, framed by its real length, and never that second
    /// response as the answer to its next request.
    @Test(arguments: UpstreamTransport.allCases)
    func contentLengthWithChunkedNeverSmugglesASecondResponse(_ transport: UpstreamTransport) throws {
        let s = try HostileSetup(transport, behaviours: ["cl-and-chunked"])
        let c = try KeepAliveClient(port: s.port)
        for n in 1...3 {
            c.send(s.messages(app: "cl-and-chunked"))
            let r = try #require(c.response(), "answer \(n) arrived whole")
            #expect(r.status == 200, "answer \(n): \(r.status)")
            #expect(r.text.hasPrefix("{\"id\"") && r.text.contains("FAKE-UPSTREAM-OK"),
                    "answer \(n) is the upstream's answer, not the smuggled one: \(r.text.prefix(120))")
            // The client gets the real length (or chunks), never the upstream's Content-Length.
            let length = r.header("content-length").flatMap { Int($0) }
            #expect(length == nil || length == r.body.count)
        }
        // Each request reached the upstream once, on its own connection.
        let seen = s.recorded().filter { ($0["key"] as? String) == "fake-cl-and-chunked" }
        #expect(seen.count == 3)
        #expect(s.daemonAlive)
    }

    /// A header value with a bare CR (which some clients take for a line end: a header of the upstream's
    /// choosing), a NUL or another control character is refused like a malformed head; so is a head with more
    /// header fields than any real upstream sends. The client gets a clean error, never the value.
    @Test(arguments: UpstreamTransport.allCases)
    func controlCharactersAndTooManyHeadersFromAnUpstreamAreRefused(_ transport: UpstreamTransport) throws {
        let s = try HostileSetup(transport, behaviours: ["bare-cr-header", "nul-header", "many-headers"])
        for app in ["bare-cr-header", "nul-header"] {
            let r = try #require(try s.exchange(app: app), "\(app): an answer arrived")
            let all = r.head + r.body
            #expect(!String(decoding: all, as: UTF8.self).contains("FAKE-INJECTED"), "\(app): \(String(decoding: r.head, as: UTF8.self))")
            #expect(!r.head.hasBareCROrControl, "\(app): the head the client got holds no bare CR or control character")
            #expect(r.status == 502 && r.text.contains(#""type":"error""#), "\(app): \(r.status) \(r.text)")
        }
        let many = try #require(try s.exchange(app: "many-headers"))
        #expect(many.status == 502 && !many.headers.contains { $0.0.hasPrefix("X-Pad-") }, "\(many.status) \(many.text)")
        #expect(s.daemonAlive)
    }

    /// Trailer fields are not head fields: 96 header fields and 6 trailers are a good answer on every transport
    /// (curl's counted trailers against the head's cap of 100 and cut it). A status outside 100-599 (099 with a
    /// length beside chunks, which curl took for a final head) is refused with a clean error.
    @Test(arguments: UpstreamTransport.allCases)
    func trailersPastTheHeadCapPass(_ transport: UpstreamTransport) throws {
        let s = try HostileSetup(transport, behaviours: ["many-trailers"])
        let r = try #require(try s.exchange(app: "many-trailers"))
        #expect(r.status == 200 && r.text.contains("FAKE-UPSTREAM-OK"), "\(r.status) \(r.text.prefix(200))")
        #expect(r.headers.filter { $0.0.hasPrefix("X-Pad-") }.count == 92)
        #expect(s.daemonAlive)
    }

    @Test(arguments: UpstreamTransport.allCases)
    func aStatusOutsideTheRangeIsRefused(_ transport: UpstreamTransport) throws {
        let s = try HostileSetup(transport, behaviours: ["status-099", "status-600"])
        for app in ["status-099", "status-600"] {
            let odd = try #require(try s.exchange(app: app))
            #expect(odd.status == 502 && odd.text.contains(#""type":"error""#) && !odd.text.contains("FAKE-UPSTREAM-OK"),
                    "\(app): \(odd.status) \(odd.text.prefix(200))")
        }
        #expect(s.daemonAlive)
    }

    /// Headers named in a Connection header are hop-by-hop (RFC 9110 §7.6.1): the client's are not sent upstream,
    /// the upstream's do not reach the client. Headers not named there still pass.
    @Test(arguments: UpstreamTransport.allCases)
    func headersNamedInConnectionAreNotForwardedEitherWay(_ transport: UpstreamTransport) throws {
        let s = try HostileSetup(transport, behaviours: ["connection-named-header"])
        let c = try KeepAliveClient(port: s.port)
        c.send(s.messages(app: "connection-named-header",
                          extraHeaders: [("Connection", "keep-alive, X-Client-Hop"), ("X-Client-Hop", "FAKE-CLIENT-HOP"), ("X-Client-Kept", "kept")]))
        let r = try #require(c.response())
        #expect(r.status == 200 && r.text.contains("FAKE-UPSTREAM-OK"), "\(r.status) \(r.text)")
        #expect(r.header("x-hop-secret") == nil && !String(decoding: r.head, as: UTF8.self).contains("FAKE-HOP-LEAK"),
                Comment(rawValue: String(decoding: r.head, as: UTF8.self)))
        #expect(r.header("content-type") == "application/json", "other upstream headers still pass")
        let up = try #require(s.recorded().last { ($0["key"] as? String) == "fake-connection-named-header" })
        let names = ((up["headers"] as? [[String]]) ?? []).compactMap { $0.first?.lowercased() }
        #expect(!names.contains("x-client-hop"), "\(names)")
        #expect(names.contains("x-client-kept"), "a header the client did not name in Connection goes upstream: \(names)")
        // The kept connection still serves.
        c.send(s.messages(app: "connection-named-header"))
        #expect(c.response()?.status == 200)
        #expect(s.daemonAlive)
    }

    /// Framing no proxy can pass on faithfully fails the transfer cleanly: a chunk size past any real one
    /// (no overflow, no trap), a transfer coding other than chunked (the client would get gzip bytes it was never
    /// told about), two different Content-Lengths. The client never gets a whole 200 made of them; the daemon
    /// keeps serving.
    @Test(arguments: UpstreamTransport.allCases)
    func framingThatCannotBeForwardedFailsCleanly(_ transport: UpstreamTransport) throws {
        let s = try HostileSetup(transport, behaviours: ["bad-chunk-size", "gzip-chunked", "two-content-lengths"])
        // The head may be out already: then the client's connection is cut, so it cannot take half an answer for one.
        let bad = try s.exchange(app: "bad-chunk-size")
        #expect(bad == nil || bad?.status == 502, "\(bad?.status ?? 0) \(bad?.text.prefix(200) ?? "")")
        let gzip = try #require(try s.exchange(app: "gzip-chunked"))
        #expect(gzip.status == 502 && gzip.text.contains("Transfer-Encoding"), "\(gzip.status) \(gzip.text.prefix(200))")
        #expect(!gzip.body.starts(with: [0x1f, 0x8b]))
        let two = try #require(try s.exchange(app: "two-content-lengths"))
        #expect(two.status == 502 && !two.text.contains("FAKE-SMUGGLED"), "\(two.status) \(two.text.prefix(200))")
        #expect(s.daemonAlive)
    }
}

/// Image and document URLs a client names are fetched on connections of their own: a connection that credential
/// traffic left in a pool (here one to a loopback upstream, reached through curl) is never reused for a fetch,
/// which would skip the check that a fetch connects to public addresses only.
@Suite struct MediaFetchConnectionTests {
    @Test func aFetchNeverReusesAConnectionOfCredentialTraffic() throws {
        // A Gemini credential at 127.1 (curl's multi interface carries it) and an image at the same origin.
        let s = try HostileSetup(.curl, behaviours: [])
        let add = s.daemon.ctl(["credential", "add", "g", "--provider", "gemini", "--base-url", s.baseURL, "--key-stdin"], stdin: "fake-ok")
        #expect(add.status == 0, Comment(rawValue: add.stderr))
        _ = s.daemon.ctl(["assign", "tool", "g"])
        usleep(150_000)
        func ask(_ content: String) throws -> HTTPResult {
            try http(port: s.port, "POST", "/v1/messages", headers: [("x-api-key", s.key), ("anthropic-version", "2023-06-01"), ("X-Proxypool-App", "tool")],
                     body: #"{"model":"gemini-2.5-flash","max_tokens":50,"messages":[{"role":"user","content":\#(content)}]}"#)
        }
        // Credential traffic first: curl keeps its connection to the loopback upstream.
        let first = try ask(#""hello FAKE-TEXT-ONLY""#)
        #expect(first.status == 200, Comment(rawValue: first.content))
        // Then a loopback image: refused (fetch-private-urls is off), though a connection to it is at hand.
        let url = s.baseURL + "/__image.png"
        let fetch = try ask(#"[{"type":"image","source":{"type":"url","url":"\#(url)"}},{"type":"text","text":"what is it? FAKE-TEXT-ONLY"}]"#)
        #expect(fetch.status == 400 && fetch.content.contains("not public"), Comment(rawValue: fetch.content))
        #expect(!fetch.content.contains("FAKE-IMAGE"), "the image never reached the upstream")
        // And credential traffic still goes on.
        #expect(try ask(#""again FAKE-TEXT-ONLY""#).status == 200)
        #expect(s.daemonAlive)
    }
}

extension MediaFetchConnectionTests {
    /// With private addresses allowed, a fetch still gets a connection of its own: none that credential traffic
    /// pooled (our own client's), and none kept from an earlier fetch.
    @Test func withPrivateAddressesAllowedAFetchStillConnectsAnew() throws {
        let upstream = try ConnectionRecordingUpstream()
        let dir = makeTempDir("conf")
        try "fetch-private-urls = yes\n".write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
        let d = try DaemonProcess(args: ["--config", dir + "/p.conf"])
        _ = d.ctl(["fallback", "off"])
        #expect(d.ctl(["credential", "add", "g", "--provider", "gemini", "--base-url", "http://127.0.0.1:\(upstream.port)", "--key-stdin"], stdin: "k").status == 0)
        _ = d.ctl(["assign", "tool", "g"])
        let key = d.ctl(["key", "create"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try d.proxyPort
        usleep(150_000)
        func ask(_ content: String) throws -> HTTPResult {
            try http(port: port, "POST", "/v1/messages", headers: [("x-api-key", key), ("anthropic-version", "2023-06-01"), ("X-Proxypool-App", "tool")],
                     body: #"{"model":"gemini-2.5-flash","max_tokens":50,"messages":[{"role":"user","content":\#(content)}]}"#)
        }
        let image = #"[{"type":"image","source":{"type":"url","url":"http://127.0.0.1:\#(upstream.port)/img.png"}},{"type":"text","text":"what?"}]"#
        for content in [#""hello""#, image, image] {
            let r = try ask(content)
            #expect(r.status == 200, Comment(rawValue: r.content))
        }
        usleep(300_000)   // the daemon's closes reach the upstream's threads
        let log = upstream.requests
        let fetchConnections = log.filter { $0.request == "GET /img.png" }.map(\.connection)
        let credentialConnections = Set(log.filter { $0.request.hasPrefix("POST ") }.map(\.connection))
        let closed = Set(log.filter { $0.request == "closed" }.map(\.connection))
        #expect(fetchConnections.count == 2 && log.filter { $0.request != "closed" }.count == 5, "\(log)")
        #expect(closed == Set(fetchConnections), "each fetch's connection is closed when it is done, a credential's is kept: \(log)")
        #expect(Set(fetchConnections).isDisjoint(with: credentialConnections), "a fetch used a credential's connection: \(log)")
        #expect(Set(fetchConnections).count == fetchConnections.count, "a fetch reused an earlier fetch's connection: \(log)")
        #expect(credentialConnections.count == 1, "credential traffic still reuses its own connection: \(log)")
    }
}

/// A loopback HTTP/1.1 server that keeps connections alive and records which connection carried which request,
/// and when the other side closed one ("closed"): POSTs get a Gemini answer, GET /img.png a PNG.
final class ConnectionRecordingUpstream {
    let fd: Int32
    let port: UInt16
    private let recorder = Recorder()

    /// What the connection threads share (they hold this, not the server, whose end closes the listener).
    final class Recorder: @unchecked Sendable {
        let lock = NSLock()
        var log: [(connection: Int, request: String)] = []
    }

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &sin) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, len) == 0 && listen(listener, 16) == 0 && getsockname(listener, $0, &len) == 0 }
        }
        guard ok else { close(listener); throw HarnessError("listen: errno \(errno)") }
        fd = listener
        port = UInt16(bigEndian: sin.sin_port)
        let recorder = self.recorder
        Thread {
            var n = 0
            while case let c = accept(listener, nil, nil), c >= 0 {
                n += 1
                let index = n
                Thread { Self.serve(c, index, recorder) }.start()
            }
        }.start()
    }

    deinit { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }

    var requests: [(connection: Int, request: String)] { recorder.lock.lock(); defer { recorder.lock.unlock() }; return recorder.log }

    private static func serve(_ c: Int32, _ index: Int, _ recorder: Recorder) {
        defer {
            close(c)
            recorder.lock.lock(); recorder.log.append((index, "closed")); recorder.lock.unlock()
        }
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            var headEnd: Int?
            while headEnd == nil {
                headEnd = buffer.count < 4 ? nil : (0...(buffer.count - 4)).first { buffer[$0] == 13 && buffer[$0 + 1] == 10 && buffer[$0 + 2] == 13 && buffer[$0 + 3] == 10 }
                if headEnd == nil { let r = recv(c, &chunk, chunk.count, 0); if r <= 0 { return }; buffer += chunk[0..<r] }
            }
            let head = String(decoding: buffer[..<headEnd!], as: UTF8.self).components(separatedBy: "\r\n")
            let length = head.dropFirst().first { $0.lowercased().hasPrefix("content-length:") }.flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
            while buffer.count < headEnd! + 4 + length { let r = recv(c, &chunk, chunk.count, 0); if r <= 0 { return }; buffer += chunk[0..<r] }
            buffer.removeFirst(headEnd! + 4 + length)
            let parts = head[0].split(separator: " ")
            let request = parts.count >= 2 ? "\(parts[0]) \(parts[1])" : head[0]
            recorder.lock.lock(); recorder.log.append((index, request)); recorder.lock.unlock()
            let (type, body): (String, [UInt8]) = parts.first == "GET"
                ? ("image/png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0, count: 32))
                : ("application/json", Array(#"{"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1,"totalTokenCount":2}}"#.utf8))
            let answer = Array("HTTP/1.1 200 OK\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
            guard answer.withUnsafeBytes({ send(c, $0.baseAddress, answer.count, Int32(MSG_NOSIGNAL)) }) == answer.count else { return }
        }
    }
}
