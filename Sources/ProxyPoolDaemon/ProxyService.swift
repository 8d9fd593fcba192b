import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolStore
import ProxyPoolHTTP
import ProxyPoolHTTPWire
import ProxyPoolUpstream
import ProxyPoolTranslation
import ProxyPoolProviders

/// The proxy: every request is checked (Host, Origin, access key), attributed to an app, routed to the app's
/// chain and then the pool, and forwarded byte for byte, failing over to the next credential on rate limits
/// and upstream errors as long as the client has not seen a byte. Runs on the event loop thread.
/// Confined to the loop thread; other threads reach it only through `loop.execute` (hence @unchecked).
final class ProxyService: HTTPHandler, @unchecked Sendable {
    struct Options {
        var allowedHosts: Set<String>
        var maxAttempts: Int
        var cooldownCapMillis: Int64
        var firstByteTimeoutMillis: Int64
        /// The largest upstream answer read whole for translation.
        var maxAnswerBytes: Int
        var fetchPrivateURLs: Bool
        /// GET /metrics without an access key (`metrics-public = yes`).
        var metricsPublic = false
        /// A subscription account past this percentage of a window gives way to the others (`quota-threshold`).
        var quotaThreshold: Double = 95
    }

    /// The subscription accounts' usage windows, as their answers report them.
    let quotas = QuotaTable()
    let recognitions = AppRecognitions()
    /// The last request's app and how it was recognised: the table is written only when that changes.
    private var lastRecognition: (app: String, how: AppDetection.Recognition)?

    let loop: EventLoop
    let upstreams: Upstreams
    let logger: Logger
    let cooldowns: CooldownTable
    let writer: BackgroundWriter
    let options: Options
    var snapshot: RoutingSnapshot { didSet { keyCache.removeAll(); lastKey = nil; admitted = nil; mappingCache.removeAll(); lastMapping = nil; poolCache.removeAll() } }
    /// The pool for a client protocol, per snapshot: credentials of that protocol, then the others (free ones are
    /// never in it).
    var poolCache: [Family: (own: [String], others: [String])] = [:]
    /// (credential, requested model) → the model sent upstream: a pure function of the snapshot, so it is
    /// worked out once per snapshot rather than on every request (name normalisation is String work).
    var mappingCache: [MappingKey: ModelMapping.Decision] = [:]
    struct MappingKey: Hashable { let credential: String; let model: String }
    var lastMapping: (key: MappingKey, decision: ModelMapping.Decision)?
    /// Presented key → its record (or nil for an unknown key), so a key is hashed once, not on every request.
    var keyCache: [String: (id: String, app: String?)?] = [:]
    /// The key of the previous request: a client sends the same one every time, and comparing it costs less
    /// than hashing it.
    var lastKey: (key: String, info: (id: String, app: String?)?)?
    var dayCache: (Int64, String) = (0, "")
    /// The Host value last found allowed, as sent: clients send the same one on every request, so the
    /// check is one comparison (the allowed names never change while the service runs).
    var lastAllowedHost: String?
    var rotation = 0
    var affinity: [String: String] = [:]
    /// Gemini / Anthropic reasoning kept by tool call id for clients that cannot carry it to the next turn.
    var reasoningCache = ReasoningCache()
    let metrics = Metrics()
    /// The dashboard's pages and API on this port.
    let dashboard: DashboardService
    /// Requests being served. The service owns them until they finish (transfers hold them weakly).
    var exchanges: [ObjectIdentifier: Exchange] = [:]
    var inFlight: Int { exchanges.count }
    /// Media fetches under way for inline-only upstreams, across all requests.
    let mediaFetchSlots = MediaFetchSlots()
    /// Tokens of the credentials that authenticate with a fetched one (TokenSources.swift).
    let tokens: TokenSources
    /// What the Responses WebSockets remember for incremental turns, all together (ResponsesWebSocket.swift):
    /// 256 MiB, or max-body-bytes when that is more (docs/hardening.md).
    lazy var webSocketHistory = WebSocketHistoryBudget(capBytes: max(options.maxAnswerBytes, 256 << 20))
    /// Each account's own usage endpoint, asked at most every 5 minutes while the account is in use.
    lazy var usagePoller = AccountUsagePoller(service: self)
    /// The models each account's backend lists, kept an hour.
    lazy var accountModels = AccountModels(service: self)

