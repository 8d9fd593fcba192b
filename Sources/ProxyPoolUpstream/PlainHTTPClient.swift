import Glibc
import CShims
import ProxyPoolHTTP

/// An `http://` URL our own client can take: its host is a literal IPv4 / IPv6 address or `localhost`, so no
/// DNS lookup (which would block the loop) is needed. Anything else is left to curl.
public struct PlainURL: Equatable {
    /// Addresses to try, in order (localhost: IPv4, then IPv6).
    public let addresses: [String]
    public let port: Int
    /// The Host header: the URL's host and port as written.
    public let hostHeader: String
    /// The request target: path and query.
    public let target: String

    public init?(_ url: String) {
        let u = Array(url.utf8)
        guard u.count > 7, let scheme = String(bytes: u[0..<7], encoding: .utf8), scheme.lowercased() == "http://" else { return nil }
        var i = 7
        let authorityStart = i
        while i < u.count && u[i] != 47 && u[i] != 63 && u[i] != 35 { i += 1 }   // '/', '?', '#'
        let authority = u[authorityStart..<i]
        var rest = Array(u[i...])
        if let hash = rest.firstIndex(of: 35) { rest = Array(rest[..<hash]) }
        // Bytes a request line cannot carry: let curl refuse (or encode) such a URL.
        guard !authority.isEmpty, !authority.contains(64), rest.allSatisfy({ $0 > 32 && $0 < 127 }) else { return nil }
        var host: ArraySlice<UInt8>
        var portPart: ArraySlice<UInt8>?
        if authority.first == 91 {   // "[v6]" or "[v6]:port"
            guard let close = authority.firstIndex(of: 93) else { return nil }
            host = authority[(authority.startIndex + 1)..<close]
            let after = authority[(close + 1)...]
            if !after.isEmpty {
                guard after.first == 58 else { return nil }
                portPart = after.dropFirst()
            }
            guard host.allSatisfy({ Self.isHex($0) || $0 == 58 || $0 == 46 }), host.contains(58) else { return nil }
            addresses = [String(decoding: host, as: UTF8.self)]
        } else {
            if let colon = authority.firstIndex(of: 58) {
                host = authority[authority.startIndex..<colon]
                portPart = authority[(colon + 1)...]
            } else {
                host = authority
            }
            let name = String(decoding: host, as: UTF8.self)
            if name.lowercased() == "localhost" {
                addresses = ["127.0.0.1", "::1"]
            } else if Self.isIPv4(host) {
                addresses = [name]
            } else {
                return nil
            }
        }
        if let p = portPart {
            guard !p.isEmpty, p.count <= 5, p.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(String(decoding: p, as: UTF8.self)), n > 0, n < 65536 else { return nil }
            port = n
        } else {
            port = 80
        }
        hostHeader = String(decoding: authority, as: UTF8.self)
        target = rest.isEmpty ? "/" : (rest.first == 63 ? "/" : "") + String(decoding: rest, as: UTF8.self)
    }

    /// The pool key: connections are shared by requests to the same host and port.
    var key: String { hostHeader.lowercased() }

    static func isHex(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102) }

    static func isIPv4(_ s: ArraySlice<UInt8>) -> Bool {
        let parts = s.split(separator: 46, omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy { $0 >= 48 && $0 <= 57 } && Int(String(decoding: p, as: UTF8.self))! <= 255
        }
    }
}

/// One request through our own client.
final class PlainTransfer: UpstreamTransfer {
    let target: PlainURL
    let method: String
    /// The request as it goes on the wire (kept whole: a stale keep-alive connection means sending it again).
    let wire: [UInt8]
    var sent = 0
    var connection: PlainConnection?
    /// Which of the target's addresses is being tried.
    var addressIndex = 0
    /// Sent again on a fresh connection once already (after a reused one turned out closed).
    var retried = false
    let connectTimeoutMillis: Int64
    var connectDeadline: Int64 = 0
    let idleTimeoutMillis: Int64
    let totalDeadline: Int64?
    var lastActivity: Int64

