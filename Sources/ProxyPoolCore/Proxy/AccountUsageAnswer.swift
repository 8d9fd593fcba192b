/// The answers to the subscription CLIs' own usage requests, from the windows the pool knows of the account
/// that would serve them, so that their status lines stay right behind the pool. No I/O.
public enum AccountUsageAnswer {
    /// Codex's `RateLimitStatusPayload` (openai/codex codex-rs/codex-backend-openapi-models/src/models/
    /// rate_limit_status_payload.rs, rate_limit_status_details.rs, rate_limit_window_snapshot.rs): `plan_type` (one
    /// of its enum's names), `rate_limit: {allowed, limit_reached, primary_window, secondary_window}`, each window
    /// `{used_percent, limit_window_seconds, reset_after_seconds, reset_at}`, all integers (i32). Codex takes the
    /// windows by slot; here the shorter is primary, the longer secondary, as a paid plan reports them.
    public static func codex(_ windows: [QuotaWindow], plan: String?, exhausted: Bool, nowMillis: Int64, credits: AccountCredits? = nil) -> [UInt8] {
        let plans: Set<String> = ["guest", "free", "go", "plus", "pro", "free_workspace", "team", "business", "education", "quorum",
                                  "k12", "enterprise", "edu"]
        let planType = plan.map { $0.lowercased() }.flatMap { plans.contains($0) ? $0 : nil } ?? "guest"   // the enum's default
        let sorted = windows.filter { $0.windowMinutes != nil }.sorted { ($0.windowMinutes ?? 0) < ($1.windowMinutes ?? 0) }
        func window(_ w: QuotaWindow) -> String {
            let reset = w.resetsAtMillis ?? nowMillis
            let i32 = { (v: Int64) in max(0, min(v, Int64(Int32.max))) }
            return "{\"used_percent\":\(Int(max(0, min(100, w.usedPercent)).rounded())),"
                + "\"limit_window_seconds\":\(i32(Saturating.multiply(w.windowMinutes ?? 0, 60))),"
                + "\"reset_after_seconds\":\(i32((reset - nowMillis + 999) / 1000)),\"reset_at\":\(i32(reset / 1000))}"
        }
        var rate = "\"allowed\":\(!exhausted),\"limit_reached\":\(exhausted)"
        if let p = sorted.first { rate += ",\"primary_window\":" + window(p) }
        if sorted.count > 1 { rate += ",\"secondary_window\":" + window(sorted[sorted.count - 1]) }
        // Codex's payload carries the credits as has_credits / unlimited / balance (codex-rs/codex-api/src/rate_limits.rs).
        let creditsJSON = credits.map { c in
            ",\"credits\":{\"has_credits\":\(c.hasCredits),\"unlimited\":\(c.unlimited),\"balance\":\(c.balance.map { JSONText.quoted($0) } ?? "null")}"
        } ?? ""
        return Array("{\"plan_type\":\(JSONText.quoted(planType)),\"rate_limit\":{\(rate)}\(creditsJSON)}".utf8)
    }

    /// Claude's `GET /api/oauth/usage`: `five_hour` and `seven_day`, each `{utilization (0…100), resets_at
    /// (ISO 8601)}` or null (../shared/notes/clients.md §8; the same fields the public readers of it take).
    public static func claude(_ windows: [QuotaWindow]) -> [UInt8] {
        func window(_ name: String) -> String {
            guard let w = windows.first(where: { $0.name == name }) else { return "null" }
            let reset = w.resetsAtMillis.map { JSONText.quoted(Timestamp.iso8601($0 / 1000)) } ?? "null"
            return "{\"utilization\":\(Int(max(0, min(100, w.usedPercent)).rounded())),\"resets_at\":\(reset)}"
        }
        return Array("{\"five_hour\":\(window("5h")),\"seven_day\":\(window("week"))}".utf8)
    }
}

