import Glibc
import ProxyPoolHTTPWire

/// The application side of a WebSocket, called on the loop thread.
public protocol WebSocketDelegate: AnyObject {
    /// A whole text message (fragments joined, UTF-8 checked).
    func webSocket(_ ws: WebSocketChannel, text: [UInt8])
    /// A whole binary message.
    func webSocket(_ ws: WebSocketChannel, binary: [UInt8])
    /// The output queued for the client has drained (a paused producer may go on).
    func webSocketDrained(_ ws: WebSocketChannel)
    /// The connection is gone (closed by either side, timed out, or cut): nothing more can be sent.
    func webSocketClosed(_ ws: WebSocketChannel)
}

/// The clocks of a WebSocket connection.
public struct WebSocketTimeouts: Sendable {
    /// Quiet for this long (nothing from the client), the server sends a ping.
    public var pingIntervalMillis: Int64 = 30_000
    /// A ping unanswered (nothing at all from the client) for this long: the client is gone.
    public var pongTimeoutMillis: Int64 = 30_000
    /// No message from the client for this long while the application has nothing in progress: closed with
    /// 1000. OpenAI's own endpoint ends a socket after 60 minutes; an idle one here goes sooner.
    public var idleTimeoutMillis: Int64 = 600_000
    /// After our close frame, how long the client has to answer with its own before the socket is closed.
    public var closeTimeoutMillis: Int64 = 5_000
    public init() {}
}

/// One WebSocket on an upgraded HTTP connection (RFC 6455): frames in through `WebSocketFrameParser`, messages
/// out as single unmasked frames through the connection's output buffer (the same back-pressure as a streamed
/// HTTP response: `overHighWater`, then `webSocketDrained`), ping/pong, the closing handshake, and the
/// idle, pong and close clocks. Loop thread only.
public final class WebSocketChannel: HTTPResponseProducer {
    enum State { case open, closing, closed }

    /// Strong: the connection drops its channel when it closes, so the two never keep each other alive.
    let conn: HTTPConnection
    /// Strong until the connection is gone (then dropped), so the application object lives as long as its socket.
    public private(set) var delegate: WebSocketDelegate?
    public let timeouts: WebSocketTimeouts
    private var parser: WebSocketFrameParser
    private var state = State.open
    /// Bytes of the parser counted in the server's buffered bytes.
    private var held = 0
    private var lastHeard: Int64
    private var lastMessage: Int64
    private var pingOutstanding = false
    private var closeWhenDrained = false
    /// Set by the application while it serves a message: the idle clock does not run then, and a server
    /// shutting down waits for it (then says 1001).
    public var busy = false {
        didSet { if !busy && oldValue && !conn.server.accepting { goAway() } }
    }

    /// The server is shutting down: 1001 Going Away.
    func goAway() { close(code: WebSocketCloseCode.goingAway, reason: "the server is shutting down") }

    init(connection: HTTPConnection, maxMessageBytes: Int, timeouts: WebSocketTimeouts, delegate: WebSocketDelegate) {
        conn = connection; self.timeouts = timeouts; self.delegate = delegate
        parser = WebSocketFrameParser(maxMessageBytes: maxMessageBytes)
        lastHeard = connection.loop.now
        lastMessage = lastHeard
    }

    public var isOpen: Bool { state == .open }
    public var queuedBytes: Int { conn.outBytes }
    public var overHighWater: Bool { conn.outBytes > conn.config.highWaterBytes }

    // MARK: Out

    public func sendText(_ bytes: some Collection<UInt8>) {
        guard state == .open, !conn.isClosed else { return }
        conn.queue { WebSocketFrameEncoder.append(&$0, .text, bytes) }
        conn.scheduleFlush()
    }

    /// Start the closing handshake: our close frame now, the socket closed when the client answers (or after
    /// `closeTimeoutMillis`).
    public func close(code: UInt16, reason: String) {
        guard state == .open, !conn.isClosed else { return }
        state = .closing
        conn.queue { WebSocketFrameEncoder.append(&$0, .close, WebSocketFrameEncoder.closePayload(code, reason)) }
        conn.deadline = conn.loop.now + timeouts.closeTimeoutMillis
        conn.flush()
    }