    init(_ r: UpstreamRequest, target: PlainURL, wire: [UInt8], delegate: UpstreamDelegate, now: Int64) {
        self.target = target; method = r.method; self.wire = wire
        connectTimeoutMillis = Int64(r.connectTimeoutMillis)
        idleTimeoutMillis = Int64(r.idleTimeoutSeconds) * 1000
        totalDeadline = r.totalTimeoutMillis.map { now + Int64($0) }
        lastActivity = now
        super.init(delegate: delegate, startedAt: now, firstByteTimeoutMillis: r.firstByteTimeoutMillis)
    }
}

/// One TCP connection to an upstream: carrying a transfer, or idle in the pool.
final class PlainConnection {
    let fd: Int32
    let key: String
    var connecting: Bool
    /// Responses completed on it: a connection that served one may have been closed by the upstream since.
    var served = 0
    var transfer: PlainTransfer?
    var parser = HTTPResponseParser(requestMethod: "GET")
    var idleSince: Int64 = 0
    var interest: UInt32 = 0
    var closed = false
    /// Read buffer: body pieces are handed on from here without a copy.
    let buffer: UnsafeMutableRawBufferPointer
    var readStart = 0
    var readEnd = 0
    static let bufferSize = 32 * 1024

    init(fd: Int32, key: String, connecting: Bool) {
        self.fd = fd; self.key = key; self.connecting = connecting
        buffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    deinit { buffer.deallocate() }
}

/// Our own non-blocking HTTP/1.1 client on the event loop, for plain-HTTP upstreams (local model servers):
/// keep-alive connections pooled per host, the request sent with one `send` where the socket takes it, the
/// response parsed in place and its body handed on as it arrives. It keeps curl's behaviour where it matters:
/// connect, first-byte, idle and total timeouts; a request on a reused connection that the upstream had closed
/// is sent once more on a fresh one; cancelling closes the connection at once.
public final class PlainHTTPClient {
    let loop: EventLoop
    var transfers: [ObjectIdentifier: PlainTransfer] = [:]
    var idle: [String: [PlainConnection]] = [:]
    var idleCount = 0
    /// When the ticker next has a deadline to check.
    var nextCheck = Int64.max
    /// In `start`: a failure found there is reported on the next turn (a delegate never hears back inside start).
    var starting = false
    static let maxIdlePerHost = 64
    static let idleMaxAgeMillis: Int64 = 60_000

    public init(loop: EventLoop) {
        self.loop = loop
        loop.addTicker { [unowned self] now in tick(now) }
    }

    /// Idle pooled connections (for tests).
    public var idleConnections: Int { idleCount }

    func start(_ r: UpstreamRequest, target: PlainURL, delegate: UpstreamDelegate) -> PlainTransfer {
        let t = PlainTransfer(r, target: target, wire: Self.serialize(r, target), delegate: delegate, now: loop.now)
        transfers[ObjectIdentifier(t)] = t
        schedule(t.firstByteDeadline)
        if let d = t.totalDeadline { schedule(d) }
        starting = true
        defer { starting = false }
        if r.headers.contains(where: { $0.utf8.contains(13) || $0.utf8.contains(10) }) {
            fail(t, UpstreamError(kind: .other, message: "a header for the upstream contains a line break"))
        } else {
            assign(t, reuse: true)
        }
        return t
    }

    func cancel(_ t: PlainTransfer) {
        guard !t.cancelled, transfers[ObjectIdentifier(t)] === t else { return }
        t.cancelled = true
        t.delegate = nil
        if t.inCallback { return }   // the read loop closes the connection when the delegate returns
        transfers[ObjectIdentifier(t)] = nil
        if let c = t.connection { close(c) }
        t.connection = nil
    }

    func resume(_ t: PlainTransfer) {
        guard t.paused, !t.cancelled, let c = t.connection else { return }
        t.paused = false
        t.lastActivity = loop.now
        if c.readStart < c.readEnd && !process(c) { return }
        if t.connection === c { setInterest(c) }
    }

    // MARK: Connections

    /// Put the transfer on a pooled connection, or open one.
    private func assign(_ t: PlainTransfer, reuse: Bool) {
        if reuse, var list = idle[t.target.key], let c = list.popLast() {
            idle[t.target.key] = list
            idleCount -= 1
            attach(t, c)
            return send(c)
        }
        connect(t)
    }