    init(loop: EventLoop, upstreams: Upstreams, logger: Logger, cooldowns: CooldownTable, writer: BackgroundWriter,
         snapshot: RoutingSnapshot, options: Options, dashboardSessions: DashboardSessions = DashboardSessions()) {
        self.loop = loop; self.upstreams = upstreams; self.logger = logger; self.cooldowns = cooldowns; self.writer = writer
        self.snapshot = snapshot; self.options = options
        dashboard = DashboardService(loop: loop, sessions: dashboardSessions, logger: logger)
        tokens = TokenSources(loop: loop, upstreams: upstreams, logger: logger)
        dashboard.proxy = self
    }

    /// How `model` is sent to credential `c` (a credential of the current snapshot).
    func mapModel(_ model: String, _ c: CredentialRoute) -> ModelMapping.Decision {
        let key = MappingKey(credential: c.name, model: model)
        if let last = lastMapping, last.key == key { return last.decision }
        if let d = mappingCache[key] { lastMapping = (key, d); return d }
        let snapshot = self.snapshot
        let d = ModelMapping.map(model, provider: c.provider, providerFamily: Providers.of(c.provider).modelFamily, aliases: snapshot.aliases, userRules: snapshot.tierRules,
                                 tierModel: { snapshot.tierModel(c, $0) })
        if mappingCache.count > 4096 { mappingCache.removeAll() }   // bounded: clients choose model names
        mappingCache[key] = d
        lastMapping = (key, d)
        return d
    }

    // MARK: HTTPHandler

    func rejected(_ error: HTTPParseError, head: HTTPRequestHead?) -> (headers: [(String, String)], body: [UInt8]) {
        metrics.count("proxypool_http_rejected_total", "status=\"\(error.status)\"")
        let dialect = head.map { dialectGuess($0) } ?? .openai
        let kind: ErrorCause = error.status == 413 ? .tooLarge : (error.status == 408 ? .timeout : (error.status == 503 ? .unavailable : .invalidRequest))
        return ([("Content-Type", "application/json")], ClientErrors.body(dialect, kind, error.message, status: error.status))
    }

    /// Who may use the proxy at all, from the head alone (before a body is read): our own Host names, no
    /// other origin, no CORS, and a valid access key on the API endpoints.
    func admit(_ head: HTTPRequestHead) -> HTTPRejection? {
        func refuse(_ d: Family, _ kind: ErrorCause, _ message: String, status: Int? = nil) -> HTTPRejection {
            let st = status ?? kind.status(for: d)
            metrics.count("proxypool_requests_total", "app=\"-\",code=\"\(st)\",credential=\"-\"")
            return HTTPRejection(status: st, headers: [("Content-Type", "application/json")], body: ClientErrors.body(d, kind, message, status: st))
        }
        let match = Endpoints.match(method: head.method, path: head.path, header: head.header)
        // DNS-rebinding defence: only our own names in Host; and no browser pages from other origins.
        let rawHost = head.header("host") ?? ""
        if rawHost != lastAllowedHost {
            let host = rawHost.lowercased()
            guard hostAllowed(host) else {
                return refuse(dialectOf(match, head), .permission, "Host '\(host)' is not allowed; proxypoold answers only to its own names (see allowed-hosts in proxypoold.conf(5))", status: 421)
            }
            lastAllowedHost = rawHost
        }
        if let origin = head.header("origin"), !hostAllowed(Self.stripScheme(origin.lowercased())) {
            return refuse(dialectOf(match, head), .permission, "cross-origin requests are not allowed (Origin: \(origin))")
        }
        if head.method == "OPTIONS" { return refuse(dialectOf(match, head), .permission, "CORS is closed: cross-origin requests are not allowed") }
        // The dashboard's pages and API: sessions instead of access keys (DashboardService).
        if DashboardService.owns(head.path) {
            admitted = Admission(head: head, match: match, keyInfo: nil, dashboard: true)
            return nil
        }
        if case .metrics = match, !options.metricsPublic, accessKey(head).info == nil {
            return refuse(dialectOf(match, head), .authentication, "GET /metrics needs a local access key ('proxypoolctl key create'), as it names every credential and app; or set 'metrics-public = yes' in proxypoold.conf(5)")
        }
        var keyInfo: (id: String, app: String?)?
        if let endpoint = match.apiEndpoint {
            let key = accessKey(head)
            keyInfo = key.info
            if snapshot.settings.requireAccessKey && keyInfo == nil {
                let why = !key.presented ? "no access key given" : "the access key is not valid (revoked, or not made by 'proxypoolctl key create')"
                return refuse(endpoint.family, .authentication, "\(why); create one with 'proxypoolctl key create --app APP' and give it to the client as its API key")
            }
            // What the proxy reads, stores or logs from the client's head must be unambiguous and bounded
            // (RequestChecks): refused before the body is read, like a bad key.
            if let refusal = RequestChecks.head(endpoint, headers: head.headers, lowerNames: head.lowerNames, query: head.query) {
                return refuse(endpoint.family, .invalidRequest, refusal.message, status: refusal.status)
            }
        }
        admitted = Admission(head: head, match: match, keyInfo: keyInfo)
        return nil
    }

