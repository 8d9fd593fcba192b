import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolHTTP
import ProxyPoolUpstream
import ProxyPoolTranslation
import ProxyPoolProviders

/// One client request and its attempts upstream, the I/O side: `ExchangeMachine` decides (which candidate,
/// fail over or not, cool down, answer with what); this class carries its actions out: prepares and starts
/// upstream transfers, translates, writes to the client, writes cooldowns, logs and records.
final class Exchange: UpstreamDelegate, HTTPResponseProducer {
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
    var machine: ExchangeMachine
    var transfer: UpstreamTransfer?
    /// The auth header lines of the current attempt (to tell its token source which token a 401 refused).
    var sentAuth: [String] = []
    var usage = UsageScanner()
    let started = Posix.monotonicMillis()
    var firstByte: Int64?
    var plan = Plan(upstreamWire: nil, translated: false, upstreamModel: nil)
    /// The client's request in canonical form, decoded once (on the first attempt that needs it).
    var canonical: ChatRequest?
    var transcoder: StreamTranscoder?
    var body: [UInt8] = []
    var translatedUsage: Usage?
    /// Media fetched for inline-only upstreams, by URL; the fetches under way.
    var fetched: [String: (mediaType: String, base64: String)] = [:]
    var mediaFetches: MediaFetchBatch?
    let clientWire: WireProtocol?
    /// Tool calls of the request whose reasoning came from the reasoning cache (for the journal).
    var reasoningRestored = 0
    let clientContext: ClientContext
    /// A `response.create` of a Responses WebSocket (ResponsesWebSocket.swift), not an HTTP request.
    var overWebSocket = false

    init(service: ProxyService, request: HTTPRequest, response: HTTPResponseWriter, endpoint: Endpoint, app: String, model: String?,
         stream: Bool, keyID: String?, session: String?, candidates: [String]) {
        self.service = service; self.request = request; self.response = response; self.endpoint = endpoint; self.app = app
        self.model = model; self.stream = stream; self.keyID = keyID; self.session = session
        machine = ExchangeMachine(candidates: candidates, app: app, model: model, stream: stream,
                                  cooldownCapMillis: service.options.cooldownCapMillis, maxAnswerBytes: service.options.maxAnswerBytes)
        // Subscription accounts are handled apart (the snapshot names them, so a pool of API keys looks nothing up).
        let accounts = service.snapshot.accounts
        if !accounts.isEmpty {
            for n in candidates {
                switch accounts[n] {
                case .claudeAccount?:
                    // A Claude subscription's 400 may be Anthropic refusing the app (not the request): read it first.
                    machine.heldBack400.insert(n)
                case .chatGPTAccount?:
                    // Codex's backend may report a usage limit inside a 200 stream: held until its first real event.
                    machine.holdStreamStart.insert(n)
                    // It also refuses stream:false ("Stream must be set to true"): streamed up, collected whole.
                    machine.collectStream.insert(n)
                default: continue
                }
                // A login's token may be revoked before its expiry: one new token and one more try (as Codex does on a 401).
                machine.refreshOn401.insert(n)
            }
        }
        clientWire = WireProtocol(endpoint: endpoint.kind)
        clientContext = ClientContext(pathModel: endpoint.pathModel, streamFromPath: endpoint.kind == .generateContent ? false : (endpoint.kind == .streamGenerateContent ? true : nil),
                                      geminiSSE: request.head.query?.split(separator: "&").contains("alt=sse") ?? false)
        response.producer = self
    }

    var candidates: [String] { machine.candidates }
    var index: Int { machine.index }
    var attempts: Int { machine.attempts }
    var credential: String { machine.credential }

    /// The first attempt.
    func attempt() { run(.start) }

    /// Give the machine an event and carry out what it decides, until an action needs nothing more.
    func run(_ event: ExchangeMachine.Event) {
        var next: ExchangeMachine.Event? = event
        while let e = next { next = carryOut(machine.handle(e, service.cooldowns)) }
    }