    private func connect(_ t: PlainTransfer) {
        while true {
            var pending: Int32 = 0
            let fd = cshims_tcp_connect(t.target.addresses[t.addressIndex], Int32(t.target.port), &pending)
            if fd < 0 {
                // localhost: the next address may be the one listening.
                if t.addressIndex + 1 < t.target.addresses.count { t.addressIndex += 1; continue }
                return fail(t, UpstreamError(kind: .connect, message: "cannot connect to \(t.target.hostHeader): \(String(cString: strerror(-fd)))"))
            }
            let c = PlainConnection(fd: fd, key: t.target.key, connecting: pending != 0)
            attach(t, c)
            if pending != 0 {
                t.connectDeadline = loop.now + t.connectTimeoutMillis
                schedule(t.connectDeadline)
                c.interest = EventLoop.writable
                loop.register(fd, c.interest) { [unowned self] ev in event(c, ev) }
            } else {
                c.interest = EventLoop.readable
                loop.register(fd, c.interest) { [unowned self] ev in event(c, ev) }
                send(c)
            }
            return
        }
    }

    private func attach(_ t: PlainTransfer, _ c: PlainConnection) {
        c.transfer = t
        c.parser = HTTPResponseParser(requestMethod: t.method)
        c.readStart = 0
        c.readEnd = 0
        t.connection = c
        t.sent = 0
    }

    private func event(_ c: PlainConnection, _ ev: UInt32) {
        if c.closed { return }
        guard let t = c.transfer else { return close(c) }   // idle: the upstream closed it (or sent junk)
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
        if t.sent < t.wire.count && ev & (EventLoop.writable | EventLoop.hangup) != 0 {
            send(c)
            if c.closed || c.transfer !== t { return }
        }
        if !t.paused && ev & (EventLoop.readable | EventLoop.hangup | EventLoop.peerClosed) != 0 { read(c) }
    }

