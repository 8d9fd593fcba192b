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
