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

/// A ChatGPT account's 2xx event stream is held until its first real event.
@Suite struct AccountHeldStreamTests {
    let sse = [("Content-Type", "text/event-stream")]
    let created = "event: response.created\ndata: {\"type\":\"response.created\"}\n\n"

    @Test func aUsageLimitAfterThePreambleFailsOverLikeA429() {
        var run = MachineRun(candidates: ["a", "b"])
        run.machine.holdStreamStart = ["a"]
        #expect(run.start() == .send(candidate: 0))
        #expect(run.head(200, sse) == .none, "held: nothing reaches the client")
        #expect(run.body(created) == .none)
        #expect(run.body("event: error\ndata: {\"error\":{\"type\":\"usage_limit_reached\",\"resets_in_seconds\":600}}\n\n") == .none)
        #expect(run.end() == .send(candidate: 1))
        #expect(run.cooldowns.first.map { $0.credential == "a" && $0.model == nil && $0.reason == "usage limit reached" } == true)
        #expect(run.cooldowns.first.map { $0.untilMillis == testNow + 600_000 } == true)
    }

    @Test func aRealEventReleasesTheStreamWithWhatWasHeld() {
        var run = MachineRun(candidates: ["a", "b"])
        run.machine.holdStreamStart = ["a"]
        run.start()
        #expect(run.head(200, sse) == .none)
        #expect(run.body(created) == .none)
        #expect(run.body("event: response.output_text.delta\ndata: {}\n\n") == .releaseHeld(.startStream(contentLength: nil, flushHead: true)))
        #expect(run.machine.held.count > created.utf8.count, "both pieces go out")
        #expect(run.body("more") == .forwardBody)
        #expect(run.end() == .finishStream(nil))
    }

    @Test func aStreamThatEndsInItsPreambleStillReachesTheClient() {
        var run = MachineRun(candidates: ["a"])
        run.machine.holdStreamStart = ["a"]
        run.start()
        _ = run.head(200, sse)
        _ = run.body(created)
        #expect(run.end() == .releaseHeld(.startStream(contentLength: nil, flushHead: true)))
        #expect(run.feed(.carriedOut) == .finishStream(nil))
    }

    @Test func othersStreamAtOnce() {
        var run = MachineRun(candidates: ["a"])
        run.start()
        #expect(run.head(200, sse) == .startStream(contentLength: nil, flushHead: true))
    }
}
