import Glibc
import ProxyPoolHTTPWire
internal import CShims
import ProxyPoolSystem

public struct HTTPServerConfig: Sendable {
    public var limits = HTTPLimits()
    /// Time allowed from a request's first byte until its head is complete.
    public var headerTimeoutMillis: Int64 = 10_000
    /// A request body must make progress at least this often. It is also the grace period after which
    /// `bodyMinBytesPerSecond` applies.
    public var bodyTimeoutMillis: Int64 = 10_000
    /// After the first `bodyTimeoutMillis`, a body must have arrived at this average rate at least (0: no
    /// minimum): a client sending a byte now and then must not hold its connection and buffer for hours.
    public var bodyMinBytesPerSecond = 1024
    /// A new connection that has sent nothing, and a keep-alive connection idle between requests, is closed
    /// after this.
    public var idleTimeoutMillis: Int64 = 10_000
    /// A client that takes none of the output waiting for it for this long is disconnected, and the producer
    /// of the response told (a paused upstream transfer would otherwise wait for it forever).
    public var sendTimeoutMillis: Int64 = 60_000
    public var maxConnections = 1024
    /// Request bytes all connections may hold at once: bodies being received, and those of requests being
    /// served. A new body that would go beyond it is refused with 503.
    public var maxBufferedBytes = 256 << 20
    /// Output queued for a slow client beyond which the producer is asked to pause.
    public var highWaterBytes = 1 << 20
    public init() {}
}

public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    /// A request made inside the daemon (the dashboard's chat goes through the proxy as a client's would).
    public init(head: HTTPRequestHead, body: [UInt8]) { self.head = head; self.body = body }
}

/// An answer the handler gives a request from its head alone (see `HTTPHandler.admit`).
public struct HTTPRejection {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public init(status: Int, headers: [(String, String)], body: [UInt8]) { self.status = status; self.headers = headers; self.body = body }
}

/// Application side of the server. Called on the loop thread; answers through the writer, now or later.
public protocol HTTPHandler: AnyObject {
    /// Called as soon as a request's head is parsed, before its body is read and before `100 Continue` is
    /// sent: a request refused here (a client that may not use the server at all) is answered at once and its
    /// connection closed, so that nobody unknown makes the server hold a body. Only a body that came with the
    /// head, or a small one (at most 64 KiB, without `Expect`) still on its way, is read, and the connection
    /// kept.
    func admit(_ head: HTTPRequestHead) -> HTTPRejection?
    func handle(_ request: HTTPRequest, _ response: HTTPResponseWriter)
    /// A request the server refused before the application saw it (malformed, too large, timed out).
    func rejected(_ error: HTTPParseError, head: HTTPRequestHead?) -> (headers: [(String, String)], body: [UInt8])
}

extension HTTPHandler {
    public func admit(_ head: HTTPRequestHead) -> HTTPRejection? { nil }
}

/// Listens on one socket and runs HTTP/1.1 connections on the event loop.
public final class HTTPServer: @unchecked Sendable {
    let loop: EventLoop
    let listenFD: Int32
    let config: HTTPServerConfig
    /// Strong: a weak reference would give the handler a side table, and every retain and release of it (an
    /// exchange holds it) would take the slow path. The handler does not hold the server.
    let handler: HTTPHandler
    var connections: [Int32: HTTPConnection] = [:]
    private(set) var accepting = true
    /// The earliest connection deadline: connections are walked when it falls due, not on every turn.
    let deadlines = DeadlineTracker()
    /// Shared by the connections (see `ReadBuffer`).
    let readBuffer = ReadBuffer()
    /// Request bytes held by all connections (see `HTTPServerConfig.maxBufferedBytes`).
    let buffered = BufferedBytes()
    /// A descriptor kept in reserve (/dev/null): when the process runs out, it is given up for a moment to
    /// accept a waiting client and tell it 503, rather than leave the client unanswered and the listening
    /// socket readable, which would spin the loop (nginx does the same).
    private var spareFD: Int32 = -1
    /// While set, the listening socket is out of the loop's interest (accepting failed for want of resources).
    private var acceptResumesAt: Int64?
    static let acceptPauseMillis: Int64 = 100

    public init(loop: EventLoop, listenFD: Int32, config: HTTPServerConfig, handler: HTTPHandler) {
        self.loop = loop; self.listenFD = listenFD; self.config = config; self.handler = handler
    }

