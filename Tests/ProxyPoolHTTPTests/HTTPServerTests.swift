import Foundation
import Glibc
import Testing
import ProxyPoolSystem
@testable import ProxyPoolHTTP
@testable import ProxyPoolHTTPWire

/// The application side, as the daemon's service would be: refuses heads with `x-deny`, answers `GET` at once
/// unless told to hold, and streams `/stream`. Touched on the loop thread only (tests go through `sync`).
private final class TestHandler: HTTPHandler, HTTPResponseProducer, @unchecked Sendable {
    var admitted = 0
    var handled: [String] = []
    var hold = false
    var held: [HTTPResponseWriter] = []
    var streamBytes = 0
    var gone = 0

    func admit(_ head: HTTPRequestHead) -> HTTPRejection? {
        admitted += 1
        guard head.header("x-deny") != nil else { return nil }
        return HTTPRejection(status: 403, headers: [("Content-Type", "text/plain")], body: Array("denied".utf8))
    }

    func handle(_ request: HTTPRequest, _ response: HTTPResponseWriter) {
        handled.append("\(request.head.method) \(request.head.target) \(request.body.count)")
        if hold { held.append(response); return }
        if request.head.target == "/stream" {
            response.producer = self
            response.startStream(status: 200, headers: [])
            response.write([UInt8](repeating: 120, count: streamBytes))
            held.append(response)
            return
        }
        let size = Int(request.head.target.dropFirst(6)) ?? 0   // "/bytes1234": that many bytes
        response.respond(status: 200, headers: [], body: request.head.target.hasPrefix("/bytes") ? [UInt8](repeating: 97, count: size) : Array("ok \(request.head.target)".utf8))
    }

    func rejected(_ error: HTTPParseError, head: HTTPRequestHead?) -> (headers: [(String, String)], body: [UInt8]) {
        ([("Content-Type", "text/plain")], Array(error.message.utf8))
    }

    func clientGone() { gone += 1 }
    func drained() {}
}

/// An HTTP server on a loop thread of its own, listening on a free loopback port.
private final class ServerThread: @unchecked Sendable {
    let loop = EventLoop()
    let handler = TestHandler()
    var server: HTTPServer!
    let port: UInt16

    init(_ configure: (inout HTTPServerConfig) -> Void = { _ in }) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        listen(fd, 64)
        port = UInt16(bigEndian: a.sin_port)
        var config = HTTPServerConfig()
        configure(&config)
        server = HTTPServer(loop: loop, listenFD: fd, config: config, handler: handler)
        server.start()
        Thread.detachNewThread { [loop] in loop.run() }
    }

    func sync<T>(_ work: @escaping () -> T) -> T { loop.runAndWait(work) }

    /// CPU time the loop thread has used, in milliseconds.
    var loopCPUMillis: Int {
        sync { var ts = timespec(); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000 }
    }

    deinit {
        let server = self.server!
        loop.execute { server.stopAccepting(); for c in server.connections.values { c.close() } }
        loop.stop()
    }
}


/// A client socket with a receive timeout.
private struct Client {
    let fd: Int32