    /// Send what is left of the request, then wait for the answer.
    private func send(_ c: PlainConnection) {
        guard let t = c.transfer else { return }
        while t.sent < t.wire.count {
            let n = t.wire.withUnsafeBytes { Glibc.send(c.fd, $0.baseAddress! + t.sent, $0.count - t.sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 { t.sent += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return setInterest(c) }
            // The upstream closed or reset: it may have answered already (a 413 before the body); read what came.
            t.sent = t.wire.count
            setInterest(c)
            return read(c)
        }
        setInterest(c)
    }

    private func setInterest(_ c: PlainConnection) {
        guard !c.closed else { return }
        var want: UInt32 = 0
        if let t = c.transfer {
            if c.connecting || t.sent < t.wire.count { want |= EventLoop.writable }
            if !c.connecting && !t.paused { want |= EventLoop.readable }
        } else {
            want = EventLoop.readable
        }
        if want != c.interest { c.interest = want; loop.modify(c.fd, want) }
    }

    private func read(_ c: PlainConnection) {
        while let t = c.transfer, !t.paused, !c.closed {
            let space = PlainConnection.bufferSize - c.readEnd
            let n = recv(c.fd, c.buffer.baseAddress! + c.readEnd, space, 0)
            if n > 0 {
                c.readEnd += n
                t.lastActivity = loop.now
                guard process(c) else { return }
                if n < space { return }   // drained; level-triggered epoll says when more comes
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            return ended(c, t, why: n == 0 ? nil : errno)
        }
    }

    /// Parse what was read and hand it on. Returns whether to go on reading.
    private func process(_ c: PlainConnection) -> Bool {
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
                complete(t, c, error: nil)
                return false
            case .needMore:
                c.readStart = 0
                c.readEnd = 0
                return true
            }
        }
    }

    private func dropCancelled(_ t: PlainTransfer, _ c: PlainConnection) -> Bool {
        transfers[ObjectIdentifier(t)] = nil
        t.connection = nil
        close(c)
        return false
    }

    /// The upstream closed the connection (errno nil) or it failed.
    private func ended(_ c: PlainConnection, _ t: PlainTransfer, why: Int32?) {
        if why == nil && c.parser.closed() { return complete(t, c, error: nil) }   // a body delimited by the close
        let reason = why.map { String(cString: strerror($0)) } ?? "connection closed"
        if !c.parser.sawBytes && c.served > 0 && !t.retried {
            // A pooled connection the upstream had closed meanwhile: send once more on a fresh one.
            close(c)
            t.connection = nil
            t.retried = true
            return connect(t)
        }
        close(c)
        t.connection = nil
        let message = c.parser.sawBytes ? "the upstream's response was cut off (\(reason))" : "the upstream closed the connection without answering (\(reason))"
        fail(t, UpstreamError(kind: .reset, message: message))
    }

    private func complete(_ t: PlainTransfer, _ c: PlainConnection, error: UpstreamError?) {
        transfers[ObjectIdentifier(t)] = nil
        t.connection = nil
        c.transfer = nil
        if error == nil && c.parser.keepAlive && c.parser.isComplete && c.readStart == c.readEnd && !c.closed {
            release(c)
        } else {
            close(c)
        }
        let d = t.delegate
        t.delegate = nil
        d?.upstreamComplete(t, error: error)
    }

    /// Back to the pool, watched for the upstream closing it.
    private func release(_ c: PlainConnection) {
        c.served += 1
        c.readStart = 0
        c.readEnd = 0
        guard (idle[c.key]?.count ?? 0) < Self.maxIdlePerHost else { return close(c) }
        c.idleSince = loop.now
        setInterest(c)
        idle[c.key, default: []].append(c)
        idleCount += 1
        schedule(loop.now + Self.idleMaxAgeMillis)
    }

    private func close(_ c: PlainConnection) {
        guard !c.closed else { return }
        c.closed = true
        if c.transfer == nil, var list = idle[c.key], let i = list.firstIndex(where: { $0 === c }) {
            list.remove(at: i)
            idle[c.key] = list.isEmpty ? nil : list
            idleCount -= 1
        }
        c.transfer = nil
        loop.unregister(c.fd)
        Glibc.close(c.fd)
    }

    /// End a transfer with an error (reported on the next turn when still inside `start`).
    private func fail(_ t: PlainTransfer, _ error: UpstreamError) {
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
        var expired: [(PlainTransfer, UpstreamError)] = []
        for t in transfers.values where !t.cancelled {
            var soonest = t.totalDeadline ?? Int64.max
            if let d = t.totalDeadline, now >= d {
                expired.append((t, UpstreamError(kind: .timeout, message: "the upstream transfer took longer than \((d - t.startedAt) / 1000) s")))
                continue
            }
            if let c = t.connection, c.connecting {
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
        for (key, list) in idle {
            for c in list where now - c.idleSince >= Self.idleMaxAgeMillis { close(c) }
            if let left = idle[key] { for c in left { schedule(c.idleSince + Self.idleMaxAgeMillis) } }
        }
        for (t, e) in expired { fail(t, e) }
        return nextCheck == Int64.max ? 1000 : Int(max(0, min(1000, nextCheck - now)))
    }

    // MARK: Request bytes

    static func serialize(_ r: UpstreamRequest, _ u: PlainURL) -> [UInt8] {
        var w: [UInt8] = []
        w.reserveCapacity(128 + r.headers.reduce(0) { $0 + $1.utf8.count + 2 } + r.body.count)
        w.append(contentsOf: r.method.utf8)
        w.append(32)
        w.append(contentsOf: u.target.utf8)
        w.append(contentsOf: " HTTP/1.1\r\nHost: ".utf8)
        w.append(contentsOf: u.hostHeader.utf8)
        w.append(13); w.append(10)
        for h in r.headers {
            // "Name:" with no value removes a header in curl's convention: send nothing.
            if h.utf8.last == 58 { continue }
            w.append(contentsOf: h.utf8)
            w.append(13); w.append(10)
        }
        if r.method != "GET" && r.method != "HEAD" || !r.body.isEmpty {
            w.append(contentsOf: "Content-Length: ".utf8)
            w.append(contentsOf: String(r.body.count).utf8)
            w.append(13); w.append(10)
        }
        w.append(13); w.append(10)
        w.append(contentsOf: r.body)
        return w
    }
}
