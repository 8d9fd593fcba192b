import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolHTTP
import ProxyPoolUpstream

/// One client request and its attempts upstream. Before the first byte reaches the client, a failure moves on
/// to the next candidate; after it, the stream ends with the protocol's error event.
final class Exchange: UpstreamDelegate {
    enum Mode { case waiting, bufferingError, streaming, done }

    unowned let service: ProxyService
    let request: HTTPRequest
    let response: HTTPResponseWriter
    let endpoint: Endpoint
    let app: String
    let model: String?
    let stream: Bool
    let keyID: String?
    let session: String?
    let candidates: [String]
    var index = -1
    var attempts = 0
    var mode = Mode.waiting
    var transfer: UpstreamTransfer?
    var status = 0
    var upstreamHeaders: [(String, String)] = []
    var upstreamLowerNames: [String] = []
    var errorBody: [UInt8] = []
    var usage = UsageScanner()
    let started = Posix.monotonicMillis()
    var firstByte: Int64?
    var lastFailure: String?
    var isEventStream = false

    init(service: ProxyService, request: HTTPRequest, response: HTTPResponseWriter, endpoint: Endpoint, app: String, model: String?,
         stream: Bool, keyID: String?, session: String?, candidates: [String]) {
        self.service = service; self.request = request; self.response = response; self.endpoint = endpoint; self.app = app
        self.model = model; self.stream = stream; self.keyID = keyID; self.session = session; self.candidates = candidates
        response.onClientGone = { [unowned self] in clientGone() }
        response.onDrain = { [unowned self] in if let t = transfer { service.multi.resume(t) } }
    }

    var credential: String { candidates[index] }

    /// Try the next candidate, or answer with what we learned.
    func attempt() {
        index += 1
        guard index < candidates.count, let c = service.snapshot.credentials[candidates[index]] else { return giveUp() }
        attempts += 1
        mode = .waiting
        status = 0
        errorBody = []
        usage = UsageScanner()
        let (url, headers) = UpstreamTarget.build(endpoint: endpoint, path: request.head.path, query: request.head.query, credential: c,
                                                  clientHeaders: request.head.headers)
        var r = UpstreamRequest(url: url, method: request.head.method, headers: headers, body: request.body, caFile: c.options["ca-file"])
        r.firstByteTimeoutMillis = service.options.firstByteTimeoutMillis
        transfer = service.multi.start(r, delegate: self)
    }

    // MARK: UpstreamDelegate

    func upstreamHead(_ t: UpstreamTransfer, status: Int, headers: [(String, String)], lowerNames: [String]) {
        self.status = status
        upstreamHeaders = headers
        upstreamLowerNames = lowerNames
        if Self.failoverStatuses.contains(status) {
            mode = .bufferingError   // decide when the body is in: it may say why (quota, overload, reset time)
            return
        }
        mode = .streaming
        firstByte = Posix.monotonicMillis()
        var length: Int?
        for i in headers.indices {
            if lowerNames[i] == "content-type" { isEventStream = headers[i].1.hasPrefix("text/event-stream") }
            if lowerNames[i] == "content-length" { length = Int(headers[i].1) }
        }
        let out = forwardedHeaders()
        // An event stream's head goes out at once (clients show progress); a plain body's head waits for the
        // first bytes, so both leave in one send. A known length is kept: no re-chunking.
        response.startStream(status: status, headers: out, contentLength: isEventStream ? nil : length, flushHead: isEventStream)
    }

    func upstreamBody(_ t: UpstreamTransfer, _ bytes: UnsafeRawBufferPointer) -> Bool {
        switch mode {
        case .streaming:
            usage.feed(bytes)
            response.write(bytes)
            return response.overHighWater
        case .bufferingError:
            if errorBody.count < 65536 { errorBody.append(contentsOf: bytes.prefix(65536 - errorBody.count)) }
            return false
        default:
            return false
        }
    }