    /// Carry one action out; the event it leads to, if any (the machine goes on from there).
    private func carryOut(_ action: ExchangeMachine.Action) -> ExchangeMachine.Event? {
        switch action {
        case .none, .forwardBody, .keepBody:
            return nil
        case .send:
            return send()
        case .startStream(let length, let flushHead):
            firstByte = Posix.monotonicMillis()
            response.startStream(status: machine.status, headers: forwardedHeaders(), contentLength: length, flushHead: flushHead)
        case .startTranscodedStream:
            firstByte = Posix.monotonicMillis()
            guard let wire = plan.upstreamWire, let clientWire, let canonical else { return nil }
            transcoder = StreamTranscoder(from: wire, to: clientWire, request: canonical, context: clientContext)
            if wire.family != .openai { transcoder?.collector = StreamReasoningCollector() }
            let jsonArray = clientWire == .gemini && !clientContext.geminiSSE
            response.startStream(status: machine.status, headers: [("Content-Type", jsonArray ? "application/json" : "text/event-stream"),
                                                                   ("Cache-Control", "no-cache"), ("X-Proxypool-Credential", credential)],
                                 contentLength: nil, flushHead: true)
        case .bufferAnswer:
            firstByte = Posix.monotonicMillis()
        case .finishStream(let failure):
            finishStream(failure)
        case .translateAnswer, .translateUpstreamError:
            completeTranslated()
        case .relayUpstreamError(let reason):
            relayUpstreamError(reason)
        case .respond(let r):
            respondError(r.kind, r.message, status: r.status, headers: r.headers)
        case .coolDown(let cd):
            coolDown(cd)
            return .carriedOut
        case .markAuthFailed(let c, let why):
            // A plan that refuses this app is a state of its own (`status` says which), not a failed login.
            let reason = why == Cooldowns.planRefusesThirdParty
                ? "\(why): Anthropic bills this app as extra usage; it serves Claude Code again once changed" : "auth failed"
            service.cooldowns.markAuthFailed(c, reason: reason)
            service.writer.cooldown(.init(credential: c, model: "", authFailed: true, untilMillis: 0, reason: reason))
            service.logger.error("credential \(c) \(why); marked auth failed until it is changed",
                                 event: "auth-failed", [.init("CREDENTIAL", c), .init("STATUS", String(machine.status))])
            return .carriedOut
        case .releaseHeld(let start):
            // The held stream is a real answer: start it for the client and pass on what was held.
            _ = carryOut(start)
            let held = machine.held
            held.withUnsafeBytes { forward($0) }
            return .carriedOut
        case .refreshToken(let c):
            service.tokens.rejected(c, headers: sentAuth)
            service.logger.info("credential \(c): its upstream refused the token (401); trying again with a new one", event: "token-rejected",
                                [.init("CREDENTIAL", c)])
            return .carriedOut
        case .retryElsewhere(let c, let reason):
            service.logger.warning("credential \(c): \(reason); trying the next one", event: "upstream-error", [.init("CREDENTIAL", c)])
            return .carriedOut
        }
        return nil
    }

    /// Send the request to the current candidate (again after media fetches or its token come in); what the
    /// machine is told when it cannot go (yet).
    private func send() -> ExchangeMachine.Event? {
        guard let c = service.snapshot.credentials[candidates[index]] else { return .candidateGone }
        // The credential's auth: a static header, or a token that may have to be fetched first (Exchange+Tokens.swift).
        let auth: [String]
        switch authHeaders(c) {
        case .ready(let h): auth = h
        case .notYet(let event): return event
        }
        body = []
        transcoder = nil
        translatedUsage = nil
        usage = UsageScanner()
        var upstream: (url: String, headers: [String], body: [UInt8])
        do throws(TranslationError) {
            // nil: media fetches are under way, or the client was answered (the machine then ignores this).
            guard let u = try prepare(c) else { return .preparation(.pending) }
            upstream = u
        } catch {
            // The client's request cannot be said in this credential's protocol: the next one may take it.
            return .preparation(.failed(reason: "\(c.name): \(error)", markCredential: false,
                                        ifLast: .init(.invalidRequest, status: 400, "the request cannot be sent to \(c.name) (\(c.provider.rawValue)): \(error)")))
        }
        upstream.headers.append(contentsOf: auth)
        sentAuth = auth
        var r = UpstreamRequest(url: upstream.url, method: request.head.method, headers: upstream.headers, body: upstream.body, caFile: c.options["ca-file"])
        r.firstByteTimeoutMillis = service.options.firstByteTimeoutMillis
        transfer = service.upstreams.start(r, delegate: self)
        return nil
    }

