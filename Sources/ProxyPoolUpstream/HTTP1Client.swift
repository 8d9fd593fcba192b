import Glibc
internal import CCurl
internal import CShims
import ProxyPoolHTTPWire
import ProxyPoolSystem

/// One request through our own client.
final class HTTP1Transfer: UpstreamTransfer {
    let target: UpstreamURL
    let method: String
    let caFile: String?
    /// Which pooled connections it may use (built once, looked up on every assignment).
    let poolKey: PoolKey
    /// The request as it goes on the wire (kept whole: a stale keep-alive connection means sending it again).
    let wire: [UInt8]
    var sent = 0
    var connection: HTTP1Connection?
    /// Which of the target's literal addresses is being tried.
    var addressIndex = 0
    /// Sent again on a fresh connection once already (after a reused one turned out closed).
    var retried = false
    /// Waiting for curl to connect (DNS, TCP, TLS) on a connector thread.
    var awaitingConnector = false
    let connectTimeoutMillis: Int64
    var connectDeadline: Int64 = 0
    let idleTimeoutMillis: Int64
    let totalDeadline: Int64?
    var lastActivity: Int64

    init(_ r: UpstreamRequest, target: UpstreamURL, wire: [UInt8], delegate: UpstreamDelegate, now: Int64) {
        self.target = target; method = r.method; self.wire = wire; caFile = r.caFile
        poolKey = PoolKey(origin: target.origin, caFile: r.caFile)
        connectTimeoutMillis = Int64(r.connectTimeoutMillis)
        idleTimeoutMillis = Int64(r.idleTimeoutSeconds) * 1000
        totalDeadline = r.totalTimeoutMillis.map { now + Int64($0) }
        lastActivity = now
        super.init(delegate: delegate, startedAt: now, firstByteTimeoutMillis: r.firstByteTimeoutMillis)
    }
}

/// One connection to an upstream: carrying a transfer, or idle in the pool. Plain TCP sockets are read and
/// written directly; a connection curl opened (TLS, or a host name to look up) is read and written through
/// curl_easy_recv / curl_easy_send, which add only TLS to the socket.
final class HTTP1Connection {
    let fd: Int32
    /// The curl handle that owns the connection (nil: our own socket).
    let easy: UnsafeMutableRawPointer?
    let tls: Bool
    /// Where it waits between requests.
    let pool: IdlePool
    /// TLS reads ahead: received bytes may wait in OpenSSL, where the socket does not signal them.
    var readAhead = false
    /// OpenSSL's session under curl, looked up once curl has the connection attached again (after the first
    /// send: a CONNECT_ONLY handle lets go of it when connected).
    private var tlsSession: UnsafeMutableRawPointer?
    var connecting: Bool
    /// Responses completed on it: a connection that served one may have been closed by the upstream since.
    var served = 0
    var transfer: HTTP1Transfer?
    var parser = HTTPResponseParser(requestMethod: "GET")
    /// The previous answer's header lines, parsed: most come back the same on the next (HeaderLineCache).
    let headerLines = HeaderLineCache()
    var idleSince: Int64 = 0
    var interest: UInt32 = 0
    var closed = false
    /// A write failed: whatever the answer says, this connection is not used again.
    var broken = false
    /// Out of epoll while its transfer is paused and the socket hung up (a hang-up is reported whatever the
    /// interest, so it would wake the loop again and again); back in on resume.
    var parked = false
    /// Read buffer: body pieces are handed on from here without a copy.
    let buffer: UnsafeMutableRawBufferPointer
    var readStart = 0
    var readEnd = 0
    static let bufferSize = 32 * 1024

