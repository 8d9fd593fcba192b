import Glibc
internal import CCurl
import ProxyPoolHTTPWire
import ProxyPoolSystem

/// libcurl, opened on first use: it is not linked, so a daemon that makes no curl transfer never maps it.
public enum Curl {
    /// Loads libcurl and runs curl_global_init, once per process, from any thread. nil once loaded, else why not.
    public static func load() -> String? {
        guard let why = ccurl_load() else { return nil }
        return "libcurl could not be loaded (\(String(cString: why))); install libcurl4"
    }
    public static var version: String { load() ?? String(cString: ccurl_version()) }
}

/// One request through curl. Owned by the multi until it completes or is cancelled.
final class CurlTransfer: UpstreamTransfer {
    let easy: UnsafeMutableRawPointer
    /// The multi running it: curl's callbacks get only the transfer, and reach the multi through it.
    unowned let multi: CurlMulti
    var headerList: UnsafeMutablePointer<curl_slist>?
    var status = 0
    var headers: [(String, String)] = []
    var lowerNames: [String] = []
    /// Set by the C open-socket callback when it refused a non-public address.
    let refusedAddress = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    /// Bytes of the head so far (capped like our own client's).
    var headBytes = 0
    /// Trailer fields seen after the head went out: checked and counted against a cap of their own, never kept.
    var trailerCount = 0
    /// Why the answer was refused (a header callback returning short makes curl fail the transfer).
    var refusal: String?

    init(easy: UnsafeMutableRawPointer, multi: CurlMulti, delegate: UpstreamDelegate, startedAt: Int64, firstByteTimeoutMillis: Int64) {
        self.easy = easy; self.multi = multi
        refusedAddress.initialize(to: 0)
        super.init(delegate: delegate, startedAt: startedAt, firstByteTimeoutMillis: firstByteTimeoutMillis)
    }

    deinit { refusedAddress.deallocate() }
}

/// The address policy of URL fetches, exposed for tests.
public enum AddressPolicy {
    /// Whether a textual IPv4/IPv6 address is public (nil when it is not an address).
    public static func isPublic(_ address: String) -> Bool? {
        let r = ccurl_text_address_is_public(address)
        return r < 0 ? nil : r == 1
    }
}

/// libcurl's multi interface driven by our epoll loop (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION): every upstream
/// transfer runs on the loop thread, with no thread per request and no blocking call.
public final class CurlMulti {
    let loop: EventLoop
    /// Created by the first `start`, which loads libcurl.
    var multi: UnsafeMutableRawPointer!
    var deadline: Int64?
    var transfers: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    var watched: [Int32: UInt32] = [:]
    /// Easy handles of finished transfers, reset and reused: curl_easy_init allocates and frees ~20 KiB of
    /// state and buffers per request otherwise. Few are kept: each holds its buffers while idle.
    var idleEasy: [UnsafeMutableRawPointer] = []
    static let maxIdleEasy = 16
    /// Every transfer on a connection of its own, closed when it ends (URL fetches for clients): a connection
    /// is checked against the address policy only when it is opened, so one reused would skip the check.
    let isolated: Bool

    public init(loop: EventLoop, isolated: Bool = false) {
        self.loop = loop
        self.isolated = isolated
        loop.addTicker { [unowned self] now in tick(now) }
    }

    /// nil once libcurl is loaded and the multi handle exists, else why not.
    func setUp() -> String? {
        if multi != nil { return nil }
        if let why = Curl.load() { return why }
        multi = ccurl_multi_init()
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = ccurl_multi_socket_cb(multi, curlSocketCallback)
        _ = ccurl_multi_ptr(multi, CURLMOPT_SOCKETDATA, me)
        _ = ccurl_multi_timer_cb(multi, curlTimerCallback)
        _ = ccurl_multi_ptr(multi, CURLMOPT_TIMERDATA, me)
        _ = ccurl_multi_long(multi, CURLMOPT_MAXCONNECTS, 256)
        return nil
    }

