import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolStore
import ProxyPoolUpstream
import ProxyPoolProviders

/// The tokens of the credentials that authenticate with a fetched token (`ProviderAuth.token`), on the loop
/// thread. Each credential has a `TokenSource` (the state machine) and at most one fetch in flight; requests
/// that need its token meanwhile wait on that fetch. A new token (and a rotated refresh token) is committed to
/// the store, in a transaction of its own, before anyone uses it: a spent refresh token is gone for good.
/// The store is read and written on a thread of its own (SQLite blocks), never on the loop: the requests wait
/// for the answer as they wait for the fetch. Confined to the loop thread; other threads come back to it only
/// through `loop.execute` (hence @unchecked).
final class TokenSources: @unchecked Sendable {
    /// What a request waiting for a token gets.
    enum Answer {
        /// The header lines that carry the token.
        case ready([String])
        /// The grant was refused: the credential is marked and the request moves on.
        case refused(String)
        /// No token this time (the endpoint did not answer, or said nothing useful): try the next credential.
        case failed(String)
    }

    /// Reads and writes credentials' tokens (the store, in the daemon). Unset: tokens live in memory only.
    struct Persistence: Sendable {
        var load: @Sendable (String) -> Store.StoredToken?
        var save: @Sendable (String, Store.StoredToken) throws(RPCError) -> Void
    }

    private final class Entry: @unchecked Sendable {
        var source: TokenSource
        /// The stored token is being read: requests wait, as they wait for a fetch.
        var loading = false
        var waiters: [(Answer) -> Void] = []
        var fetch: TokenFetch?
        init(_ source: TokenSource) { self.source = source }
    }

    var persistence: Persistence?
    private var entries: [String: Entry] = [:]
    private let upstreams: Upstreams
    private let logger: Logger
    /// Token requests sent, for the journal and tests.
    private(set) var fetchesStarted = 0
    /// Subscription logins' refreshes are at least this far apart, daemon-wide (issue 14): many accounts due at
    /// once (a restart after a long stop) never burst at the providers' token endpoints. Later ones wait their turn.
    static let accountSpacingMillis: Int64 = 5_000
    private var lastAccountRefresh: Int64?
    private var accountQueue: [() -> Void] = []
    private var tickerAdded = false

    private let loop: EventLoop

    init(loop: EventLoop, upstreams: Upstreams, logger: Logger) { self.loop = loop; self.upstreams = upstreams; self.logger = logger }

    /// The auth headers for credential `c` now (or why there are none), or nil when a token must be fetched
    /// first: then `then` is called on the loop, once, when the fetch is over (a
    /// request whose client left meanwhile holds itself weakly in `then`, and ignores it).
    func headers(for c: CredentialRoute, grant: any TokenGrant, then: @escaping (Answer) -> Void) -> Answer? {
        let e = entry(c, grant)
        if e.loading {
            e.waiters.append(then)
            return nil
        }
        switch e.source.next(nowMillis: Timestamp.nowMillis()) {
        case .use(let token): return .ready(grant.headers(token: token))
        case .refused(let why): return .refused(why)
        case .wait:
            e.waiters.append(then)
            return nil
        case .fetch(let request):
            e.waiters.append(then)
            start(request, for: c.name, e)
            return nil
        case .build:
            e.waiters.append(then)
            build(for: c.name, e)
            return nil
        }
    }

    /// The upstream refused the token sent as `headers` (401): forget it, so that the next request fetches a new
    /// one. A token already replaced (another request's 401 came first) stays.
    func rejected(_ name: String, headers: [String]) {
        guard let e = entries[name], !e.loading, let t = e.source.token, e.source.grant.headers(token: t.value) == headers else { return }
        e.source.forget(t.value)
    }

