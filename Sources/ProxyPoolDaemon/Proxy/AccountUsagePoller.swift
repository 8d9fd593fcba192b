import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolUpstream
import ProxyPoolProviders

/// Asks each subscription account's own usage endpoint for its windows, at most every 5 minutes and only while
/// the account is in use (a request was routed to it): the quota headers of answers say nothing between
/// requests, and a window may have reset or filled elsewhere (the account's other sessions). Where Codex reads
/// them: `GET {chatgpt}/backend-api/wham/usage` with the bearer and `ChatGPT-Account-Id` (openai/codex
/// codex-rs/backend-client/src/client.rs, `headers`, `get_rate_limits_many`); Claude Code: `GET
/// {anthropic}/api/oauth/usage` with the bearer and the OAuth beta (../shared/notes/clients.md §8). The token
/// comes from the account's token source, as for a request. On the loop thread; nothing is logged but failures.
final class AccountUsagePoller {
    static let intervalMillis: Int64 = 5 * 60_000
    private let fetcher: AccountFetcher
    private unowned let service: ProxyService

    init(service: ProxyService) {
        self.service = service
        fetcher = AccountFetcher(service: service, intervalMillis: Self.intervalMillis)
    }

    /// `name` is about to serve a request: poll it if its last poll is 5 minutes old.
    func inUse(_ name: String) {
        fetcher.attempt(name, request: { c, auth in
            guard let url = Self.url(c) else { return nil }
            var headers = auth + ["Accept: application/json"]
            if c.provider == .chatGPTAccount, let id = c.options["account-id"] { headers.append("ChatGPT-Account-Id: \(id)") }
            if c.provider == .claudeAccount { headers.append("anthropic-beta: oauth-2025-04-20") }
            return UpstreamRequest(url: url, method: "GET", headers: headers, body: [], caFile: c.options["ca-file"])
        }, done: { [weak self] c, status, body in
            guard let self else { return }
            guard status == 200 else {
                if status != 0 { service.logger.info("credential \(c.name): its usage endpoint answered \(status)", event: "usage-poll-failed",
                                                     [.init("CREDENTIAL", c.name), .init("STATUS", String(status))]) }
                return
            }
            let windows = c.provider == .chatGPTAccount ? AccountUsageReport.codex(body) : AccountUsageReport.claude(body)
            service.quotas.update(c.name, windows)
        })
    }

    /// The URL of the account's usage endpoint, from its base URL (a fake's in tests).
    static func url(_ c: CredentialRoute) -> String? {
        let provider = Providers.of(c.provider)
        guard var base = c.baseURL ?? provider.defaultBaseURL else { return nil }
        while base.hasSuffix("/") { base.removeLast() }
        switch c.provider {
        case .chatGPTAccount:
            // {…}/backend-api/codex is the Responses base; the usage endpoint is beside it, {…}/backend-api/wham/usage.
            if base.hasSuffix("/codex") { base.removeLast("/codex".count) }
            return base + "/wham/usage"
        case .claudeAccount: return base + "/api/oauth/usage"
        default: return nil
        }
    }
}

/// A GET to a subscription account's backend with the account's token (its token source, as for a request),
/// at most once per interval per account and one at a time: what the usage poller and the model list share.
/// On the loop thread.
final class AccountFetcher {
    private let intervalMillis: Int64
    private var last: [String: Int64] = [:]
    private var fetches: [String: UsageFetch] = [:]
    private unowned let service: ProxyService

    init(service: ProxyService, intervalMillis: Int64) { self.service = service; self.intervalMillis = intervalMillis }

    /// Starts a GET for the account `name` unless one is under way or the last attempt is younger than the
    /// interval; true when this is an attempt (it counts as one whatever comes of it). `request` makes the GET
    /// from the credential and its auth headers (nil: nothing to ask); `done` gets the status (0: no answer) and body.
    @discardableResult
    func attempt(_ name: String, request: @escaping (CredentialRoute, [String]) -> UpstreamRequest?,
                 done: @escaping (CredentialRoute, Int, [UInt8]) -> Void) -> Bool {
        guard let c = service.snapshot.credentials[name], c.provider.isAccount, fetches[name] == nil else { return false }
        let now = Posix.monotonicMillis()
        if let l = last[name], now - l < intervalMillis { return false }
        last[name] = now
        guard case .token(let grant) = Providers.of(c.provider).auth(c) else { return true }
        let send: (TokenSources.Answer) -> Void = { [weak self] answer in
            guard let self, case .ready(let auth) = answer, fetches[c.name] == nil, var r = request(c, auth) else { return }
            r.totalTimeoutMillis = 20_000
            r.firstByteTimeoutMillis = 20_000
            let f = UsageFetch { [weak self] status, body in
                self?.fetches[c.name] = nil
                done(c, status, body)
            }
            fetches[c.name] = f
            f.start(r, service.upstreams)
        }
        if let answer = service.tokens.headers(for: c, grant: grant, then: send) { send(answer) }
        return true
    }
}

/// One GET of an account's (usage, models), its answer read whole (at most 256 KiB).
final class UsageFetch: UpstreamDelegate {
    private let done: (Int, [UInt8]) -> Void
    private var status = 0
    private var body: [UInt8] = []
    private var transfer: UpstreamTransfer?

    init(done: @escaping (Int, [UInt8]) -> Void) { self.done = done }

    func start(_ r: UpstreamRequest, _ upstreams: Upstreams) { transfer = upstreams.fetch(r, delegate: self) }

    func upstreamHead(_ t: UpstreamTransfer, status: Int, headers: [(String, String)], lowerNames: [String]) { self.status = status }

    func upstreamBody(_ t: UpstreamTransfer, _ bytes: UnsafeRawBufferPointer) -> Bool {
        if body.count < 262_144 { body.append(contentsOf: bytes.prefix(262_144 - body.count)) }
        return false
    }

    func upstreamComplete(_ t: UpstreamTransfer, error: UpstreamError?) {
        transfer = nil
        done(error == nil ? status : 0, body)
    }
}