    func start(_ r: UpstreamRequest, delegate: UpstreamDelegate) -> CurlTransfer {
        if let why = setUp() {
            // Fail on the next turn: callers (Exchange, MediaFetch) do not expect upstreamComplete inside start.
            // A dummy handle, never in `transfers`, so it never reaches curl.
            let t = CurlTransfer(easy: UnsafeMutableRawPointer(bitPattern: 1)!, multi: self, delegate: delegate, startedAt: loop.now, firstByteTimeoutMillis: 0)
            loop.soon { [t] in
                guard let d = t.delegate else { return }   // cancelled meanwhile
                t.delegate = nil
                d.upstreamComplete(t, error: UpstreamError(kind: .other, message: why))
            }
            return t
        }
        let easy: UnsafeMutableRawPointer
        if let e = idleEasy.popLast() { ccurl_easy_reset(e); easy = e } else { easy = ccurl_easy_init()! }
        let t = CurlTransfer(easy: easy, multi: self, delegate: delegate, startedAt: loop.now, firstByteTimeoutMillis: r.firstByteTimeoutMillis)
        let tp = Unmanaged.passUnretained(t).toOpaque()
        _ = ccurl_setopt_str(easy, CURLOPT_URL, r.url)
        _ = ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_str(easy, CURLOPT_PROXY, "")          // never the environment's http_proxy
        _ = ccurl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        _ = ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, r.connectTimeoutMillis)
        _ = ccurl_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, r.idleTimeoutSeconds)
        _ = ccurl_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS))
        if let ca = r.caFile { _ = ccurl_setopt_str(easy, CURLOPT_CAINFO, ca) }
        if let ms = r.totalTimeoutMillis { _ = ccurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, ms) }
        if r.publicAddressesOnly { _ = ccurl_setopt_public_only(easy, t.refusedAddress) }
        if isolated {
            _ = ccurl_setopt_long(easy, CURLOPT_FRESH_CONNECT, 1)
            _ = ccurl_setopt_long(easy, CURLOPT_FORBID_REUSE, 1)
        }
        switch r.method {
        case "GET": _ = ccurl_setopt_long(easy, CURLOPT_HTTPGET, 1)
        default:
            _ = ccurl_setopt_long(easy, CURLOPT_POST, 1)
            _ = ccurl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(r.body.count))
            r.body.withUnsafeBytes { _ = ccurl_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)) }
            if r.method != "POST" { _ = ccurl_setopt_str(easy, CURLOPT_CUSTOMREQUEST, r.method) }
        }
        var list: UnsafeMutablePointer<curl_slist>?
        for h in r.headers + ["Expect:"] { list = ccurl_slist_append(list, h) }   // "Expect:" disables 100-continue
        t.headerList = list
        _ = ccurl_setopt_slist(easy, CURLOPT_HTTPHEADER, list)
        _ = ccurl_setopt_data_cb(easy, CURLOPT_HEADERFUNCTION, curlHeaderCallback)
        _ = ccurl_setopt_ptr(easy, CURLOPT_HEADERDATA, tp)
        _ = ccurl_setopt_data_cb(easy, CURLOPT_WRITEFUNCTION, curlWriteCallback)
        _ = ccurl_setopt_ptr(easy, CURLOPT_WRITEDATA, tp)
        transfers[easy] = t
        _ = ccurl_multi_add_handle(multi, easy)
        return t
    }

    /// Abort a transfer (the client went away). Safe inside a delegate call: it then takes effect on return.
    func cancel(_ t: CurlTransfer) {
        guard !t.cancelled, transfers[t.easy] === t else { t.delegate = nil; return }   // one that failed to start: no callback
        t.cancelled = true
        t.delegate = nil
        if t.inCallback { return }   // the write callback returns 0 and curl fails the transfer
        // Inside a callback for another transfer of this multi (a delegate cancelling its siblings: a media
        // fetch batch whose first fetch failed): curl must not have a handle removed under it, so the removal
        // waits for the next turn. Until then a callback for `t` returns 0, and `finish` is idempotent.
        if callbackDepth > 0 { loop.soon { [self, t] in finish(t) }; return }
        finish(t)
    }

    /// Delegate calls under way from inside curl's callbacks (curl_multi_remove_handle is not allowed there).
    private var callbackDepth = 0

    func resume(_ t: CurlTransfer) {
        guard t.paused, !t.cancelled, transfers[t.easy] === t else { return }
        t.paused = false
        _ = ccurl_easy_pause(t.easy, CCURL_PAUSE_CONT)
        drain()
    }

    func finish(_ t: CurlTransfer) {
        guard transfers[t.easy] === t else { return }   // already finished (its handle may serve another now)
        ccurl_multi_remove_handle(multi, t.easy)
        ccurl_slist_free_all(t.headerList)
        t.headerList = nil
        transfers[t.easy] = nil
        // curl_easy_reset clears every option before the next use. A handle left paused is not reused.
        if idleEasy.count < Self.maxIdleEasy && !t.paused { idleEasy.append(t.easy) } else { ccurl_easy_cleanup(t.easy) }
    }

    // MARK: Loop integration

    func socketEvent(_ fd: Int32, _ ev: UInt32) {
        var mask: Int32 = 0
        if ev & EventLoop.readable != 0 { mask |= Int32(CCURL_CSELECT_IN) }
        if ev & EventLoop.writable != 0 { mask |= Int32(CCURL_CSELECT_OUT) }
        if ev & EventLoop.hangup != 0 { mask |= Int32(CCURL_CSELECT_ERR) }
        var running: Int32 = 0
        _ = ccurl_multi_socket_action(multi, fd, mask, &running)
        drain()
    }

    func tick(_ now: Int64) -> Int {
        // First-byte deadlines are ours: curl has no such timeout.
        for t in transfers.values where !t.headDelivered && !t.cancelled && now >= t.firstByteDeadline {
            let d = t.delegate
            t.delegate = nil
            finish(t)
            d?.upstreamComplete(t, error: t.firstByteTimeoutError)
        }
        if let d = deadline, d <= now {
            deadline = nil   // before the call: curl may set a new one during it
            var running: Int32 = 0
            _ = ccurl_multi_socket_action(multi, CCURL_SOCKET_TIMEOUT, 0, &running)
            drain()
        }
        guard let d = deadline else { return 1000 }
        return Int(max(0, d - now))
    }

    func drain() {
        var left: Int32 = 0
        while let msg = ccurl_multi_info_read(multi, &left) {
            var easy: UnsafeMutableRawPointer?
            var result = CURLE_OK
            guard ccurl_msg_done(msg, &easy, &result) == 1, let easy, let t = transfers[easy] else { continue }
            let d = t.delegate
            t.delegate = nil
            finish(t)
            guard let d, !t.cancelled else { continue }
            if let why = t.refusal {
                d.upstreamComplete(t, error: UpstreamError(kind: t.headDelivered ? .reset : .other, message: why))
                continue
            }
            if result == CURLE_OK {
                if !t.headDelivered { d.upstreamHead(t, status: t.status, headers: t.headers, lowerNames: t.lowerNames) }
                d.upstreamComplete(t, error: nil)
            } else {
                if t.refusedAddress.pointee != 0 {
                    d.upstreamComplete(t, error: UpstreamError(kind: .refusedAddress, message: "its address is not public (loopback, private or link-local); set fetch-private-urls in proxypoold.conf to allow it"))
                    continue
                }
                let kind: UpstreamError.Kind
                switch result {
                case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION: kind = .connect
                case CURLE_OPERATION_TIMEDOUT: kind = .timeout
                case CURLE_RECV_ERROR, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_HTTP2_STREAM: kind = .reset
                default: kind = .other
                }
                d.upstreamComplete(t, error: UpstreamError(kind: kind, message: String(cString: ccurl_easy_strerror(result))))
            }
        }
    }

    func watch(_ fd: Int32, what: Int32) {
        if what == CCURL_POLL_REMOVE {
            if watched.removeValue(forKey: fd) != nil { loop.unregister(fd) }
            return
        }
        var ev: UInt32 = 0
        if what == CCURL_POLL_IN || what == CCURL_POLL_INOUT { ev |= EventLoop.readable }
        if what == CCURL_POLL_OUT || what == CCURL_POLL_INOUT { ev |= EventLoop.writable }
        if watched[fd] == nil {
            loop.register(fd, ev) { [unowned self] e in socketEvent(fd, e) }
        } else {
            loop.modify(fd, ev)
        }
        watched[fd] = ev
    }

    // MARK: Callbacks from curl (on the loop thread, inside curl_multi_socket_action)

    /// One header line from curl. Returns false to refuse the answer (curl then fails the transfer): the same
    /// rules as our own client's parser for what curl lets through.
    func header(_ t: CurlTransfer, _ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var end = line.count
        while end > 0 && (line[end - 1] == 10 || line[end - 1] == 13) { end -= 1 }
        t.headBytes += line.count
        if t.headBytes > HTTPResponseParser.maxHeadBytes {
            return refuse(t, "the upstream's response head is larger than \(HTTPResponseParser.maxHeadBytes / 1024) KiB")
        }
        if end == 0 {
            // End of a header block: deliver the final one (not 1xx). A status outside 100-599 is none (RFC 9110
            // §15), and curl would take 099 for a final head our 1xx test skips.
            if !t.headDelivered && (t.status < 100 || t.status > 599) {
                return refuse(t, "the upstream sent a status outside 100-599: \(t.status)")
            }
            if t.status >= 200 && !t.headDelivered {
                if let why = Self.framingProblem(t) { return refuse(t, why) }
                t.headDelivered = true
                t.inCallback = true
                callbackDepth += 1
                t.delegate?.upstreamHead(t, status: t.status, headers: t.headers, lowerNames: t.lowerNames)
                callbackDepth -= 1
                t.inCallback = false
            }
            t.headBytes = 0   // trailers, if any, are a head of their own
            return true
        }
        // Parsed on bytes: this runs for every header line of every response.
        let l = UnsafeBufferPointer(rebasing: line[0..<end])
        if t.headDelivered {
            // A trailer line: refused for a control character like a header, but not kept, and not counted
            // against the head's field cap (the head's fields plus a few trailers are a good stream).
            guard let colon = l.firstIndex(of: 58) else { return true }
            var v = colon + 1
            while v < end && (l[v] == 32 || l[v] == 9) { v += 1 }
            if HTTPResponseParser.hasControlCharacter(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(l)[v..<end])) {
                return refuse(t, "the upstream sent a control character in the value of trailer \(HTTPResponseParser.printable(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(l)[0..<colon])))")
            }
            t.trailerCount += 1
            if t.trailerCount > HTTPResponseParser.maxHeaderCount {
                return refuse(t, "the upstream sent more than \(HTTPResponseParser.maxHeaderCount) trailer fields")
            }
            return true
        }
        if end > 5 && l[0] == 72 && l[1] == 84 && l[2] == 84 && l[3] == 80 && l[4] == 47 {   // "HTTP/"
            t.headers = []
            t.lowerNames = []
            t.headBytes = line.count
            var i = 5
            while i < end && l[i] != 32 { i += 1 }
            while i < end && l[i] == 32 { i += 1 }
            var status = 0
            // At most four digits read (curl checks the three of a status): a run of digits cannot overflow.
            while i < end && l[i] >= 48 && l[i] <= 57 && status < 1000 { status = status * 10 + Int(l[i] - 48); i += 1 }
            t.status = status
        } else if let colon = l.firstIndex(of: 58) {
            var v = colon + 1
            while v < end && (l[v] == 32 || l[v] == 9) { v += 1 }
            let nameBytes = UnsafeBufferPointer(rebasing: l[0..<colon])
            let valueBytes = UnsafeBufferPointer(rebasing: l[v..<end])
            // curl passes a bare CR, a NUL or another control character on in a value; a client may read a CR as
            // a line end.
            if HTTPResponseParser.hasControlCharacter(UnsafeRawBufferPointer(valueBytes)) {
                return refuse(t, "the upstream sent a control character in the value of \(HTTPResponseParser.printable(UnsafeRawBufferPointer(nameBytes)))")
            }
            if t.headers.count == HTTPResponseParser.maxHeaderCount {
                return refuse(t, "the upstream sent more than \(HTTPResponseParser.maxHeaderCount) header fields")
            }
            let name = String(decoding: nameBytes, as: UTF8.self)
            t.headers.append((name, String(decoding: valueBytes, as: UTF8.self)))
            t.lowerNames.append(asciiLowercased(UnsafeRawBufferPointer(nameBytes)))
        }
        return true
    }

    private func refuse(_ t: CurlTransfer, _ why: String) -> Bool {
        t.refusal = t.refusal ?? why
        return false
    }

    /// What in a final head's framing cannot be passed on (curl reads chunked itself, and would take gzip or two
    /// lengths as they come), like our own client's parser; nil when it can. A Content-Length beside
    /// Transfer-Encoding is removed (RFC 9112 §6.3): the client must not frame the de-chunked body by it.
    static func framingProblem(_ t: CurlTransfer) -> String? {
        var rules = ResponseFraming()
        do throws(ResponseFraming.Failure) {
            for i in t.lowerNames.indices where t.lowerNames[i] == "content-length" || t.lowerNames[i] == "transfer-encoding" {
                var value = t.headers[i].1
                // What `header` keeps has its leading spaces taken off; the trailing ones go here.
                let failure = value.withUTF8 { b -> ResponseFraming.Failure? in
                    var raw = UnsafeRawBufferPointer(b)
                    while let last = raw.last, last == 32 || last == 9 { raw = UnsafeRawBufferPointer(rebasing: raw.dropLast()) }
                    if t.lowerNames[i] == "transfer-encoding" { rules.transferEncoding(raw); return nil }
                    do throws(ResponseFraming.Failure) { try rules.contentLength(raw); return nil } catch { return error }
                }
                if let failure { throw failure }
            }
            try rules.check(t.headers, t.lowerNames)
        } catch {
            return error.message
        }
        if rules.hasTransferEncoding && rules.contentLength != nil { ResponseFraming.dropContentLength(&t.headers, &t.lowerNames) }
        return nil
    }

    func body(_ t: CurlTransfer, _ data: UnsafeRawBufferPointer) -> Int {
        if t.cancelled { return 0 }
        t.bytesReceived += data.count
        t.inCallback = true
        callbackDepth += 1
        let pause = t.delegate?.upstreamBody(t, data) ?? false
        callbackDepth -= 1
        t.inCallback = false
        if t.cancelled { return 0 }
        if pause && !t.paused {
            t.paused = true
            _ = ccurl_easy_pause(t.easy, CCURL_PAUSE_RECV)
        }
        return data.count
    }
}

private let curlSocketCallback: ccurl_socket_cb = { _, fd, what, userp, _ in
    Unmanaged<CurlMulti>.fromOpaque(userp!).takeUnretainedValue().watch(fd, what: what)
    return 0
}

private let curlTimerCallback: ccurl_timer_cb = { _, ms, userp in
    let m = Unmanaged<CurlMulti>.fromOpaque(userp!).takeUnretainedValue()
    m.deadline = ms < 0 ? nil : m.loop.now + Int64(ms)
    return 0
}

private let curlHeaderCallback: ccurl_data_cb = { ptr, size, n, userp in
    let t = Unmanaged<CurlTransfer>.fromOpaque(userp!).takeUnretainedValue()
    let count = size * n
    let ok = ptr!.withMemoryRebound(to: UInt8.self, capacity: count) { p in
        t.multi.header(t, UnsafeBufferPointer(start: p, count: count))
    }
    return ok ? count : 0
}

private let curlWriteCallback: ccurl_data_cb = { ptr, size, n, userp in
    let t = Unmanaged<CurlTransfer>.fromOpaque(userp!).takeUnretainedValue()
    return t.multi.body(t, UnsafeRawBufferPointer(start: ptr, count: size * n))
}
