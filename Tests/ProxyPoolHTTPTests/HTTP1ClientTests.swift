import Foundation
import Glibc
import Testing
import ProxyPoolSystem
import ProxyPoolHTTP
@testable import ProxyPoolUpstream
@testable import ProxyPoolHTTPWire

/// An event loop on a thread of its own, with the daemon's upstream clients on it.
private final class LoopThread: @unchecked Sendable {
    let loop = EventLoop()
    private(set) var upstreams: Upstreams!

    init() {
        let ready = DispatchSemaphore(value: 0)
        Thread.detachNewThread { [self] in
            upstreams = Upstreams(loop: loop)
            ready.signal()
            loop.run()
        }
        ready.wait()
    }

    /// Run `work` on the loop thread and wait for it.
    func sync<T>(_ work: @escaping () -> T) -> T { loop.runAndWait(work) }

    deinit { loop.stop() }
}


/// Records one transfer, as Exchange would see it.
private final class Recorder: UpstreamDelegate, @unchecked Sendable {
    var status = 0
    var body: [UInt8] = []
    var error: UpstreamError?
    var completed = false
    var calledInsideStart = false
    var insideStart = false
    var pauseOnFirstBody = false
    var pieces = 0
    let done = DispatchSemaphore(value: 0)
    let firstBody = DispatchSemaphore(value: 0)

    func upstreamHead(_ t: UpstreamTransfer, status: Int, headers: [(String, String)], lowerNames: [String]) { self.status = status }
    func upstreamBody(_ t: UpstreamTransfer, _ bytes: UnsafeRawBufferPointer) -> Bool {
        body += bytes
        pieces += 1
        if pieces == 1 { firstBody.signal() }
        return pauseOnFirstBody && pieces == 1
    }
    func upstreamComplete(_ t: UpstreamTransfer, error: UpstreamError?) {
        if insideStart { calledInsideStart = true }
        self.error = error
        completed = true
        done.signal()
    }

    func wait(_ seconds: Double = 5) -> Bool { done.wait(timeout: .now() + seconds) == .success }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking TCP server on 127.0.0.1 whose connections follow a script: `handle(fd, n)` runs on a thread of
/// its own for the n-th accepted connection (0-based).
private final class ScriptedServer: @unchecked Sendable {
    let fd: Int32
    let port: UInt16
    private let lock = NSLock()
    private var _accepted = 0
    private var _requests: [String] = []
    var accepted: Int { lock.withLock { _accepted } }
    var requests: [String] { lock.withLock { _requests } }

    init(_ handle: @escaping @Sendable (ScriptedServer, Int32, Int) -> Void) throws {
        (fd, port) = Self.bindLoopback()
        listen(fd, 16)
        Thread.detachNewThread { [self] in
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { return }
                _ = fcntl(c, F_SETFD, FD_CLOEXEC)
                let n = lock.withLock { _accepted += 1; return _accepted - 1 }
                Thread.detachNewThread { handle(self, c, n) }
            }
        }
    }

    /// Every connection reads one request, is sent `answer` (if any), then is held open until the client closes
    /// it (`thenHold`) or closed at once.
    convenience init(answering answer: String? = nil, thenHold hold: Bool) throws {
        try self.init { s, c, _ in
            _ = s.readRequest(c)
            if let answer { s.write(c, answer) }
            if hold { _ = s.waitForClose(c, seconds: 5) }
            close(c)
        }
    }

