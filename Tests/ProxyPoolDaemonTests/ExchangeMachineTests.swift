import Testing
@testable import ProxyPoolCore
@testable import ProxyPoolDaemon

/// The exchange's decisions without sockets: failover before the first byte, none after it, and what each
/// failure writes to the cooldown table.
@Suite struct ExchangeMachineTests {
    enum Effect: Equatable { case markAuthFailed, coolDown(perModel: Bool), retryElsewhere }

    /// Every failover status, held back and read, moves on to the next candidate, with the side effect its
    /// verdict asks for.
    @Test(arguments: [(401, Effect.markAuthFailed), (403, .markAuthFailed), (429, .coolDown(perModel: true)),
                      (500, .retryElsewhere), (502, .retryElsewhere), (503, .coolDown(perModel: true)),
                      (504, .retryElsewhere), (529, .coolDown(perModel: true))])
    func firstByteFailover(status: Int, effect: Effect) {
        #expect(ExchangeMachine.isFailoverStatus(status))
        var run = MachineRun()
        #expect(run.start() == .send(candidate: 0))
        #expect(run.answer(status) == .send(candidate: 1), "\(status) fails over")
        #expect(run.machine.attempts == 2 && run.machine.index == 1)
        switch effect {
        case .markAuthFailed:
            #expect(run.marked == ["a"] && run.cooldowns.isEmpty && run.retried.isEmpty)
            #expect(run.log.contains(.markAuthFailed(credential: "a", why: "was refused by its upstream (\(status))")))
            #expect(run.env.table.blockedUntil("a", model: nil, now: testNow)?.until == Int64.max)
        case .coolDown(let perModel):
            #expect(run.cooldowns.count == 1 && run.marked.isEmpty && run.retried.isEmpty)
            #expect(run.cooldowns.first?.credential == "a" && (run.cooldowns.first?.model == "m") == perModel)
        case .retryElsewhere:
            #expect(run.retried == ["a"] && run.cooldowns.isEmpty && run.marked.isEmpty)
            #expect(run.env.table.blockedUntil("a", model: "m", now: testNow) == nil, "a transient error cools nothing")
        }
        #expect(run.machine.lastFailure?.hasPrefix("a: ") == true)
        // The next candidate's answer goes to the client: its head is fresh.
        #expect(run.head(200, [("Content-Type", "text/event-stream")]) == .startStream(contentLength: nil, flushHead: true))
        #expect(run.machine.status == 200 && run.machine.errorBody.isEmpty)
    }

    /// Any other status is the answer: it goes to the client as it comes.
    @Test(arguments: [200, 201, 204, 400, 404, 413, 422, 451, 501])
    func otherStatusesAreAnswers(status: Int) {
        #expect(!ExchangeMachine.isFailoverStatus(status))
        var run = MachineRun()
        run.start()
        #expect(run.head(status, [("Content-Length", "2")]) == .startStream(contentLength: 2, flushHead: false))
        #expect(run.body("{}") == .forwardBody)
        #expect(run.end() == .finishStream(nil))
        #expect(run.sends == [0])
    }

    @Test func headFraming() {
        var run = MachineRun()
        run.start()
        #expect(run.head(200, [("content-length", "-5")]) == .startStream(contentLength: nil, flushHead: false), "a negative length is not passed on")
        var sse = MachineRun()
        sse.start()
        #expect(sse.head(200, [("Content-Type", "text/event-stream; charset=utf-8"), ("Content-Length", "9")]) == .startStream(contentLength: nil, flushHead: true))
        #expect(sse.machine.isEventStream)
    }

    /// Before the first byte, a transfer that fails (reset, timeout, refused) is a failure like any other.
    @Test func errorBeforeTheFirstByteFailsOver() {
        var run = MachineRun()
        run.start()
        #expect(run.end(Failure(localResources: false, message: "connection reset")) == .send(candidate: 1))
        #expect(run.cooldowns == [.init(credential: "a", model: nil, untilMillis: testNow + 1000, reason: "unreachable: connection reset")])
        // A failover status whose body is cut off: still held back, still a failover.
        #expect(run.head(429, [("Retry-After", "5")]) == .none)
        #expect(run.body("{\"error\":") == .none)
        #expect(run.end(Failure(localResources: false, message: "first byte timeout")) == .send(candidate: 2))
        #expect(run.cooldowns.last == .init(credential: "b", model: "m", untilMillis: testNow + 5000, reason: "rate-limited (429)"))
    }

