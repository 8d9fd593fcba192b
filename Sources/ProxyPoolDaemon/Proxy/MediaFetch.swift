import ProxyPoolCore
import ProxyPoolUpstream

/// One image or document URL fetched for an upstream that takes only inline data. Public addresses only
/// (unless fetch-private-urls), no redirects, http(s) only, size and time capped; runs on the loop like any
/// upstream transfer, but on a connection of its own (`Upstreams.fetch`): one reused from credential traffic
/// would skip the address check, which runs when a connection is opened. The request's batch decides when it
/// starts and how many bytes it may keep.
final class MediaFetch: UpstreamDelegate {
    static let maxBytes = 20 << 20
    static let timeoutMillis = 20_000

    let url: String
    /// Takes `n` more bytes from the request's allowance; false when they would pass it.
    private let reserve: (Int) -> Bool
    private let done: (MediaFetch, Result<(mediaType: String, base64: String), FetchError>) -> Void
    private var status = 0
    private var contentType: String?
    private var data: [UInt8] = []
    private var upstreams: Upstreams?
    private var ended = false
    var transfer: UpstreamTransfer?

    struct FetchError: Error { var message: String }

    init(url: String, reserve: @escaping (Int) -> Bool,
         done: @escaping (MediaFetch, Result<(mediaType: String, base64: String), FetchError>) -> Void) {
        self.url = url; self.reserve = reserve; self.done = done
    }

    func start(_ upstreams: Upstreams, allowPrivate: Bool) {
        var r = UpstreamRequest(url: url, method: "GET", headers: ["Accept: image/*, application/pdf", "User-Agent: proxypoold"], body: [])
        r.totalTimeoutMillis = Self.timeoutMillis
        r.firstByteTimeoutMillis = Int64(Self.timeoutMillis)
        r.connectTimeoutMillis = 10_000
        r.publicAddressesOnly = !allowPrivate
        self.upstreams = upstreams
        transfer = upstreams.fetch(r, delegate: self)
    }

    /// Stop without a word (the request no longer needs it).
    func cancel() {
        ended = true
        if let t = transfer { upstreams?.cancel(t) }
        transfer = nil
    }

    func upstreamHead(_ t: UpstreamTransfer, status: Int, headers: [(String, String)], lowerNames: [String]) {
        self.status = status
        for i in headers.indices where lowerNames[i] == "content-type" { contentType = headers[i].1 }
        // An error or a redirect: say so now rather than read its body.
        guard (200..<300).contains(status) else { return refuse(t, statusProblem()) }
        for i in headers.indices where lowerNames[i] == "content-length" {
            if let n = Int(headers[i].1), n > Self.maxBytes { return refuse(t, "\(url) is larger than \(Self.maxBytes >> 20) MiB") }
        }
    }

    func upstreamBody(_ t: UpstreamTransfer, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !ended else { return false }
        if data.count + bytes.count > Self.maxBytes { refuse(t, "\(url) is larger than \(Self.maxBytes >> 20) MiB"); return false }
        guard reserve(bytes.count) else {
            refuse(t, "\(url) cannot be fetched: the request's images and documents come to more than \(MediaFetchBatch.maxTotalBytes >> 20) MiB together")
            return false
        }
        data.append(contentsOf: bytes)
        return false
    }

    private func statusProblem() -> String {
        "fetching \(url) failed: the server " + ((300..<400).contains(status) ? "redirects are not followed" : "answered \(status)")
    }

    /// Give up on the transfer now (rather than read and discard the rest until it ends) and say why.
    private func refuse(_ t: UpstreamTransfer, _ why: String) {
        guard !ended else { return }
        ended = true
        data = []
        upstreams?.cancel(t)   // safe inside a delegate call; no upstreamComplete follows
        transfer = nil
        done(self, .failure(FetchError(message: why)))
    }

    func upstreamComplete(_ t: UpstreamTransfer, error: UpstreamError?) {
        transfer = nil
        guard !ended else { return }
        ended = true
        if let error { return done(self, .failure(FetchError(message: "fetching \(url) failed: \(error.message)"))) }
        guard (200..<300).contains(status) else { return done(self, .failure(FetchError(message: statusProblem()))) }
        guard let type = MediaType.fromHeader(contentType) ?? MediaType.sniff(data) else {
            return done(self, .failure(FetchError(message: "\(url) is not an image or PDF (Content-Type: \(contentType ?? "none"))")))
        }
        done(self, .success((type, Base64.encode(data))))
    }
}