    func upstreamComplete(_ t: UpstreamTransfer, error: UpstreamError?) {
        transfer = nil
        let now = Timestamp.nowMillis()
        let cooldowns = service.cooldowns
        switch mode {
        case .streaming:
            if let error {
                // Too late to fail over: end the stream the way the client's protocol reports errors.
                if isEventStream { response.write(ErrorBodies.streamError(endpoint.dialect, "upstream \(credential) failed mid-response: \(error.message)")) }
                response.abortOrFinish(eventStream: isEventStream)
                finish(status: status, error: "upstream failed mid-response: \(error.message)")
            } else {
                cooldowns.succeeded(credential)
                if let s = session { service.rememberAffinity(s, credential) }
                response.finish()
                finish(status: status, error: nil)
            }
        case .bufferingError:
            let verdict = Cooldowns.verdict(status: status, headers: upstreamHeaders, body: errorBody, nowMillis: now,
                                            consecutiveFailures: cooldowns.failureCount(credential), capMillis: service.options.cooldownCapMillis)
            apply(verdict, now: now)
            lastFailure = "\(credential): \(verdict?.reason ?? "upstream answered \(status)")"
            if index + 1 < candidates.count { return attempt() }
            // Out of candidates: when they are all cooling, say when to come back; else pass the upstream's error on.
            if status == 429 || status == 529 || status == 503, let e = service.earliestRecovery(candidates, model: model, now: now) {
                let secs = max(1, (e - now + 999) / 1000)
                let msg = "no credential for app \(app) is available: \(candidates.map { service.describeBlock($0, model: model, now: now) }.joined(separator: "; "))"
                respondError(.rateLimited, msg, status: 429, headers: [("Retry-After", String(secs))])
            } else {
                response.respond(status: status, headers: forwardedHeaders(), body: errorBody)
                finish(status: status, error: lastFailure)
            }
        case .waiting:
            // No response at all: connection refused, timeout, reset before the head.
            let msg = error?.message ?? "no response"
            let verdict = Cooldowns.connectFailure(nowMillis: now, consecutiveFailures: cooldowns.failureCount(credential),
                                                   capMillis: service.options.cooldownCapMillis, message: msg)
            apply(verdict, now: now)
            lastFailure = "\(credential): \(msg)"
            if index + 1 < candidates.count { return attempt() }
            giveUp()
        case .done:
            break
        }
    }

    /// The upstream's response headers as the client gets them: hop-by-hop and framing dropped, and which
    /// credential answered added.
    func forwardedHeaders() -> [(String, String)] {
        var out: [(String, String)] = []
        out.reserveCapacity(upstreamHeaders.count + 1)
        for i in upstreamHeaders.indices where !Self.droppedResponseHeaders.contains(upstreamLowerNames[i]) { out.append(upstreamHeaders[i]) }
        out.append(("X-Proxypool-Credential", credential))
        return out
    }

    func apply(_ verdict: FailureVerdict?, now: Int64) {
        guard let v = verdict else { return }
        let c = credential
        switch v.action {
        case .coolDown(let until, let perModel):
            let m = perModel ? model : nil
            service.cooldowns.coolDown(c, model: m, until: until, reason: v.reason)
            service.writer.cooldown(.init(credential: c, model: m ?? "", authFailed: false, untilMillis: until, reason: v.reason))
            service.logger.warning("credential \(c) \(v.reason); cooling down\(m.map { " for \($0)" } ?? "") until \(ProxyService.clock(until))",
                                   event: "cooldown", [.init("CREDENTIAL", c), .init("APP", app), .init("MODEL", model ?? ""),
                                                       .init("UNTIL", Timestamp.iso8601(until / 1000))])
            service.metrics.count("proxypool_cooldowns_started_total", "credential=\"\(c)\"")
        case .authFailed:
            service.cooldowns.markAuthFailed(c, reason: "auth failed")
            service.writer.cooldown(.init(credential: c, model: "", authFailed: true, untilMillis: 0, reason: "auth failed"))
            service.logger.error("credential \(c) was refused by its upstream (\(status)); marked auth failed until it is changed",
                                 event: "auth-failed", [.init("CREDENTIAL", c), .init("STATUS", String(status))])
        case .retryElsewhere:
            service.logger.warning("credential \(c): \(v.reason); trying the next one", event: "upstream-error", [.init("CREDENTIAL", c)])
        }
    }

    private func giveUp() {
        respondError(.upstream, "no upstream could answer for app \(app): \(lastFailure ?? "no candidate")", status: 502, headers: [])
    }

    private func respondError(_ kind: ProxyErrorKind, _ msg: String, status: Int, headers: [(String, String)]) {
        response.respond(status: status, headers: [("Content-Type", "application/json")] + headers,
                         body: ErrorBodies.body(endpoint.dialect, kind, msg, status: status))
        finish(status: status, error: msg)
    }

