import Glibc
import ProxyPoolHTTPWire
internal import CShims
import ProxyPoolSystem

/// One client connection: read and parse a request, hand it over, write the response, repeat (keep-alive).
final class HTTPConnection: LoopSoon, LoopAfterEvent {
    let fd: Int32
    unowned let server: HTTPServer
    /// The server's loop and settings, held here: the server is reached through an unowned reference, which
    /// costs a checked retain on every use.
    let loop: EventLoop
    let config: HTTPServerConfig
    private let deadlines: DeadlineTracker
    let buffered: BufferedBytes
    let handler: HTTPHandler
    var parser: HTTPRequestParser
    /// When the request phase at hand (idle, head, body, lingering close) runs out.
    var deadline: Int64? { didSet { if let d = deadline { deadlines.note(d) } } }
    /// While output waits for the client: when it must have taken some more (`HTTPServerConfig.sendTimeoutMillis`).
    private(set) var sendDeadline = Int64.max
    /// Output not yet taken by the socket: `out[outOffset...]`. One contiguous buffer, so a response's head and
    /// its first body bytes (and any pieces queued between two flushes) leave in one send.
    private var out: [UInt8] = []
    private var outOffset = 0
    var outBytes: Int { out.count - outOffset }
    private var writeRegistered = false
    /// Whether the loop watches the socket for input. Dropped while a request is served and the client sends
    /// more (level-triggered epoll would report those bytes on every turn, spinning the loop); hang-ups are
    /// still reported.
    private var readInterest = true
    private var closed = false
    /// A request is with the handler (or its response is being written).
    private(set) var busy = false
    var current: HTTPResponseWriter?
    private var closeAfterResponse = false
    /// The client may still be sending when the connection is to close (a request refused before its body was
    /// read): close only after its bytes have been read away for a while, since closing with unread input
    /// sends a reset, which can destroy the answer before the client has read it.
    private var lingerOnClose = false
    private var lingering = false
    static let lingerMillis: Int64 = 5_000
    /// The body being received: when it started, how many bytes came since, and how many of the server's
    /// buffered bytes this connection holds.
    private var bodyStartedAt: Int64 = 0
    private var bodyReceived = 0
    private var reservedBytes = 0
    private var pendingHead: HTTPRequestHead?
    /// The answer to a refused request whose small body is still being read (see `smallBodyBytes`).
    private var heldRejection: HTTPRejection?
    /// The server's one read buffer: what a read brings is copied into the parser before anything else runs.
    private let readBuffer: ReadBuffer
    /// After a `101 Switching Protocols`: the WebSocket this connection now carries (WebSocketChannel).
    private(set) var webSocket: WebSocketChannel?

    init(fd: Int32, server: HTTPServer) {
        self.fd = fd
        self.server = server
        loop = server.loop
        config = server.config
        deadlines = server.deadlines
        buffered = server.buffered
        handler = server.handler
        readBuffer = server.readBuffer
        parser = HTTPRequestParser(limits: server.config.limits)
    }

    /// A WebSocket counts as idle between turns: shutting down does not wait for it (it is told 1001).
    var isIdle: Bool { lingering || (!busy && parser.isIdle) || (webSocket.map { !$0.busy } ?? false) }

    func start() {
        deadline = loop.now + config.idleTimeoutMillis
        // unowned(unsafe): no reference counting per event. Safe: close() unregisters the handler before the
        // server lets the connection go, and the loop looks a handler up by fd for every event.
        loop.register(fd, EventLoop.readable | EventLoop.peerClosed) { [unowned(unsafe) self] ev in onEvents(ev) }
    }

    private var interest: UInt32 {
        (readInterest ? EventLoop.readable : 0) | EventLoop.peerClosed | (writeRegistered ? EventLoop.writable : 0)
    }

    private func onEvents(_ ev: UInt32) {
        if ev & EventLoop.hangup != 0 { clientGone(); return }
        if lingering { discardInput(); return }
        if ev & EventLoop.writable != 0 { flush() }
        if closed { return }
        if busy || closeAfterResponse {
            // While a response is in progress only a hang-up matters; pipelined bytes wait in the socket, out of
            // the loop's interest until the response is done.
            if ev & EventLoop.peerClosed != 0 { clientGone(); return }
            if readInterest && ev & EventLoop.readable != 0 { readInterest = false; loop.modify(fd, interest) }
            return
        }
        if ev & EventLoop.readable != 0 || ev & EventLoop.peerClosed != 0 { readAvailable() }
    }

