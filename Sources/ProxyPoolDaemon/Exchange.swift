import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolHTTP
import ProxyPoolUpstream
import ProxyPoolTranslation

/// One client request and its attempts upstream. Before the first byte reaches the client, a failure moves on
/// to the next candidate; after it, the stream ends with the protocol's error event.
final class Exchange: UpstreamDelegate, HTTPResponseProducer {
    /// waiting: no answer yet. bufferingError: a failover status, body collected to learn why.
    /// streaming: bytes go to the client as they come (translated or not). bufferingBody: a whole answer
    /// collected for translation (a non-streamed answer, or an error in the upstream's own format).
    enum Mode { case waiting, bufferingError, streaming, bufferingBody, done }

    /// How the current attempt talks to its credential.
    struct Plan {
        /// The protocol sent upstream; nil for endpoints that are never translated (model lists, token counts).
        var upstreamWire: WireProtocol?
        /// The client's bytes cannot go as they are: another protocol, or another model name.
        var translated: Bool
        var upstreamModel: String?
    }

    /// Strong (the service outlives every exchange): an unowned reference costs a checked retain on every use.
    let service: ProxyService
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
    var plan = Plan(upstreamWire: nil, translated: false, upstreamModel: nil)
    /// The client's request in canonical form, decoded once (on the first attempt that needs it).
    var canonical: ChatRequest?
    var transcoder: StreamTranscoder?
    var body: [UInt8] = []
    var translatedUsage: Usage?
    var answerTooLarge = false
    /// Media fetched for inline-only upstreams, by URL; the fetches under way.
    var fetched: [String: (mediaType: String, base64: String)] = [:]
    var mediaFetches: MediaFetchBatch?
    let clientWire: WireProtocol?
    /// Tool calls of the request whose reasoning came from the reasoning cache (for the journal).
    var reasoningRestored = 0
    let clientContext: ClientContext

    init(service: ProxyService, request: HTTPRequest, response: HTTPResponseWriter, endpoint: Endpoint, app: String, model: String?,
         stream: Bool, keyID: String?, session: String?, candidates: [String]) {
        self.service = service; self.request = request; self.response = response; self.endpoint = endpoint; self.app = app
        self.model = model; self.stream = stream; self.keyID = keyID; self.session = session; self.candidates = candidates
        clientWire = WireProtocol(endpoint: endpoint.kind)
        clientContext = ClientContext(pathModel: endpoint.pathModel, streamFromPath: endpoint.kind == .generateContent ? false : (endpoint.kind == .streamGenerateContent ? true : nil),
                                      geminiSSE: request.head.query?.split(separator: "&").contains("alt=sse") ?? false)
        response.producer = self
    }

    var credential: String { candidates[index] }

    /// Try the next candidate, or answer with what we learned.
    func attempt() {
        index += 1
        guard index < candidates.count else { return giveUp() }
        attempts += 1
        send()
    }

    /// Send the request to the current candidate (again after media fetches complete).
    private func send() {
        guard let c = service.snapshot.credentials[candidates[index]] else { return attempt() }
        mode = .waiting
        status = 0
        errorBody = []
        body = []
        answerTooLarge = false
        transcoder = nil
        translatedUsage = nil
        usage = UsageScanner()
        let upstream: (url: String, headers: [String], body: [UInt8])
        do throws(TranslationError) {
            guard let u = try prepare(c) else { return }
            upstream = u
        } catch {
            // The client's request cannot be said in this credential's protocol: the next one may take it.
            lastFailure = "\(c.name): \(error)"
            if index + 1 < candidates.count { return attempt() }
            return respondError(.invalidRequest, "the request cannot be sent to \(c.name) (\(c.provider.rawValue)): \(error)", status: 400, headers: [])
        }
        var r = UpstreamRequest(url: upstream.url, method: request.head.method, headers: upstream.headers, body: upstream.body, caFile: c.options["ca-file"])
        r.firstByteTimeoutMillis = service.options.firstByteTimeoutMillis
        transfer = service.upstreams.start(r, delegate: self)
    }

