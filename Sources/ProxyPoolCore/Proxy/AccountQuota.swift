#if canImport(Glibc)
import Glibc
#endif

/// One usage window of a subscription account, as its upstream reports it on every answer: how much of the
/// window is used, how long the window is, and when it resets.
public struct QuotaWindow: Codable, Sendable, Equatable {
    /// `5h`, `week`, `week (<model>)`, or the length (`90m`, `2d`) for others.
    public var name: String
    /// 0…100.
    public var usedPercent: Double
    public var windowMinutes: Int64?
    /// Wall-clock epoch milliseconds.
    public var resetsAtMillis: Int64?
    /// The upstream says the window is exhausted (Claude's `rejected`), whatever the percentage.
    public var rejected: Bool

    public init(name: String, usedPercent: Double, windowMinutes: Int64?, resetsAtMillis: Int64?, rejected: Bool = false) {
        self.name = name; self.usedPercent = usedPercent; self.windowMinutes = windowMinutes
        self.resetsAtMillis = resetsAtMillis; self.rejected = rejected
    }
}

/// A ChatGPT account's purchased credits, which Codex's backend draws on once a window is used up.
public struct AccountCredits: Codable, Sendable, Equatable {
    public var hasCredits: Bool
    public var unlimited: Bool
    /// As the backend writes it ("5.39"); digits, sign and point only, at most 24 characters.
    public var balance: String?
    public init(hasCredits: Bool, unlimited: Bool, balance: String?) { self.hasCredits = hasCredits; self.unlimited = unlimited; self.balance = balance }

    /// `unlimited credits`, `credits 5.39`, `no credits`.
    public var description: String { unlimited ? "unlimited credits" : (hasCredits ? "credits " + (balance ?? "left") : "no credits") }
}

/// Reading the quota headers of subscription backends, and choosing among accounts by them. No I/O. Every
/// number comes from an upstream: read bounded (percentages clamped to 0…100, times saturating).
public enum AccountQuota {
    /// Codex: `x-codex-primary-*` and `x-codex-secondary-*` (`used-percent` 0…100, `window-minutes`, `reset-at`
    /// in epoch seconds, or `reset-after-seconds`), as openai/codex codex-rs/codex-api/src/rate_limits.rs
    /// (`parse_rate_limit_for_limit`) reads them. The windows are named by their length, not their slot: a free
    /// plan reports its weekly window as the primary one.
    public static func codex(_ header: (String) -> String?, nowMillis: Int64) -> [QuotaWindow] {
        ["primary", "secondary"].compactMap { slot in
            let p = "x-codex-\(slot)-"
            guard let used = header(p + "used-percent").flatMap(number) else { return nil }
            let minutes = header(p + "window-minutes").flatMap(number).map { Int64(min(max($0, 0), 1e9)) }
            var reset = header(p + "reset-at").flatMap(number).map { Saturating.multiply(Int64(min(max($0, 0), 1e13)), 1000) }
            if reset == nil, let after = header(p + "reset-after-seconds").flatMap(number) {
                reset = Saturating.add(nowMillis, Int64(min(max(after, 0), 1e10)) * 1000)
            }
            return QuotaWindow(name: name(minutes: minutes), usedPercent: min(max(used, 0), 100), windowMinutes: minutes, resetsAtMillis: reset)
        }
    }