    init(_ port: UInt16, timeout: Int = 5, receiveBuffer: Int32? = nil) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ s: String) { send(Array(s.utf8)) }
    func send(_ b: [UInt8]) {
        var off = 0
        while off < b.count {
            let n = b.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, b.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Read until `marker` has been seen `count` times, or the peer closes (`closed`), or the timeout passes.
    func read(until marker: String? = nil, count: Int = 1) -> (text: String, closed: Bool, reset: Bool) {
        var out = "", buf = [UInt8](repeating: 0, count: 65536)
        while marker.map({ out.components(separatedBy: $0).count - 1 < count }) ?? true {
            let n = recv(fd, &buf, buf.count, 0)
            if n == 0 { return (out, true, false) }
            if n < 0 { return (out, errno == ECONNRESET, errno == ECONNRESET) }
            out += String(decoding: buf[0..<n], as: UTF8.self)
        }
        return (out, false, false)
    }

    func close() { Glibc.close(fd) }
}

@Suite struct HTTPServerTests {
    // MARK: The head check

    @Test func aHeadRefusedByAdmitIsAnsweredBeforeItsBodyWithoutContinue() {
        let s = ServerThread()
        let c = Client(s.port)
        defer { c.close() }
        c.send("POST /x HTTP/1.1\r\nHost: h\r\nx-deny: 1\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n")
        let r = c.read()
        #expect(r.text.hasPrefix("HTTP/1.1 403") && r.text.hasSuffix("denied") && r.text.contains("Connection: close\r\n") && r.closed, Comment(rawValue: r.text))
        #expect(!r.text.contains("100 Continue"))
        #expect(s.sync { s.handler.handled.isEmpty && s.handler.admitted == 1 })
        // Admitted: the go-ahead, then the answer.
        let ok = Client(s.port)
        defer { ok.close() }
        ok.send("POST /y HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        #expect(ok.read(until: "\r\n\r\n").text == "HTTP/1.1 100 Continue\r\n\r\n")
        ok.send("hello")
        #expect(ok.read(until: "ok /y").text.hasPrefix("HTTP/1.1 200"))
        #expect(s.sync { s.handler.handled } == ["POST /y 5"])
    }

    /// A refused request whose body came with its head costs nothing more: the connection goes on.
    @Test func aRefusedRequestWhoseBodyCameWithItsHeadKeepsTheConnection() {
        let s = ServerThread()
        let c = Client(s.port)
        defer { c.close() }
        c.send("POST /x HTTP/1.1\r\nHost: h\r\nx-deny: 1\r\nContent-Length: 3\r\n\r\nabcGET /after HTTP/1.1\r\nHost: h\r\n\r\n")
        let r = c.read(until: "ok /after")
        #expect(r.text.hasPrefix("HTTP/1.1 403") && !r.text.contains("Connection: close") && r.text.contains("ok /after"), Comment(rawValue: r.text))
    }

    /// A small body that comes after its refused head (a request split across reads) is read away, and the
    /// connection goes on.
    @Test func aRefusedRequestWithASmallBodyStillToComeKeepsTheConnection() {
        let s = ServerThread()
        let c = Client(s.port)
        defer { c.close() }
        c.send("POST /x HTTP/1.1\r\nHost: h\r\nx-deny: 1\r\nContent-Length: 10\r\n\r\n")
        usleep(100_000)
        c.send("0123456789GET /after HTTP/1.1\r\nHost: h\r\n\r\n")
        let r = c.read(until: "ok /after")
        #expect(r.text.hasPrefix("HTTP/1.1 403") && !r.text.contains("Connection: close") && r.text.contains("ok /after"), Comment(rawValue: r.text))
        #expect(s.sync { s.handler.handled } == ["GET /after 0"])
    }

    /// A client that keeps sending after a refusal gets the answer, not a reset: the server reads its bytes
    /// away before closing.
    @Test func aRefusedClientStillSendingReadsTheAnswer() {
        let s = ServerThread()
        let c = Client(s.port)
        defer { c.close() }
        c.send("POST /x HTTP/1.1\r\nHost: h\r\nx-deny: 1\r\nContent-Length: 2000000\r\n\r\n")
        c.send([UInt8](repeating: 120, count: 2_000_000))   // all of it, before reading
        usleep(100_000)
        let r = c.read()
        #expect(r.text.hasPrefix("HTTP/1.1 403") && r.text.hasSuffix("denied") && !r.reset, Comment(rawValue: r.text))
    }

    // MARK: Pipelining while busy

    @Test func bytesPipelinedWhileARequestIsServedDoNotSpinTheLoop() {
        let s = ServerThread()
        s.sync { s.handler.hold = true }
        let c = Client(s.port)
        defer { c.close() }
        c.send("GET /first HTTP/1.1\r\nHost: h\r\n\r\n")
        for _ in 0..<100 where s.sync({ s.handler.held.count }) == 0 { usleep(10_000) }
        c.send("GET /second HTTP/1.1\r\nHost: h\r\n\r\n")
        usleep(100_000)
        let before = s.loopCPUMillis
        usleep(600_000)
        let used = s.loopCPUMillis - before
        #expect(used < 60, "the loop used \(used) ms of CPU in 600 ms")
        // The first answer, then the second request is read and answered.
        s.sync { s.handler.hold = false; s.handler.held[0].respond(status: 200, headers: [], body: Array("ok /first".utf8)) }
        let r = c.read(until: "ok /second")
        #expect(r.text.contains("ok /first") && r.text.contains("ok /second"), Comment(rawValue: r.text))
    }

    // MARK: Send timeout

    @Test func aClientThatTakesNoOutputIsDroppedAfterTheSendTimeout() {
        let s = ServerThread { $0.sendTimeoutMillis = 400 }
        s.sync { s.handler.streamBytes = 8 << 20 }
        let c = Client(s.port, receiveBuffer: 4096)
        defer { c.close() }
        c.send("GET /stream HTTP/1.1\r\nHost: h\r\n\r\n")
        let start = Date()
        var gone = 0
        while gone == 0 && Date().timeIntervalSince(start) < 3 { usleep(20_000); gone = s.sync { s.handler.gone } }
        let after = Date().timeIntervalSince(start)
        #expect(gone == 1 && after > 0.3 && after < 1.5, "producer told after \(after) s")
        #expect(s.sync { s.server.connections.isEmpty })
    }

    /// A finished answer a slow client is still reading is not idle: the idle timeout must not cut it.
    @Test func aSlowReaderOfAFinishedAnswerGetsAllOfIt() {
        let s = ServerThread { $0.idleTimeoutMillis = 200 }
        let c = Client(s.port, receiveBuffer: 4096)
        defer { c.close() }
        c.send("GET /bytes3000000 HTTP/1.1\r\nHost: h\r\n\r\n")
        let expected = 3_000_000 + "HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n".utf8.count
        var total = 0, buf = [UInt8](repeating: 0, count: 65536)
        let start = Date()
        while total < expected && Date().timeIntervalSince(start) < 10 {
            let n = recv(c.fd, &buf, buf.count, 0)
            if n <= 0 { break }
            total += n
            usleep(10_000)
        }
        #expect(Date().timeIntervalSince(start) > 0.4, "the read was slower than the idle timeout")
        #expect(total == expected)
        // Then the idle clock runs.
        #expect(c.read().closed)
    }

    // MARK: Buffered bytes

    @Test func bodiesBeyondMaxBufferedBytesGet503() {
        let s = ServerThread { $0.maxBufferedBytes = 1000 }
        let a = Client(s.port), b = Client(s.port)
        defer { a.close(); b.close() }
        a.send("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 800\r\n\r\n" + String(repeating: "a", count: 100))
        usleep(100_000)
        b.send("POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 800\r\n\r\n")
        let refused = b.read()
        #expect(refused.text.hasPrefix("HTTP/1.1 503") && refused.text.contains("Retry-After: 1\r\n") && refused.closed, Comment(rawValue: refused.text))
        #expect(s.sync { s.server.buffered.total } == 800)
        a.send(String(repeating: "a", count: 700))
        #expect(a.read(until: "ok /a").text.hasPrefix("HTTP/1.1 200"))
        #expect(s.sync { s.server.buffered.total } == 0, "room given back")
        // A chunked body claims room as it comes.
        let c = Client(s.port)
        defer { c.close() }
        c.send("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
        usleep(50_000)
        for _ in 0..<3 { c.send("190\r\n" + String(repeating: "c", count: 400) + "\r\n"); usleep(50_000) }
        #expect(c.read().text.hasPrefix("HTTP/1.1 503"))
        #expect(s.sync { s.server.buffered.total } == 0)
    }

    // MARK: Slow clients

    @Test func aBodyBelowTheMinimumRateTimesOutAndOneAboveItIsServed() {
        let s = ServerThread { $0.bodyTimeoutMillis = 300; $0.bodyMinBytesPerSecond = 2000 }
        let slow = Client(s.port), fast = Client(s.port)
        defer { slow.close(); fast.close() }
        slow.send("POST /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n")
        fast.send("POST /fast HTTP/1.1\r\nHost: h\r\nContent-Length: 8000\r\n\r\n")
        let start = Date()
        // 10 bytes every 50 ms (200 B/s, progress well within the body timeout) against 100 bytes every 20 ms (5000 B/s).
        var slowAnswer = ""
        for i in 0..<80 {
            if i % 2 == 0 { fast.send(String(repeating: "f", count: 200)) }
            if slowAnswer.isEmpty && i % 5 == 0 {
                slow.send(String(repeating: "s", count: 10))
                var probe = [UInt8](repeating: 0, count: 4096)
                let n = recv(slow.fd, &probe, probe.count, Int32(MSG_DONTWAIT))
                if n > 0 { slowAnswer = String(decoding: probe[0..<n], as: UTF8.self) + "@\(Date().timeIntervalSince(start))" }
            }
            usleep(20_000)
        }
        #expect(slowAnswer.hasPrefix("HTTP/1.1 408"), Comment(rawValue: slowAnswer))
        let at = Double(slowAnswer.split(separator: "@").last ?? "") ?? 99
        #expect(at > 0.25 && at < 1.0, "408 after \(at) s")
        #expect(fast.read(until: "ok /fast").text.hasPrefix("HTTP/1.1 200"), "1.6 s for 8000 bytes is fast enough")
    }

    @Test func silentHeadStalledAndContinueWithoutBodyConnectionsAreClosed() {
        let s = ServerThread { $0.idleTimeoutMillis = 300; $0.headerTimeoutMillis = 300; $0.bodyTimeoutMillis = 300 }
        let silent = Client(s.port), head = Client(s.port), body = Client(s.port), expect = Client(s.port)
        defer { [silent, head, body, expect].forEach { $0.close() } }
        let start = Date()
        head.send("GET / HTTP/1.1\r\nHost:")
        body.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
        expect.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
        let silentEnd = silent.read()
        #expect(silentEnd.closed && silentEnd.text.isEmpty)
        for (name, client) in [("head", head), ("body", body), ("expect", expect)] {
            let r = client.read()
            #expect(r.text.contains("HTTP/1.1 408") && r.closed, "\(name): \(r.text)")
        }
        let t = Date().timeIntervalSince(start)
        #expect(t > 0.25 && t < 2, "\(t) s")
    }
}