    /// What `admit` found for the head it last let through. The request's `handle` (usually the next call
    /// into the service) takes it instead of working it out again.
    struct Admission {
        let head: HTTPRequestHead; let match: EndpointMatch; let keyInfo: (id: String, app: String?)?
        var dashboard = false
    }
    var admitted: Admission?

    func handle(_ request: HTTPRequest, _ response: HTTPResponseWriter) {
        let head = request.head
        // Another connection's head may have been admitted since this one's (its body took a while): check
        // again, which also applies a key revoked in the meantime.
        if admitted?.head !== head, let r = admit(head) { return response.respond(status: r.status, headers: r.headers, body: r.body) }
        guard let admission = admitted else { return }
        admitted = nil
        if admission.dashboard { return dashboard.handle(request, response) }
        let match = admission.match
        switch match {
        case .healthz:
            response.respond(status: 200, headers: [("Content-Type", "application/json")], body: Array(#"{"status":"ok"}"#.utf8))
        case .metrics:
            response.respond(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")], body: Array(metricsText().utf8))
        case .webSocket(let endpoint):
            // Codex opens a WebSocket first (built-in provider, or `supports_websockets = true`): the Responses
            // WebSocket transport (ResponsesWebSocket.swift), admitted like the HTTP path above.
            openResponsesWebSocket(endpoint, request, response, keyInfo: admission.keyInfo)
        case .methodNotAllowed(let d, let allowed):
            refuse(response, d, .invalidRequest, "method \(head.method) is not allowed on \(head.path); use \(allowed)", status: 405, headers: [("Allow", allowed)])
        case .notFound(let d):
            refuse(response, d, .notFound, "no such endpoint: \(head.method) \(head.path)")
        case .api(let endpoint):
            proxy(endpoint, request, response, keyInfo: admission.keyInfo)
        }
    }

    /// A chat from the dashboard: a Chat Completions request through the proxy's own route, to one credential
    /// (`pinned`) or by its app header's route, streamed back to the page as any client gets it.
    func dashboardChat(_ request: HTTPRequest, _ response: HTTPResponseWriter, pinned: String?) {
        proxy(Endpoint(family: .openai, kind: .chatCompletions), request, response, keyInfo: nil, pinned: pinned)
    }

    /// An error the proxy answers itself, in the client's protocol's shape, counted like every request.
    func refuse(_ response: HTTPResponseWriter, _ d: Family, _ kind: ErrorCause, _ message: String,
                        status: Int? = nil, headers: [(String, String)] = []) {
        let st = status ?? kind.status(for: d)
        metrics.count("proxypool_requests_total", "app=\"-\",code=\"\(st)\",credential=\"-\"")
        response.respond(status: st, headers: [("Content-Type", "application/json")] + headers, body: ClientErrors.body(d, kind, message, status: st))
    }

    /// `overWebSocket`: a `response.create` of a Responses WebSocket (its record says so).
    func proxy(_ endpoint: Endpoint, _ request: HTTPRequest, _ response: HTTPResponseWriter, keyInfo: (id: String, app: String?)?,
               pinned: String? = nil, overWebSocket: Bool = false) {
        let head = request.head
        let d = endpoint.family
        let (app, how) = AppDetection.recognise(keyApp: keyInfo?.app, userRules: snapshot.appRules, header: head.header)
        if let last = lastRecognition, last.app == app, last.how == how {} else {
            recognitions.set(app, how)
            lastRecognition = (app, how)
        }
        if endpoint.kind == .models {
            // Claude Code asks with anthropic-version and x-api-key (Endpoints); an app detected as claude-code
            // that sent neither still gets the Anthropic shape its gateway discovery validates.
            return listModels(d == .openai && app == "claude-code" ? .anthropic : d, app: app, query: head.query, response)
        }
        if endpoint.kind == .accountUsage { return accountUsage(d, app: app, response) }
        // What routing needs from the body.
        var model = endpoint.pathModel
        var stream = endpoint.kind == .streamGenerateContent
        if head.method == "POST" {
            let f = RequestFields.scan(request.body)
            if let refusal = RequestChecks.body(f, endpoint: endpoint) { return refuse(response, d, .invalidRequest, refusal.message, status: refusal.status) }
            if model == nil { model = f.model }
            stream = stream || (f.stream ?? false)
        }
        let session = head.header("x-claude-code-session-id") ?? head.header("session-id") ?? head.header("conversation_id")
        // Candidates: the app's chain, then the pool.
        let now = Timestamp.nowMillis()
        let chain = snapshot.assignments[app] ?? []
        // A conversation turn can go to any credential (translated when it speaks another protocol); the
        // other endpoints (model lists, token counts) only to one of the client's own protocol.
        let translatable = WireProtocol(endpoint: endpoint.kind) != nil
        let claudeCount = endpoint.kind == .countTokens && model.map { VertexRoute.publisher(for: $0) == .anthropic } == true
        var skipped: [String] = []
        var earliest: Int64?
        // A local function, passed only where it cannot escape: as a closure stored in a let it cost one more heap
        // allocation per request (callgrind: 5 -> 4 in this function).
        func usable(_ name: String) -> Bool {
            guard let c = snapshot.credentials[name] else { skipped.append("\(name) (removed)"); return false }
            guard c.enabled else { skipped.append("\(name) disabled"); return false }
            guard let cd = c.provider.servedFamily else {
                skipped.append("\(name) (\(c.provider.rawValue)) needs sign-in support that is not in this release")
                return false
            }
            if let why = Providers.of(c.provider).refusal(app: app, client: d, options: c.options) {
                skipped.append("\(name) \(why)")
                return false
            }
            guard translatable || cd == d || (claudeCount && c.provider == .vertex) else {
                skipped.append("\(name) (\(c.provider.rawValue)) does not speak the \(d.rawValue) protocol, which \(head.path) needs")
                return false
            }
            // Embeddings have no equivalent to translate to: only the Gemini API serves them under these paths
            // (Vertex AI answers them on :predict, a shape of its own).
            guard !endpoint.kind.isEmbedding || c.provider == .gemini else {
                skipped.append("\(name) (\(c.provider.rawValue)) serves no Gemini embeddings")
                return false
            }
            if let (until, reason) = cooldowns.blockedUntil(name, model: model, now: now) {
                if until == Int64.max { skipped.append("\(name) \(reason)") } else {
                    skipped.append("\(name) \(reason) until \(Self.clock(until))")
                    earliest = min(earliest ?? until, until)
                }
                return false
            }
            return true
        }
        rotation &+= 1
        // The pool: credentials of the client's own protocol first (no translation), then the others. Free
        // credentials are never in it: they serve only fast requests, and only when the user opted in.
        let pool = pools(for: d)
        let own = pool.own
        // Vertex answers an Anthropic token count for its Claude models, though it is in the Gemini pool.
        let others = translatable ? pool.others : (claudeCount ? pool.others.filter { snapshot.credentials[$0]?.provider == .vertex } : [])
        var candidates = pinned.map { usable($0) ? [$0] : [] }
            ?? Routing.candidates(chain: chain, pool: own, secondaryPool: others, usable: usable,
                                  fallbackToPool: snapshot.settings.fallbackToPool, rotation: rotation,
                                  affinity: session.flatMap { affinity[$0] })
        if pinned == nil, translatable, let m = model, snapshot.settings.freeModels(for: app),
           TierClassifier.classify(m, userRules: snapshot.tierRules).tier == .fast {
            let free = snapshot.servable.filter(isFree).filter(usable)
            candidates = free + candidates.filter { !free.contains($0) }
        }
        // Subscription accounts: one keeps serving until a window crosses the threshold, then the one whose
        // binding window resets soonest (the session's own account first while it is under the threshold).
        if candidates.count > 1, candidates.contains(where: { snapshot.credentials[$0]?.provider.isAccount == true }) {
            let held = session.flatMap { affinity[$0] }
            candidates = AccountQuota.order(candidates, accounts: { [self] n in
                snapshot.credentials[n]?.provider.isAccount == true ? quotas.windows(n) : nil
            }, threshold: options.quotaThreshold, nowMillis: now, preferred: held, chain: chain)
        }
        if candidates.isEmpty, endpoint.kind == .countTokens || endpoint.kind == .geminiCountTokens {
            return estimateTokens(endpoint, request, response, app: app)
        }
        if candidates.isEmpty, endpoint.kind.isEmbedding, earliest == nil {
            // Not a passing outage: nothing the app may use can embed. Gemini's own answer to a request it
            // cannot serve is a 400 INVALID_ARGUMENT.
            let why = skipped.isEmpty ? "it has no credential" : Array(Set(skipped)).sorted().joined(separator: "; ")
            return refuse(response, d, .invalidRequest, "\(endpoint.kind == .embedContent ? "embedContent" : "batchEmbedContents") needs a gemini "
                          + "credential (an API key for the Gemini API), and app \(app) has none it may use: \(why)", status: 400)
        }
        guard !candidates.isEmpty else {
            let why = skipped.isEmpty ? (chain.isEmpty && !snapshot.settings.fallbackToPool ? "it has no assignment and pool fallback is off"
                                         : "no enabled credential speaks the \(d.rawValue) protocol") : Array(Set(skipped)).sorted().joined(separator: "; ")
            let msg = "no credential for app \(app) is available: \(why)"
            if let e = earliest {
                let secs = max(1, (e - now + 999) / 1000)
                refuse(response, d, .rateLimited, msg, status: 429, headers: [("Retry-After", String(secs))])
            } else {
                refuse(response, d, .unavailable, msg, status: 503)
            }
            logger.warning(msg, event: "no-credential", [.init("APP", app)])
            return
        }
        if !snapshot.accounts.isEmpty, let first = candidates.first, snapshot.accounts[first] != nil { usagePoller.inUse(first) }
        let exchange = Exchange(service: self, request: request, response: response, endpoint: endpoint, app: app, model: model,
                                stream: stream, keyID: keyInfo?.id, session: session, candidates: Array(candidates.prefix(options.maxAttempts)))
        exchange.overWebSocket = overWebSocket
        exchanges[ObjectIdentifier(exchange)] = exchange
        exchange.attempt()
    }

    /// The local access key the head presents, if any, and its record (nil for an unknown key). A client sends
    /// the same key every time: it is compared with the previous one before it is hashed.
    private func accessKey(_ head: HTTPRequestHead) -> (presented: Bool, info: (id: String, app: String?)?) {
        guard let presented = ClientKey.find(header: head.header, query: head.query) else { return (false, nil) }
        if let last = lastKey, last.key == presented { return (true, last.info) }
        let k = String(presented)
        let info: (id: String, app: String?)?
        if let cached = keyCache[k] { info = cached } else {
            info = snapshot.keys[AccessKeys.hash(k)]
            if keyCache.count > 1024 { keyCache.removeAll() }   // bounded: a client trying random keys cannot grow it
            keyCache[k] = info
        }
        lastKey = (k, info)
        return (true, info)
    }

    /// Marked `--free`: such a credential serves fast requests of apps that opted in, never the pool.
    private func isFree(_ name: String) -> Bool { snapshot.credentials[name]?.free == true }

    private func pools(for d: Family) -> (own: [String], others: [String]) {
        if let p = poolCache[d] { return p }
        let p = (own: (snapshot.pools[d] ?? []).filter { !isFree($0) },
                 others: snapshot.servable.filter { snapshot.credentials[$0]?.provider.servedFamily != d && !isFree($0) })
        poolCache[d] = p
        return p
    }

    /// The models the app may ask for: each tier model of the credentials it routes to, then the aliases; an
    /// Anthropic caller gets the Claude names instead (`claudeModels`), paged as Anthropic pages.
    private func listModels(_ d: Family, app: String, query: Substring?, _ response: HTTPResponseWriter) {
        var names = snapshot.assignments[app] ?? []
        if snapshot.settings.fallbackToPool { names += snapshot.servable.filter { !isFree($0) } }
        if snapshot.settings.freeModels(for: app) { names += snapshot.servable.filter(isFree) }
        let credentials = names.compactMap { snapshot.credentials[$0] }.filter { $0.enabled && $0.provider.servedFamily != nil }
        if d == .anthropic {
            switch ModelList.anthropicPage(claudeModels(credentials), query: query) {
            case .failure(let e): return refuse(response, d, .invalidRequest, e.message, status: 400)
            case .success(let body):
                metrics.count("proxypool_requests_total", "app=\"\(app)\",code=\"200\",credential=\"-\"")
                return response.respond(status: 200, headers: [("Content-Type", "application/json")], body: body)
            }
        }
        var seen = Set<String>(), models: [String] = []
        for c in credentials {
            for t in Tier.allCases { if let m = snapshot.tierModel(c, t), seen.insert(m).inserted { models.append(m) } }
            // A subscription account: what its backend lists (once fetched; the fetch starts here).
            if c.provider.isAccount { for m in accountModels.models(c.name) ?? [] where seen.insert(m).inserted { models.append(m) } }
            // Vertex serves Claude models too, under their own names (its tier map is Gemini's).
            if c.provider == .vertex {
                for t in Tier.allCases { if let m = VertexProvider.claudeTierDefault(t), seen.insert(m).inserted { models.append(m) } }
            }
        }
        for a in snapshot.aliases.keys.sorted() where seen.insert(a).inserted { models.append(a) }
        metrics.count("proxypool_requests_total", "app=\"\(app)\",code=\"200\",credential=\"-\"")
        response.respond(status: 200, headers: [("Content-Type", "application/json")], body: ModelList.body(d, models: models))
    }

    /// For an Anthropic caller (Claude Code's gateway model discovery keeps only ids with `claude` or
    /// `anthropic` in them): per tier, the Claude name a Claude Code user would pick — an Anthropic credential's
    /// own model for the tier, else the anthropic kind's — whatever credential ends up serving it (a Claude
    /// name sent to an OpenAI or Gemini credential maps through its tier); then the user's aliases. Only the
    /// aliases when the app has no credential to serve anything, as in the other shapes.
    private func claudeModels(_ credentials: [CredentialRoute]) -> [ModelList.Entry] {
        var seen = Set<String>(), entries: [ModelList.Entry] = []
        let claudeCredentials = credentials.filter { Providers.of($0.provider).modelFamily == .anthropic }
        for t in Tier.allCases where !credentials.isEmpty {
            let own = claudeCredentials.compactMap { snapshot.credentialTiers[$0.name]?[t] }
            let kind = snapshot.tierModels[.anthropic]?[t] ?? Providers.of(.anthropic).tierDefault(t)
            for m in own + [kind].compactMap({ $0 }) where ModelMapping.family(of: m) == .anthropic && seen.insert(m).inserted {
                entries.append(ModelList.Entry(m, description: "\(t.rawValue) tier"))
            }
        }
        for (a, target) in snapshot.aliases.sorted(by: { $0.key < $1.key }) where seen.insert(a).inserted {
            entries.append(ModelList.Entry(a, description: "alias for \(target)"))
        }
        return entries
    }

    /// A subscription CLI's own usage request (Codex's, Claude Code's): the windows of the account of its kind
    /// that would serve the app now (its chain, then the pool; one that cools down only when all do).
    private func accountUsage(_ d: Family, app: String, _ response: HTTPResponseWriter) {
        let kind: ProviderKind = d == .anthropic ? .claudeAccount : .chatGPTAccount
        let now = Timestamp.nowMillis()
        let chain = snapshot.assignments[app] ?? []
        let names = chain + (snapshot.settings.fallbackToPool ? snapshot.servable.filter { !chain.contains($0) } : [])
        let accounts = names.filter { snapshot.credentials[$0]?.enabled == true && snapshot.credentials[$0]?.provider == kind }
        let ready = accounts.filter { cooldowns.blockedUntil($0, model: nil, now: now) == nil }
        let name = AccountQuota.order(ready.isEmpty ? accounts : ready, accounts: { [self] in quotas.windows($0) },
                                      threshold: options.quotaThreshold, nowMillis: now, chain: chain).first
        let windows = name.map { quotas.windows($0) } ?? []
        let body = kind == .claudeAccount ? AccountUsageAnswer.claude(windows)
            : AccountUsageAnswer.codex(windows, plan: name.flatMap { snapshot.credentials[$0]?.options["plan"] },
                                       exhausted: AccountQuota.exhausted(windows, threshold: options.quotaThreshold, nowMillis: now), nowMillis: now,
                                       credits: name.flatMap { quotas.credits($0) })
        metrics.count("proxypool_requests_total", "app=\"\(app)\",code=\"200\",credential=\"\(name ?? "-")\"")
        response.respond(status: 200, headers: [("Content-Type", "application/json")] + (name.map { [("X-Proxypool-Credential", $0)] } ?? []), body: body)
    }

    /// count_tokens / countTokens with no credential of the client's protocol to ask: an estimate, marked as one.
    private func estimateTokens(_ endpoint: Endpoint, _ request: HTTPRequest, _ response: HTTPResponseWriter, app: String) {
        let wire: WireProtocol = endpoint.family == .gemini ? .gemini : .anthropicMessages
        var body = request.body
        // Gemini's countTokens takes either contents directly or a whole generateContentRequest.
        if wire == .gemini, let j = try? JSONParser.parse(body), let inner = j["generateContentRequest"], inner.isObject {
            body = JSONWriter.bytes(inner)
        }
        let req: ChatRequest
        do throws(TranslationError) {
            req = try Translator.decodeRequest(body, from: wire, context: ClientContext(pathModel: endpoint.pathModel, streamFromPath: false))
        } catch {
            metrics.count("proxypool_requests_total", "app=\"\(app)\",code=\"400\",credential=\"-\"")
            let info = ErrorInfo(kind: .invalidRequest, message: "the request cannot be read: \(error)", status: 400)
            return response.respond(status: 400, headers: [("Content-Type", "application/json")], body: Translator.errorBody(info, for: wire))
        }
        let n = TokenEstimate.inputTokens(req)
        let answer: JSONNode = wire == .gemini ? ["totalTokens": .int(n)] : ["input_tokens": .int(n)]
        metrics.count("proxypool_requests_total", "app=\"\(app)\",code=\"200\",credential=\"-\"")
        logger.info("\(request.head.method) \(request.head.path) app=\(app) estimated \(n) input tokens locally (no \(endpoint.family.rawValue) credential available)",
                    event: "token-estimate", [.init("APP", app)])
        response.respond(status: 200, headers: [("Content-Type", "application/json"), ("X-Proxypool-Estimate", "true")], body: JSONWriter.bytes(answer))
    }

    // MARK: Helpers

    func dialectGuess(_ head: HTTPRequestHead) -> Family { dialectOf(Endpoints.match(method: head.method, path: head.path, header: head.header), head) }

    func dialectOf(_ m: EndpointMatch, _ head: HTTPRequestHead) -> Family {
        switch m {
        case .api(let e): return e.family
        case .webSocket(let e): return e.family
        case .methodNotAllowed(let d, _), .notFound(let d): return d
        default: return head.header("anthropic-version") != nil ? .anthropic : .openai
        }
    }

    /// Whether a Host (or an Origin's host) is one of ours, with or without its port; parsed strictly, so that
    /// `localhost:evil.example` is not taken for `localhost`.
    func hostAllowed(_ hostAndPort: String) -> Bool {
        HostHeader.isAllowed(hostAndPort, allowed: options.allowedHosts)
    }

    static func stripScheme(_ origin: String) -> String {
        if let r = origin.firstIndex(of: "/"), origin[r...].hasPrefix("//") { return String(origin[origin.index(r, offsetBy: 2)...]) }
        return origin
    }

    /// "14:02:10 UTC"
    static func clock(_ epochMillis: Int64) -> String { Timestamp.clock(epochMillis) }

    /// "2026-11-25" for usage rows, recomputed once a second at most.
    func day(_ epochSeconds: Int64) -> String {
        if epochSeconds != dayCache.0 { dayCache = (epochSeconds, String(Timestamp.iso8601(epochSeconds).prefix(10))) }
        return dayCache.1
    }

    func metricsText() -> String {
        var out = metrics.render()
        out += "# HELP proxypool_cooldowns Cooldowns (and auth failures) in force per credential.\n# TYPE proxypool_cooldowns gauge\n"
        for (c, n) in cooldowns.activeCount(now: Timestamp.nowMillis()).sorted(by: { $0.key < $1.key }) {
            out += "proxypool_cooldowns{credential=\"\(c)\"} \(n)\n"
        }
        out += "# HELP proxypool_requests_in_flight Requests being served.\n# TYPE proxypool_requests_in_flight gauge\nproxypool_requests_in_flight \(inFlight)\n"
        return out
    }
}