    /// Codex: `x-codex-credits-has-credits` and `-unlimited` (both needed; `true`/`false` or `1`/`0`) and
    /// `-balance`, as openai/codex codex-rs/codex-api/src/rate_limits.rs (`parse_credits_snapshot`) reads them.
    public static func codexCredits(_ header: (String) -> String?) -> AccountCredits? {
        func flag(_ n: String) -> Bool? {
            switch header(n)?.trimming(" ").lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: return nil
            }
        }
        guard let has = flag("x-codex-credits-has-credits"), let unlimited = flag("x-codex-credits-unlimited") else { return nil }
        // Shown to the user and sent back to Codex: a number's characters only, bounded.
        let balance = header("x-codex-credits-balance")?.trimming(" ").prefix(24).filter { $0.isNumber && $0.isASCII || $0 == "." || $0 == "-" }
        return AccountCredits(hasCredits: has, unlimited: unlimited, balance: balance.flatMap { $0.isEmpty ? nil : String($0) })
    }

    /// Claude subscriptions: `anthropic-ratelimit-unified-{5h,7d,7d_oi}-{utilization,reset,status}`, the
    /// utilization a fraction 0…1, the reset in epoch seconds, the status `allowed`, `allowed_warning` or
    /// `rejected` (../shared/notes/clients.md §8; the shape public readers of these headers document). `7d_oi`
    /// is a per-model weekly window.
    public static func claude(_ header: (String) -> String?) -> [QuotaWindow] {
        [("5h", "5h", Int64(300)), ("7d", "week", Int64(10080)), ("7d_oi", "week (model)", Int64(10080))].compactMap { key, label, minutes in
            let p = "anthropic-ratelimit-unified-\(key)-"
            let status = header(p + "status")
            guard let u = header(p + "utilization").flatMap(number) else { return nil }
            let reset = header(p + "reset").flatMap(number).map { Saturating.multiply(Int64(min(max($0, 0), 1e13)), 1000) }
            return QuotaWindow(name: label, usedPercent: min(max(u * 100, 0), 100), windowMinutes: minutes, resetsAtMillis: reset,
                               rejected: status == "rejected")
        }
    }

    /// A window's name from its length: 300 minutes is `5h`, 10080 is `week`.
    static func name(minutes: Int64?) -> String {
        guard let m = minutes, m > 0 else { return "window" }
        if m == 10080 { return "week" }
        if m % 1440 == 0 { return "\(m / 1440)d" }
        if m % 60 == 0 { return "\(m / 60)h" }
        return "\(m)m"
    }

    private static func number(_ s: String) -> Double? {
        guard let d = Double(s.trimming(" ")), d.isFinite else { return nil }
        return d
    }

    /// The window that binds: the fullest one (a rejected one first); nil when none is known.
    public static func binding(_ windows: [QuotaWindow], nowMillis: Int64) -> QuotaWindow? {
        windows.filter { ($0.resetsAtMillis ?? Int64.max) > nowMillis }
            .max { ($0.rejected ? 101 : $0.usedPercent) < ($1.rejected ? 101 : $1.usedPercent) }
    }

    /// Whether an account is past the threshold (percent) in any window that has not reset yet.
    public static func exhausted(_ windows: [QuotaWindow], threshold: Double, nowMillis: Int64) -> Bool {
        guard let b = binding(windows, nowMillis: nowMillis) else { return false }
        return b.rejected || b.usedPercent >= threshold
    }

    /// The order to try subscription accounts in: those under the threshold first, always in the same order
    /// (one account keeps serving, so its prompt caches stay warm, until a window crosses the threshold: the
    /// session's own account, then the app's chain in its order, then the others by name), then those past it,
    /// the one whose binding window resets soonest first. `accounts` says which candidates are accounts; the
    /// others keep their places.
    public static func order(_ candidates: [String], accounts: (String) -> [QuotaWindow]?, threshold: Double, nowMillis: Int64,
                             preferred: String? = nil, chain: [String] = []) -> [String] {
        let slots = candidates.indices.filter { accounts(candidates[$0]) != nil }
        guard slots.count > 1 else { return candidates }
        let names = slots.map { candidates[$0] }
        func rank(_ n: String) -> (Int, String) { (n == preferred ? -1 : chain.firstIndex(of: n) ?? Int.max, n) }
        let under = names.filter { !exhausted(accounts($0)!, threshold: threshold, nowMillis: nowMillis) }.sorted { rank($0) < rank($1) }
        let over = names.filter { exhausted(accounts($0)!, threshold: threshold, nowMillis: nowMillis) }.sorted { a, b in
            let ra = binding(accounts(a)!, nowMillis: nowMillis)?.resetsAtMillis ?? Int64.max
            let rb = binding(accounts(b)!, nowMillis: nowMillis)?.resetsAtMillis ?? Int64.max
            return ra != rb ? ra < rb : a < b
        }
        var out = candidates
        for (slot, name) in zip(slots, under + over) { out[slot] = name }
        return out
    }

    /// `5h 42 % (resets 14:10), week 71 % (resets Fri 09:00)`: local time of day within a day, else weekday too.
    public static func describe(_ windows: [QuotaWindow], nowMillis: Int64) -> String {
        windows.map { w in
            let pct = w.usedPercent.rounded()
            var s = "\(w.name) \(Int(pct)) %"
            if let r = w.resetsAtMillis { s += " (resets \(localShort(r, nowMillis: nowMillis)))" }
            if w.rejected { s += " rejected" }
            return s
        }.joined(separator: ", ")
    }

    /// `14:10` within the next 24 hours, else `Fri 09:00` (local time: it is the user's clock).
    static func localShort(_ epochMillis: Int64, nowMillis: Int64) -> String {
        var t = time_t(epochMillis / 1000)
        var tm = tm()
        localtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let hm = "\(two(tm.tm_hour)):\(two(tm.tm_min))"
        if epochMillis - nowMillis < 86_400_000 { return hm }
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        return "\(days[Int(tm.tm_wday) % 7]) \(hm)"
    }
}