    /// The machine for `c`, made anew when the credential's secret or base changed (re-added, another login):
    /// then the stored token is the new credential's, or none.
    private func entry(_ c: CredentialRoute, _ grant: any TokenGrant) -> Entry {
        if let e = entries[c.name], e.source.credential == c { return e }
        let e = Entry(TokenSource(credential: c, grant: grant, token: nil, refreshToken: nil))
        if let old = entries[c.name] {
            // The credential changed while its token was read, fetched or stored: that token would be the old
            // one's. Its waiters move on (a read or store still under way finds its entry replaced, or nobody
            // left to answer).
            old.fetch?.cancel()
            old.fetch = nil
            answer(old, .failed("the credential changed while its token was being obtained"))
        }
        entries[c.name] = e
        if let persistence {
            e.loading = true
            let name = c.name
            Threads.start { [self] in
                let stored = persistence.load(name)
                loop.execute { [self] in loaded(name, e, stored) }
            }
        }
        return e
    }

    /// The stored token is in (or there is none): the waiters get it, or one fetch is started for them all.
    private func loaded(_ name: String, _ e: Entry, _ stored: Store.StoredToken?) {
        guard entries[name] === e else { return }   // replaced meanwhile; its waiters were answered then
        e.loading = false
        let token = stored.map { Token(value: $0.accessToken, expiresAtMillis: $0.expiresAtMillis) }
        e.source = TokenSource(credential: e.source.credential, grant: e.source.grant, token: token, refreshToken: stored?.refreshToken)
        switch e.source.next(nowMillis: Timestamp.nowMillis()) {
        case .use(let t): answer(e, .ready(e.source.grant.headers(token: t)))
        case .refused(let why): answer(e, .refused(why))
        case .fetch(let request): start(request, for: name, e)
        case .build: build(for: name, e)
        case .wait: break   // a fetch is under way; its end answers them
        }
    }

    private func answer(_ e: Entry, _ a: Answer) {
        let waiters = e.waiters
        e.waiters = []
        for w in waiters { w(a) }
    }

    /// A request that is blocking work to build (a signed assertion): built on a thread of its own, then sent
    /// from the loop, unless the credential changed meanwhile (its waiters were answered then).
    private func build(for name: String, _ e: Entry) {
        let source = e.source
        Threads.start { [self] in
            let request = source.grant.request(source.credential, refreshToken: source.refreshToken)
            loop.execute { [self] in
                guard entries[name] === e else { return }
                start(request, for: name, e)
            }
        }
    }

    private func start(_ request: TokenRequest, for name: String, _ e: Entry) {
        // The stored secret cannot make a request (a key that cannot sign): refused without a word upstream, on a
        // later turn (never inside the caller's headers(for:)).
        if let failure = request.failure {
            loop.execute { [self] in
                guard entries[name] === e else { return }
                settled(name, e, .refused(failure), storeError: nil)
            }
            return
        }
        if e.source.credential.provider == .chatGPTAccount || e.source.credential.provider == .claudeAccount {
            let now = Posix.monotonicMillis()
            if !accountQueue.isEmpty || lastAccountRefresh.map({ now - $0 < Self.accountSpacingMillis }) == true {
                accountQueue.append { [self] in
                    guard entries[name] === e else { return }   // the credential changed meanwhile: its waiters were answered
                    send(request, for: name, e)
                }
                startTicker()
                return
            }
            lastAccountRefresh = now
        }
        send(request, for: name, e)
    }

    /// The queued account refreshes, one per spacing.
    private func startTicker() {
        guard !tickerAdded else { return }
        tickerAdded = true
        loop.addTicker { [unowned self] _ in
            guard !accountQueue.isEmpty else { return 1000 }
            let now = Posix.monotonicMillis()
            let wait = (lastAccountRefresh ?? now - Self.accountSpacingMillis) + Self.accountSpacingMillis - now
            guard wait <= 0 else { return Int(wait) }
            lastAccountRefresh = now
            accountQueue.removeFirst()()
            return accountQueue.isEmpty ? 1000 : Int(Self.accountSpacingMillis)
        }
    }

