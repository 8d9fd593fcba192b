import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolStore
import ProxyPoolControl

/// What the proxy routes with, loaded from the store whenever the control plane changes something. The hot
/// path reads only this (no SQLite per request).
struct RoutingSnapshot {
    var credentials: [String: CredentialRoute] = [:]
    var assignments: [String: [String]] = [:]
    var settings = Settings(freeModels: false, fallbackToPool: true, requireAccessKey: true)
    var keys: [String: (id: String, app: String?)] = [:]
    var appRules: [AppRule] = []
    /// Enabled credentials per dialect, in name order: the pool for requests that are never translated.
    var pools: [Dialect: [String]] = [:]
    /// Every enabled credential the proxy can serve, in name order: the pool for conversation requests, which
    /// are translated when a credential speaks another protocol.
    var servable: [String] = []
    /// Tier → model per provider kind (the user's, else the built-in defaults).
    var tierModels: [ProviderKind: [Tier: String]] = [:]
    var tierRules: [TierRule] = []
    var aliases: [String: String] = [:]

    /// A credential's own tier models, which win over its provider's.
    var credentialTiers: [String: [Tier: String]] = [:]

    /// The model a credential serves a tier with.
    func tierModel(_ c: CredentialRoute, _ tier: Tier) -> String? { credentialTiers[c.name]?[tier] ?? tierModels[c.provider]?[tier] }