    /// The upstream request for credential `c`: the client's bytes as they are when the credential speaks the
    /// client's protocol and the model stays; otherwise decoded once, mapped and re-encoded. Returns nil when
    /// the client was already answered (its request cannot be decoded at all).
    private func prepare(_ c: CredentialRoute) throws(TranslationError) -> (url: String, headers: [String], body: [UInt8])? {
        let head = request.head
        guard let clientWire else {
            plan = Plan(upstreamWire: nil, translated: false, upstreamModel: model)
            let (url, headers) = UpstreamTarget.build(endpoint: endpoint, path: head.path, query: head.query, credential: c, clientHeaders: head.headers, lowerNames: head.lowerNames)
            return (url, headers, request.body)
        }
        let wire = c.provider.upstreamWire(for: clientWire, options: c.options)
        let decision = model.map { service.mapModel($0, c) }
        let upstreamModel = decision?.model ?? model
        if wire == clientWire {
            plan = Plan(upstreamWire: wire, translated: false, upstreamModel: upstreamModel)
            guard decision?.changed == true, let upstreamModel else {
                let (url, headers) = UpstreamTarget.build(endpoint: endpoint, path: head.path, query: head.query, credential: c, clientHeaders: head.headers, lowerNames: head.lowerNames)
                return (url, headers, request.body)
            }
            // Same protocol, another model name: only the name changes (in the path for Gemini, else in the body).
            if clientWire == .gemini, let colon = head.path.lastIndex(of: ":") {
                let path = "/\(endpoint.geminiVersion ?? "v1beta")/models/\(UpstreamTarget.pathSegment(upstreamModel))" + head.path[colon...]
                let (url, headers) = UpstreamTarget.build(endpoint: endpoint, path: Substring(path), query: head.query, credential: c, clientHeaders: head.headers, lowerNames: head.lowerNames)
                return (url, headers, request.body)
            }
            guard var json = try? JSONParser.parse(request.body) else { throw TranslationError(field: nil, "the request body is not valid JSON") }
            json.set("model", .string(upstreamModel))
            let (url, headers) = UpstreamTarget.build(endpoint: endpoint, path: head.path, query: head.query, credential: c, clientHeaders: head.headers, lowerNames: head.lowerNames)
            return (url, headers, JSONWriter.bytes(json))
        }
        if canonical == nil {
            do throws(TranslationError) {
                canonical = try Translator.decodeRequest(request.body, from: clientWire, context: clientContext)
            } catch {
                respondError(.invalidRequest, "the request cannot be translated: \(error)", status: 400, headers: [])
                return nil
            }
        }
        var req = canonical!
        if wire == .gemini {
            // Gemini takes images and documents inline only: fetch what the client named by URL, then come back.
            let urls = req.mediaURLs
            guard urls.count <= MediaFetchBatch.maxURLs else {
                throw TranslationError(field: nil, "the request names \(urls.count) image or document URLs; at most \(MediaFetchBatch.maxURLs) are "
                                       + "fetched for one request (Gemini takes them inline only): send the others as base64 data")
            }
            let missing = urls.filter { fetched[$0] == nil }
            if !missing.isEmpty { startFetches(missing); return nil }
            req = req.inliningMedia(fetched)
        }
        if let upstreamModel { req.model = upstreamModel }
        req.stream = stream
        // A small local server refuses a client's 128k output budget (Claude Code's default) outright.
        if let cap = c.options["max-output-tokens"].flatMap({ Int($0) }) { req.maxOutputTokens = min(req.maxOutputTokens ?? cap, cap) }
        // Reasoning the client could not carry back (Chat has no slot for signatures): from the cache.
        reasoningRestored = service.reasoningCache.restore(into: &req, family: wire.family, credential: c.name, now: Posix.monotonicMillis())
        plan = Plan(upstreamWire: wire, translated: true, upstreamModel: req.model)
        let bytes = try Translator.encodeRequest(req, to: wire)
        let (url, headers) = UpstreamTarget.build(wire: wire, model: req.model, stream: stream, credential: c)
        return (url, headers, bytes)
    }

    // MARK: UpstreamDelegate

