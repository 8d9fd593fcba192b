import Glibc
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolSystem
import ProxyPoolStore

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
