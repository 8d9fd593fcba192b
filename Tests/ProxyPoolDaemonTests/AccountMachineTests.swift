import Testing
@testable import ProxyPoolCore
@testable import ProxyPoolDaemon

/// The exchange's decisions for subscription logins: a 401 asks for a new token and the same account once;
/// a Claude subscription's 400 is read for Anthropic's third-party refusal, anyone else's goes to the client.
@Suite struct AccountMachineTests {
    @Test func first401RefreshesAndRetriesTheSameCandidateTheSecondMarksIt() {
        var run = MachineRun(candidates: ["a", "b"])
        run.machine.refreshOn401 = ["a"]
        #expect(run.start() == .send(candidate: 0))
        #expect(run.answer(401) == .refreshToken(credential: "a"))
        #expect(run.feed(.carriedOut) == .send(candidate: 0), "the same account, with a new token")
        #expect(run.machine.attempts == 2 && run.marked.isEmpty)
        #expect(run.answer(401) == .send(candidate: 1), "a second 401: marked, and the next one")
        #expect(run.marked == ["a"])
    }

    @Test func a401WithoutATokenToRefreshFailsOverAtOnce() {
        var run = MachineRun(candidates: ["a", "b"])
        #expect(run.start() == .send(candidate: 0))
        #expect(run.answer(401) == .send(candidate: 1) && run.marked == ["a"])
    }

    @Test func held400IsReadOnlyForClaudeSubscriptions() {
        let thirdParty = #"{"type":"error","error":{"type":"invalid_request_error","message":"Third-party apps now draw from your extra usage, not your plan limits."}}"#
        var run = MachineRun(candidates: ["claude", "b"])
        run.machine.heldBack400 = ["claude"]
        #expect(run.start() == .send(candidate: 0))
        #expect(run.answer(400, body: thirdParty) == .send(candidate: 1))
        #expect(run.log.contains(.markAuthFailed(credential: "claude", why: Cooldowns.planRefusesThirdParty)))
        // b's 400 is the request's: it goes to the client as it comes.
        #expect(run.head(400, [("Content-Type", "application/json")]) == .startStream(contentLength: nil, flushHead: false))
    }
}