    private func readAvailable() {
        while !closed && !busy {
            let n = Posix.uninterrupted { recv(fd, readBuffer.bytes, ReadBuffer.size, 0) }
            if n > 0 {
                if parser.isIdle { deadline = loop.now + config.headerTimeoutMillis }
                else if pendingHead != nil && !bodyProgress(n) { return }
                process(UnsafeRawBufferPointer(start: readBuffer.bytes, count: n))
            } else if n == 0 {
                clientGone(); return
            } else {
                if errno != EAGAIN && errno != EWOULDBLOCK { clientGone() }
                return
            }
        }
    }

    private func process(_ bytes: some Collection<UInt8>) {
        let events: [HTTPRequestParser.Event]
        do { events = try parser.feed(bytes) } catch {
            refuse(error, head: error.head ?? pendingHead)
            return
        }
        for e in events {
            switch e {
            case .head(let head):
                // The parser stops after one request: a body that came with the head completes in this batch.
                let bodyArrived: Bool
                if case .complete = events[events.count - 1] { bodyArrived = true } else { bodyArrived = false }
                if let rejection = handler.admit(head) {
                    if !bodyArrived && head.header("expect") == nil, let n = Self.contentLength(head), n <= Self.smallBodyBytes {
                        // A small body on its way (a request split across two reads): read it and answer on the
                        // kept connection, so that the client's pipeline stays in order, at the cost of a read.
                        heldRejection = rejection
                        startBodyClock()
                        pendingHead = head
                        continue
                    }
                    answerRefused(status: rejection.status, headers: rejection.headers, body: rejection.body, head: head, close: !bodyArrived)
                    return
                }
                if let expect = head.header("expect") {
                    guard expect.lowercased() == "100-continue" else {
                        refuse(HTTPParseError(417, "unsupported Expect: \(expect)"), head: head)
                        return
                    }
                }
                if !bodyArrived && !startBody(head) { return }
                pendingHead = head
            case .complete(let body):
                guard let head = pendingHead else { return }
                pendingHead = nil
                if let r = heldRejection {
                    answerRefused(status: r.status, headers: r.headers, body: r.body, head: head, close: false)
                    return
                }
                dispatch(HTTPRequest(head: head, body: body))
                return
            }
        }
    }

    /// The head of a request whose body is still to come: room for the body among the server's buffered
    /// bytes, the go-ahead the client may wait for, and the body's clock.
    private func startBody(_ head: HTTPRequestHead) -> Bool {
        // The parser has checked Content-Length (digits, at most max-body-bytes); a chunked body claims its
        // room as it arrives.
        guard reserve(Self.contentLength(head) ?? 0, for: head) else { return false }
        if head.minorVersion == 1, let expect = head.header("expect"), expect.lowercased() == "100-continue" {
            queue(Self.continueLine)
            flush()
        }
        startBodyClock()
        return true
    }

    private func startBodyClock() {
        bodyStartedAt = loop.now
        bodyReceived = 0
        deadline = loop.now + config.bodyTimeoutMillis
    }

    static func contentLength(_ head: HTTPRequestHead) -> Int? { head.header("content-length").flatMap { Int($0) } }

    /// The largest body still read for a request refused by its head, rather than closing the connection.
    static let smallBodyBytes = 65536

    private static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// `n` more bytes of a body: they hold room among the buffered bytes, and push the body's deadline out, to
    /// no later than the minimum rate allows. False when the request was refused.
    private func bodyProgress(_ n: Int) -> Bool {
        bodyReceived += n
        if bodyReceived > reservedBytes && !reserve(bodyReceived - reservedBytes, for: pendingHead) { return false }
        var d = loop.now + config.bodyTimeoutMillis
        if config.bodyMinBytesPerSecond > 0 {
            d = min(d, bodyStartedAt + config.bodyTimeoutMillis + Int64(bodyReceived) * 1000 / Int64(config.bodyMinBytesPerSecond))
        }
        deadline = d
        return true
    }

    /// Take `n` more of the server's buffered bytes for this connection's request, or refuse the request with 503.
    private func reserve(_ n: Int, for head: HTTPRequestHead?) -> Bool {
        if n > config.maxBufferedBytes - buffered.total {
            refuse(HTTPParseError(503, "the server holds too many request bodies at the moment; retry shortly"), head: head,
                   extraHeaders: [("Retry-After", "1")])
            return false
        }
        buffered.total += n
        reservedBytes += n
        return true
    }