    // MARK: In

    func feed(_ bytes: UnsafeRawBufferPointer) {
        guard state != .closed else { return }
        lastHeard = conn.loop.now
        pingOutstanding = false
        let events: [WebSocketEvent]
        do throws(WebSocketProtocolError) { events = try parser.feed(bytes) } catch {
            account()
            if state == .open { close(code: error.closeCode, reason: error.message) } else { shut() }
            return
        }
        if !account() { return }
        if state == .open { conn.deadline = lastHeard + timeouts.pingIntervalMillis }
        defer {
            // A violation behind the events of this read: they were delivered, now the connection ends.
            if let f = parser.failure, state == .open, !conn.isClosed { close(code: f.closeCode, reason: f.message) }
        }
        for e in events {
            guard state != .closed, !conn.isClosed else { return }
            switch e {
            case .text(let m):
                lastMessage = lastHeard
                if state == .open { delegate?.webSocket(self, text: m) }
            case .binary(let m):
                lastMessage = lastHeard
                if state == .open { delegate?.webSocket(self, binary: m) }
            case .ping(let payload):
                // §5.5.2: answered with the same body, unless our close has been sent.
                if state == .open {
                    conn.queue { WebSocketFrameEncoder.append(&$0, .pong, payload) }
                    conn.scheduleFlush()
                }
            case .pong:
                break
            case .close(let code, _):
                if state == .open {
                    // Echo the code (§5.5.1), then close once it is out: the client sends nothing after its close.
                    state = .closing
                    let reply = code.map { WebSocketFrameEncoder.closePayload($0 == 1005 ? 1000 : $0, "") } ?? []
                    conn.queue { WebSocketFrameEncoder.append(&$0, .close, reply) }
                    closeWhenDrained = true
                    conn.flush()
                    if !conn.isClosed && conn.outBytes == 0 { shut() }
                } else {
                    shut()   // the answer to our close
                }
                return
            }
        }
    }

    /// Hold the parser's bytes among the server's buffered bytes; false (and the socket closing with 1013)
    /// when the server holds too much already.
    @discardableResult private func account() -> Bool {
        let now = parser.heldBytes
        let delta = now - held
        if delta > 0 && delta > conn.config.maxBufferedBytes - conn.buffered.total {
            conn.buffered.total -= held
            held = 0
            if state == .open { close(code: WebSocketCloseCode.tryAgainLater, reason: "the server holds too many messages at the moment; retry shortly") }
            return false
        }
        conn.buffered.total += delta
        held = now
        return true
    }

    // MARK: Clocks

    func timedOut() {
        let now = conn.loop.now
        switch state {
        case .closed: return
        case .closing: shut(); return
        case .open:
            if pingOutstanding && now - lastHeard >= timeouts.pongTimeoutMillis { shut(); return }
            if !busy && now - lastMessage >= timeouts.idleTimeoutMillis {
                close(code: WebSocketCloseCode.normal, reason: "idle for \(timeouts.idleTimeoutMillis / 1000) s")
                return
            }
            if !pingOutstanding {
                pingOutstanding = true
                conn.queue { WebSocketFrameEncoder.append(&$0, .ping, EmptyCollection<UInt8>()) }
                conn.scheduleFlush()
                conn.deadline = now + timeouts.pongTimeoutMillis
            } else {
                conn.deadline = lastHeard + timeouts.pongTimeoutMillis
            }
        }
    }

    // MARK: From the connection (HTTPResponseProducer of the upgraded response)

    public func drained() {
        if closeWhenDrained { shut(); return }
        if state == .open { delegate?.webSocketDrained(self) }
    }

    public func clientGone() { ended() }

    /// Close the socket now.
    private func shut() {
        conn.close()
        ended()
    }

    /// The connection is gone: release what it held and tell the application, once.
    func ended() {
        guard state != .closed else { return }
        state = .closed
        if held != 0 { conn.buffered.total -= held; held = 0 }
        let d = delegate
        delegate = nil
        d?.webSocketClosed(self)
    }
}
