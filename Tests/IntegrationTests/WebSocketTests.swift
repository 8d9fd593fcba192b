import Foundation
import Glibc
import Testing

/// A WebSocket client of our own for the tests: raw frames, so that it can also send what no library would.
struct WSClient {
    let fd: Int32
    let head: String
    var pending: [UInt8]

    /// Open `path` with a handshake; the 101 (or whatever answered) is in `head`.
    init(port: UInt16, key: String?, path: String = "/v1/responses", headers: [(String, String)] = [], timeout: Int = 20) throws {
        let fd = try tcpConnect(port, timeout: timeout)
        self.fd = fd
        var h = [("Host", "127.0.0.1:\(port)"), ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
                 ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("originator", "codex_exec")]
        if let key { h.append(("Authorization", "Bearer \(key)")) }
        for (k, v) in headers {
            if let i = h.firstIndex(where: { $0.0.lowercased() == k.lowercased() }) { h[i].1 = v } else { h.append((k, v)) }
        }
        var req = "GET \(path) HTTP/1.1\r\n"
        for (k, v) in h where !v.isEmpty { req += "\(k): \(v)\r\n" }
        req += "\r\n"
        let b = Array(req.utf8)
        _ = b.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, b.count, Int32(MSG_NOSIGNAL)) }
        var got: [UInt8] = [], buf = [UInt8](repeating: 0, count: 65536)
        var end: Int?
        while end == nil {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            got += buf[0..<n]
            end = (0..<max(0, got.count - 3)).first { got[$0] == 13 && got[$0 + 1] == 10 && got[$0 + 2] == 13 && got[$0 + 3] == 10 }
        }
        let e = end ?? got.count
        self.head = String(decoding: got[0..<e], as: UTF8.self)
        self.pending = end.map { Array(got[($0 + 4)...]) } ?? []
    }

    var status: Int { Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0 }

    func sendRaw(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) } }

    func send(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, masked: Bool = true) {
        sendRaw(wsFrame(opcode, payload, fin: fin, masked: masked))
    }

    func sendText(_ s: String) { send(1, Array(s.utf8)) }

    /// The next frame from the server (opcode, payload); nil when the connection ended first.
    mutating func next() -> (opcode: UInt8, payload: [UInt8])? {
        func need(_ n: Int) -> Bool {
            var buf = [UInt8](repeating: 0, count: 65536)
            while pending.count < n {
                let r = recv(fd, &buf, buf.count, 0)
                if r <= 0 { return false }
                pending += buf[0..<r]
            }
            return true
        }
        guard need(2) else { return nil }
        #expect(pending[1] & 0x80 == 0, "server frames are never masked")
        var len = Int(pending[1] & 0x7F), at = 2
        // The 7-bit field picks the form; the length read from a 16-bit field may itself be 126 or 127.
        if len == 126 { guard need(4) else { return nil }; len = Int(pending[2]) << 8 | Int(pending[3]); at = 4 }
        else if len == 127 { guard need(10) else { return nil }; len = (2..<10).reduce(0) { $0 << 8 | Int(pending[$1]) }; at = 10 }
        guard need(at + len) else { return nil }
        let f = (pending[0] & 0x0F, Array(pending[at..<(at + len)]))
        pending.removeFirst(at + len)
        return f
    }

    /// Text messages up to and including the one whose `type` is in `until` (or a close); the close code, if one came.
    mutating func events(until: Set<String> = ["response.completed", "error"]) -> (events: [[String: Any]], close: Int?) {
        var out: [[String: Any]] = []
        while let f = next() {
            if f.opcode == 8 { return (out, f.payload.count >= 2 ? Int(f.payload[0]) << 8 | Int(f.payload[1]) : 1005) }
            guard f.opcode == 1 else { continue }
            let j = (try? JSONSerialization.jsonObject(with: Data(f.payload))) as? [String: Any] ?? ["unparsed": String(decoding: f.payload, as: UTF8.self)]
            out.append(j)
            if let t = j["type"] as? String, until.contains(t) { return (out, nil) }
        }
        return (out, nil)
    }

    /// Whether the server closed the TCP connection (EOF) within the receive timeout.
    func closedByServer() -> Bool {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let r = recv(fd, &buf, buf.count, 0)
            if r == 0 || (r < 0 && errno == ECONNRESET) { return true }
            if r < 0 { return false }
        }
    }

    func close() { Glibc.close(fd) }
}

func wsFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, masked: Bool = true, declaredLength: UInt64? = nil) -> [UInt8] {
    var f: [UInt8] = [(fin ? 0x80 : 0) | opcode]
    let m: UInt8 = masked ? 0x80 : 0
    let n = declaredLength ?? UInt64(payload.count)
    if n < 126 { f.append(m | UInt8(n)) } else if n <= 0xFFFF { f += [m | 126, UInt8(n >> 8), UInt8(n & 0xFF)] } else {
        f.append(m | 127); for i in (0..<8).reversed() { f.append(UInt8(truncatingIfNeeded: n >> (UInt64(i) * 8))) }
    }
    guard masked else { return f + payload }
    let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
    return f + mask + payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
}

func responseCreate(_ text: String, model: String = "gpt-5", previous: String? = nil, extra: String = "") -> String {
    let prev = previous.map { #","previous_response_id":"\#($0)""# } ?? ""
    return #"{"type":"response.create","model":"\#(model)","stream":true\#(prev)\#(extra),"input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"\#(text)"}]}]}"#
}

/// The Responses WebSocket against the real daemon: the handshake and its admission, turns routed like HTTP
/// ones (translation, failover, incremental input), and hostile frames: each ends the socket with its close
/// code and the daemon goes on serving.
@Suite(.serialized) struct WebSocketTests {
    func healthy(_ s: ProxySetup) throws -> Bool { try http(port: s.port, "GET", "/healthz").status == 200 }

    @Test func handshakeIsAdmittedLikeHTTP() throws {
        let s = try ProxySetup(credentials: [("o", "openai", "fake-ok")])
        let ws = try WSClient(port: s.port, key: s.key)
        defer { ws.close() }
        #expect(ws.status == 101, "\(ws.head)")
        #expect(ws.head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "RFC 6455 §1.3 example key")
        #expect(!ws.head.lowercased().contains("sec-websocket-extensions"), "permessage-deflate is declined")
        // Checked before the 101, as on HTTP: key, Host, Origin; then the handshake itself.
        #expect(try WSClient(port: s.port, key: nil).status == 401)
        #expect(try WSClient(port: s.port, key: "ppk_not_a_key").status == 401)
        #expect(try WSClient(port: s.port, key: s.key, headers: [("Host", "evil.example.invalid")]).status == 421)
        #expect(try WSClient(port: s.port, key: s.key, headers: [("Origin", "https://evil.example.invalid")]).status == 403)
        let v8 = try WSClient(port: s.port, key: s.key, headers: [("Sec-WebSocket-Version", "8")])
        #expect(v8.status == 426 && v8.head.contains("Sec-WebSocket-Version: 13"))
        #expect(try WSClient(port: s.port, key: s.key, headers: [("Sec-WebSocket-Key", "nope")]).status == 400)
        // Only the Responses path upgrades: elsewhere the Upgrade header is ignored and plain HTTP answers.
        let health = try WSClient(port: s.port, key: s.key, path: "/healthz")
        #expect(health.status == 200, "\(health.head)")
        let chat = try http(port: s.port, "GET", "/v1/chat/completions", headers: [("Upgrade", "websocket"), ("Authorization", "Bearer \(s.key)")])
        #expect(chat.status == 405)
    }

    @Test func turnsAreRoutedTranslatedAndContinued() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok")])
        var ws = try WSClient(port: s.port, key: s.key)
        defer { ws.close() }
        #expect(ws.status == 101)
        ws.sendText(responseCreate("hello WSTURN1"))
        let (first, _) = ws.events()
        let types = first.compactMap { $0["type"] as? String }
        #expect(types.first == "response.created" && types.last == "response.completed", "\(types)")
        #expect(types.contains("response.output_text.delta"))
        let id = (first.last?["response"] as? [String: Any])?["id"] as? String ?? ""
        #expect(!id.isEmpty)
        // The next turn sends only what follows, naming the previous response: the upstream gets it all.
        ws.sendText(responseCreate("again WSTURN2", previous: id))
        let (second, _) = ws.events()
        #expect(second.last?["type"] as? String == "response.completed", "\(second.last ?? [:])")
        let bodies = try s.fake.requests().compactMap { $0["body"] }.map { String(describing: $0) }
        #expect(bodies.contains { $0.contains("WSTURN1") && $0.contains("WSTURN2") }, "the second upstream request carries the first turn")
        // An id this socket does not know: the error Codex recovers from, and the socket stays usable.
        ws.sendText(responseCreate("x", previous: "resp_unknown"))
        let (err, _) = ws.events()
        #expect(err.last?["type"] as? String == "error" && err.last?["status"] as? Int == 400)
        #expect((err.last?["error"] as? [String: Any])?["code"] as? String == "previous_response_not_found")
        ws.sendText(#"{"type":"response.create","model":"gpt-5","generate":false,"input":[]}"#)
        let (warm, _) = ws.events()
        #expect(warm.map { $0["type"] as? String } == ["response.created", "response.completed"], "a warm-up is answered without an upstream")
        let log = s.daemon.log
        #expect(log.contains("WS /v1/responses app=codex credential=a") && log.contains("translated=openai-responses>anthropic-messages"))
        #expect(!log.contains("POST /v1/responses"))
    }

    @Test func failoverBeforeTheFirstEventAndErrorEvents() throws {
        let s = try ProxySetup(credentials: [("limited", "openai", "fake-429-bare"), ("good", "openai", "fake-ok")],
                               assign: ["codex": ["limited", "good"]])
        var ws = try WSClient(port: s.port, key: s.key)
        defer { ws.close() }
        ws.sendText(responseCreate("fail over"))
        let (events, _) = ws.events()
        #expect(events.last?["type"] as? String == "response.completed")
        #expect(s.daemon.log.contains("credential=good"))
        // Every credential limited: Codex's error message with the status and Retry-After.
        let only = try ProxySetup(credentials: [("limited", "openai", "fake-429-retry-after-30")], assign: ["codex": ["limited"]])
        var w2 = try WSClient(port: only.port, key: only.key)
        defer { w2.close() }
        w2.sendText(responseCreate("limited"))
        let (err, _) = w2.events()
        #expect(err.count == 1 && err[0]["type"] as? String == "error" && err[0]["status"] as? Int == 429, "\(err)")
        #expect((err[0]["headers"] as? [String: Any])?["retry-after"] != nil)
    }

    @Test func hostileFramesGetClearCloseCodes() throws {
        let dir = makeTempDir("cfg")
        try "max-body-bytes = 65536\n".write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
        let s = try ProxySetup(args: ["--config", dir + "/p.conf"], credentials: [("o", "openai", "fake-ok")])
        func closeAfter(_ send: (WSClient) -> Void) throws -> Int? {
            var ws = try WSClient(port: s.port, key: s.key)
            defer { ws.close() }
            #expect(ws.status == 101)
            send(ws)
            let code = ws.events(until: []).close
            return code
        }
        #expect(try closeAfter { $0.send(1, Array(responseCreate("x").utf8), masked: false) } == 1002, "unmasked client frame")
        #expect(try closeAfter { $0.sendRaw(wsFrame(1, [], declaredLength: 1 << 40)) } == 1009, "a frame over max-body-bytes, by its header")
        #expect(try closeAfter { $0.sendRaw(wsFrame(1, [], declaredLength: 1 << 63)) } == 1002, "a 64-bit length with its top bit set")
        #expect(try closeAfter { $0.send(1, [0x7B, 0xC3, 0x28, 0x7D]) } == 1007, "bad UTF-8 in a text frame")
        #expect(try closeAfter { $0.send(1, [0xE2, 0x82], fin: false); $0.send(0, [0x41]) } == 1007, "bad UTF-8 across fragments")
        #expect(try closeAfter { $0.send(9, [UInt8](repeating: 1, count: 126)) } == 1002, "a ping over 125 bytes")
        #expect(try closeAfter { $0.send(9, [1], fin: false) } == 1002, "a fragmented ping")
        #expect(try closeAfter { $0.send(0, Array("x".utf8)) } == 1002, "a continuation with nothing to continue")
        #expect(try closeAfter { $0.send(2, [1, 2, 3]) } == 1003, "binary messages are not part of the protocol")
        #expect(try closeAfter { $0.send(1, Array("{}".utf8)); $0.sendRaw([0x81 | 0x70, 0x80, 0, 0, 0, 0]) } == 1002, "reserved bits")
        let big = String(repeating: "a", count: 40_000)
        #expect(try closeAfter { $0.send(1, Array(big.utf8), fin: false); $0.send(0, Array(big.utf8)) } == 1009, "fragments over the cap together")
        #expect(try closeAfter { $0.send(8, [0x03, 0xE8]) } == 1000, "the client's close is echoed")
        #expect(try closeAfter { $0.send(8, [0x03, 0xED]) } == 1002, "close code 1005 may not be sent")
        #expect(try healthy(s), "the daemon goes on serving")
    }

    @Test func fragmentsWithInterleavedControlFrames() throws {
        let s = try ProxySetup(credentials: [("o", "openai", "fake-ok")])
        var ws = try WSClient(port: s.port, key: s.key)
        defer { ws.close() }
        let msg = Array(responseCreate("in pieces WSFRAG").utf8)
        let third = msg.count / 3
        ws.send(1, Array(msg[0..<third]), fin: false)
        ws.send(9, Array("are you there".utf8))
        ws.send(0, Array(msg[third..<(2 * third)]), fin: false)
        ws.send(0xA, [])   // an unsolicited pong is allowed (RFC 6455 §5.5.3)
        ws.send(0, Array(msg[(2 * third)...]))
        let pong = ws.next()
        #expect(pong?.opcode == 0xA && pong?.payload == Array("are you there".utf8), "the ping is answered at once, between fragments")
        let (events, close) = ws.events()
        #expect(close == nil && events.last?["type"] as? String == "response.completed")
        #expect(try s.fake.requests().contains { String(describing: $0["body"] ?? "").contains("WSFRAG") })
    }

    @Test func abruptCloseStopsTheUpstreamAndTheDaemonLivesOn() throws {
        let s = try ProxySetup(credentials: [("slow", "openai", "fake-slow-stream-400")])
        let before = try s.fake.aborted()
        var ws = try WSClient(port: s.port, key: s.key)
        ws.sendText(responseCreate("slow"))
        let first = ws.next()
        #expect(first?.opcode == 1)
        ws.close()   // no close frame: the TCP connection just goes
        var aborted = before
        for _ in 0..<100 where aborted == before { usleep(50_000); aborted = try s.fake.aborted() }
        #expect(aborted > before, "the upstream transfer was stopped")
        // Half a frame, then gone.
        let half = try WSClient(port: s.port, key: s.key)
        half.sendRaw(Array(wsFrame(1, Array(responseCreate("x").utf8)).prefix(9)))
        half.close()
        #expect(try healthy(s))
        var again = try WSClient(port: s.port, key: s.key)
        defer { again.close() }
        #expect(again.status == 101)
        again.send(8, [0x03, 0xE8])
        let closing = again.events(until: []).close
        #expect(closing == 1000)
        #expect(again.closedByServer(), "the server closes the TCP connection after the closing handshake")
    }

    @Test func aRevokedKeyEndsTheSocketAtItsNextTurn() throws {
        let s = try ProxySetup(credentials: [("o", "openai", "fake-ok")])
        var ws = try WSClient(port: s.port, key: s.key)
        defer { ws.close() }
        ws.sendText(responseCreate("before"))
        #expect(ws.events().events.last?["type"] as? String == "response.completed")
        let keyID = String(s.daemon.ctl(["key", "list"]).stdout.split(separator: "\n")[1].split(separator: " ")[0])
        #expect(s.daemon.ctl(["key", "revoke", keyID]).status == 0)
        ws.sendText(responseCreate("after"))
        let (events, close) = ws.events(until: [])
        #expect(events.last?["type"] as? String == "error" && events.last?["status"] as? Int == 401, "\(events)")
        #expect(close == 1008)
    }

    @Test func shutdownSaysGoingAway() throws {
        let s = try ProxySetup(credentials: [("o", "openai", "fake-ok")])
        var ws = try WSClient(port: s.port, key: s.key)
        defer { ws.close() }
        #expect(ws.status == 101)
        let t0 = Date()
        #expect(s.daemon.stop() == 0)
        #expect(Date().timeIntervalSince(t0) < 8, "an idle WebSocket does not hold the shutdown")
        #expect(ws.events(until: []).close == 1001)
    }
}