    init(fd: Int32, easy: UnsafeMutableRawPointer?, tls: Bool, pool: IdlePool, connecting: Bool) {
        self.fd = fd; self.easy = easy; self.tls = tls; self.pool = pool; self.connecting = connecting
        buffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    enum IO { case bytes(Int), wouldBlock, closed, failed(String) }

    /// Whether TLS holds bytes read past what was taken; true when that cannot be known.
    var tlsHasPending: Bool {
        guard readAhead, let easy else { return false }
        if tlsSession == nil { tlsSession = ccurl_tls_session(easy) }
        guard let s = tlsSession else { return true }
        return ccurl_tls_has_pending(s) != 0
    }

    func send(_ p: UnsafeRawPointer, _ n: Int) -> IO {
        if tls, let easy {
            var sent = 0
            let rc = ccurl_easy_send(easy, p, n, &sent)
            if rc == CURLE_OK { return .bytes(sent) }
            return rc == CURLE_AGAIN ? .wouldBlock : .failed(String(cString: ccurl_easy_strerror(rc)))
        }
        let r = Posix.uninterrupted { Glibc.send(fd, p, n, Int32(MSG_NOSIGNAL)) }
        if r >= 0 { return .bytes(r) }
        return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed(String(cString: strerror(errno)))
    }

    func recv(_ p: UnsafeMutableRawPointer, _ n: Int) -> IO {
        if tls, let easy {
            var got = 0
            let rc = ccurl_easy_recv(easy, p, n, &got)
            if rc == CURLE_OK { return got == 0 ? .closed : .bytes(got) }
            return rc == CURLE_AGAIN ? .wouldBlock : .failed(String(cString: ccurl_easy_strerror(rc)))
        }
        let r = Posix.uninterrupted { Glibc.recv(fd, p, n, 0) }
        if r > 0 { return .bytes(r) }
        if r == 0 { return .closed }
        return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed(String(cString: strerror(errno)))
    }
}

/// Connections are shared by requests to the same origin that trust the same CA file.
struct PoolKey: Hashable {
    let origin: String
    let caFile: String?
}

/// The idle connections of one pool key, most recently used last. A class, so taking one out or putting one
/// back is one dictionary look-up or none (a connection knows its pool), never a copy of the list.
final class IdlePool {
    var connections: [HTTP1Connection] = []
}

/// A connection curl opened on a connector thread, on its way to the loop.
private struct Connected: @unchecked Sendable {
    var easy: UnsafeMutableRawPointer?
    var readAhead = false
    var fd: Int32 = -1
    var error: String?
}

/// Our own non-blocking HTTP/1.1 client on the event loop, for every upstream request of the proxy.
/// - Connections: a literal address over plain HTTP is connected on the loop (non-blocking connect); anything
///   else (TLS, host names) is connected by curl (`CURLOPT_CONNECT_ONLY`: DNS, TCP, TLS with the credential's
///   CA file) on a connector thread, so nothing blocks the loop. Keep-alive connections are pooled per origin.
/// - Requests: the request is sent with one write where the socket takes it; the response is parsed in place
///   and its body handed on as it arrives, chunk framing removed.
/// - It keeps curl's behaviour where it matters: connect, first-byte, idle and total timeouts; a request on a
///   reused connection the upstream had closed is sent once more on a fresh one; cancelling closes at once.
public final class HTTP1Client {
    let loop: EventLoop
    var transfers: [ObjectIdentifier: HTTP1Transfer] = [:]
    var idle: [PoolKey: IdlePool] = [:]
    var idleCount = 0
    /// When the ticker next has a deadline to check.
    var nextCheck = Int64.max
    /// In `start`: a failure found there is reported on the next turn (a delegate never hears back inside start).
    var starting = false
    static let maxIdlePerOrigin = 64
    static let idleMaxAgeMillis: Int64 = 60_000

    /// The loop's handlers hold it `unowned(unsafe)` (no reference counting per event): it lives as long as the
    /// loop.
    public init(loop: EventLoop) {
        self.loop = loop
        loop.addTicker { [unowned self] now in tick(now) }
    }