    /// Start accepting (call on the loop thread, or before the loop runs).
    public func start() {
        _ = cshims_set_nonblocking(listenFD)
        spareFD = Self.openSpare()
        loop.register(listenFD, EventLoop.readable) { [unowned self] _ in acceptAll() }
        loop.addTicker { [unowned self] now in sweep(now) }
    }

    /// Stop accepting; open connections finish their current exchange.
    public func stopAccepting() {
        guard accepting else { return }
        accepting = false
        loop.unregister(listenFD)
        close(listenFD)
        if spareFD >= 0 { close(spareFD); spareFD = -1 }
        for c in connections.values where c.isIdle {
            // A WebSocket between turns is told why (1001); one in a turn is, once the turn ends.
            if let ws = c.webSocket { ws.goAway() } else { c.close() }
        }
    }

    public var busyConnections: Int { connections.values.filter { !$0.isIdle }.count }

    private static func openSpare() -> Int32 { open("/dev/null", O_RDONLY | O_CLOEXEC) }

    private func acceptAll() {
        while accepting && acceptResumesAt == nil {
            let fd = cshims_accept(listenFD, 1)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED, EPROTO: continue
                case EAGAIN, EWOULDBLOCK: return
                case EMFILE, ENFILE:
                    // accept fails so whether or not a client waits: stop once the backlog is empty.
                    switch refuseWithSpareDescriptor() {
                    case .refusedOne: continue
                    case .noneWaiting: return
                    case .impossible: pauseAccepting(); return
                    }
                default: pauseAccepting(); return   // ENOBUFS, ENOMEM: retrying at once would only spin
                }
            }
            if connections.count >= config.maxConnections {
                // Over the limit: refuse at once rather than let a flood starve the clients already served.
                refuseAtOnce(fd)
                continue
            }
            cshims_set_nodelay(fd)
            let c = HTTPConnection(fd: fd, server: self)
            connections[fd] = c
            c.start()
        }
    }

    private enum SpareOutcome { case refusedOne, noneWaiting, impossible }

    /// Out of descriptors: take one waiting client with the spare descriptor and tell it 503. Impossible
    /// without a spare, or when the accept fails even so (another thread took the descriptor): then
    /// accepting pauses.
    private func refuseWithSpareDescriptor() -> SpareOutcome {
        guard spareFD >= 0 else { spareFD = Self.openSpare(); return .impossible }
        close(spareFD)
        let fd = cshims_accept(listenFD, 1)
        let acceptErrno = errno
        if fd >= 0 { refuseAtOnce(fd) }
        spareFD = Self.openSpare()
        if fd >= 0 { return .refusedOne }
        return acceptErrno == EAGAIN || acceptErrno == EWOULDBLOCK ? .noneWaiting : .impossible
    }

    private func refuseAtOnce(_ fd: Int32) {
        let msg = Self.serviceUnavailable
        _ = msg.withUnsafeBytes { send(fd, $0.baseAddress, msg.count, Int32(MSG_NOSIGNAL)) }
        Glibc.close(fd)
    }

    private static let serviceUnavailable = Array("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 1\r\n\r\n".utf8)

    /// Leave the listening socket out of the loop's interest for a while: it stays readable while accepting
    /// fails, and the loop would go round without pause.
    private func pauseAccepting() {
        guard acceptResumesAt == nil else { return }
        acceptResumesAt = loop.now + Self.acceptPauseMillis
        loop.modify(listenFD, 0)
    }

    private func sweep(_ now: Int64) -> Int {
        var wait = Int64(1000)
        if let resume = acceptResumesAt {
            if now >= resume {
                acceptResumesAt = nil
                if accepting { loop.modify(listenFD, EventLoop.readable) }
            } else { wait = resume - now }
        }
        guard now >= deadlines.next else { return Int(min(wait, deadlines.next - now)) }
        deadlines.next = Int64.max
        for c in connections.values {
            if let d = c.deadline {
                if d <= now { c.timedOut() } else { deadlines.note(d) }
            }
            if c.sendDeadline != Int64.max && !c.isClosed {
                if c.sendDeadline <= now { c.sendTimedOut() } else { deadlines.note(c.sendDeadline) }
            }
        }
        return Int(max(0, min(wait, deadlines.next - now)))
    }

    func closed(_ c: HTTPConnection) { connections[c.fd] = nil }
}

/// The earliest deadline of a server's connections (shared with them: no reference back to the server).
final class DeadlineTracker {
    var next = Int64.max
    @inline(__always) func note(_ d: Int64) { if d < next { next = d } }
}

/// Request bytes held by a server's connections, shared with them like `DeadlineTracker`.
final class BufferedBytes {
    var total = 0
}