    /// The upstream request for credential `c` (its auth apart): the client's bytes as they are when the
    /// credential speaks the client's protocol and the model stays; otherwise decoded once, mapped and
    /// re-encoded. Returns nil when the client was already answered (its request cannot be decoded at all) or
    /// media fetches must come in first.
    private func prepare(_ c: CredentialRoute) throws(TranslationError) -> (url: String, headers: [String], body: [UInt8])? {
        let head = request.head
        let provider = Providers.of(c.provider)
        func passThrough(_ path: Substring) -> UpstreamTarget {
            provider.target(endpoint: endpoint, path: path, query: head.query, credential: c, clientHeaders: head.headers, lowerNames: head.lowerNames)
        }
        // Vertex AI chooses its protocol by the model (Exchange+Vertex.swift).
        if c.provider == .vertex { return try prepareVertex(c, clientWire) }
        // A Gemini path without a version (/models/…) goes to Gemini as v1beta, the version Gemini CLI and the
        // genai SDKs use by default.
        let clientPath = endpoint.family == .gemini && endpoint.pathModel != nil && endpoint.geminiVersion == nil
            ? Substring("/v1beta" + head.path) : head.path
        guard let clientWire else {
            plan = Plan(upstreamWire: nil, translated: false, upstreamModel: model)
            let t = passThrough(clientPath)
            return (t.url, t.headers, request.body)
        }
        let wire = provider.upstreamWire(for: clientWire, options: c.options)
        let decision = model.map { service.mapModel($0, c) }
        let upstreamModel = decision?.model ?? model
        if wire == clientWire {
            plan = Plan(upstreamWire: wire, translated: false, upstreamModel: upstreamModel)
            if !stream && c.provider == .chatGPTAccount {
                // The Codex backend streams only: the same body with stream:true (and the model it maps to).
                guard var json = try? JSONParser.parse(request.body) else { throw TranslationError(field: nil, "the request body is not valid JSON") }
                json.set("stream", .bool(true))
                if let upstreamModel { json.set("model", .string(upstreamModel)) }
                let t = passThrough(head.path)
                return (t.url, t.headers, JSONWriter.bytes(json))
            }
            guard decision?.changed == true, let upstreamModel else {
                let t = passThrough(clientPath)
                return (t.url, t.headers, request.body)
            }
            // Same protocol, another model name: only the name changes (in the path for Gemini, else in the body).
            if clientWire == .gemini, let colon = head.path.lastIndex(of: ":") {
                let path = "/\(endpoint.geminiVersion ?? "v1beta")/models/\(PathSegment.encode(upstreamModel))" + head.path[colon...]
                let t = passThrough(Substring(path))
                return (t.url, t.headers, request.body)
            }
            guard var json = try? JSONParser.parse(request.body) else { throw TranslationError(field: nil, "the request body is not valid JSON") }
            json.set("model", .string(upstreamModel))
            let t = passThrough(head.path)
            return (t.url, t.headers, JSONWriter.bytes(json))
        }
        guard let req = try translatedRequest(from: clientWire, to: wire, model: upstreamModel, credential: c, upstreamName: "Gemini") else { return nil }
        plan = Plan(upstreamWire: wire, translated: true, upstreamModel: req.model)
        let bytes = try Translator.encodeRequest(req, to: wire)
        let t = provider.target(wire: wire, model: req.model, stream: req.stream, credential: c)
        return (t.url, t.headers, bytes)
    }

