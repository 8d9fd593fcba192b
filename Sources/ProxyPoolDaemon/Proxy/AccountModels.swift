import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolUpstream
import ProxyPoolProviders

/// The models each subscription account's backend lists (the probe of `credential test`: Codex's
/// `GET {base}/models?client_version=…` → `{"models": [{"slug"}]}`, Anthropic's `GET /v1/models` → `{"data":
/// [{"id"}]}`), fetched with the account's token when a client lists models, and kept for an hour:
/// `GET /v1/models` then names them beside the tier models (the first listing starts the fetch). On the loop thread.
final class AccountModels {
    static let maxAgeMillis: Int64 = 3_600_000
    private var cache: [String: (names: [String], at: Int64)] = [:]
    private var fetches: [String: UsageFetch] = [:]
    private unowned let service: ProxyService

    init(service: ProxyService) { self.service = service }

    /// What the backend listed (nil: not fetched yet); a fetch is started when none is fresh.
    func models(_ name: String) -> [String]? {
        refreshIfStale(name)
        return cache[name]?.names
    }

    func refreshIfStale(_ name: String) {
        guard let c = service.snapshot.credentials[name], c.provider.isAccount, fetches[name] == nil else { return }
        let now = Posix.monotonicMillis()
        if let e = cache[name], now - e.at < Self.maxAgeMillis { return }
        cache[name] = (cache[name]?.names ?? [], now)   // one attempt per hour, whatever comes of it
        guard case .token(let grant) = Providers.of(c.provider).auth(c) else { return }
        if let a = service.tokens.headers(for: c, grant: grant, then: { [weak self] a in self?.send(c, a) }) { send(c, a) }
    }

    /// The model names in a list answer, at most 500, each a bounded name.
    static func names(_ kind: ProviderKind, _ body: [UInt8]) -> [String] {
        guard let j = try? JSON.decode(JSONValue.self, from: body) else { return [] }
        let (list, key) = kind == .chatGPTAccount ? (j["models"], "slug") : (j["data"], "id")
        guard case .array(let items)? = list else { return [] }
        return items.prefix(500).compactMap { $0[key]?.stringValue }.filter {
            !$0.isEmpty && $0.utf8.count <= 128 && $0.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        }
    }

    private func send(_ c: CredentialRoute, _ answer: TokenSources.Answer) {
        guard case .ready(let auth) = answer, fetches[c.name] == nil, let probe = Providers.of(c.provider).probe(c) else { return }
        var r = UpstreamRequest(url: probe.url, method: "GET", headers: probe.headers + auth, body: [], caFile: c.options["ca-file"])
        r.totalTimeoutMillis = 20_000
        r.firstByteTimeoutMillis = 20_000
        let name = c.name, kind = c.provider
        let f = UsageFetch { [weak self] status, body in
            guard let self else { return }
            fetches[name] = nil
            guard status == 200 else { return }
            let names = Self.names(kind, body)
            if !names.isEmpty { cache[name] = (names, Posix.monotonicMillis()) }
        }
        fetches[name] = f
        f.start(r, service.upstreams)
    }
}