/// The providers' own usage endpoints, read into windows (the daemon polls them, at most every 5 minutes per
/// account in use): the same shapes `AccountUsageAnswer` writes. Bounded like the quota headers: percentages
/// clamped to 0…100, times saturating.
public enum AccountUsageReport {
    /// `GET {chatgpt}/backend-api/wham/usage` (openai/codex codex-rs/backend-client/src/client.rs,
    /// `get_rate_limits_many`): `rate_limit.primary_window` / `secondary_window`, named by length.
    public static func codex(_ body: [UInt8]) -> [QuotaWindow] {
        guard let j = try? JSON.decode(JSONValue.self, from: body), let rate = j["rate_limit"] else { return [] }
        return ["primary_window", "secondary_window"].compactMap { slot in
            guard let w = rate[slot], let used = number(w["used_percent"]) else { return nil }
            let minutes = number(w["limit_window_seconds"]).map { Int64((min(max($0, 0), 1e10) + 59) / 60) }
            let reset = number(w["reset_at"]).map { Saturating.multiply(Int64(min(max($0, 0), 1e13)), 1000) }
            return QuotaWindow(name: AccountQuota.name(minutes: minutes), usedPercent: min(max(used, 0), 100), windowMinutes: minutes,
                               resetsAtMillis: reset)
        }
    }

    /// `GET {anthropic}/api/oauth/usage`: `five_hour` and `seven_day`, `{utilization 0…100, resets_at ISO 8601}`
    /// (../shared/notes/clients.md §8), named as the unified headers' windows are (`5h`, `week`).
    public static func claude(_ body: [UInt8]) -> [QuotaWindow] {
        guard let j = try? JSON.decode(JSONValue.self, from: body) else { return [] }
        return [("five_hour", "5h", Int64(300)), ("seven_day", "week", Int64(10080))].compactMap { key, name, minutes in
            guard let w = j[key], let used = number(w["utilization"]) else { return nil }
            let reset = w["resets_at"]?.stringValue.flatMap(epochMillis)
            return QuotaWindow(name: name, usedPercent: min(max(used, 0), 100), windowMinutes: minutes, resetsAtMillis: reset)
        }
    }

    private static func number(_ v: JSONValue?) -> Double? {
        switch v {
        case .int(let n)?: return Double(n)
        case .double(let d)? where d.isFinite: return d
        default: return nil
        }
    }

    /// `2026-12-03T15:00:00Z`, with optional fractional seconds and a `±HH:MM` offset; nil otherwise.
    static func epochMillis(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard u.count >= 20, u.count <= 40, u[4] == 45, u[7] == 45, u[10] == 84 || u[10] == 116, u[13] == 58, u[16] == 58 else { return nil }
        func int(_ a: Int, _ b: Int) -> Int64? {
            var v: Int64 = 0
            for c in u[a..<b] { guard c >= 48, c <= 57 else { return nil }; v = v * 10 + Int64(c - 48) }
            return v
        }
        guard let y = int(0, 4), let mo = int(5, 7), let d = int(8, 10), let h = int(11, 13), let mi = int(14, 16), let sec = int(17, 19),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61 else { return nil }
        var i = 19
        if i < u.count, u[i] == 46 { i += 1; while i < u.count, u[i] >= 48, u[i] <= 57 { i += 1 } }
        var offset: Int64 = 0
        if i < u.count, u[i] == 90 || u[i] == 122 { i += 1 } else if i + 6 == u.count, u[i] == 43 || u[i] == 45, u[i + 3] == 58,
                  let oh = int(i + 1, i + 3), let om = int(i + 4, i + 6) {
            offset = (oh * 60 + om) * 60 * (u[i] == 45 ? -1 : 1)
            i += 6
        }
        guard i == u.count else { return nil }
        // Days from the civil date (Howard Hinnant's days_from_civil), so no libc time zone is involved.
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return (days * 86400 + h * 3600 + mi * 60 + sec - offset) * 1000
    }
}