    /// Idle pooled connections (for tests and status).
    public var idleConnections: Int { idleCount }

    func start(_ r: UpstreamRequest, target: UpstreamURL, delegate: UpstreamDelegate) -> HTTP1Transfer {
        let wire = Self.serialize(r, target)
        let t = HTTP1Transfer(r, target: target, wire: wire ?? [], delegate: delegate, now: loop.now)
        transfers[ObjectIdentifier(t)] = t
        schedule(t.firstByteDeadline)
        if let d = t.totalDeadline { schedule(d) }
        starting = true
        defer { starting = false }
        if wire == nil {
            fail(t, UpstreamError(kind: .other, message: "a header for the upstream is empty or contains a line break"))
        } else {
            assign(t, reuse: true)
        }
        return t
    }

    func cancel(_ t: HTTP1Transfer) {
        guard !t.cancelled, transfers[ObjectIdentifier(t)] === t else { return }
        t.cancelled = true
        t.delegate = nil
        if t.inCallback { return }   // the read loop closes the connection when the delegate returns
        transfers[ObjectIdentifier(t)] = nil
        if let c = t.connection { close(c) }
        t.connection = nil
    }

    func resume(_ t: HTTP1Transfer) {
        guard t.paused, !t.cancelled, let c = t.connection else { return }
        t.paused = false
        t.lastActivity = loop.now
        schedule(loop.now + t.idleTimeoutMillis)
        // Paused on a piece that ended the buffer's bytes: read into the whole buffer again (a buffer that the
        // last read had filled left no room, and a read of 0 bytes looked like the upstream closing).
        if c.readStart == c.readEnd { c.readStart = 0; c.readEnd = 0 }
        if c.readStart < c.readEnd && !process(c) { return }
        guard t.connection === c else { return }
        if c.parked {
            c.parked = false
            c.interest = EventLoop.readable
            loop.register(c.fd, c.interest) { [unowned(unsafe) self] ev in event(c, ev) }
            return read(c)   // the hang-up: read what is left, then the end
        }
        setInterest(c)
        if c.tls { read(c) }   // TLS may hold decrypted bytes the socket no longer signals
    }

    // MARK: Connections

    /// The pool of a key, made on first use (one per origin and CA file the credentials name).
    private func idlePool(_ key: PoolKey) -> IdlePool {
        if let p = idle[key] { return p }
        let p = IdlePool()
        idle[key] = p
        return p
    }

    /// Put the transfer on a pooled connection, or open one.
    private func assign(_ t: HTTP1Transfer, reuse: Bool) {
        if reuse, let c = idle[t.poolKey]?.connections.popLast() {
            idleCount -= 1
            attach(t, c)
            return send(c)
        }
        connect(t)
    }

    private func connect(_ t: HTTP1Transfer) {
        t.connectDeadline = loop.now + t.connectTimeoutMillis
        schedule(t.connectDeadline)
        if t.target.isTLS || t.target.addresses.isEmpty { return connectWithCurl(t) }
        while true {
            var pending: Int32 = 0
            let fd = cshims_tcp_connect(t.target.addresses[t.addressIndex], Int32(t.target.port), &pending)
            if fd < 0 {
                // localhost: the next address may be the one listening.
                if t.addressIndex + 1 < t.target.addresses.count { t.addressIndex += 1; continue }
                let err = -fd
                let local = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM
                return fail(t, UpstreamError(kind: local ? .localResources : .connect,
                                             message: "cannot connect to \(t.target.hostHeader): \(String(cString: strerror(err)))"))
            }
            let c = HTTP1Connection(fd: fd, easy: nil, tls: false, pool: idlePool(t.poolKey), connecting: pending != 0)
            attach(t, c)
            c.interest = pending != 0 ? EventLoop.writable : EventLoop.readable
            loop.register(fd, c.interest) { [unowned(unsafe) self] ev in event(c, ev) }
            if pending == 0 { send(c) }
            return
        }
    }