    func upstreamHead(_ t: UpstreamTransfer, status: Int, headers: [(String, String)], lowerNames: [String]) {
        self.status = status
        upstreamHeaders = headers
        upstreamLowerNames = lowerNames
        if Self.isFailoverStatus(status) {
            mode = .bufferingError   // decide when the body is in: it may say why (quota, overload, reset time)
            return
        }
        firstByte = Posix.monotonicMillis()
        var length: Int?
        for i in headers.indices {
            if lowerNames[i] == "content-type" { isEventStream = headers[i].1.hasPrefix("text/event-stream") }
            // The upstream parser checked it; a negative one (Int("-5") parses) is never passed on as a length.
            if lowerNames[i] == "content-length" { length = Int(headers[i].1).flatMap { $0 >= 0 ? $0 : nil } }
        }
        if plan.translated, let wire = plan.upstreamWire, let clientWire, let canonical {
            // A stream is re-encoded event by event; anything else (a whole answer, an error) is read whole first.
            guard (200..<300).contains(status), stream, isEventStream else { mode = .bufferingBody; return }
            mode = .streaming
            transcoder = StreamTranscoder(from: wire, to: clientWire, request: canonical, context: clientContext)
            if wire.family != .openai { transcoder?.collector = StreamReasoningCollector() }
            let jsonArray = clientWire == .gemini && !clientContext.geminiSSE
            response.startStream(status: status, headers: [("Content-Type", jsonArray ? "application/json" : "text/event-stream"),
                                                           ("Cache-Control", "no-cache"), ("X-Proxypool-Credential", credential)],
                                 contentLength: nil, flushHead: true)
            return
        }
        mode = .streaming
        let out = forwardedHeaders()
        // An event stream's head goes out at once (clients show progress); a plain body's head waits for the
        // first bytes, so both leave in one send. A known length is kept: no re-chunking.
        response.startStream(status: status, headers: out, contentLength: isEventStream ? nil : length, flushHead: isEventStream)
    }