    private func releaseReserved() {
        buffered.total -= reservedBytes
        reservedBytes = 0
    }

    private func dispatch(_ request: HTTPRequest) {
        busy = true
        deadline = nil
        // The body is held until the response is done (the handler keeps it to retry): it counts till then.
        if request.body.count > reservedBytes { buffered.total += request.body.count - reservedBytes; reservedBytes = request.body.count }
        closeAfterResponse = !request.head.keepAlive
        let writer = HTTPResponseWriter(connection: self, head: request.head)
        current = writer
        handler.handle(request, writer)
    }

    /// Called by the writer when the response is complete.
    func responseFinished(keepAlive: Bool) {
        current = nil
        busy = false
        if reservedBytes != 0 { releaseReserved() }
        if !keepAlive || closeAfterResponse { closeAfterResponse = true; if outBytes == 0 { closeAfterAnswer() }; return }
        parser.reset()
        deadline = loop.now + config.idleTimeoutMillis
        // The next request is taken up at the next turn of the loop, never from inside this call: an answer
        // written at once would otherwise nest request in request until the stack overflows.
        loop.soon(self)
    }

    func runSoon() { continueReading() }

    func continueReading() {
        guard !closed && !busy else { return }
        if !readInterest { readInterest = true; loop.modify(fd, interest) }
        if !parser.leftover.isEmpty {
            deadline = loop.now + config.headerTimeoutMillis
            process(EmptyCollection<UInt8>())   // parse what is already buffered (pipelined)
        }
        if !closed && !busy { readAvailable() }
    }

    private func refuse(_ error: HTTPParseError, head: HTTPRequestHead?, extraHeaders: [(String, String)] = []) {
        let (headers, body) = handler.rejected(error, head: head)
        answerRefused(status: error.status, headers: headers + extraHeaders, body: body, head: head, close: true)
    }

    /// Answer a request the server or the handler refused; `close`: the connection closes after the answer,
    /// which says so.
    private func answerRefused(status: Int, headers: [(String, String)], body: [UInt8], head: HTTPRequestHead?, close: Bool) {
        busy = true
        pendingHead = nil
        heldRejection = nil
        deadline = nil
        if close { closeAfterResponse = true; lingerOnClose = true }
        let writer = HTTPResponseWriter(connection: self, head: head)
        writer.closesConnection = close
        current = writer
        writer.respond(status: status, headers: headers, body: body)
    }

    func timedOut() {
        if lingering { close(); return }
        deadline = nil
        if let ws = webSocket { ws.timedOut(); return }
        // Output waiting for the client is watched by the send deadline.
        if busy || closeAfterResponse { return }
        if parser.isIdle {
            if outBytes == 0 { close() }   // an idle keep-alive connection; else its idle clock starts once drained
            return
        }
        refuse(HTTPParseError(408, "the request was not received in time"), head: pendingHead)
    }

    /// The client took none of its output for `sendTimeoutMillis`: it is gone as far as we are concerned.
    func sendTimedOut() { clientGone() }

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

    /// Send the queued output once the event at hand has been handled (see `EventLoop.afterEvent`).
    func scheduleFlush() {
        guard !closed, !flushScheduled else { return }
        flushScheduled = true
        loop.afterEvent(self)
    }

    func runAfterEvent() {
        flushScheduled = false
        if !closed && outBytes > 0 { flush() }
    }

