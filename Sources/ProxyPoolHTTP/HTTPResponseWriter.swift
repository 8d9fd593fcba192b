import Glibc
import ProxyPoolHTTPWire

/// Who produces a response: told when the client went away before it was finished (abort upstream work), and
/// when the output queued for the client has drained (resume a paused producer).
public protocol HTTPResponseProducer: AnyObject {
    func clientGone()
    func drained()
}

/// Where a response goes when it is not written on an HTTP connection: each `response.create` of a Responses
/// WebSocket is answered by the proxy's usual machinery into one of these, which turns it into messages.
public protocol HTTPResponseSink: AnyObject {
    func responseStarted(status: Int, headers: [(String, String)], contentLength: Int?)
    func responseBody(_ bytes: [UInt8])
    /// `complete`: false when the response was cut (an upstream broke off mid-body).
    func responseEnded(complete: Bool)
    var sinkOverHighWater: Bool { get }
    var sinkQueuedBytes: Int { get }
}

/// Writes one response on a connection, on the loop thread. Either `respond` (complete, Content-Length), or
/// `startStream` + `write`… + `finish` (chunked, each write sent as it comes: nothing is held back).
public final class HTTPResponseWriter {
    /// Strong, not weak: a weak reference gives the connection a side table, and every retain and release of it
    /// then takes the slow path. A closed connection reads as nil here; the connection drops its `current`
    /// writer when it closes or finishes a response, so the two never keep each other alive. Nil for a writer
    /// into a sink.
    private let conn: HTTPConnection?
    var connection: HTTPConnection? { guard let c = conn, !c.isClosed else { return nil }; return c }
    /// Set instead of a connection (see `HTTPResponseSink`).
    private let sink: HTTPResponseSink?
    let head: HTTPRequestHead?
    private var started = false
    private var finished = false
    private var chunked = false
    /// With a known length, the body goes out as is and must be exactly that long.
    private var remaining: Int?
    /// Told when the client goes away and when output drains. Unowned: the producer holds the writer; one
    /// reference instead of two closures made per request.
    public unowned var producer: HTTPResponseProducer?

    init(connection: HTTPConnection, head: HTTPRequestHead?) {
        conn = connection; sink = nil; self.head = head; highWater = connection.config.highWaterBytes
    }

    /// A writer whose response goes to `sink` (a WebSocket turn), for a request made inside the daemon.
    public init(sink: HTTPResponseSink, head: HTTPRequestHead) {
        conn = nil; self.sink = sink; self.head = head; highWater = 0
    }

    /// Bytes waiting for the client: above the server's high-water mark a producer should pause.
    public var queuedBytes: Int { sink?.sinkQueuedBytes ?? connection?.outBytes ?? 0 }
    public var overHighWater: Bool {
        if let s = sink { return s.sinkOverHighWater }
        guard let c = connection else { return false }
        return c.outBytes > highWater
    }
    private let highWater: Int
    /// Set for an answer after which the server closes the connection whatever the request asked for.
    var closesConnection = false
    var keepAlive: Bool { !closesConnection && (head?.keepAlive ?? false) }
    var isHTTP10: Bool { head?.minorVersion == 0 }

    public func respond(status: Int, headers: [(String, String)], body: [UInt8]) {
        if let s = sink {
            guard !started, !finished else { return }
            started = true; finished = true
            s.responseStarted(status: status, headers: headers, contentLength: body.count)
            s.responseBody(body)
            s.responseEnded(complete: true)
            return
        }
        guard !started, let c = connection else { return }
        started = true
        let (ka, http10, isHead) = (keepAlive, isHTTP10, head?.method == "HEAD")
        c.queue { out in
            Self.appendHead(&out, status: status, headers: headers, contentLength: body.count, keepAlive: ka, http10: http10)
            if !isHead { out.append(contentsOf: body) }
        }
        finished = true
        c.flush()
        c.responseFinished(keepAlive: keepAlive)
    }

    /// Start a response whose body follows in `write`: with `contentLength`, as is; else chunked (or, for
    /// HTTP/1.0, until the connection closes). `flushHead`: send the head now (event streams) rather than with
    /// the first body bytes.
    public func startStream(status: Int, headers: [(String, String)], contentLength: Int? = nil, flushHead: Bool = true) {
        if let s = sink {
            guard !started, !finished else { return }
            started = true
            s.responseStarted(status: status, headers: headers, contentLength: contentLength)
            return
        }
        guard !started, let c = connection else { return }
        started = true
        var length: Int?
        if let n = contentLength, head?.method != "HEAD" {
            remaining = n
            length = n
        } else {
            chunked = !isHTTP10
        }
        let (ka, http10, chunkedLine) = (keepAlive && (chunked || remaining != nil), isHTTP10, chunked)
        c.queue { Self.appendHead(&$0, status: status, headers: headers, contentLength: length, chunked: chunkedLine, keepAlive: ka, http10: http10) }
        // "Now" is once the event at hand is handled: body bytes that came with the head join it in one send.
        if flushHead || remaining == 0 { c.scheduleFlush() }
    }

