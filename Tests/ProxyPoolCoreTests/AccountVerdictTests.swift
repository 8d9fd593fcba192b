import Testing
@testable import ProxyPoolCore

/// Anthropic's answer to a subscription used by another app is a state of the credential, not a request error.
@Suite struct AccountVerdictTests {
    @Test func thirdParty400IsPlanRefuses() {
        let body = Array(#"{"type":"error","error":{"type":"invalid_request_error","message":"Third-party apps now draw from your extra usage, not your plan limits."}}"#.utf8)
        let v = Cooldowns.verdict(status: 400, headers: [], body: body, nowMillis: 0, consecutiveFailures: 0, capMillis: 1000)
        #expect(v == FailureVerdict(action: .authFailed, reason: Cooldowns.planRefusesThirdParty))
        #expect(Cooldowns.verdict(status: 400, headers: [], body: Array(#"{"error":"bad"}"#.utf8), nowMillis: 0, consecutiveFailures: 0, capMillis: 1000) == nil,
                "any other 400 is the request's fault")
    }
}

/// A Claude subscription's 429s: by window (the whole account, or one model), or one request that needs credits.
@Suite struct ClaudeSubscription429Tests {
    static func v(_ headers: [(String, String)], _ body: String = #"{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed your account's rate limit."}}"#) -> FailureVerdict? {
        Cooldowns.verdict(status: 429, headers: headers, body: Array(body.utf8), nowMillis: 1_000_000, consecutiveFailures: 0, capMillis: 86_400_000)
    }

    @Test func aRejectedFiveHourOrWeekCoolsTheAccountUntilItResets() {
        let five = Self.v([("anthropic-ratelimit-unified-5h-status", "rejected"), ("anthropic-ratelimit-unified-5h-reset", "4600"),
                           ("anthropic-ratelimit-unified-7d-status", "allowed"), ("anthropic-ratelimit-unified-7d-reset", "900000")])
        #expect(five == FailureVerdict(action: .coolDown(untilEpochMillis: 4_600_000, perModel: false), reason: "usage limit reached (5h)"))
        let week = Self.v([("anthropic-ratelimit-unified-7d-status", "rejected"), ("anthropic-ratelimit-unified-7d-reset", "90000")])
        #expect(week == FailureVerdict(action: .coolDown(untilEpochMillis: 86_400_000 + 1_000_000, perModel: false), reason: "usage limit reached (week)"),
                "capped")
    }

    @Test func aRejectedModelWeekCoolsOnlyTheModel() {
        let m = Self.v([("anthropic-ratelimit-unified-7d_oi-status", "rejected"), ("anthropic-ratelimit-unified-7d_oi-reset", "2000"),
                        ("anthropic-ratelimit-unified-5h-status", "allowed")])
        #expect(m == FailureVerdict(action: .coolDown(untilEpochMillis: 2_000_000, perModel: true), reason: "usage limit reached (this model's week)"))
    }

    @Test func aRequestThatNeedsExtraUsageMovesOnWithoutACooldown() {
        let r = Self.v([], #"{"type":"error","error":{"type":"rate_limit_error","message":"Extra usage is required for long context requests."}}"#)
        #expect(r?.action == .retryElsewhere)
        // Without those headers or words: an ordinary 429, per model, backed off.
        if case .coolDown(_, let perModel)? = Self.v([])?.action { #expect(perModel) } else { Issue.record("an ordinary 429 cools down") }
    }
}