/// The media fetches of one request: at most `maxURLs` distinct URLs (the request is refused before any
/// starts when it names more), `maxInFlight` at once (the rest wait their turn), `maxTotalBytes` in all. Each
/// running fetch also holds one of the daemon's `MediaFetchSlots`, so many requests cannot multiply the
/// fetches under way. The first failure ends the batch: the other fetches are cancelled.
final class MediaFetchBatch {
    static let maxURLs = 16
    static let maxInFlight = 4
    static let maxTotalBytes = 64 << 20

    typealias Fetched = [String: (mediaType: String, base64: String)]
    private let urls: [String]
    private var next = 0
    private var running: [ObjectIdentifier: MediaFetch] = [:]
    private var results: Fetched = [:]
    private var bytes = 0
    private let slots: MediaFetchSlots
    private let upstreams: Upstreams
    private let allowPrivate: Bool
    /// Nil once the batch has ended (done, failed or cancelled).
    private var done: ((Result<Fetched, MediaFetch.FetchError>) -> Void)?

    init(urls: [String], slots: MediaFetchSlots, upstreams: Upstreams, allowPrivate: Bool,
         done: @escaping (Result<Fetched, MediaFetch.FetchError>) -> Void) {
        self.urls = urls; self.slots = slots; self.upstreams = upstreams; self.allowPrivate = allowPrivate; self.done = done
    }

    /// Start what may start now; again when one of ours ends or the daemon gives back a slot.
    func pump() {
        guard done != nil else { return }
        while running.count < Self.maxInFlight, next < urls.count {
            guard slots.acquire() else { slots.wait(self); return }
            let f = MediaFetch(url: urls[next], reserve: { [unowned self] n in take(n) }) { [unowned self] f, result in ended(f, result) }
            next += 1
            running[ObjectIdentifier(f)] = f
            f.start(upstreams, allowPrivate: allowPrivate)
        }
        if running.isEmpty, next == urls.count, let report = done {
            done = nil
            slots.stopWaiting(self)
            report(.success(results))
        }
    }

    /// Stop: running fetches are cancelled and their slots given back; queued ones never start.
    func cancel() {
        done = nil
        slots.stopWaiting(self)
        let held = running.count
        for f in running.values { f.cancel() }
        running.removeAll()
        slots.release(held)
    }

    private func take(_ n: Int) -> Bool {
        guard n <= Self.maxTotalBytes - bytes else { return false }
        bytes += n
        return true
    }

    private func ended(_ f: MediaFetch, _ result: Result<(mediaType: String, base64: String), MediaFetch.FetchError>) {
        guard running[ObjectIdentifier(f)] != nil, let report = done else { return }
        switch result {
        case .failure(let e):
            cancel()   // this fetch's slot too: it is still counted as running
            report(.failure(e))
        case .success(let v):
            results[f.url] = v
            running[ObjectIdentifier(f)] = nil
            slots.release(1)   // a request waiting for a slot may take it
            pump()
        }
    }
}

/// The media fetches under way in the whole daemon: at most `limit`. A request that finds none free waits in
/// line (first come, first served) and goes on when one is given back.
final class MediaFetchSlots {
    static let limit = 32
    private(set) var inUse = 0
    private var waiting: [MediaFetchBatch] = []

    func acquire() -> Bool {
        guard inUse < Self.limit else { return false }
        inUse += 1
        return true
    }

    func wait(_ b: MediaFetchBatch) {
        if !waiting.contains(where: { $0 === b }) { waiting.append(b) }
    }

    func stopWaiting(_ b: MediaFetchBatch) { waiting.removeAll { $0 === b } }

    func release(_ n: Int) {
        inUse = max(inUse - n, 0)
        // Each woken batch takes slots or has nothing left to start; one that still wants more queues again.
        while inUse < Self.limit, !waiting.isEmpty {
            waiting.removeFirst().pump()
        }
    }
}