    /// DNS, TCP and TLS by curl, on a thread of its own (they block); the connection comes back to the loop.
    private func connectWithCurl(_ t: HTTP1Transfer) {
        t.awaitingConnector = true
        let origin = t.target.origin, caFile = t.caFile, timeout = t.connectTimeoutMillis
        let me = Unchecked(self), transfer = Unchecked(t), loop = self.loop
        Threads.start {
            let result = Self.curlConnect(origin: origin, caFile: caFile, timeoutMillis: Int(timeout))
            loop.execute { me.value.connected(transfer.value, result) }
        }
    }

    private static func curlConnect(origin: String, caFile: String?, timeoutMillis: Int) -> Connected {
        if let why = Curl.load() { return Connected(error: why) }
        guard let easy = ccurl_easy_init() else { return Connected(error: "curl_easy_init failed") }
        _ = ccurl_setopt_str(easy, CURLOPT_URL, origin)
        _ = ccurl_setopt_long(easy, CURLOPT_CONNECT_ONLY, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_str(easy, CURLOPT_PROXY, "")          // never the environment's https_proxy
        _ = ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, timeoutMillis)
        _ = ccurl_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))   // ALPN: http/1.1 only
        _ = ccurl_setopt_long(easy, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS))
        if let caFile { _ = ccurl_setopt_str(easy, CURLOPT_CAINFO, caFile) }
        let readAhead = ccurl_setopt_tls_read_ahead(easy) != 0
        let rc = ccurl_easy_perform(easy)
        var fd: curl_socket_t = -1
        if rc == CURLE_OK { _ = ccurl_getinfo_socket(easy, CURLINFO_ACTIVESOCKET, &fd) }
        guard rc == CURLE_OK, fd >= 0 else {
            let why = String(cString: ccurl_easy_strerror(rc == CURLE_OK ? CURLE_COULDNT_CONNECT : rc))
            ccurl_easy_cleanup(easy)
            return Connected(error: why)
        }
        cshims_set_nodelay(fd)
        return Connected(easy: easy, readAhead: readAhead, fd: fd)
    }

    /// A connector thread is done (on the loop thread).
    private func connected(_ t: HTTP1Transfer, _ r: Connected) {
        t.awaitingConnector = false
        let live = !t.cancelled && transfers[ObjectIdentifier(t)] === t
        guard let easy = r.easy else {
            if live { fail(t, UpstreamError(kind: .connect, message: "cannot connect to \(t.target.hostHeader): \(r.error ?? "unknown error")")) }
            return
        }
        let c = HTTP1Connection(fd: r.fd, easy: easy, tls: t.target.isTLS, pool: idlePool(t.poolKey), connecting: false)
        c.readAhead = r.readAhead
        c.interest = EventLoop.readable
        loop.register(c.fd, c.interest) { [unowned(unsafe) self] ev in event(c, ev) }
        guard live else { return release(c, served: false) }   // timed out or cancelled meanwhile: keep it for the next
        attach(t, c)
        send(c)
    }

    private func attach(_ t: HTTP1Transfer, _ c: HTTP1Connection) {
        c.transfer = t
        c.parser = HTTPResponseParser(requestMethod: t.method, lineCache: c.headerLines)
        c.readStart = 0
        c.readEnd = 0
        t.connection = c
        t.sent = 0
    }

    private func event(_ c: HTTP1Connection, _ ev: UInt32) {
        if c.closed { return }
        guard let t = c.transfer else { return idleEvent(c) }
        if c.connecting {
            let err = cshims_socket_error(c.fd)
            if err != 0 {
                close(c)
                t.connection = nil
                if t.addressIndex + 1 < t.target.addresses.count { t.addressIndex += 1; return connect(t) }
                return fail(t, UpstreamError(kind: .connect, message: "cannot connect to \(t.target.hostHeader): \(String(cString: strerror(err)))"))
            }
            guard ev & (EventLoop.writable | EventLoop.hangup) != 0 else { return }
            c.connecting = false
            return send(c)
        }
        if t.paused && ev & EventLoop.hangup != 0 {
            loop.unregister(c.fd)
            c.parked = true
            return
        }
        if t.sent < t.wire.count && ev & (EventLoop.writable | EventLoop.hangup) != 0 {
            send(c)
            if c.closed || c.transfer !== t { return }
        }
        if !t.paused && ev & (EventLoop.readable | EventLoop.hangup | EventLoop.peerClosed) != 0 { read(c) }
    }

    /// An idle connection became readable: the upstream closed it, or (TLS) sent a record that is not data,
    /// such as a session ticket.
    private func idleEvent(_ c: HTTP1Connection) {
        if c.tls {
            var scratch: UInt8 = 0
            if case .wouldBlock = c.recv(&scratch, 1) { return }
        }
        close(c)
    }

    /// Send what is left of the request, then wait for the answer.
    private func send(_ c: HTTP1Connection) {
        guard let t = c.transfer else { return }
        while t.sent < t.wire.count {
            let io = t.wire.withUnsafeBytes { c.send($0.baseAddress! + t.sent, $0.count - t.sent) }
            switch io {
            case .bytes(let n): t.sent += n
            case .wouldBlock: return setInterest(c)
            case .closed, .failed:
                // The upstream closed or reset: it may have answered already (a 413 before the body); read what came.
                c.broken = true
                t.sent = t.wire.count
                setInterest(c)
                return read(c)
            }
        }
        setInterest(c)
    }

    private func setInterest(_ c: HTTP1Connection) {
        guard !c.closed, !c.parked else { return }
        var want: UInt32 = 0
        if let t = c.transfer {
            if c.connecting || t.sent < t.wire.count { want |= EventLoop.writable }
            if !c.connecting && !t.paused { want |= EventLoop.readable }
        } else {
            want = EventLoop.readable
        }
        if want != c.interest { c.interest = want; loop.modify(c.fd, want) }
    }

    private func read(_ c: HTTP1Connection) {
        while let t = c.transfer, !t.paused, !c.closed {
            let space = HTTP1Connection.bufferSize - c.readEnd
            switch c.recv(c.buffer.baseAddress! + c.readEnd, space) {
            case .bytes(let n):
                c.readEnd += n
                t.lastActivity = loop.now
                guard process(c) else { return }
                // A plain socket that gave less than asked is drained (epoll says when more comes); TLS reads one
                // record at a time, so go on until curl says it would block.
                if n < space && !c.tls { return }
            case .wouldBlock:
                return
            case .closed:
                return ended(c, t, why: nil)
            case .failed(let why):
                return ended(c, t, why: why)
            }
        }
    }

    /// Parse what was read and hand it on. Returns whether to go on reading.
    private func process(_ c: HTTP1Connection) -> Bool {
        guard let t = c.transfer else { return false }
        let input = UnsafeRawBufferPointer(start: c.buffer.baseAddress! + c.readStart, count: c.readEnd - c.readStart)
        var offset = 0
        while true {
            let piece: HTTPResponseParser.Piece
            do throws(HTTPResponseParser.Failure) {
                piece = try c.parser.next(input, &offset)
            } catch {
                close(c)
                fail(t, UpstreamError(kind: t.headDelivered ? .reset : .other, message: error.message))
                return false
            }
            switch piece {
            case .head(let status, let headers, let lowerNames):
                t.headDelivered = true
                schedule(loop.now + t.idleTimeoutMillis)   // from now on the idle deadline applies
                t.inCallback = true
                t.delegate?.upstreamHead(t, status: status, headers: headers, lowerNames: lowerNames)
                t.inCallback = false
                if t.cancelled { return dropCancelled(t, c) }
            case .body(let bytes):
                t.bytesReceived += bytes.count
                t.inCallback = true
                let pause = t.delegate?.upstreamBody(t, bytes) ?? false
                t.inCallback = false
                if t.cancelled { return dropCancelled(t, c) }
                if pause {
                    t.paused = true
                    c.readStart += offset
                    setInterest(c)
                    return false
                }
            case .end:
                c.readStart += offset
                complete(t, c)
                return false
            case .needMore:
                c.readStart = 0
                c.readEnd = 0
                return true
            }
        }
    }

    private func dropCancelled(_ t: HTTP1Transfer, _ c: HTTP1Connection) -> Bool {
        transfers[ObjectIdentifier(t)] = nil
        t.connection = nil
        close(c)
        return false
    }

    /// The upstream closed the connection (why nil) or it failed.
    private func ended(_ c: HTTP1Connection, _ t: HTTP1Transfer, why: String?) {
        if why == nil && c.parser.closed() { return complete(t, c) }   // a body delimited by the close
        let reason = why ?? "connection closed"
        close(c)
        t.connection = nil
        if !c.parser.sawBytes && c.served > 0 && !t.retried {
            // A pooled connection the upstream had closed meanwhile: send once more on a fresh one.
            t.retried = true
            return connect(t)
        }
        let message = c.parser.sawBytes ? "the upstream's response was cut off (\(reason))" : "the upstream closed the connection without answering (\(reason))"
        fail(t, UpstreamError(kind: .reset, message: message))
    }

    private func complete(_ t: HTTP1Transfer, _ c: HTTP1Connection) {
        transfers[ObjectIdentifier(t)] = nil
        t.connection = nil
        c.transfer = nil
        // Reused only when the answer ended cleanly and the whole request went out: an upstream that answers
        // early (a 413 before the body is in) still expects the rest of that body on this connection.
        // Bytes past the answer (in our buffer, or read ahead by TLS) mean an upstream out of step: not reused.
        if c.parser.keepAlive && c.parser.isComplete && c.readStart == c.readEnd && !c.tlsHasPending
            && t.sent == t.wire.count && !c.broken && !c.closed {
            release(c, served: true)
        } else {
            close(c)
        }
        let d = t.delegate
        t.delegate = nil
        d?.upstreamComplete(t, error: nil)
    }

    /// Back to the pool, watched for the upstream closing it.
    private func release(_ c: HTTP1Connection, served: Bool) {
        if served { c.served += 1 }
        c.transfer = nil
        c.readStart = 0
        c.readEnd = 0
        guard !c.parked, c.pool.connections.count < Self.maxIdlePerOrigin else { return close(c) }
        c.idleSince = loop.now
        setInterest(c)
        c.pool.connections.append(c)
        idleCount += 1
        schedule(loop.now + Self.idleMaxAgeMillis)
    }

    private func close(_ c: HTTP1Connection) {
        guard !c.closed else { return }
        c.closed = true
        if c.transfer == nil, let i = c.pool.connections.firstIndex(where: { $0 === c }) {
            c.pool.connections.remove(at: i)
            idleCount -= 1
        }
        c.transfer = nil
        if !c.parked { loop.unregister(c.fd) }
        if let easy = c.easy { ccurl_easy_cleanup(easy) } else { Glibc.close(c.fd) }
    }

    /// End a transfer with an error (reported on the next turn when still inside `start`).
    private func fail(_ t: HTTP1Transfer, _ error: UpstreamError) {
        transfers[ObjectIdentifier(t)] = nil
        if let c = t.connection { close(c); t.connection = nil }
        guard let d = t.delegate else { return }
        t.delegate = nil
        if starting {
            loop.soon { [t] in if !t.cancelled { d.upstreamComplete(t, error: error) } }
        } else {
            d.upstreamComplete(t, error: error)
        }
    }

    // MARK: Deadlines

    private func schedule(_ at: Int64) { if at < nextCheck { nextCheck = at } }

    func tick(_ now: Int64) -> Int {
        guard now >= nextCheck else { return Int(min(1000, nextCheck - now)) }
        nextCheck = Int64.max
        var expired: [(HTTP1Transfer, UpstreamError)] = []
        for t in transfers.values where !t.cancelled {
            var soonest = t.totalDeadline ?? Int64.max
            if let d = t.totalDeadline, now >= d {
                expired.append((t, UpstreamError(kind: .timeout, message: "the upstream transfer took longer than \((d - t.startedAt) / 1000) s")))
                continue
            }
            if t.awaitingConnector || t.connection?.connecting == true {
                if now >= t.connectDeadline {
                    expired.append((t, UpstreamError(kind: .connect, message: "connecting to \(t.target.hostHeader) timed out after \(t.connectTimeoutMillis) ms")))
                    continue
                }
                soonest = min(soonest, t.connectDeadline)
            }
            if !t.headDelivered {
                if now >= t.firstByteDeadline { expired.append((t, t.firstByteTimeoutError)); continue }
                soonest = min(soonest, t.firstByteDeadline)
            } else if !t.paused {
                let d = t.lastActivity + t.idleTimeoutMillis
                if now >= d {
                    expired.append((t, UpstreamError(kind: .timeout, message: "the upstream sent nothing for \(t.idleTimeoutMillis / 1000) s")))
                    continue
                }
                soonest = min(soonest, d)
            }
            schedule(soonest)
        }
        for pool in idle.values {
            for c in pool.connections where now - c.idleSince >= Self.idleMaxAgeMillis { close(c) }
            for c in pool.connections { schedule(c.idleSince + Self.idleMaxAgeMillis) }
        }
        for (t, e) in expired { fail(t, e) }
        return nextCheck == Int64.max ? 1000 : Int(max(0, min(1000, nextCheck - now)))
    }

    // MARK: Request bytes

    /// The request's bytes; nil when a header is empty or holds a line break (either would end the head early: a header of
    /// its own, or a second request).
    static func serialize(_ r: UpstreamRequest, _ u: UpstreamURL) -> [UInt8]? {
        // Sized first, then composed with plain copies (one Array append per part cost ~100 instructions each).
        var size = r.method.utf8.count + 1 + u.target.utf8.count + 17 + u.hostHeader.utf8.count + 2
        for h in r.headers { size += h.utf8.count + 2 }
        size += 16 + ByteComposer.decimalRoom + 2 + 2 + r.body.count
        var breaks = false
        let w = [UInt8](unsafeUninitializedCapacity: size) { buffer, n in
            var w = ByteComposer(buffer)
            w.put(r.method)
            w.put(32)
            w.put(u.target)
            w.put(" HTTP/1.1\r\nHost: " as StaticString)
            w.put(u.hostHeader)
            w.put(13); w.put(10)
            for h in r.headers {
                // One look at each line's bytes: its last byte, line breaks, then the copy.
                let sent = withUTF8Bytes(of: h) { line -> Bool in
                    // An empty line would end the head here.
                    guard let p = line.baseAddress, line.count > 0 else { return false }
                    // "Name:" with no value removes a header in curl's convention: send nothing.
                    if p[line.count - 1] == 58 { return true }
                    if memchr(p, 13, line.count) != nil || memchr(p, 10, line.count) != nil { return false }
                    w.put(line); w.put(13); w.put(10)
                    return true
                }
                if !sent {
                    breaks = true
                    n = 0
                    return
                }
            }
            if r.method != "GET" && r.method != "HEAD" || !r.body.isEmpty {
                w.put("Content-Length: " as StaticString)
                w.putDecimal(r.body.count)
                w.put(13); w.put(10)
            }
            w.put(13); w.put(10)
            r.body.withUnsafeBufferPointer { w.put($0) }
            n = w.count
        }
        return breaks ? nil : w
    }
}
