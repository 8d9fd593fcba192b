import Foundation
import Glibc
import Testing
import ProxyPoolSystem
@testable import ProxyPoolHTTP
@testable import ProxyPoolHTTPWire

/// Echoes text messages; `/flood` sends `floodBytes` in 64 KiB messages as soon as it opens. Loop thread only.
private final class EchoHandler: HTTPHandler, WebSocketDelegate, @unchecked Sendable {
    var timeouts = WebSocketTimeouts()
    var floodBytes = 0
    var drainedCount = 0
    var closedCount = 0
    var sawHighWater = false
    var channel: WebSocketChannel?

    func handle(_ request: HTTPRequest, _ response: HTTPResponseWriter) {
        guard WebSocketHandshake.isUpgrade(request.head), WebSocketHandshake.problem(request.head) == nil else {
            return response.respond(status: 200, headers: [], body: Array("plain".utf8))
        }
        channel = response.acceptWebSocket(accept: "test", maxMessageBytes: 1 << 16, timeouts: timeouts, delegate: self)
        if request.head.path == "/flood", let ws = channel {
            var sent = 0
            while sent < floodBytes {
                ws.sendText([UInt8](repeating: 97, count: 65536))
                sent += 65536
                if ws.overHighWater { sawHighWater = true }
            }
        }
    }

    func rejected(_ error: HTTPParseError, head: HTTPRequestHead?) -> (headers: [(String, String)], body: [UInt8]) { ([], []) }
    func webSocket(_ ws: WebSocketChannel, text: [UInt8]) { ws.sendText(text) }
    func webSocket(_ ws: WebSocketChannel, binary: [UInt8]) { ws.close(code: 1003, reason: "no binary") }
    func webSocketDrained(_ ws: WebSocketChannel) { drainedCount += 1 }
    func webSocketClosed(_ ws: WebSocketChannel) { closedCount += 1; channel = nil }
}

private final class EchoServer: @unchecked Sendable {
    let loop = EventLoop()
    let handler = EchoHandler()
    var server: HTTPServer!
    let port: UInt16

    init(timeouts: WebSocketTimeouts, floodBytes: Int = 0, highWater: Int = 1 << 20) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        listen(fd, 64)
        port = UInt16(bigEndian: a.sin_port)
        handler.timeouts = timeouts
        handler.floodBytes = floodBytes
        var config = HTTPServerConfig()
        config.highWaterBytes = highWater
        config.sendTimeoutMillis = 20_000
        server = HTTPServer(loop: loop, listenFD: fd, config: config, handler: handler)
        server.start()
        Thread.detachNewThread { [loop] in loop.run() }
    }

    func sync<T>(_ work: @escaping () -> T) -> T { loop.runAndWait(work) }

    deinit {
        let server = self.server!
        loop.execute { server.stopAccepting(); for c in server.connections.values { c.close() } }
        loop.stop()
    }
}

/// A raw client: the handshake, frames out, frames in.
private struct RawClient {
    let fd: Int32
    var pending: [UInt8] = []

    init(port: UInt16, path: String = "/ws", receiveBuffer: Int32? = nil, raw: String? = nil) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let handshake = "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        send(Array((raw ?? handshake).utf8))
    }

    func send(_ b: [UInt8]) { _ = b.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, b.count, Int32(MSG_NOSIGNAL)) } }

    /// The 101's head, then frames.
    mutating func head() -> String {
        while true {
            if let r = (0..<max(0, pending.count - 3)).first(where: { pending[$0] == 13 && pending[$0 + 1] == 10 && pending[$0 + 2] == 13 && pending[$0 + 3] == 10 }) {
                let h = String(decoding: pending[0..<r], as: UTF8.self)
                pending.removeFirst(r + 4)
                return h
            }
            guard fill() else { return String(decoding: pending, as: UTF8.self) }
        }
    }

    private mutating func fill() -> Bool {
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buf, buf.count, 0)
        if n <= 0 { return false }
        pending += buf[0..<n]
        return true
    }

    /// The next frame; nil at EOF (or the receive timeout).
    mutating func next() -> (opcode: UInt8, payload: [UInt8])? {
        while true {
            if pending.count >= 2 {
                let form = Int(pending[1] & 0x7F)
                var len = form, at = 2
                if form == 126 { len = pending.count >= 4 ? Int(pending[2]) << 8 | Int(pending[3]) : Int.max; at = 4 }
                else if form == 127 { len = pending.count >= 10 ? (2..<10).reduce(0) { $0 << 8 | Int(pending[$1]) } : Int.max; at = 10 }
                if len != Int.max && pending.count >= at + len {
                    let f = (pending[0] & 0x0F, Array(pending[at..<(at + len)]))
                    pending.removeFirst(at + len)
                    return f
                }
            }
            guard fill() else { return nil }
        }
    }

    func close() { Glibc.close(fd) }
}