    /// The client's request in canonical form for `wire`: decoded once (kept for the next attempt), the media
    /// it names by URL fetched and inlined for Gemini, which takes them inline only; the model, stream flag,
    /// the credential's output cap and reasoning the client could not carry back set. Nil while fetches run,
    /// or once a refusal went to the client. `upstreamName` names the upstream in the refusal of too many URLs.
    func translatedRequest(from clientWire: WireProtocol, to wire: WireProtocol, model upstreamModel: String?, credential c: CredentialRoute,
                           upstreamName: String) throws(TranslationError) -> ChatRequest? {
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
            let urls = req.mediaURLs
            guard urls.count <= MediaFetchBatch.maxURLs else {
                throw TranslationError(field: nil, "the request names \(urls.count) image or document URLs; at most \(MediaFetchBatch.maxURLs) are "
                                       + "fetched for one request (\(upstreamName) takes them inline only): send the others as base64 data")
            }
            let missing = urls.filter { fetched[$0] == nil }
            if !missing.isEmpty { startFetches(missing); return nil }
            req = req.inliningMedia(fetched)
        }
        if let upstreamModel { req.model = upstreamModel }
        req.stream = stream || c.provider == .chatGPTAccount   // the Codex backend streams only (collectStream)
        // A small local server refuses a client's 128k output budget (Claude Code's default) outright.
        if let cap = c.options["max-output-tokens"].flatMap({ Int($0) }) { req.maxOutputTokens = min(req.maxOutputTokens ?? cap, cap) }
        // Reasoning the client could not carry back (Chat has no slot for signatures): from the cache.
        reasoningRestored = service.reasoningCache.restore(into: &req, family: wire.family, credential: c.name, now: Posix.monotonicMillis())
        // The target's prompt cache: a stable prompt_cache_key for OpenAI, breakpoints for Anthropic.
        PromptCaching.prepare(&req, for: wire, session: session)
        // Azure OpenAI answers an argument its API version does not know with a 400 ("Unrecognized request
        // argument supplied"), and caches by prefix without a key: none is sent there.
        if c.provider == .azureOpenAI { req.promptCacheKey = nil }
        return req
    }

    // MARK: UpstreamDelegate

    func upstreamHead(_ t: UpstreamTransfer, status: Int, headers: [(String, String)], lowerNames: [String]) {
        // Most pools hold no subscription account: no lookup (a String hash) for them.
        if !service.snapshot.accounts.isEmpty, let kind = service.snapshot.accounts[credential] {
            service.quotas.update(credential, QuotaTable.read(kind: kind, headers: headers, lowerNames: lowerNames, nowMillis: Timestamp.nowMillis()))
            service.quotas.update(credential, credits: QuotaTable.readCredits(kind: kind, headers: headers, lowerNames: lowerNames))
        }
        let translating = plan.translated && plan.upstreamWire != nil && clientWire != nil && canonical != nil
        run(.head(status: status, headers: headers, lowerNames: lowerNames, translating: translating))
    }

    func upstreamBody(_ t: UpstreamTransfer, _ bytes: UnsafeRawBufferPointer) -> Bool {
        switch machine.handle(.body(bytes), service.cooldowns) {
        case .forwardBody:
            forward(bytes)
            return response.overHighWater
        case .releaseHeld(let start):
            var next = carryOut(.releaseHeld(start))
            while let e = next { next = carryOut(machine.handle(e, service.cooldowns)) }
            return response.overHighWater
        case .keepBody:
            body.append(contentsOf: bytes)
            return false
        default:
            return false
        }
    }

    /// Upstream bytes on their way to the client (through the transcoder, if any).
    private func forward(_ bytes: UnsafeRawBufferPointer) {
        if let transcoder {
            var out: [UInt8] = []
            transcoder.feed(UnsafeRawBufferPointer(bytes), into: &out)
            if !out.isEmpty { response.write(out) }
        } else {
            usage.feed(bytes)
            response.write(bytes)
        }
    }

    func upstreamComplete(_ t: UpstreamTransfer, error: UpstreamError?) {
        transfer = nil
        run(.end(error.map { ExchangeMachine.Failure(localResources: $0.kind == .localResources, message: $0.message) }))
    }

    /// The stream is over: end it the way the client's protocol ends one (an error event when it failed).
    private func finishStream(_ error: ExchangeMachine.Failure?) {
        let cooldowns = service.cooldowns
        let status = machine.status
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
            let isEventStream = machine.isEventStream
            if isEventStream { response.write(ClientErrors.streamError(endpoint.family, .upstream, "upstream \(credential) failed mid-response: \(error.message)")) }
            response.abortOrFinish(eventStream: isEventStream)
            finish(status: status, error: "upstream failed mid-response: \(error.message)")
        } else {
            cooldowns.succeeded(credential)
            if let s = session { service.rememberAffinity(s, credential) }
            response.finish()
            finish(status: status, error: nil)
        }
    }

    /// No candidate is left after a held-back failure: its error goes to the client, in the client's protocol.
    private func relayUpstreamError(_ reason: String) {
        let status = machine.status
        if plan.translated, let wire = plan.upstreamWire, let clientWire {
            let t = Translator.translateError(status: status, body: machine.errorBody, from: wire, to: clientWire)
            response.respond(status: t.info.status, headers: [("Content-Type", "application/json"), ("X-Proxypool-Credential", credential)] + retryAfter(), body: t.body)
        } else {
            response.respond(status: status, headers: forwardedHeaders(), body: machine.errorBody)
        }
        finish(status: status, error: reason)
    }

    /// Fetch media URLs (a few at a time, within the request's and the daemon's caps); when the last one is in,
    /// send again (or, if one failed, move on: another credential may take URLs as they are).
    func startFetches(_ urls: [String]) {
        let batch = MediaFetchBatch(urls: urls, slots: service.mediaFetchSlots, upstreams: service.upstreams,
                                    allowPrivate: service.options.fetchPrivateURLs) { [unowned self] result in
            mediaFetches = nil
            guard machine.mode != .done else { return }
            switch result {
            case .success(let got):
                fetched.merge(got) { _, new in new }
                run(.mediaReady)
            case .failure(let e):
                run(.mediaFailed(e.message))
            }
        }
        mediaFetches = batch
        batch.pump()
    }

    /// A whole upstream answer, collected for translation: a response re-encoded for the client, or an error
    /// said in the client's protocol.
    private func completeTranslated() {
        let status = machine.status
        if !stream, (200..<300).contains(status), machine.collectStream.contains(credential) {
            // Asked without a stream, answered with one (the Codex backend streams only): one JSON answer from it.
            do throws(ResponsesStreamCollector.Failure) {
                if ResponsesStreamCollector.looksLikeEventStream(body) { body = try ResponsesStreamCollector.collect(body) }
            } catch {
                return respondError(.upstream, "upstream \(credential) answered a stream that holds no whole answer: \(error.message)", status: 502, headers: [])
            }
            if canonical == nil || !plan.translated {
                // A Responses client on a Responses upstream: the collected answer as it is.
                body.withUnsafeBytes { usage.feed($0) }
                service.cooldowns.succeeded(credential)
                if let s = session { service.rememberAffinity(s, credential) }
                response.respond(status: status, headers: [("Content-Type", "application/json"), ("X-Proxypool-Credential", credential)], body: body)
                return finish(status: status, error: nil)
            }
        }
        guard let wire = plan.upstreamWire, let clientWire, let canonical else { return }
        guard (200..<300).contains(status) else {
            let t = Translator.translateError(status: status, body: body, from: wire, to: clientWire)
            response.respond(status: t.info.status, headers: [("Content-Type", "application/json"), ("X-Proxypool-Credential", credential)] + retryAfter(), body: t.body)
            return finish(status: status, error: "upstream \(credential) answered \(status): \(t.info.message)")
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
        let upstreamHeaders = machine.upstreamHeaders, upstreamLowerNames = machine.upstreamLowerNames
        guard let i = upstreamHeaders.indices.first(where: { upstreamLowerNames[$0] == "retry-after" && RetryAfterValue.isForwardable(upstreamHeaders[$0].1) })
        else { return [] }
        return upstreamConnectionNamed().contains("retry-after") ? [] : [upstreamHeaders[i]]
    }

    /// The names the upstream's Connection headers list (hop-by-hop too), looked for inline: through
    /// namedInConnection's closures the look cost ~700 instructions per answer (callgrind).
    private func upstreamConnectionNamed() -> [String] {
        let upstreamHeaders = machine.upstreamHeaders, upstreamLowerNames = machine.upstreamLowerNames
        var named: [String] = []
        for i in upstreamLowerNames.indices where upstreamLowerNames[i].utf8.count == 10 && upstreamLowerNames[i] == "connection" {
            named += HopByHop.named(inConnection: upstreamHeaders[i].1)
        }
        return named
    }

    /// The upstream's response headers as the client gets them: hop-by-hop (those its Connection header names
    /// too) and framing dropped, and which credential answered added.
    func forwardedHeaders() -> [(String, String)] {
        let upstreamHeaders = machine.upstreamHeaders, upstreamLowerNames = machine.upstreamLowerNames
        var out: [(String, String)] = []
        out.reserveCapacity(upstreamHeaders.count + 1)
        let named = upstreamConnectionNamed()
        for i in upstreamHeaders.indices where !Self.droppedResponseHeaders.contains(upstreamLowerNames[i]) {
            if !named.isEmpty && named.contains(upstreamLowerNames[i]) { continue }
            out.append(upstreamHeaders[i])
        }
        out.append(("X-Proxypool-Credential", credential))
        return out
    }

    /// Skip the credential (for the model, or for every model) until the time given; kept across restarts.
    private func coolDown(_ cd: ExchangeMachine.Cooldown) {
        let c = cd.credential, m = cd.model
        service.cooldowns.coolDown(c, model: m, until: cd.untilMillis, reason: cd.reason)
        service.writer.cooldown(.init(credential: c, model: m ?? "", authFailed: false, untilMillis: cd.untilMillis, reason: cd.reason))
        service.logger.warning("credential \(c) \(cd.reason); cooling down\(m.map { " for \($0)" } ?? "") until \(Timestamp.clock(cd.untilMillis))",
                               event: "cooldown", [.init("CREDENTIAL", c), .init("APP", app), .init("MODEL", model ?? ""),
                                                   .init("UNTIL", Timestamp.iso8601(cd.untilMillis / 1000))])
        service.metrics.count("proxypool_cooldowns_started_total", "credential=\"\(c)\"")
    }

    func respondError(_ kind: ErrorCause, _ msg: String, status: Int, headers: [(String, String)]) {
        response.respond(status: status, headers: [("Content-Type", "application/json")] + headers,
                         body: ClientErrors.body(endpoint.family, kind, msg, status: status))
        finish(status: status, error: msg)
    }

    /// The client's output drained: a paused upstream may go on.
    func drained() { if let t = transfer { service.upstreams.resume(t) } }

    func clientGone() {
        if let t = transfer { service.upstreams.cancel(t); transfer = nil }
        guard machine.mode != .done else { return }   // finish already cancelled the media fetches
        finish(status: 499, error: "client closed the connection")
    }

    /// Record the request once: metrics, usage, one journal record.
    private func finish(status: Int, error: String?) {
        guard machine.mode != .done else { return }
        _ = machine.handle(.finished, service.cooldowns)
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
        // One journal record per request, written from typed values (RequestRecord.swift) and sent with the
        // others of this turn of the loop. A client that hangs up is ordinary (tools cancel requests): info,
        // like a completed request.
        let level: LogLevel = error != nil && status != 499 ? .warning : .info
        service.logger.record(level, event: "request") { r in
            writeRecord(&r, status: status, error: error, credential: cred, latency: latency, input: input, output: output, cached: cached)
        }
        if !service.dashboard.liveLog.isEmpty {
            service.dashboard.liveLog.publish(LiveLogEntry(
                at: Timestamp.iso8601(nowSeconds), method: overWebSocket ? "WS" : request.head.method, path: String(request.head.path), app: app, model: model ?? "",
                upstreamModel: plan.upstreamModel ?? model ?? "", credential: cred, attempts: attempts, status: status,
                latencyMs: latency, inputTokens: input, outputTokens: output, error: error))
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
}

/// The daemon's cooldown table, as the machine reads it; the clock is the wall clock (cooldowns are epoch times).
extension CooldownTable: ExchangeEnvironment {
    var nowMillis: Int64 { Timestamp.nowMillis() }
}