    /// Write as much as the socket takes; the rest waits for EPOLLOUT.
    func flush() {
        let before = outOffset
        while !closed && outOffset < out.count {
            let n = Posix.uninterrupted { out.withUnsafeBytes { send(fd, $0.baseAddress! + outOffset, $0.count - outOffset, Int32(MSG_NOSIGNAL)) } }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                clientGone(); return
            }
            outOffset += n
        }
        if closed { return }
        let progressed = outOffset != before
        if outOffset == out.count {
            // All sent: keep a small buffer for the next response, give a large one back.
            if out.capacity > 1 << 14 { out = [] } else { out.removeAll(keepingCapacity: true) }
            outOffset = 0
        } else if outOffset >= 1 << 16 && outOffset * 2 >= out.count {
            out.removeFirst(outOffset)   // a slow client: drop what was sent so the buffer does not only grow
            outOffset = 0
        }
        let want = outOffset < out.count
        if want && (progressed || !writeRegistered) {
            sendDeadline = loop.now + config.sendTimeoutMillis
            deadlines.note(sendDeadline)
        }
        if want != writeRegistered {
            writeRegistered = want
            loop.modify(fd, interest)
            if !want {
                sendDeadline = Int64.max
                // Drained after the response finished: the connection's idle clock starts now.
                if !busy && !closeAfterResponse && deadline == nil && parser.isIdle { deadline = loop.now + config.idleTimeoutMillis }
            }
        }
        if !want {
            if closeAfterResponse && !busy { closeAfterAnswer(); return }
            current?.drained()
        }
    }

    /// The answer is out and the connection is to close: at once, or after a lingering close.
    private func closeAfterAnswer() {
        guard lingerOnClose else { close(); return }
        lingering = true
        _ = shutdown(fd, Int32(SHUT_WR))
        sendDeadline = Int64.max
        deadline = loop.now + Self.lingerMillis
        if !readInterest { readInterest = true; loop.modify(fd, interest) }
        discardInput()
    }

    /// Read and drop what the client still sends, until it closes (or the linger deadline passes).
    private func discardInput() {
        while !closed {
            let n = Posix.uninterrupted { recv(fd, readBuffer.bytes, ReadBuffer.size, 0) }
            if n > 0 { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            close()
        }
    }

    private func clientGone() {
        let w = current
        // A WebSocket's channel is the upgraded writer's (unowned) producer: held until it has been told.
        let ws = webSocket
        close()
        withExtendedLifetime(ws) { w?.clientGone() }
    }

    func close() {
        guard !closed else { return }
        closed = true
        current = nil   // the writer holds the connection: no cycle once closed
        loop.unregister(fd)
        Glibc.close(fd)
        out = []
        outOffset = 0
        sendDeadline = Int64.max
        if reservedBytes != 0 { releaseReserved() }
        webSocket = nil   // it holds the connection: no cycle once closed (it has been told, or is telling itself)
        server.closed(self)
    }

    // MARK: WebSocket

    /// The handshake's answer is queued: from now on this connection speaks RFC 6455. The upgraded response's
    /// writer stays `current` (its producer is the channel: drained output and a vanished client reach it as
    /// they reach a streamed response's producer), and the loop's handler for the socket becomes the
    /// WebSocket reader, so the HTTP path's handler carries no check for it.
    func switchToWebSocket(_ ws: WebSocketChannel) {
        webSocket = ws
        pendingHead = nil
        deadline = loop.now + ws.timeouts.pingIntervalMillis
        readInterest = true
        loop.unregister(fd)
        loop.register(fd, interest) { [unowned(unsafe) self] ev in webSocketEvents(ev) }
        // Frames the client sent right behind its handshake (it may, before it reads the 101).
        let early = parser.leftover
        parser = HTTPRequestParser(limits: config.limits)
        if !early.isEmpty { early.withUnsafeBytes { ws.feed($0) } }
    }

    private func webSocketEvents(_ ev: UInt32) {
        if ev & EventLoop.hangup != 0 { clientGone(); return }
        if ev & EventLoop.writable != 0 { flush() }
        if closed { return }
        if ev & (EventLoop.readable | EventLoop.peerClosed) != 0 { readWebSocket() }
    }

    private func readWebSocket() {
        while !closed, let ws = webSocket {
            let n = Posix.uninterrupted { recv(fd, readBuffer.bytes, ReadBuffer.size, 0) }
            if n > 0 {
                ws.feed(UnsafeRawBufferPointer(start: readBuffer.bytes, count: n))
            } else if n == 0 {
                clientGone(); return   // closed without a close frame: the application hears of it as a hang-up
            } else {
                if errno != EAGAIN && errno != EWOULDBLOCK { clientGone() }
                return
            }
        }
    }

    var isClosed: Bool { closed }
}

/// One read buffer for all of a server's connections. The loop is one thread and a read is parsed (copied into
/// the connection's parser) before the next read, so connections need no buffer of their own: 64 KiB each was
/// most of the daemon's memory under load, and a heap churned by them for every new connection grew.
final class ReadBuffer {
    static let size = 65536
    let bytes = UnsafeMutableRawPointer.allocate(byteCount: ReadBuffer.size, alignment: 16)
    deinit { bytes.deallocate() }
}
