/// The answers to the subscription CLIs' own usage requests, from the windows the pool knows of the account
/// that would serve them, so that their status lines stay right behind the pool. No I/O.
public enum AccountUsageAnswer {
    /// Codex's `RateLimitStatusPayload` (openai/codex codex-rs/codex-backend-openapi-models/src/models/
    /// rate_limit_status_payload.rs, rate_limit_status_details.rs, rate_limit_window_snapshot.rs): `plan_type` (one
    /// of its enum's names), `rate_limit: {allowed, limit_reached, primary_window, secondary_window}`, each window
    /// `{used_percent, limit_window_seconds, reset_after_seconds, reset_at}`, all integers (i32). Codex takes the
    /// windows by slot; here the shorter is primary, the longer secondary, as a paid plan reports them.
    public static func codex(_ windows: [QuotaWindow], plan: String?, exhausted: Bool, nowMillis: Int64) -> [UInt8] {
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
        return Array("{\"plan_type\":\(JSONText.quoted(planType)),\"rate_limit\":{\(rate)}}".utf8)
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
