import Glibc
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolSystem
import ProxyPoolStore

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
