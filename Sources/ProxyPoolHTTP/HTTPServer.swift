import Glibc
import CShims
import ProxyPoolSystem

public struct HTTPServerConfig: Sendable {
    public var limits = HTTPLimits()
    /// Time allowed from a request's first byte until its head is complete.
    public var headerTimeoutMillis: Int64 = 10_000
    /// Time allowed to receive a request's body.
    public var bodyTimeoutMillis: Int64 = 120_000
    /// An idle keep-alive connection is closed after this.
    public var idleTimeoutMillis: Int64 = 75_000
    public var maxConnections = 1024
    /// Output queued for a slow client beyond which the producer is asked to pause.
    public var highWaterBytes = 1 << 20
    public init() {}
}

public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
}

/// Application side of the server. Called on the loop thread; answers through the writer, now or later.
public protocol HTTPHandler: AnyObject {
    func handle(_ request: HTTPRequest, _ response: HTTPResponseWriter)
    /// A request the server refused before the application saw it (malformed, too large, timed out).
    func rejected(_ error: HTTPParseError, head: HTTPRequestHead?) -> (headers: [(String, String)], body: [UInt8])
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
    private var accepting = true
    /// The earliest connection deadline: connections are walked when it falls due, not on every turn.
    let deadlines = DeadlineTracker()

    public init(loop: EventLoop, listenFD: Int32, config: HTTPServerConfig, handler: HTTPHandler) {
        self.loop = loop; self.listenFD = listenFD; self.config = config; self.handler = handler
    }

    /// Start accepting (call on the loop thread, or before the loop runs).
    public func start() {
        _ = cshims_set_nonblocking(listenFD)
        loop.register(listenFD, EventLoop.readable) { [unowned self] _ in acceptAll() }
        loop.addTicker { [unowned self] now in sweep(now) }
    }

    /// Stop accepting; open connections finish their current exchange.
    public func stopAccepting() {
        guard accepting else { return }
        accepting = false
        loop.unregister(listenFD)
        close(listenFD)
        for c in connections.values where c.isIdle { c.close() }
    }

    public var busyConnections: Int { connections.values.filter { !$0.isIdle }.count }

    private func acceptAll() {
        while accepting {
            let fd = cshims_accept(listenFD, 1)
            if fd < 0 { return }
            if connections.count >= config.maxConnections {
                // Over the limit: refuse at once rather than let a flood starve the clients already served.
                let msg = Array("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 1\r\n\r\n".utf8)
                _ = msg.withUnsafeBytes { send(fd, $0.baseAddress, msg.count, Int32(MSG_NOSIGNAL)) }
                Glibc.close(fd)
                continue
            }
            cshims_set_nodelay(fd)
            let c = HTTPConnection(fd: fd, server: self)
            connections[fd] = c
            c.start()
        }
    }

    private func sweep(_ now: Int64) -> Int {
        guard now >= deadlines.next else { return Int(min(1000, deadlines.next - now)) }
        deadlines.next = Int64.max
        for c in connections.values {
            if let d = c.deadline {
                if d <= now { c.timedOut() } else { deadlines.note(d) }
            }
        }
        return Int(max(0, min(1000, deadlines.next - now)))
    }

    func closed(_ c: HTTPConnection) { connections[c.fd] = nil }
}

/// The earliest deadline of a server's connections (shared with them: no reference back to the server).
final class DeadlineTracker {
    var next = Int64.max
    @inline(__always) func note(_ d: Int64) { if d < next { next = d } }
}

/// One client connection: read and parse a request, hand it over, write the response, repeat (keep-alive).
final class HTTPConnection {
    let fd: Int32
    unowned let server: HTTPServer
    /// The server's loop and settings, held here: the server is reached through an unowned reference, which
    /// costs a checked retain on every use.
    let loop: EventLoop
    let config: HTTPServerConfig
    private let deadlines: DeadlineTracker
    let handler: HTTPHandler
    var parser: HTTPRequestParser
    var deadline: Int64? { didSet { if let d = deadline { deadlines.note(d) } } }
    var deadlineStatus = 408
    /// Output not yet taken by the socket: `out[outOffset...]`. One contiguous buffer, so a response's head and
    /// its first body bytes (and any pieces queued between two flushes) leave in one send.
    private var out: [UInt8] = []
    private var outOffset = 0
    var outBytes: Int { out.count - outOffset }
    private var writeRegistered = false
    private var closed = false
    /// A request is with the handler (or its response is being written).
    private(set) var busy = false
    var current: HTTPResponseWriter?
    private var closeAfterResponse = false
    private var readBuf = [UInt8](repeating: 0, count: 65536)

    init(fd: Int32, server: HTTPServer) {
        self.fd = fd
        self.server = server
        loop = server.loop
        config = server.config
        deadlines = server.deadlines
        handler = server.handler
        parser = HTTPRequestParser(limits: server.config.limits)
    }

    var isIdle: Bool { !busy && parser.isIdle }

    func start() {
        deadline = loop.now + config.idleTimeoutMillis
        // unowned(unsafe): no reference counting per event. Safe: close() unregisters the handler before the
        // server lets the connection go, and the loop looks a handler up by fd for every event.
        loop.register(fd, EventLoop.readable | EventLoop.peerClosed) { [unowned(unsafe) self] ev in onEvents(ev) }
    }

