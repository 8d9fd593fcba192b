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
    private var cache: [String: [String]] = [:]
    private let fetcher: AccountFetcher

    init(service: ProxyService) { fetcher = AccountFetcher(service: service, intervalMillis: Self.maxAgeMillis) }

    /// What the backend listed (nil: not fetched yet); a fetch is started when none is fresh.
    func models(_ name: String) -> [String]? {
        refreshIfStale(name)
        return cache[name]
    }

    func refreshIfStale(_ name: String) {
        // One attempt per hour, whatever comes of it; an answer that lists nothing keeps the last list.
        let started = fetcher.attempt(name, request: { c, auth in
            guard let probe = Providers.of(c.provider).probe(c) else { return nil }
            return UpstreamRequest(url: probe.url, method: "GET", headers: probe.headers + auth, body: [], caFile: c.options["ca-file"])
        }, done: { [weak self] c, status, body in
            guard let self, status == 200 else { return }
            let names = Self.names(c.provider, body)
            if !names.isEmpty { cache[c.name] = names }
        })
        if started && cache[name] == nil { cache[name] = [] }
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
}