    public func write(_ bytes: some Collection<UInt8>) {
        if let s = sink {
            if started && !finished && !bytes.isEmpty { s.responseBody(Array(bytes)) }
            return
        }
        guard started, !finished, let c = connection, !bytes.isEmpty else { return }
        if chunked {
            c.queue { out in
                Self.appendHex(&out, bytes.count)
                out.append(13); out.append(10)
                out.append(contentsOf: bytes)
                out.append(13); out.append(10)
            }
        } else {
            if let r = remaining { remaining = r - bytes.count }
            c.queue(bytes)
        }
        c.scheduleFlush()
    }

    public func finish() {
        if let s = sink {
            if started && !finished { finished = true; s.responseEnded(complete: true) }
            return
        }
        guard started, !finished, let c = connection else { return }
        if let r = remaining, r != 0 { abort(); return }   // the upstream broke its own Content-Length
        finished = true
        if chunked { c.queue("0\r\n\r\n".utf8) }
        c.flush()
        c.responseFinished(keepAlive: keepAlive && (chunked || remaining != nil))
    }

    /// End a stream that cannot be completed properly: the client must not mistake it for a whole response.
    public func abort() {
        if let s = sink {
            if !finished { finished = true; s.responseEnded(complete: false) }
            return
        }
        guard let c = connection, !finished else { return }
        finished = true
        c.close()
    }

    /// Output drained: the producer may go on (called by the connection, or by a sink's owner).
    public func drained() { producer?.drained() }
    /// The client went away: the producer stops (called by the connection, or by a sink's owner).
    public func clientGone() { if !finished { finished = true; producer?.clientGone() } }

    /// Answer a WebSocket handshake with `101 Switching Protocols` (RFC 6455 §4.2.2): `accept` is the
    /// `Sec-WebSocket-Accept` value. The connection carries the returned channel from now on; nil when the
    /// client is already gone. No extension or subprotocol is agreed (none is echoed).
    public func acceptWebSocket(accept: String, extraHeaders: [(String, String)] = [], maxMessageBytes: Int,
                                timeouts: WebSocketTimeouts = WebSocketTimeouts(), delegate: WebSocketDelegate) -> WebSocketChannel? {
        guard sink == nil, !started, let c = connection else { return nil }
        started = true
        let ws = WebSocketChannel(connection: c, maxMessageBytes: maxMessageBytes, timeouts: timeouts, delegate: delegate)
        producer = ws   // unowned: the connection holds the channel for as long as this writer matters
        let headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept)] + extraHeaders
        c.queue { out in
            out.append(contentsOf: "HTTP/1.1 101 Switching Protocols\r\n".utf8)
            for (k, v) in headers {
                out.append(contentsOf: k.utf8); out.append(58); out.append(32); out.append(contentsOf: v.utf8); out.append(13); out.append(10)
            }
            out.append(13); out.append(10)
        }
        c.switchToWebSocket(ws)
        c.scheduleFlush()
        return ws
    }

    /// The response head, appended as bytes: the headers, then `Content-Length` (when given) or
    /// `Transfer-Encoding: chunked`, then `Connection` when it is not the default. Composed in one buffer sized
    /// first, appended once.
    static func appendHead(_ out: inout [UInt8], status: Int, headers: [(String, String)], contentLength: Int? = nil,
                           chunked: Bool = false, keepAlive: Bool, http10: Bool) {
        let reason = reason(status)
        var size = 9 + ByteComposer.decimalRoom + 1 + reason.utf8.count + 2 + 2
        for (k, v) in headers { size += k.utf8.count + v.utf8.count + 4 }
        size += 16 + ByteComposer.decimalRoom + 2 + 28 + 24
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { buffer in
            var w = ByteComposer(buffer)
            w.put("HTTP/1.1 " as StaticString)
            w.putDecimal(status)
            w.put(32)
            w.put(reason)
            w.put(13); w.put(10)
            for (k, v) in headers {
                w.put(k)
                w.put(58); w.put(32)
                w.put(v)
                w.put(13); w.put(10)
            }
            if let n = contentLength {
                w.put("Content-Length: " as StaticString)
                w.putDecimal(n)
                w.put(13); w.put(10)
            } else if chunked {
                w.put("Transfer-Encoding: chunked\r\n" as StaticString)
            }
            if !keepAlive { w.put("Connection: close\r\n" as StaticString) } else if http10 { w.put("Connection: keep-alive\r\n" as StaticString) }
            w.put(13); w.put(10)
            out.append(contentsOf: w.bytes)
        }
    }

    static func appendDecimal(_ out: inout [UInt8], _ v: Int) {
        if v < 0 { out.append(45); appendDecimal(&out, -v); return }
        if v >= 10 { appendDecimal(&out, v / 10) }
        out.append(UInt8(48 + v % 10))
    }

    static func appendHex(_ out: inout [UInt8], _ v: Int) {
        if v >= 16 { appendHex(&out, v >> 4) }
        let d = v & 15
        out.append(UInt8(d < 10 ? 48 + d : 87 + d))
    }

    public static func reason(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 204: return "No Content"
        case 303: return "See Other"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 413: return "Content Too Large"
        case 417: return "Expectation Failed"
        case 421: return "Misdirected Request"
        case 426: return "Upgrade Required"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        case 529: return "Site Overloaded"
        default: return "Status \(status)"
        }
    }
}