    private func onEvents(_ ev: UInt32) {
        if ev & EventLoop.hangup != 0 { clientGone(); return }
        if ev & EventLoop.writable != 0 { flush() }
        if closed { return }
        if busy {
            // While a response is in progress only a hang-up matters; pipelined bytes wait in the socket.
            if ev & EventLoop.peerClosed != 0 { clientGone() }
            return
        }
        if ev & EventLoop.readable != 0 || ev & EventLoop.peerClosed != 0 { readAvailable() }
    }

    private func readAvailable() {
        while !closed && !busy {
            let n = recv(fd, &readBuf, readBuf.count, 0)
            if n > 0 {
                if parser.isIdle { deadline = loop.now + config.headerTimeoutMillis; deadlineStatus = 408 }
                process(readBuf[0..<n])
            } else if n == 0 {
                clientGone(); return
            } else {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK { clientGone() }
                return
            }
        }
    }

    private func process(_ bytes: ArraySlice<UInt8>) {
        let events: [HTTPRequestParser.Event]
        do { events = try parser.feed(bytes) } catch {
            refuse(error, head: error.head)
            return
        }
        for e in events {
            switch e {
            case .head(let head):
                deadline = loop.now + config.bodyTimeoutMillis
                if let expect = head.header("expect") {
                    if expect.lowercased() == "100-continue" {
                        // Only when the body is still to come: a client that sent it already needs no go-ahead.
                        let bodyArrived = events.contains { if case .complete = $0 { return true }; return false }
                        if !bodyArrived && head.minorVersion == 1 { queue(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)); flush() }
                    } else {
                        refuse(HTTPParseError(417, "unsupported Expect: \(expect)"), head: head)
                        return
                    }
                }
                pendingHead = head
            case .complete(let body):
                guard let head = pendingHead else { return }
                pendingHead = nil
                dispatch(HTTPRequest(head: head, body: body))
                return
            }
        }
    }

    private var pendingHead: HTTPRequestHead?

    private func dispatch(_ request: HTTPRequest) {
        busy = true
        deadline = nil
        closeAfterResponse = !request.head.keepAlive
        let writer = HTTPResponseWriter(connection: self, head: request.head)
        current = writer
        handler.handle(request, writer)
    }

    /// Called by the writer when the response is complete.
    func responseFinished(keepAlive: Bool) {
        current = nil
        busy = false
        if !keepAlive || closeAfterResponse { closeAfterResponse = true; if outBytes == 0 { close() }; return }
        parser.reset()
        deadline = loop.now + config.idleTimeoutMillis
        // The next request is taken up at the next turn of the loop, never from inside this call: an answer
        // written at once would otherwise nest request in request until the stack overflows.
        loop.readSoon(self)
    }

    func continueReading() {
        guard !closed && !busy else { return }
        if !parser.leftover.isEmpty {
            deadline = loop.now + config.headerTimeoutMillis
            process([][...])   // parse what is already buffered (pipelined)
        }
        if !closed && !busy { readAvailable() }
    }

    private func refuse(_ error: HTTPParseError, head: HTTPRequestHead?) {
        busy = true
        closeAfterResponse = true
        let (headers, body) = handler.rejected(error, head: head)
        let writer = HTTPResponseWriter(connection: self, head: head)
        current = writer
        writer.respond(status: error.status, headers: headers, body: body)
    }

    func timedOut() {
        if busy { deadline = nil; return }
        if parser.isIdle { close(); return }   // idle keep-alive connection
        refuse(HTTPParseError(408, "the request was not received in time"), head: nil)
    }

    // MARK: Output

    func queue(_ bytes: some Collection<UInt8>) {
        guard !closed, !bytes.isEmpty else { return }
        out.append(contentsOf: bytes)
    }

    /// Queue with a closure that appends to the output buffer directly (no intermediate array).
    func queue(_ build: (inout [UInt8]) -> Void) {
        guard !closed else { return }
        build(&out)
    }

    private var flushScheduled = false

    /// Send the queued output once the event at hand has been handled (see `EventLoop.flushAfterEvent`).
    func scheduleFlush() {
        guard !closed, !flushScheduled else { return }
        flushScheduled = true
        loop.flushAfterEvent(self)
    }

    func runScheduledFlush() {
        flushScheduled = false
        if !closed && outBytes > 0 { flush() }
    }

    /// Write as much as the socket takes; the rest waits for EPOLLOUT.
    func flush() {
        while !closed && outOffset < out.count {
            let n = out.withUnsafeBytes { send(fd, $0.baseAddress! + outOffset, $0.count - outOffset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                clientGone(); return
            }
            outOffset += n
        }
        if closed { return }
        if outOffset == out.count {
            // All sent: keep a small buffer for the next response, give a large one back.
            if out.capacity > 1 << 14 { out = [] } else { out.removeAll(keepingCapacity: true) }
            outOffset = 0
        } else if outOffset >= 1 << 16 && outOffset * 2 >= out.count {
            out.removeFirst(outOffset)   // a slow client: drop what was sent so the buffer does not only grow
            outOffset = 0
        }
        let want = outOffset < out.count
        if want != writeRegistered {
            writeRegistered = want
            loop.modify(fd, EventLoop.readable | EventLoop.peerClosed | (want ? EventLoop.writable : 0))
        }
        if !want {
            if closeAfterResponse && !busy { close(); return }
            current?.drained()
        }
    }

    private func clientGone() {
        let w = current
        close()
        w?.clientGone()
    }

    func close() {
        guard !closed else { return }
        closed = true
        current = nil   // the writer holds the connection: no cycle once closed
        loop.unregister(fd)
        Glibc.close(fd)
        out = []
        outOffset = 0
        server.closed(self)
    }

    var isClosed: Bool { closed }
}