    private func send(_ request: TokenRequest, for name: String, _ e: Entry) {
        fetchesStarted += 1
        var r = UpstreamRequest(url: request.url, method: request.method, headers: request.headers, body: request.body,
                                caFile: e.source.credential.options["ca-file"])
        r.totalTimeoutMillis = 30_000
        r.firstByteTimeoutMillis = 30_000
        let f = TokenFetch(grant: e.source.grant) { [unowned self, unowned e] result in
            e.fetch = nil
            finished(name, e, result)
        }
        e.fetch = f
        f.start(r, upstreams)
    }

    private func finished(_ name: String, _ e: Entry, _ result: TokenFetchResult) {
        guard case .success(let t, let rotated) = result, let persistence else { return settled(name, e, result, storeError: nil) }
        // Committed before use: a rotated refresh token is the only one that works from now on. On a thread of
        // its own; the waiters keep waiting until it is done.
        let stored = Store.StoredToken(accessToken: t.value, expiresAtMillis: t.expiresAtMillis, refreshToken: rotated)
        Threads.start { [self] in
            let failure: RPCError?
            do throws(RPCError) { try persistence.save(name, stored); failure = nil } catch { failure = error }
            loop.execute { [self] in settled(name, e, result, storeError: failure) }
        }
    }

    private func settled(_ name: String, _ e: Entry, _ result: TokenFetchResult, storeError: RPCError?) {
        var result = result
        if let error = storeError, case .success(_, let rotated) = result {
            logger.error("credential \(name): cannot store its new token: \(error.message)", event: "token-store-failed",
                         [.init("CREDENTIAL", name)])
            if rotated != nil { result = .failed("the new token could not be stored: \(error.message)") }
        }
        let outcome = e.source.fetched(result)
        let answer: Answer
        switch outcome {
        case .ready(let token):
            answer = .ready(e.source.grant.headers(token: token))
            logger.info("credential \(name): new token obtained", event: "token-refreshed", [.init("CREDENTIAL", name)])
        case .refused(let why): answer = .refused(why)
        case .failed(let why):
            answer = .failed(why)
            logger.warning("credential \(name): no token: \(why)", event: "token-failed", [.init("CREDENTIAL", name)])
        }
        self.answer(e, answer)
    }
}

/// One token request on the loop, on a connection of its own (`Upstreams.fetch`), its answer read whole (at
/// most 64 KiB) and handed to the grant to read.
final class TokenFetch: UpstreamDelegate {
    private let grant: any TokenGrant
    private let done: (TokenFetchResult) -> Void
    private var status = 0
    private var body: [UInt8] = []
    private var transfer: UpstreamTransfer?
    private var upstreams: Upstreams?
    private var ended = false

    init(grant: any TokenGrant, done: @escaping (TokenFetchResult) -> Void) { self.grant = grant; self.done = done }

    func start(_ r: UpstreamRequest, _ upstreams: Upstreams) {
        self.upstreams = upstreams
        transfer = upstreams.fetch(r, delegate: self)
    }

    /// Stop without a word (the credential changed under it).
    func cancel() {
        ended = true
        if let t = transfer { upstreams?.cancel(t) }
        transfer = nil
    }

    func upstreamHead(_ t: UpstreamTransfer, status: Int, headers: [(String, String)], lowerNames: [String]) { self.status = status }

    func upstreamBody(_ t: UpstreamTransfer, _ bytes: UnsafeRawBufferPointer) -> Bool {
        if body.count < 65536 { body.append(contentsOf: bytes.prefix(65536 - body.count)) }
        return false
    }

    func upstreamComplete(_ t: UpstreamTransfer, error: UpstreamError?) {
        transfer = nil
        guard !ended else { return }
        ended = true
        if let error { return done(.failed("the token endpoint did not answer: \(error.message)")) }
        done(grant.result(status: status, body: body, nowMillis: Timestamp.nowMillis()))
    }
}