@Suite(.serialized) struct WebSocketChannelTests {
    static func quick() -> WebSocketTimeouts {
        var t = WebSocketTimeouts()
        t.pingIntervalMillis = 200; t.pongTimeoutMillis = 400; t.idleTimeoutMillis = 1500; t.closeTimeoutMillis = 300
        return t
    }

    @Test func echoesAnswersPingsAndSwitchesProtocol() {
        let s = EchoServer(timeouts: Self.quick())
        var c = RawClient(port: s.port)
        defer { c.close() }
        let h = c.head()
        #expect(h.hasPrefix("HTTP/1.1 101 Switching Protocols") && h.contains("Upgrade: websocket") && h.contains("Sec-WebSocket-Accept: test"))
        c.send(clientFrame(1, Array("hello".utf8)))
        #expect(c.next()?.payload == Array("hello".utf8))
        c.send(clientFrame(9, [4, 2]))
        let pong = c.next()
        #expect(pong?.opcode == 0xA && pong?.payload == [4, 2])
        // The same server still answers plain HTTP beside it.
        var plain = RawClient(port: s.port, path: "/x", raw: "GET /x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n")
        defer { plain.close() }
        #expect(plain.head().hasPrefix("HTTP/1.1 200"), "no Connection: Upgrade, no handshake: plain HTTP")
    }

    @Test func pingsWhenQuietAndClosesWhenIdle() {
        let s = EchoServer(timeouts: Self.quick())
        var c = RawClient(port: s.port)
        defer { c.close() }
        _ = c.head()
        let t0 = Date()
        let ping = c.next()
        #expect(ping?.opcode == 0x9, "a ping after the quiet interval")
        #expect(Date().timeIntervalSince(t0) >= 0.15)
        c.send(clientFrame(0xA, ping?.payload ?? []))
        // No message for idleTimeout: 1000, then the TCP close once the client answers.
        var close: (opcode: UInt8, payload: [UInt8])?
        while let f = c.next() {
            if f.opcode == 0x9 { c.send(clientFrame(0xA, f.payload)); continue }
            close = f; break
        }
        #expect(close?.opcode == 0x8 && close?.payload.prefix(2) == [0x03, 0xE8])
        #expect(Date().timeIntervalSince(t0) >= 1.4)
        c.send(clientFrame(0x8, [0x03, 0xE8]))
        #expect(c.next() == nil, "closed after the closing handshake")
        #expect(s.sync { s.handler.closedCount } == 1)
    }

    @Test func anUnansweredPingDropsTheClient() {
        let s = EchoServer(timeouts: Self.quick())
        var c = RawClient(port: s.port)
        defer { c.close() }
        _ = c.head()
        let t0 = Date()
        #expect(c.next()?.opcode == 0x9)
        while let f = c.next() { #expect(f.opcode == 0x9, "only pings until the drop") }
        let waited = Date().timeIntervalSince(t0)
        #expect(waited >= 0.5 && waited < 4, "dropped \(waited) s after the ping")
        #expect(s.sync { s.handler.closedCount } == 1)
    }

    @Test func ourCloseWaitsForTheClientThenGivesUp() {
        let s = EchoServer(timeouts: Self.quick())
        var c = RawClient(port: s.port)
        defer { c.close() }
        _ = c.head()
        c.send(clientFrame(1, Array("x".utf8), mask: nil))   // unmasked: 1002
        let close = c.next()
        #expect(close?.opcode == 0x8 && close?.payload.prefix(2) == [0x03, 0xEA])
        let t0 = Date()
        #expect(c.next() == nil, "the socket closes without the client's answer")
        #expect(Date().timeIntervalSince(t0) < 3)
    }

    @Test func aSlowReaderPausesTheProducerUntilDrained() {
        let s = EchoServer(timeouts: WebSocketTimeouts(), floodBytes: 4 << 20, highWater: 256 << 10)
        var c = RawClient(port: s.port, path: "/flood", receiveBuffer: 16384)
        defer { c.close() }
        _ = c.head()
        usleep(200_000)
        #expect(s.sync { s.handler.sawHighWater }, "the queued output went over the high-water mark")
        var got = 0
        while got < 4 << 20, let f = c.next() { got += f.payload.count }
        #expect(got == 4 << 20)
        usleep(100_000)
        #expect(s.sync { s.handler.drainedCount } >= 1, "told once the output drained")
    }
}
