import Glibc
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolSystem
import ProxyPoolStore
import ProxyPoolProviders

/// What the proxy routes with, loaded from the store whenever the control plane changes something. The hot
/// path reads only this (no SQLite per request).
struct RoutingSnapshot {
    var credentials: [String: CredentialRoute] = [:]
    var assignments: [String: [String]] = [:]
    var settings = Settings(freeModels: false, fallbackToPool: true, requireAccessKey: true)
    var keys: [String: (id: String, app: String?)] = [:]
    var appRules: [AppRule] = []
    /// Enabled credentials per family, in name order: the pool for requests that are never translated.
    var pools: [Family: [String]] = [:]
    /// Every enabled credential the proxy can serve, in name order: the pool for conversation requests, which
    /// are translated when a credential speaks another protocol.
    var servable: [String] = []
    /// Tier → model per provider kind (the user's, else the built-in defaults).
    var tierModels: [ProviderKind: [Tier: String]] = [:]
    var tierRules: [TierRule] = []
    var aliases: [String: String] = [:]
    /// The subscription accounts among the credentials, by name (empty for a pool of API keys).
    var accounts: [String: ProviderKind] = [:]

    /// A credential's own tier models, which win over its provider's.
    var credentialTiers: [String: [Tier: String]] = [:]

    /// The model a credential serves a tier with.
    func tierModel(_ c: CredentialRoute, _ tier: Tier) -> String? { credentialTiers[c.name]?[tier] ?? tierModels[c.provider]?[tier] }

    static func load(_ store: Store) throws -> RoutingSnapshot {
        var s = RoutingSnapshot()
        for var r in try store.routes() {
            if case .headers(let h) = Providers.of(r.provider).auth(r) { r.staticAuth = h }
            s.credentials[r.name] = r
            if r.provider.isAccount { s.accounts[r.name] = r.provider }
        }
        for a in try store.assignments() { s.assignments[a.app] = a.credentials }
        s.settings = try store.settings()
        s.keys = try store.keyHashes()
        s.appRules = try store.appRules().map(\.rule)
        for r in s.credentials.values.sorted(by: { $0.name < $1.name }) where r.enabled {
            if let d = r.provider.servedFamily { s.pools[d, default: []].append(r.name); s.servable.append(r.name) }
        }
        for t in try store.tiers() {
            guard let m = t.model else { continue }
            if let c = t.credential { s.credentialTiers[c, default: [:]][t.tier] = m } else { s.tierModels[t.provider, default: [:]][t.tier] = m }
        }
        for a in try store.aliases() { s.aliases[a.name] = a.model }
        s.tierRules = try store.tierRules().map(\.rule)
        return s
    }
}