    /// A TCP socket bound to 127.0.0.1 on a free port (not listening yet).
    static func bindLoopback() -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, UInt16(bigEndian: a.sin_port))
    }

    var url: String { "http://127.0.0.1:\(port)/v1/test" }

    /// Read one request (head and Content-Length body); nil when the client closed first.
    func readRequest(_ c: Int32) -> String? {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            if let end = data.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound {
                let head = String(decoding: data[..<end], as: UTF8.self)
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if data.count >= end + length {
                    let r = String(decoding: data[..<(end + length)], as: UTF8.self)
                    lock.withLock { _requests.append(r) }
                    return r
                }
            }
            let n = recv(c, &buf, buf.count, 0)
            if n <= 0 { return nil }
            data += buf[0..<n]
        }
    }

    func write(_ c: Int32, _ s: String) { _ = s.withCString { send(c, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }

    /// Read up to the end of a request head only (the body, if any, is left unread).
    func readHead(_ c: Int32) -> Bool {
        var seen: [UInt8] = []
        var b: UInt8 = 0
        while !seen.suffix(4).elementsEqual("\r\n\r\n".utf8) {
            guard recv(c, &b, 1, 0) == 1 else { return false }
            seen.append(b)
        }
        return true
    }

    /// Wait until the client closes (recv returns 0 or fails); returns whether it did within `seconds`.
    func waitForClose(_ c: Int32, seconds: Int) -> Bool {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var b: UInt8 = 0
        while true {
            let n = recv(c, &b, 1, 0)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    deinit { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}

private let okChunked = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"

/// A request to `server` started on a loop of its own, once its first body bytes were handed over (with `pause`,
/// the transfer asked to pause there).
private func startUntilFirstBody(_ server: ScriptedServer, pause: Bool = false) -> (LoopThread, Recorder, UpstreamTransfer) {
    let l = LoopThread()
    let rec = Recorder()
    rec.pauseOnFirstBody = pause
    let t = l.sync { l.upstreams.start(request(server.url), delegate: rec) }
    #expect(rec.firstBody.wait(timeout: .now() + 5) == .success)
    return (l, rec, t)
}

private func request(_ url: String, _ configure: (inout UpstreamRequest) -> Void = { _ in }) -> UpstreamRequest {
    var r = UpstreamRequest(url: url, method: "POST", headers: ["Content-Type: application/json"], body: Array("{\"q\":1}".utf8))
    configure(&r)
    return r
}

@Suite(.serialized) struct HTTP1ClientTests {
    @discardableResult
    private func run(_ l: LoopThread, _ r: UpstreamRequest, _ rec: Recorder = Recorder()) -> Recorder {
        _ = l.sync { () -> UpstreamTransfer in
            rec.insideStart = true
            defer { rec.insideStart = false }
            return l.upstreams.start(r, delegate: rec)
        }
        return rec
    }

    @Test func keepAliveConnectionIsReused() throws {
        let server = try ScriptedServer { s, c, _ in
            while s.readRequest(c) != nil { s.write(c, okChunked) }
            close(c)
        }
        let l = LoopThread()
        for _ in 0..<3 {
            let rec = run(l, request(server.url))
            #expect(rec.wait())
            #expect(rec.error == nil && rec.status == 200 && rec.text == "hello")
        }
        #expect(server.accepted == 1)
        #expect(l.sync { l.upstreams.http1.idleConnections } == 1)
        let first = try #require(server.requests.first)
        #expect(first.hasPrefix("POST /v1/test HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n"))
        #expect(first.contains("Content-Length: 7\r\n") && first.hasSuffix("\r\n\r\n{\"q\":1}"))
    }

    @Test func aPooledConnectionTheUpstreamClosedIsRetriedOnceOnAFreshOne() throws {
        let server = try ScriptedServer { s, c, n in
            _ = s.readRequest(c)
            if n == 0 {
                s.write(c, okChunked)
                _ = s.readRequest(c)   // the second request arrives on the reused connection: close without answering
            } else {
                s.write(c, okChunked)
            }
            close(c)
        }
        let l = LoopThread()
        #expect(run(l, request(server.url)).wait())
        let second = run(l, request(server.url))
        #expect(second.wait())
        #expect(second.error == nil && second.text == "hello")
        #expect(server.accepted == 2)
        #expect(server.requests.count == 3, "the second request went twice: on the stale connection and on a fresh one")
    }

    @Test func aFreshConnectionClosedWithoutAnAnswerIsNotRetried() throws {
        let server = try ScriptedServer(thenHold: false)
        let l = LoopThread()
        let rec = run(l, request(server.url))
        #expect(rec.wait())
        #expect(rec.error?.kind == .reset && rec.error?.message.contains("closed the connection without answering") == true)
        usleep(100_000)
        #expect(server.accepted == 1)
    }

    @Test func aRefusedConnectionIsReportedAfterStartReturns() throws {
        // A port nobody listens on: bound, never listened on.
        let (fd, closedPort) = ScriptedServer.bindLoopback()
        defer { close(fd) }
        let l = LoopThread()
        let rec = run(l, request("http://127.0.0.1:\(closedPort)/v1/x"))
        #expect(rec.wait())
        #expect(rec.error?.kind == .connect && rec.error?.message.contains("cannot connect to 127.0.0.1:\(closedPort): Connection refused") == true,
                "\(rec.error?.message ?? "no error")")
        #expect(!rec.calledInsideStart)
    }

    @Test func aHostNameIsLookedUpByCurlOnItsOwnThread() throws {
        // .invalid never resolves (RFC 6761): the connector thread reports curl's reason, after start returns.
        let l = LoopThread()
        let rec = run(l, request("http://proxypool-test.invalid:9/v1/x") { $0.connectTimeoutMillis = 5_000 })
        #expect(rec.wait(10))
        #expect(rec.error?.kind == .connect && rec.error?.message.contains("cannot connect to proxypool-test.invalid:9") == true,
                "\(rec.error?.message ?? "no error")")
        #expect(!rec.calledInsideStart)
        #expect(l.sync { l.loop.sinceHeartbeat } < 1000, "the loop kept turning")
    }

    @Test func firstByteTimeout() throws {
        let server = try ScriptedServer(thenHold: true)
        let l = LoopThread()
        let started = Date()
        let rec = run(l, request(server.url) { $0.firstByteTimeoutMillis = 300 })
        #expect(rec.wait())
        #expect(rec.error?.kind == .firstByteTimeout)
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test func idleTimeoutAfterTheHead() throws {
        let server = try ScriptedServer(answering: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n", thenHold: true)
        let l = LoopThread()
        let rec = run(l, request(server.url) { $0.idleTimeoutSeconds = 1 })
        #expect(rec.wait())
        #expect(rec.status == 200 && rec.text == "first")
        #expect(rec.error?.kind == .timeout && rec.error?.message.contains("sent nothing for 1 s") == true)
    }

    @Test func cancellingClosesTheUpstreamConnectionAtOnce() throws {
        let closedSeen = DispatchSemaphore(value: 0)
        let server = try ScriptedServer { s, c, _ in
            _ = s.readRequest(c)
            s.write(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
            if s.waitForClose(c, seconds: 5) { closedSeen.signal() }
            close(c)
        }
        let (l, rec, t) = startUntilFirstBody(server)
        l.sync { l.upstreams.cancel(t) }
        #expect(closedSeen.wait(timeout: .now() + 2) == .success, "the upstream saw the connection close")
        usleep(100_000)
        #expect(!rec.completed, "a cancelled transfer reports nothing")
        #expect(l.sync { l.upstreams.http1.idleConnections } == 0)
    }

    @Test func pausedTransferResumesWhereItStopped() throws {
        let server = try ScriptedServer { s, c, _ in
            _ = s.readRequest(c)
            s.write(c, "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nabcd")
            usleep(50_000)
            s.write(c, "efgh")
            usleep(50_000)
            s.write(c, "ijkl")
            _ = s.readRequest(c)
            close(c)
        }
        let (l, rec, t) = startUntilFirstBody(server, pause: true)
        usleep(300_000)
        #expect(l.sync { rec.text } == "abcd" && !l.sync { rec.completed }, "nothing is delivered while paused")
        l.sync { l.upstreams.resume(t) }
        #expect(rec.wait())
        #expect(rec.error == nil && rec.text == "abcdefghijkl")
    }

    /// A pause on the last bytes of a full read buffer: resuming read 0 bytes into no room and took that for the
    /// upstream closing, cutting big streams off at random (the client had paused them while it was slow).
    @Test func pausedOnAFullBufferResumesWithTheRest() throws {
        let headText = "HTTP/1.1 200 OK\r\nContent-Length: 40000\r\n\r\n"
        let first = 32 * 1024 - headText.utf8.count
        let server = try ScriptedServer { s, c, _ in
            _ = s.readRequest(c)
            s.write(c, headText + String(repeating: "a", count: first))   // exactly one read buffer
            usleep(200_000)
            s.write(c, String(repeating: "b", count: 40000 - first))
            _ = s.readRequest(c)
            close(c)
        }
        let (l, rec, t) = startUntilFirstBody(server, pause: true)
        usleep(300_000)
        #expect(l.sync { rec.body.count } == first)
        l.sync { l.upstreams.resume(t) }
        #expect(rec.wait())
        #expect(rec.error == nil && rec.body.count == 40000, "\(String(describing: rec.error)) after \(rec.body.count) bytes")
    }

    @Test func anUpstreamResetWhilePausedNeitherSpinsNorIsLost() throws {
        let server = try ScriptedServer { s, c, _ in
            _ = s.readRequest(c)
            s.write(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
            usleep(50_000)
            var l = linger(l_onoff: 1, l_linger: 0)   // close with a reset
            setsockopt(c, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
            close(c)
        }
        let (l, rec, t) = startUntilFirstBody(server, pause: true)
        usleep(100_000)   // the reset has arrived
        func cpuMillis() -> Int { var u = rusage(); getrusage(RUSAGE_SELF.rawValue, &u); return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000 }
        let before = cpuMillis()
        usleep(400_000)
        #expect(cpuMillis() - before < 200, "the loop spun on the hang-up while paused")
        l.sync { l.upstreams.resume(t) }
        #expect(rec.wait())
        #expect(rec.text == "first" && rec.error?.kind == .reset)
    }

    @Test func aConnectionAnsweredBeforeTheWholeBodyWentIsNotReused() throws {
        let server = try ScriptedServer { s, c, n in
            if n == 0 {
                _ = s.readHead(c)   // answer at once, leave the body unread
                s.write(c, "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n")
                _ = s.waitForClose(c, seconds: 5)
            } else {
                while s.readRequest(c) != nil { s.write(c, okChunked) }
            }
            close(c)
        }
        let l = LoopThread()
        let big = run(l, request(server.url) { $0.body = [UInt8](repeating: 120, count: 16 << 20) })
        #expect(big.wait())
        #expect(big.status == 413 && big.error == nil)
        let next = run(l, request(server.url))
        #expect(next.wait())
        #expect(next.status == 200 && next.text == "hello" && next.error == nil)
        #expect(server.accepted == 2, "the half-sent connection was not reused")
    }

    @Test func aBodyCutShortIsAnError() throws {
        let server = try ScriptedServer(answering: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcde", thenHold: false)
        let l = LoopThread()
        let rec = run(l, request(server.url))
        #expect(rec.wait())
        #expect(rec.text == "abcde" && rec.error?.kind == .reset && rec.error?.message.contains("cut off") == true)
    }

    @Test func aMalformedResponseIsAnError() throws {
        let server = try ScriptedServer(answering: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", thenHold: true)
        let l = LoopThread()
        let rec = run(l, request(server.url))
        #expect(rec.wait())
        #expect(rec.status == 0 && rec.error?.message.contains("two different Content-Lengths") == true)
    }

    @Test func aHeaderWithALineBreakIsRefusedBeforeAnythingIsSent() throws {
        let server = try ScriptedServer(thenHold: false)
        let l = LoopThread()
        let rec = run(l, request(server.url) { $0.headers.append("X-Evil: a\r\nX-Injected: b") })
        #expect(rec.wait())
        #expect(rec.error?.message.contains("line break") == true && !rec.calledInsideStart)
        usleep(100_000)
        #expect(server.accepted == 0)
    }
}