    private func clientGone() {
        if let t = transfer { service.multi.cancel(t); transfer = nil }
        guard mode != .done else { return }
        finish(status: 499, error: "client closed the connection")
    }

    /// Record the request once: metrics, usage, one journal record.
    private func finish(status: Int, error: String?) {
        guard mode != .done else { return }
        mode = .done
        defer { service.exchanges[ObjectIdentifier(self)] = nil }
        let cred = index >= 0 && index < candidates.count ? candidates[index] : "-"
        let now = Posix.monotonicMillis()
        let latency = now - started
        let m = service.metrics
        let cl = "credential=\"\(cred)\""
        m.count("proxypool_requests_total", "app=\"\(app)\",code=\"\(status)\",\(cl)")
        m.count("proxypool_request_duration_seconds_sum", cl, Double(latency) / 1000)
        m.count("proxypool_request_duration_seconds_count", cl)
        if let fb = firstByte {
            m.count("proxypool_upstream_ttfb_seconds_sum", cl, Double(fb - started) / 1000)
            m.count("proxypool_upstream_ttfb_seconds_count", cl)
        }
        if attempts > 1 { m.count("proxypool_failovers_total", "app=\"\(app)\"", Double(attempts - 1)) }
        if error != nil { m.count("proxypool_errors_total", "app=\"\(app)\",\(cl)") }
        let nowSeconds = Timestamp.now()
        service.writer.request(day: service.day(nowSeconds), app: app, credential: cred, model: model ?? "", error: status >= 400 || error != nil,
                               input: usage.input, output: usage.output, cached: usage.cached, at: nowSeconds, keyID: keyID)
        // One journal record per request; built only when it will be written.
        // A client that hangs up is ordinary (tools cancel requests): info, like a completed request.
        let level: LogLevel = error != nil && status != 499 ? .warning : .info
        guard service.logger.enabled(level) else { return }
        var fields: [Logger.Field] = [.init("APP", app), .init("CREDENTIAL", cred), .init("MODEL", model ?? ""),
                                      .init("STATUS", String(status)), .init("ATTEMPTS", String(attempts)),
                                      .init("LATENCY_MS", String(latency)), .init("INPUT_TOKENS", String(usage.input)),
                                      .init("OUTPUT_TOKENS", String(usage.output)), .init("CACHED_TOKENS", String(usage.cached))]
        if let fb = firstByte { fields.append(.init("TTFB_MS", String(fb - started))) }
        let line = "\(request.head.method) \(request.head.path) app=\(app) credential=\(cred) model=\(model ?? "-") status=\(status) attempts=\(attempts) \(latency)ms" + (error.map { ": \($0)" } ?? "")
        service.logger.log(level, line, event: "request", fields)
    }

    static let failoverStatuses: Set<Int> = [401, 403, 429, 500, 502, 503, 504, 529]
    static let droppedResponseHeaders: Set<String> = [
        "connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade", "trailer",
        "set-cookie", "alt-svc",
    ]
}

extension HTTPResponseWriter {
    /// After an upstream failure mid-response: an event stream can be ended cleanly (its error event says
    /// what happened); anything else is cut, so the client cannot take half a body for a whole one.
    func abortOrFinish(eventStream: Bool) { eventStream ? finish() : abort() }
}

extension ProxyService {
    func rememberAffinity(_ session: String, _ credential: String) {
        if affinity.count > 10_000 { affinity.removeAll(keepingCapacity: true) }
        affinity[session] = credential
    }

    func earliestRecovery(_ names: [String], model: String?, now: Int64) -> Int64? {
        let times = names.compactMap { cooldowns.blockedUntil($0, model: model, now: now)?.until }.filter { $0 != Int64.max }
        guard times.count == names.count else { return nil }   // one is usable (or only auth-failed): not a rate limit
        return times.min()
    }

    func describeBlock(_ name: String, model: String?, now: Int64) -> String {
        guard let (until, reason) = cooldowns.blockedUntil(name, model: model, now: now) else { return "\(name) available" }
        return until == Int64.max ? "\(name) \(reason)" : "\(name) \(reason) until \(ProxyService.clock(until))"
    }
}