    func upstreamBody(_ t: UpstreamTransfer, _ bytes: UnsafeRawBufferPointer) -> Bool {
        switch mode {
        case .streaming:
            if let transcoder {
                var out: [UInt8] = []
                transcoder.feed(UnsafeRawBufferPointer(bytes), into: &out)
                if !out.isEmpty { response.write(out) }
            } else {
                usage.feed(bytes)
                response.write(bytes)
            }
            return response.overHighWater
        case .bufferingBody:
            // Too big to translate whole: the rest is dropped and completeTranslated reports it.
            if body.count + bytes.count > service.options.maxAnswerBytes { answerTooLarge = true } else { body.append(contentsOf: bytes) }
            return false
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
            if let transcoder {
                var out: [UInt8] = []
                if let error { transcoder.fail("upstream \(credential) failed mid-response: \(error.message)", into: &out) }
                else { transcoder.finish(into: &out) }
                response.write(out)
                response.finish()
                translatedUsage = transcoder.usage
                let failure = error.map { "upstream failed mid-response: \($0.message)" } ?? transcoder.error.map { "stream ended with an error: \($0.message)" }
                if failure == nil {
                    cooldowns.succeeded(credential)
                    if let s = session { service.rememberAffinity(s, credential) }
                    if let c = transcoder.collector, let wire = plan.upstreamWire { rememberReasoning(c.content, wire) }
                }
                finish(status: status, error: failure)
            } else if let error {
                // Too late to fail over: end the stream the way the client's protocol reports errors.
                if isEventStream { response.write(ClientErrors.streamError(endpoint.dialect, .upstream, "upstream \(credential) failed mid-response: \(error.message)")) }
                response.abortOrFinish(eventStream: isEventStream)
                finish(status: status, error: "upstream failed mid-response: \(error.message)")
            } else {
                cooldowns.succeeded(credential)
                if let s = session { service.rememberAffinity(s, credential) }
                response.finish()
                finish(status: status, error: nil)
            }
        case .bufferingBody:
            completeTranslated(error: error)
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
            } else if plan.translated, let wire = plan.upstreamWire, let clientWire {
                let t = Translator.translateError(status: status, body: errorBody, from: wire, to: clientWire)
                response.respond(status: t.info.status, headers: [("Content-Type", "application/json"), ("X-Proxypool-Credential", credential)] + retryAfter(), body: t.body)
                finish(status: status, error: lastFailure)
            } else {
                response.respond(status: status, headers: forwardedHeaders(), body: errorBody)
                finish(status: status, error: lastFailure)
            }
        case .waiting:
            // No response at all: connection refused, timeout, reset before the head.
            let msg = error?.message ?? "no response"
            if error?.kind == .localResources {
                // Our own shortage (out of descriptors): the credential is not to blame, and the next one would
                // fail the same way. No cooldown; the client may come back in a moment.
                lastFailure = "\(credential): \(msg)"
                return respondError(.unavailable, "proxypoold cannot open a connection upstream right now (\(msg)); try again shortly",
                                    status: 503, headers: [("Retry-After", "1")])
            }
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

    /// Fetch media URLs (a few at a time, within the request's and the daemon's caps); when the last one is in,
    /// send again (or, if one failed, move on: another credential may take URLs as they are).
    private func startFetches(_ urls: [String]) {
        mode = .waiting
        let batch = MediaFetchBatch(urls: urls, slots: service.mediaFetchSlots, upstreams: service.upstreams,
                                    allowPrivate: service.options.fetchPrivateURLs) { [unowned self] result in
            mediaFetches = nil
            guard mode != .done else { return }
            switch result {
            case .success(let got):
                fetched.merge(got) { _, new in new }
                send()
            case .failure(let e):
                lastFailure = "\(credential): \(e.message)"
                if index + 1 < candidates.count { return attempt() }
                respondError(.invalidRequest, "an image or document in the request cannot be used: \(e.message)", status: 400, headers: [])
            }
        }
        mediaFetches = batch
        batch.pump()
    }

    /// A whole upstream answer, collected for translation: a response re-encoded for the client, or an error
    /// said in the client's protocol.
    private func completeTranslated(error: UpstreamError?) {
        guard let wire = plan.upstreamWire, let clientWire, let canonical else { return }
        if let error {
            return respondError(.upstream, "upstream \(credential) failed before its answer was complete: \(error.message)", status: 502, headers: [])
        }
        if answerTooLarge {
            return respondError(.upstream, "upstream \(credential) answered with more than \(service.options.maxAnswerBytes) bytes, too much to translate", status: 502, headers: [])
        }
        guard (200..<300).contains(status) else {
            let t = Translator.translateError(status: status, body: body, from: wire, to: clientWire)
            response.respond(status: t.info.status, headers: [("Content-Type", "application/json"), ("X-Proxypool-Credential", credential)] + retryAfter(), body: t.body)
            return finish(status: status, error: "upstream \(credential) answered \(status): \(t.info.message)")
        }
        if stream {
            return respondError(.upstream, "upstream \(credential) answered a streamed request without an event stream", status: 502, headers: [])
        }
        do throws(TranslationError) {
            let t = try Translator.translateResponse(body, from: wire, to: clientWire, request: canonical)
            translatedUsage = t.response.usage
            rememberReasoning(t.response.content, wire)
            service.cooldowns.succeeded(credential)
            if let s = session { service.rememberAffinity(s, credential) }
            response.respond(status: status, headers: [("Content-Type", "application/json"), ("X-Proxypool-Credential", credential)], body: t.body)
            finish(status: status, error: nil)
        } catch {
            respondError(.upstream, "upstream \(credential) answered something that cannot be translated: \(error)", status: 502, headers: [])
        }
    }

    /// Keep what a Gemini or Anthropic answer's tool calls need on the next turn (payloads are never logged).
    private func rememberReasoning(_ content: [ContentBlock], _ wire: WireProtocol) {
        guard wire.family != .openai else { return }
        service.reasoningCache.remember(content, family: wire.family, credential: credential, now: Posix.monotonicMillis())
    }

    /// An upstream's Retry-After, passed on with a translated error so the client backs off: the first one whose
    /// value is a delay of at most nine digits or an HTTP date, unless the upstream's Connection header names it.
    private func retryAfter() -> [(String, String)] {
        guard let i = upstreamHeaders.indices.first(where: { upstreamLowerNames[$0] == "retry-after" && RetryAfterValue.isForwardable(upstreamHeaders[$0].1) })
        else { return [] }
        let named = HopByHop.namedInConnection(count: upstreamHeaders.count, lowerName: { upstreamLowerNames[$0] }, value: { upstreamHeaders[$0].1 })
        return named.contains("retry-after") ? [] : [upstreamHeaders[i]]
    }

    /// The upstream's response headers as the client gets them: hop-by-hop (those its Connection header names
    /// too) and framing dropped, and which credential answered added.
    func forwardedHeaders() -> [(String, String)] {
        var out: [(String, String)] = []
        out.reserveCapacity(upstreamHeaders.count + 1)
        let named = HopByHop.namedInConnection(count: upstreamHeaders.count, lowerName: { upstreamLowerNames[$0] }, value: { upstreamHeaders[$0].1 })
        for i in upstreamHeaders.indices where !Self.droppedResponseHeaders.contains(upstreamLowerNames[i]) {
            if !named.isEmpty && named.contains(upstreamLowerNames[i]) { continue }
            out.append(upstreamHeaders[i])
        }
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

    private func respondError(_ kind: ErrorCause, _ msg: String, status: Int, headers: [(String, String)]) {
        response.respond(status: status, headers: [("Content-Type", "application/json")] + headers,
                         body: ClientErrors.body(endpoint.dialect, kind, msg, status: status))
        finish(status: status, error: msg)
    }

    /// The client's output drained: a paused upstream may go on.
    func drained() { if let t = transfer { service.upstreams.resume(t) } }

    func clientGone() {
        if let t = transfer { service.upstreams.cancel(t); transfer = nil }
        guard mode != .done else { return }   // finish already cancelled the media fetches
        finish(status: 499, error: "client closed the connection")
    }

    /// Record the request once: metrics, usage, one journal record.
    private func finish(status: Int, error: String?) {
        guard mode != .done else { return }
        mode = .done
        mediaFetches?.cancel()   // their callbacks hold this exchange unowned
        mediaFetches = nil
        defer { service.exchanges[ObjectIdentifier(self)] = nil }
        let cred = index >= 0 && index < candidates.count ? candidates[index] : "-"
        let now = Posix.monotonicMillis()
        let latency = now - started
        service.metrics.request(app: app, credential: cred, status: status, seconds: Double(latency) / 1000,
                                ttfbSeconds: firstByte.map { Double($0 - started) / 1000 }, failovers: attempts - 1, error: error != nil)
        let nowSeconds = Timestamp.now()
        // Both readers clamp each count to 0…10^12 (Saturating.tokens): what an upstream reports cannot overflow the sums.
        let (input, output, cached) = translatedUsage.map { (Saturating.tokens($0.input), Saturating.tokens($0.output), Saturating.tokens($0.cachedInput)) }
            ?? (usage.input, usage.output, usage.cached)
        service.writer.request(day: service.day(nowSeconds), app: app, credential: cred, model: model ?? "", upstreamModel: plan.upstreamModel ?? model ?? "",
                               error: status >= 400 || error != nil,
                               input: input, output: output, cached: cached, at: nowSeconds, keyID: keyID)
        // One journal record per request; built only when it will be written.
        // A client that hangs up is ordinary (tools cancel requests): info, like a completed request.
        let level: LogLevel = error != nil && status != 499 ? .warning : .info
        guard service.logger.enabled(level) else { return }
        var fields: [Logger.Field] = [.init("APP", app), .init("CREDENTIAL", cred), .init("MODEL", model ?? ""),
                                      .init("STATUS", String(status)), .init("ATTEMPTS", String(attempts)),
                                      .init("LATENCY_MS", String(latency)), .init("INPUT_TOKENS", String(input)),
                                      .init("OUTPUT_TOKENS", String(output)), .init("CACHED_TOKENS", String(cached))]
        if let fb = firstByte { fields.append(.init("TTFB_MS", String(fb - started))) }
        if reasoningRestored > 0 { fields.append(.init("REASONING_RESTORED", String(reasoningRestored))) }
        let upstreamModel = plan.upstreamModel ?? model ?? "-"
        if upstreamModel != (model ?? "-") { fields.append(.init("UPSTREAM_MODEL", upstreamModel)) }
        if plan.translated, let w = plan.upstreamWire, let cw = clientWire { fields.append(.init("TRANSLATION", "\(cw.rawValue)>\(w.rawValue)")) }
        let via = upstreamModel != (model ?? "-") ? " upstream_model=\(upstreamModel)" : ""
        let tr = plan.translated ? " translated=\(clientWire?.rawValue ?? "-")>\(plan.upstreamWire?.rawValue ?? "-")" : ""
        let line = "\(request.head.method) \(request.head.path) app=\(app) credential=\(cred) model=\(model ?? "-")\(via)\(tr) status=\(status) attempts=\(attempts) \(latency)ms" + (error.map { ": \($0)" } ?? "")
        service.logger.log(level, line, event: "request", fields)
    }

    static func isFailoverStatus(_ status: Int) -> Bool {
        switch status {
        case 401, 403, 429, 500, 502, 503, 504, 529: return true
        default: return false
        }
    }
    static let droppedResponseHeaders = HeaderNameSet([
        "connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade", "trailer",
        "set-cookie", "alt-svc",
    ])
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
