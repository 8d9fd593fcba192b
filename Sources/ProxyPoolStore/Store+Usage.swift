import Glibc
internal import CSQLite
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolSystem

// Proxy state: cooldowns, and the usage batches the proxy writes in the background.
extension Store {
    public struct CooldownRecord: Sendable, Equatable {
        public var credential: String
        public var model: String
        public var authFailed: Bool
        public var untilMillis: Int64
        public var reason: String
        public init(credential: String, model: String, authFailed: Bool, untilMillis: Int64, reason: String) {
            self.credential = credential; self.model = model; self.authFailed = authFailed; self.untilMillis = untilMillis; self.reason = reason
        }
    }

    public func cooldowns(nowMillis: Int64) throws(RPCError) -> [CooldownRecord] {
        try locked { () throws(RPCError) in
            try db.query("SELECT credential, model, kind, until_ms, reason FROM cooldowns WHERE kind = 'auth' OR until_ms > ?", [.int(nowMillis)]) { st in
                CooldownRecord(credential: st.text(0) ?? "", model: st.text(1) ?? "", authFailed: st.text(2) == "auth",
                               untilMillis: st.int(3) ?? 0, reason: st.text(4) ?? "")
            }
        }
    }

    public struct UsageDelta: Sendable {
        public var day, app, credential, model, upstreamModel: String
        public var requests, errors, input, output, cached: Int64
        public init(day: String, app: String, credential: String, model: String, upstreamModel: String, requests: Int64, errors: Int64,
                    input: Int64, output: Int64, cached: Int64) {
            self.day = day; self.app = app; self.credential = credential; self.model = model; self.upstreamModel = upstreamModel
            self.requests = requests; self.errors = errors; self.input = input; self.output = output; self.cached = cached
        }
    }

    /// The proxy's batched writes, in one transaction: cooldown changes, usage, apps seen, key use.
    public func applyProxyBatch(cooldownsSet: [CooldownRecord], cooldownsCleared: [(credential: String, model: String?)],
                                usage: [UsageDelta], apps: [(app: String, requests: Int64, at: Int64)],
                                keysUsed: [(id: String, at: Int64)]) throws(RPCError) {
        try transaction { () throws(RPCError) in
            for (cred, model) in cooldownsCleared {
                if let model { try db.run("DELETE FROM cooldowns WHERE credential = ? AND model = ?", [.text(cred), .text(model)]) }
                else { try db.run("DELETE FROM cooldowns WHERE credential = ?", [.text(cred)]) }
            }
            for c in cooldownsSet {
                try db.run("""
                    INSERT INTO cooldowns(credential, model, kind, until_ms, reason) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(credential, model, kind) DO UPDATE SET until_ms = excluded.until_ms, reason = excluded.reason
                    """, [.text(c.credential), .text(c.model), .text(c.authFailed ? "auth" : "cooldown"), .int(c.untilMillis), .text(c.reason)])
            }
            // SQLite turns an integer sum that overflows into a float; min() with Int64.max keeps it the largest
            // integer instead (a sum that saturated stays saturated, and reads back as Int64.max).
            for u in usage {
                try db.run("""
                    INSERT INTO usage(day, app, credential, model, upstream_model, requests, errors, input_tokens, output_tokens, cached_tokens)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(day, app, credential, model, upstream_model) DO UPDATE SET requests = min(requests + excluded.requests, \(Int64.max)),
                      errors = min(errors + excluded.errors, \(Int64.max)), input_tokens = min(input_tokens + excluded.input_tokens, \(Int64.max)),
                      output_tokens = min(output_tokens + excluded.output_tokens, \(Int64.max)),
                      cached_tokens = min(cached_tokens + excluded.cached_tokens, \(Int64.max))
                    """, [.text(u.day), .text(u.app), .text(u.credential), .text(u.model), .text(u.upstreamModel), .int(u.requests), .int(u.errors),
                          .int(u.input), .int(u.output), .int(u.cached)])
            }
            for a in apps {
                try db.run("""
                    INSERT INTO apps(app, first_seen, last_seen, requests) VALUES (?, ?, ?, ?)
                    ON CONFLICT(app) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen), requests = min(requests + excluded.requests, \(Int64.max))
                    """, [.text(a.app), .int(a.at), .int(a.at), .int(a.requests)])
            }
            for k in keysUsed { try db.run("UPDATE access_keys SET last_used_at = ? WHERE id = ?", [.int(k.at), .text(k.id)]) }
        }
    }

    public func usage(since day: String?) throws(RPCError) -> [UsageRow] {
        try locked { () throws(RPCError) in
            try db.query("""
                SELECT day, app, credential, model, upstream_model, requests, errors, input_tokens, output_tokens, cached_tokens FROM usage
                WHERE day >= ? ORDER BY day, app, credential, model, upstream_model
                """, [.text(day ?? "")]) { st in
                UsageRow(day: st.text(0) ?? "", app: st.text(1) ?? "", credential: st.text(2) ?? "", model: st.text(3) ?? "",
                         upstreamModel: st.text(4) ?? "", requests: st.int(5) ?? 0, errors: st.int(6) ?? 0, inputTokens: st.int(7) ?? 0,
                         outputTokens: st.int(8) ?? 0, cachedTokens: st.int(9) ?? 0)
            }
        }
    }
}
