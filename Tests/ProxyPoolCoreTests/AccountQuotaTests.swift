import Testing
@testable import ProxyPoolCore

/// Subscription quota windows from their headers, and the order accounts are tried in by them.
@Suite struct AccountQuotaTests {
    func lookup(_ h: [String: String]) -> (String) -> String? { { h[$0] } }

    @Test func codexWindowsAreNamedByLengthNotSlot() {
        // A free plan: its weekly window in the primary slot.
        let w = AccountQuota.codex(lookup(["x-codex-primary-used-percent": "71.5", "x-codex-primary-window-minutes": "10080",
                                           "x-codex-primary-reset-at": "1900000000",
                                           "x-codex-secondary-used-percent": "42", "x-codex-secondary-window-minutes": "300",
                                           "x-codex-secondary-reset-after-seconds": "600"]), nowMillis: 1_000)
        #expect(w == [QuotaWindow(name: "week", usedPercent: 71.5, windowMinutes: 10080, resetsAtMillis: 1_900_000_000_000),
                      QuotaWindow(name: "5h", usedPercent: 42, windowMinutes: 300, resetsAtMillis: 601_000)])
        #expect(AccountQuota.codex(lookup([:]), nowMillis: 0).isEmpty)
        // Hostile numbers: clamped, never a trap.
        let h = AccountQuota.codex(lookup(["x-codex-primary-used-percent": "1e300", "x-codex-primary-window-minutes": "-5",
                                           "x-codex-primary-reset-at": "1e300"]), nowMillis: 0)
        #expect(h.first?.usedPercent == 100 && h.first?.windowMinutes == 0 && (h.first?.resetsAtMillis ?? 0) > 0)
        #expect(AccountQuota.codex(lookup(["x-codex-primary-used-percent": "nan"]), nowMillis: 0).isEmpty)
    }

    @Test func codexCreditsNeedBothFlagsAndKeepANumbersCharactersOnly() {
        #expect(AccountQuota.codexCredits(lookup(["x-codex-credits-has-credits": "true", "x-codex-credits-unlimited": "FALSE",
                                                  "x-codex-credits-balance": "12.50"]))
                == AccountCredits(hasCredits: true, unlimited: false, balance: "12.50"))
        #expect(AccountQuota.codexCredits(lookup(["x-codex-credits-has-credits": "1", "x-codex-credits-unlimited": "1"]))?.description == "unlimited credits")
        #expect(AccountQuota.codexCredits(lookup(["x-codex-credits-has-credits": "0", "x-codex-credits-unlimited": "0"]))?.description == "no credits")
        #expect(AccountQuota.codexCredits(lookup(["x-codex-credits-has-credits": "true"])) == nil, "both flags or nothing, as Codex reads them")
        #expect(AccountQuota.codexCredits(lookup(["x-codex-credits-has-credits": "yes", "x-codex-credits-unlimited": "false"])) == nil)
        let hostile = AccountQuota.codexCredits(lookup(["x-codex-credits-has-credits": "true", "x-codex-credits-unlimited": "false",
                                                        "x-codex-credits-balance": "5\u{1b}[31m<b>" + String(repeating: "9", count: 100)]))
        // Cut to 24 characters first, then only digits, signs and points kept: bounded and inert, never an escape.
        #expect(hostile?.balance == "531" + String(repeating: "9", count: 15), Comment(rawValue: hostile?.balance ?? "nil"))
    }

    @Test func claudeUnifiedWindows() {
        let w = AccountQuota.claude(lookup(["anthropic-ratelimit-unified-5h-utilization": "0.42", "anthropic-ratelimit-unified-5h-reset": "1790814600",
                                            "anthropic-ratelimit-unified-5h-status": "allowed",
                                            "anthropic-ratelimit-unified-7d-utilization": "1.0", "anthropic-ratelimit-unified-7d-status": "rejected"]))
        #expect(w.count == 2 && w[0].name == "5h" && w[0].usedPercent == 42 && w[0].resetsAtMillis == 1_790_814_600_000 && !w[0].rejected)
        #expect(w[1].name == "week" && w[1].rejected && w[1].usedPercent == 100)
    }

    @Test func staysOnOneAccountUntilTheThresholdThenTheSoonestReset() {
        let now: Int64 = 1_000_000
        var q: [String: [QuotaWindow]] = [:]
        func order(_ c: [String], preferred: String? = nil) -> [String] {
            AccountQuota.order(c, accounts: { q[$0] ?? (["a", "b", "c"].contains($0) ? [] : nil) }, threshold: 95, nowMillis: now, preferred: preferred)
        }
        #expect(order(["c", "key", "a", "b"]) == ["a", "key", "b", "c"], "same account first whatever the pool's rotation; others keep their places")
        q["a"] = [QuotaWindow(name: "5h", usedPercent: 96, windowMinutes: 300, resetsAtMillis: now + 5000)]
        q["b"] = [QuotaWindow(name: "week", usedPercent: 99, windowMinutes: 10080, resetsAtMillis: now + 1000)]
        #expect(order(["a", "b", "c"]) == ["c", "b", "a"], "c is under; then b, whose binding window resets first")
        q["c"] = [QuotaWindow(name: "5h", usedPercent: 10, windowMinutes: 300, resetsAtMillis: now + 9000, rejected: true)]
        #expect(order(["a", "b", "c"]) == ["b", "a", "c"])
        q = [:]
        #expect(order(["a", "b", "c"], preferred: "b") == ["b", "a", "c"], "a session stays on its account while it is under")
        #expect(AccountQuota.order(["c", "a", "b"], accounts: { _ in [] }, threshold: 95, nowMillis: now, chain: ["c"]) == ["c", "a", "b"],
                "the app's chain keeps its order")
        // A window that has reset no longer binds.
        q["a"] = [QuotaWindow(name: "5h", usedPercent: 100, windowMinutes: 300, resetsAtMillis: now - 1)]
        #expect(order(["a", "b"]) == ["a", "b"])
    }

    @Test func describedForPeople() {
        let now: Int64 = 1_800_000_000_000
        let s = AccountQuota.describe([QuotaWindow(name: "5h", usedPercent: 42.4, windowMinutes: 300, resetsAtMillis: now + 3_600_000),
                                       QuotaWindow(name: "week", usedPercent: 71, windowMinutes: 10080, resetsAtMillis: now + 3 * 86_400_000)], nowMillis: now)
        #expect(s.hasPrefix("5h 42 % (resets ") && s.contains("), week 71 % (resets "))
        #expect(s.split(separator: "(")[2].split(separator: " ").count == 3, "a day away or more: the weekday too: \(s)")
    }
}