    static func load(_ store: Store) throws -> RoutingSnapshot {
        var s = RoutingSnapshot()
        for r in try store.routes() { s.credentials[r.name] = r }
        for a in try store.assignments() { s.assignments[a.app] = a.credentials }
        s.settings = try store.settings()
        s.keys = try store.keyHashes()
        s.appRules = try store.appRules().map(\.rule)
        for r in s.credentials.values.sorted(by: { $0.name < $1.name }) where r.enabled {
            if let d = r.provider.dialect { s.pools[d, default: []].append(r.name); s.servable.append(r.name) }
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

/// Cooldowns and auth failures, shared by the loop (hot path) and the control plane (status). Persisted
/// through the writer so that they survive a restart.
final class CooldownTable: @unchecked Sendable {
    struct Entry { var until: Int64; var reason: String }
    private let lock = Mutex()
    /// Key: credential, or "credential\u{0}model".
    private var cooling: [String: Entry] = [:]
    private var authFailed: [String: String] = [:]
    private var failures: [String: Int] = [:]

    static func key(_ c: String, _ model: String?) -> String { model.map { c + "\u{0}" + $0 } ?? c }

    func load(_ records: [Store.CooldownRecord]) {
        lock.locked {
            for r in records {
                if r.authFailed { authFailed[r.credential] = r.reason }
                else { cooling[Self.key(r.credential, r.model.isEmpty ? nil : r.model)] = Entry(until: r.untilMillis, reason: r.reason) }
            }
        }
    }

    /// When the credential (or its model) may be used again; nil when usable now.
    func blockedUntil(_ c: String, model: String?, now: Int64) -> (until: Int64, reason: String)? {
        lock.locked {
            // Nothing cooling is the common case: no key strings built, nothing hashed.
            if authFailed.isEmpty && cooling.isEmpty { return nil }
            if let r = authFailed[c] { return (Int64.max, r) }
            var worst: (Int64, String)?
            if let e = cooling[c], e.until > now { worst = (e.until, e.reason) }
            if let m = model, let e = cooling[Self.key(c, m)], e.until > now, e.until > (worst?.0 ?? 0) { worst = (e.until, e.reason) }
            return worst
        }
    }

    func failureCount(_ c: String) -> Int { lock.locked { failures[c] ?? 0 } }

    func coolDown(_ c: String, model: String?, until: Int64, reason: String) {
        lock.locked {
            cooling[Self.key(c, model)] = Entry(until: until, reason: reason)
            failures[c, default: 0] += 1
        }
    }

    func markAuthFailed(_ c: String, reason: String) { lock.locked { authFailed[c] = reason } }

    func succeeded(_ c: String) { lock.locked { if !failures.isEmpty { failures[c] = nil } } }

    /// The credential changed or was re-enabled: forget what we knew about it.
    func forget(_ c: String) {
        lock.locked {
            authFailed[c] = nil
            failures[c] = nil
            cooling = cooling.filter { !($0.key == c || $0.key.hasPrefix(c + "\u{0}")) }
        }
    }

    func health(credentials: [CredentialInfo], now: Int64) -> [CredentialHealth] {
        lock.locked {
            credentials.compactMap { c in
                if !c.enabled { return CredentialHealth(name: c.name, state: .disabled, until: nil, model: nil, reason: nil) }
                if let r = authFailed[c.name] { return CredentialHealth(name: c.name, state: .authFailed, until: nil, model: nil, reason: r) }
                let mine = cooling.filter { ($0.key == c.name || $0.key.hasPrefix(c.name + "\u{0}")) && $0.value.until > now }
                guard let (k, e) = mine.max(by: { $0.value.until < $1.value.until }) else { return nil }
                let model = k.split(separator: "\u{0}", maxSplits: 1).dropFirst().first.map(String.init)
                return CredentialHealth(name: c.name, state: .cooling, until: Timestamp.iso8601(e.until / 1000), model: model ?? "", reason: e.reason,
                                        secondsLeft: (e.until - now + 999) / 1000)
            }
        }
    }

    func activeCount(now: Int64) -> [String: Int] {
        lock.locked {
            var m: [String: Int] = [:]
            for (k, e) in cooling where e.until > now { m[String(k.split(separator: "\u{0}").first ?? ""), default: 0] += 1 }
            for c in authFailed.keys { m[c, default: 0] += 1 }
            return m
        }
    }
}

/// The store's writes from the proxy, off the loop thread, batched: one transaction every second at most.
final class BackgroundWriter: @unchecked Sendable {
    private let store: Store
    private let logger: Logger
    private var cond = pthread_cond_t()
    private var mutex = pthread_mutex_t()
    private var cooldownsSet: [Store.CooldownRecord] = []
    private var cooldownsCleared: [(credential: String, model: String?)] = []
    private var usage: [UsageKey: Store.UsageDelta] = [:]
    /// A struct, not a joined string: no string is built per request.
    private struct UsageKey: Hashable { let day, app, credential, model, upstreamModel: String }
    private var apps: [String: (Int64, Int64)] = [:]
    private var keysUsed: [String: Int64] = [:]
    /// Requests in a row with the same usage key and access key (the usual case) add up here, and go into the
    /// maps above when the key changes or a batch is taken: a steady stream of like requests hashes nothing.
    private var current: (key: UsageKey, delta: Store.UsageDelta, keyID: String?, at: Int64)?
    private var stopping = false
    private var stopped = false

    init(store: Store, logger: Logger) {
        self.store = store
        self.logger = logger
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
        Threads.start { self.run() }
    }

    private func with(_ body: () -> Void) { pthread_mutex_lock(&mutex); body(); pthread_cond_signal(&cond); pthread_mutex_unlock(&mutex) }

    func cooldown(_ r: Store.CooldownRecord) { with { cooldownsSet.append(r) } }
    func clearCooldowns(_ credential: String) { with { cooldownsCleared.append((credential, nil)) } }

    func request(day: String, app: String, credential: String, model: String, upstreamModel: String, error: Bool, input: Int64, output: Int64,
                 cached: Int64, at: Int64, keyID: String?) {
        with {
            let k = UsageKey(day: day, app: app, credential: credential, model: model, upstreamModel: upstreamModel)
            if current != nil, current!.key == k, current!.keyID == keyID {
                current!.delta.add(error: error, input: input, output: output, cached: cached)
                current!.at = max(current!.at, at)
                return
            }
            foldRun()
            var delta = Store.UsageDelta(day: day, app: app, credential: credential, model: model, upstreamModel: upstreamModel,
                                         requests: 0, errors: 0, input: 0, output: 0, cached: 0)
            delta.add(error: error, input: input, output: output, cached: cached)
            current = (k, delta, keyID, at)
        }
    }

    /// Puts the current run of requests into the maps (under the mutex).
    private func foldRun() {
        guard let r = current else { return }
        current = nil
        // The run's delta carries the same day, app, credential and models: it starts the entry when there is none.
        if usage[r.key] == nil { usage[r.key] = r.delta } else { usage[r.key]!.merge(r.delta) }
        let a = apps[r.key.app] ?? (0, 0)
        apps[r.key.app] = (Saturating.add(a.0, r.delta.requests), max(a.1, r.at))
        if let id = r.keyID { keysUsed[id] = max(keysUsed[id] ?? 0, r.at) }
    }

    /// Write what is pending and stop (at shutdown).
    func flushAndStop() {
        with { stopping = true }
        let deadline = Posix.monotonicMillis() + 5000
        while Posix.monotonicMillis() < deadline {
            pthread_mutex_lock(&mutex); let done = stopped; pthread_mutex_unlock(&mutex)
            if done { return }
            usleep(5000)
        }
    }

    private func run() {
        while true {
            pthread_mutex_lock(&mutex)
            while !stopping && current == nil && cooldownsSet.isEmpty && cooldownsCleared.isEmpty && usage.isEmpty && apps.isEmpty && keysUsed.isEmpty {
                pthread_cond_wait(&cond, &mutex)
            }
            foldRun()
            let batch = (cooldownsSet, cooldownsCleared, Array(usage.values), apps.map { ($0.key, $0.value.0, $0.value.1) },
                         keysUsed.map { ($0.key, $0.value) })
            cooldownsSet = []; cooldownsCleared = []; usage = [:]; apps = [:]; keysUsed = [:]
            let stop = stopping
            pthread_mutex_unlock(&mutex)
            do {
                try store.applyProxyBatch(cooldownsSet: batch.0, cooldownsCleared: batch.1, usage: batch.2,
                                          apps: batch.3.map { (app: $0.0, requests: $0.1, at: $0.2) },
                                          keysUsed: batch.4.map { (id: $0.0, at: $0.1) })
            } catch {
                logger.error("cannot record usage and cooldowns: \(error.message)", event: "store-write-failed")
            }
            if stop { pthread_mutex_lock(&mutex); stopped = true; pthread_mutex_unlock(&mutex); return }
            usleep(1_000_000)   // batch: at most one transaction a second
        }
    }
}