    /// After the first byte, a failure ends the client's stream: no other candidate is tried.
    @Test(arguments: [false, true])
    func noFailoverAfterTheFirstByte(translating: Bool) {
        var run = MachineRun()
        run.start()
        let first = run.head(200, [("Content-Type", "text/event-stream")], translating: translating)
        #expect(first == (translating ? .startTranscodedStream : .startStream(contentLength: nil, flushHead: true)))
        #expect(run.body("data: {}\n\n") == .forwardBody)
        let cut = Failure(localResources: false, message: "connection reset")
        #expect(run.end(cut) == .finishStream(cut))
        #expect(run.sends == [0] && run.cooldowns.isEmpty && run.machine.attempts == 1)
        run.feed(.finished)
        #expect(run.machine.mode == .done)
        #expect(run.end(cut) == .none && run.feed(.carriedOut) == .none && run.feed(.mediaReady) == .none)
    }

    /// A rate limit cools the credential for the model; a spent quota (and an unreachable upstream) for every model.
    @Test func cooldownPerModelOrPerCredential() {
        var limited = MachineRun()
        limited.start()
        limited.answer(429, [("Retry-After", "30")], body: #"{"error":{"type":"rate_limit_error"}}"#)
        #expect(limited.cooldowns == [.init(credential: "a", model: "m", untilMillis: testNow + 30_000, reason: "rate-limited (429)")])
        #expect(limited.env.table.blockedUntil("a", model: "m", now: testNow)?.until == testNow + 30_000)
        #expect(limited.env.table.blockedUntil("a", model: "other", now: testNow) == nil, "another model is still served")

        var quota = MachineRun()
        quota.start()
        quota.answer(429, [("Retry-After", "30")], body: #"{"error":{"code":"insufficient_quota"}}"#)
        #expect(quota.cooldowns == [.init(credential: "a", model: nil, untilMillis: testNow + 30_000, reason: "usage limit reached")])
        #expect(quota.env.table.blockedUntil("a", model: "other", now: testNow)?.until == testNow + 30_000, "a spent quota stops every model")

        // Without a model (model lists, token counts) a rate limit is per credential too.
        var noModel = MachineRun(model: nil)
        noModel.start()
        noModel.answer(429, [("Retry-After", "30")])
        #expect(noModel.cooldowns.first?.model == nil)
    }

    /// The backoff grows with the credential's failures in a row, up to the cap.
    @Test func backoffFromFailureCount() {
        func failedThrice() -> FixedClock {
            let env = FixedClock(nowMillis: testNow)
            for _ in 0..<3 { env.table.coolDown("a", model: nil, until: testNow - 1, reason: "old") }
            return env
        }
        var run = MachineRun(env: failedThrice())
        run.start()
        run.end(Failure(localResources: false, message: "refused"))
        #expect(run.cooldowns.first?.untilMillis == testNow + 8000)
        var overloaded = MachineRun(env: failedThrice())
        overloaded.start()
        overloaded.answer(529)
        #expect(overloaded.cooldowns.first?.untilMillis == testNow + 8000, "no reset time given: exponential backoff")
        #expect(overloaded.env.table.failureCount("a") == 4, "each cooldown counts")
    }

    static let retryAfters: [(String, String, Int64)] = [
        ("Retry-After", "30", 30_000),
        ("retry-after", " 2 ", 2_000),
        ("Retry-After", "Wed, 25 Nov 2026 09:48:20 GMT", 20_000),
        ("Retry-After", "Wed, 25 Nov 2026 09:47:00 GMT", 100),          // a date past: the shortest wait
        ("Retry-After", "Thu, 26 Nov 2026 09:48:00 GMT", 1_800_000),    // a day away: cut to the cap
        ("Retry-After", "999999", 1_800_000),
    ]

    /// `Retry-After` in seconds or as an HTTP date sets the cooldown, within 100 ms and the cap.
    @Test(arguments: retryAfters)
    func retryAfter(name: String, value: String, wait: Int64) {
        var run = MachineRun()
        run.start()
        #expect(run.answer(429, [(name, value)]) == .send(candidate: 1))
        #expect(run.cooldowns.first?.untilMillis == testNow + wait, "\(name): \(value)")
    }

    /// Out of candidates, all cooling: 429 with when the first comes back, whichever status the last one gave.
    @Test(arguments: [429, 503, 529])
    func allCooling(last: Int) {
        var run = MachineRun(candidates: ["a", "b"])
        run.start()
        run.answer(429, [("Retry-After", "30")])
        let a = run.answer(last, [("Retry-After", "9.5")])
        let msg = "no credential for app cli is available: a rate-limited (429) until 09:48:30 UTC; "
            + "b \(last == 429 ? "rate-limited (429)" : "overloaded (\(last))") until 09:48:09 UTC"
        #expect(a == .respond(ErrorReply(.rateLimited, status: 429, msg, headers: [("Retry-After", "10")])))
    }

    /// Out of candidates and not all cooling (one auth failed, or the last one's error is no rate limit): the
    /// last upstream's error is the answer.
    @Test func lastErrorIsRelayed() {
        var mixed = MachineRun(candidates: ["a", "b"])
        mixed.start()
        mixed.answer(401)
        #expect(mixed.answer(429, [("Retry-After", "30")]) == .relayUpstreamError(reason: "b: rate-limited (429)"))
        var cooled = MachineRun(candidates: ["a", "b"])
        cooled.start()
        cooled.answer(429, [("Retry-After", "30")])
        #expect(cooled.answer(502, body: "bad gateway") == .relayUpstreamError(reason: "b: upstream answered 502"))
        #expect(cooled.machine.status == 502 && cooled.machine.errorBody == Array("bad gateway".utf8))
    }

    @Test func errorBodyIsCapped() {
        var run = MachineRun(candidates: ["a"])
        run.start()
        run.head(500)
        run.body([UInt8](repeating: 0x61, count: 40_000))
        run.body([UInt8](repeating: 0x62, count: 40_000))
        #expect(run.machine.errorBody.count == ExchangeMachine.maxErrorBody)
        #expect(run.end() == .relayUpstreamError(reason: "a: upstream answered 500"))
    }

    @Test func connectFailureTriesTheNextThenGivesUp() {
        var run = MachineRun(candidates: ["a", "b"])
        run.start()
        #expect(run.end(Failure(localResources: false, message: "connection refused")) == .send(candidate: 1))
        #expect(run.end(Failure(localResources: false, message: "timed out")) == .respond(ErrorReply(.upstream, status: 502, "no upstream could answer for app cli: b: timed out")))
        #expect(run.cooldowns.map(\.credential) == ["a", "b"] && run.cooldowns.allSatisfy { $0.model == nil })
    }

    /// Our own shortage (out of descriptors) blames no credential and tries no other: 503, come back soon.
    @Test func localResourcesAnswer503WithoutCooldown() {
        var run = MachineRun()
        run.start()
        let a = run.end(Failure(localResources: true, message: "out of file descriptors"))
        #expect(a == .respond(ErrorReply(.unavailable, status: 503, "proxypoold cannot open a connection upstream right now (out of file descriptors); try again shortly",
                                         headers: [("Retry-After", "1")])))
        #expect(run.cooldowns.isEmpty && run.sends == [0] && run.env.table.failureCount("a") == 0)
    }

    /// A request one credential's protocol cannot carry goes to the next; the last one's refusal is the answer.
    @Test func translationRefusal() {
        let reply = ErrorReply(.invalidRequest, status: 400, "the request cannot be sent to b (gemini): too many tools")
        var run = MachineRun(candidates: ["a", "b"])
        run.start()
        #expect(run.feed(.preparation(.failed(reason: "a: too many tools", markCredential: false, ifLast: reply))) == .send(candidate: 1))
        #expect(run.feed(.preparation(.failed(reason: "b: too many tools", markCredential: false, ifLast: reply))) == .respond(reply))
        #expect(run.cooldowns.isEmpty && run.marked.isEmpty)
    }

    /// A preparation that blames the credential (a refused token): marked, and the next one is tried.
    @Test func preparationMarksTheCredential() {
        var run = MachineRun(candidates: ["a", "b"])
        run.start()
        #expect(run.feed(.preparation(.pending)) == .none)
        #expect(run.feed(.preparation(.failed(reason: "a: token refused", markCredential: true, ifLast: nil))) == .send(candidate: 1))
        #expect(run.marked == ["a"])
        #expect(run.feed(.preparation(.pending)) == .none)
        #expect(run.feed(.preparation(.ready)) == .send(candidate: 1), "ready: the same candidate again")
        #expect(run.machine.attempts == 2)
        #expect(run.feed(.preparation(.failed(reason: "b: token refused", markCredential: true, ifLast: nil)))
                == .respond(ErrorReply(.upstream, status: 502, "no upstream could answer for app cli: b: token refused")))
    }

    @Test func mediaFetches() {
        var run = MachineRun(candidates: ["a", "b"])
        run.start()
        #expect(run.feed(.preparation(.pending)) == .none)
        #expect(run.feed(.mediaReady) == .send(candidate: 0), "the media are in: the same candidate, prepared again")
        #expect(run.machine.attempts == 1)
        #expect(run.feed(.preparation(.pending)) == .none)
        #expect(run.feed(.mediaFailed("fetching x failed: the server answered 404")) == .send(candidate: 1))
        #expect(run.feed(.mediaFailed("fetching x failed: the server answered 404"))
                == .respond(ErrorReply(.invalidRequest, status: 400, "an image or document in the request cannot be used: fetching x failed: the server answered 404")))
        #expect(run.machine.lastFailure == "b: fetching x failed: the server answered 404")
    }

    @Test func candidateRemovedSinceRouting() {
        var run = MachineRun(candidates: ["a", "b"])
        run.start()
        #expect(run.feed(.candidateGone) == .send(candidate: 1))
        #expect(run.feed(.candidateGone) == .respond(ErrorReply(.upstream, status: 502, "no upstream could answer for app cli: no candidate")))
        #expect(run.machine.attempts == 2)
    }

    /// A translated answer that is not a 2xx event stream is collected whole, within the cap.
    @Test func translatedAnswers() {
        var plain = MachineRun(stream: false)
        plain.start()
        #expect(plain.head(200, [("Content-Type", "application/json")], translating: true) == .bufferAnswer)
        #expect(plain.body("{}") == .keepBody)
        #expect(plain.end() == .translateAnswer)

        var refused = MachineRun()
        refused.start()
        #expect(refused.head(400, [("Content-Type", "application/json")], translating: true) == .bufferAnswer)
        #expect(refused.end() == .translateUpstreamError)

        var notAStream = MachineRun(stream: true)
        notAStream.start()
        notAStream.head(200, [("Content-Type", "application/json")], translating: true)
        #expect(notAStream.end() == .respond(ErrorReply(.upstream, status: 502, "upstream a answered a streamed request without an event stream")))

        var big = MachineRun(stream: false, maxAnswerBytes: 4)
        big.start()
        big.head(200, translating: true)
        #expect(big.body("abc") == .keepBody)
        #expect(big.body("defg") == .none, "past the cap: dropped")
        #expect(big.end() == .respond(ErrorReply(.upstream, status: 502, "upstream a answered with more than 4 bytes, too much to translate")))

        var cut = MachineRun(stream: false)
        cut.start()
        cut.head(200, translating: true)
        #expect(cut.end(Failure(localResources: false, message: "reset")) == .respond(ErrorReply(.upstream, status: 502, "upstream a failed before its answer was complete: reset")))
        #expect(cut.sends == [0])
    }
}
