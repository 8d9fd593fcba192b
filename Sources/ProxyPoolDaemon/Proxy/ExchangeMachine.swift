import ProxyPoolCore
import ProxyPoolTranslation

/// What the exchange's decisions read of the world: the clock and the cooldown table. The daemon passes its
/// `CooldownTable`; the tests and the fuzz target pass a table of their own. Read only: the machine asks for
/// cooldowns to be written through its actions.
protocol ExchangeEnvironment {
    /// Wall-clock epoch milliseconds (cooldowns are epoch times). Read only when a decision needs it, never
    /// per body piece.
    var nowMillis: Int64 { get }
    /// The credential's failures in a row (the backoff's exponent).
    func failureCount(_ credential: String) -> Int
    /// When the credential (or its model) may be used again; nil when usable now, `Int64.max` when auth failed.
    func blockedUntil(_ credential: String, model: String?, now: Int64) -> (until: Int64, reason: String)?
}

/// The decisions of one client request and its attempts upstream, without I/O: which candidate to send to,
/// whether an answer goes to the client as it comes, is collected for translation or is held back as a
/// failure, and what a failure means (cool the credential down, mark it, move on, or answer the client).
/// Before the first byte reaches the client a failure moves on to the next candidate; after it, the stream
/// ends with the protocol's error event.
///
/// `Exchange` feeds it events (`handle`) and carries out the one action each returns. An action with a side
/// effect to finish first (`coolDown`, `markAuthFailed`, `retryElsewhere`) is answered with `.carriedOut`,
/// after which the machine goes on reading the cooldown table as the action left it (an all-cooling 429
/// counts the cooldown just written). Body bytes are not copied here except the failure body it reads (its
/// first 64 KiB, as the exchange always kept).
struct ExchangeMachine {
    /// waiting: sent (or preparing), no answer yet. bufferingError: a failover status, body collected to learn
    /// why. streaming: bytes go to the client as they come (translated or not). bufferingBody: a whole answer
    /// collected for translation (a non-streamed answer, or an error in the upstream's own format).
    /// holding: a 2xx event stream of a subscription account, its head and first events held back until they
    /// show it is not a usage limit (which Codex's backend may send inside a 200 stream).
    enum Mode { case idle, waiting, bufferingError, streaming, bufferingBody, holding, done }

    /// How an attempt ended before its answer: the upstream client's error, as far as decisions go.
    /// A timeout (connect, first byte, total) is one of these, reported by the upstream client.
    struct Failure: Equatable {
        /// This process could not open a socket (out of descriptors or memory): no fault of the credential.
        var localResources: Bool
        var message: String
    }

    /// An error the proxy answers with itself, in the client's protocol.
    struct ErrorReply: Equatable {
        var kind: ErrorCause
        var status: Int
        var message: String
        var headers: [(String, String)]

        init(_ kind: ErrorCause, status: Int, _ message: String, headers: [(String, String)] = []) {
            self.kind = kind; self.status = status; self.message = message; self.headers = headers
        }

        static func == (a: ErrorReply, b: ErrorReply) -> Bool {
            a.kind == b.kind && a.status == b.status && a.message == b.message && a.headers.elementsEqual(b.headers, by: ==)
        }
    }

    /// A cooldown to write: for `model` only, or (nil) for every model of the credential.
    struct Cooldown: Equatable {
        var credential: String
        var model: String?
        var untilMillis: Int64
        var reason: String
    }

    /// The request for the current candidate, as its preparation went (translation, media, a token).
    enum Preparation {
        /// Something must be fetched first (media, a token): `ready` or `failed` follows.
        case pending
        /// What was pending is in: send to the same candidate again.
        case ready
        /// This candidate cannot take the request. `markCredential`: the credential is at fault (a refused
        /// token), marked auth failed. `ifLast`: the answer when no candidate is left (nil: "no upstream could
        /// answer").
        case failed(reason: String, markCredential: Bool, ifLast: ErrorReply?)
    }

    enum Event {
        /// The first attempt.
        case start
        /// The current candidate's credential was removed since routing: skip it.
        case candidateGone
        case preparation(Preparation)
        /// The media fetches of the current attempt are in (the request is prepared again with them).
        case mediaReady
        /// A media fetch failed (another credential may take the URLs as they are).
        case mediaFailed(String)
        /// The upstream's final head. `translating`: the answer is re-encoded for the client.
        case head(status: Int, headers: [(String, String)], lowerNames: [String], translating: Bool)
        /// A piece of the upstream's body.
        case body(UnsafeRawBufferPointer)
        /// The upstream transfer ended (nil: completely).
        case end(Failure?)
        /// The side effect of the last action is done.
        case carriedOut
        /// The client was answered (or left): nothing more to decide.
        case finished
    }

    enum Action: Equatable {
        case none
        /// Prepare the request for candidate `index` and start its transfer (again after a preparation).
        case send(candidate: Int)
        /// The answer goes to the client as it comes, with the upstream's headers.
        case startStream(contentLength: Int?, flushHead: Bool)
        /// A 2xx event stream re-encoded for the client event by event.
        case startTranscodedStream
        /// A whole answer to collect for translation (the head is in: the first byte is counted).
        case bufferAnswer
        /// This body piece goes to the client (through the transcoder, if any).
        case forwardBody
        /// This body piece is kept for translation.
        case keepBody
        /// The stream is over (with the failure, if it failed): end it for the client. Too late to fail over.
        case finishStream(Failure?)
        /// The collected 2xx answer is complete: translate it for the client.
        case translateAnswer
        /// The collected non-2xx answer is complete: translate the upstream's error for the client.
        case translateUpstreamError
        /// No candidate is left: pass the held-back failure (`errorBody`) on, translated if the attempt was.
        case relayUpstreamError(reason: String)
        case respond(ErrorReply)
        case coolDown(Cooldown)
        /// 401/403 (or a refused token): marked auth failed until it is changed.
        case markAuthFailed(credential: String, why: String)
        /// A transient error, no cooldown: only said in the journal.
        case retryElsewhere(credential: String, reason: String)
        /// The credential's token was refused (401): drop it, so that sending again fetches a new one.
        case refreshToken(credential: String)
        /// A held stream is not a usage limit: carry out its start, then forward `held` (this piece included).
        indirect case releaseHeld(Action)
    }

    /// What follows a `carriedOut`.
    private enum After {
        /// A failover status was held back: the next candidate, the all-cooling 429, or the upstream's error.
        case failedOver(now: Int64)
        /// The next candidate, else `ifLast` (nil: "no upstream could answer").
        case next(ifLast: ErrorReply?)
        /// The same candidate again (with a new token).
        case retrySame
    }

    static let maxErrorBody = 65536

    let candidates: [String]
    let app: String
    let model: String?
    let stream: Bool
    let cooldownCapMillis: Int64
    let maxAnswerBytes: Int

    /// Candidates whose 400 is held back and read like a failover status (a Claude subscription's plan refusing
    /// the app); everyone else's 400 goes to the client as it is.
    var heldBack400: Set<String> = []
    /// Candidates whose token may have gone stale upstream (subscription logins): their first 401 asks for a new
    /// token and the same candidate again; a second one marks them as any 401 does.
    var refreshOn401: Set<String> = []
    private var refreshed401: Set<String> = []
    /// Candidates whose 2xx event streams are held until their first event past the preamble (ChatGPT accounts):
    /// a `usage_limit_reached` there fails over like a 429, before the client has a byte.
    var holdStreamStart: Set<String> = []
    /// Candidates that only stream (ChatGPT accounts): a request the client did not stream goes up streamed, and
    /// the 2xx answer is collected whole (then turned into one JSON answer), its start kept to tell a usage limit.
    var collectStream: Set<String> = []
    /// The held stream's bytes so far, and the action that starts it for the client.
    private(set) var held: [UInt8] = []
    private var heldStart: Action?
    /// The held stream ended before it was released: finish it once it is.
    private var endAfterRelease: Failure??

    private(set) var mode = Mode.idle
    /// The current candidate; -1 before the first attempt.
    private(set) var index = -1
    private(set) var attempts = 0
    /// The current attempt's answer: status, headers, and the first 64 KiB of a held-back failure's body.
    private(set) var status = 0
    private(set) var upstreamHeaders: [(String, String)] = []
    private(set) var upstreamLowerNames: [String] = []
    private(set) var errorBody: [UInt8] = []
    private(set) var isEventStream = false
    /// What went wrong last, for the client's message and the journal.
    private(set) var lastFailure: String?
    private var buffered = 0
    private(set) var answerTooLarge = false
    private var after: After?

    init(candidates: [String], app: String, model: String?, stream: Bool, cooldownCapMillis: Int64, maxAnswerBytes: Int) {
        self.candidates = candidates; self.app = app; self.model = model; self.stream = stream
        self.cooldownCapMillis = cooldownCapMillis; self.maxAnswerBytes = maxAnswerBytes
    }

    var credential: String { candidates[index] }

    mutating func handle<E: ExchangeEnvironment>(_ event: Event, _ env: E) -> Action {
        switch event {
        case .body(let bytes):
            return body(bytes)
        case .start:
            guard mode == .idle else { return .none }
            return attempt()
        case .candidateGone:
            guard mode == .waiting else { return .none }
            return attempt()
        case .preparation(let p):
            guard mode == .waiting else { return .none }
            switch p {
            case .pending: return .none
            case .ready: return sendCurrent()
            case .failed(let reason, let mark, let ifLast):
                lastFailure = reason
                guard mark else { return next(ifLast: ifLast) }
                after = .next(ifLast: ifLast)
                return .markAuthFailed(credential: credential, why: reason)
            }
        case .mediaReady:
            guard mode == .waiting else { return .none }
            return sendCurrent()
        case .mediaFailed(let message):
            guard mode == .waiting else { return .none }
            lastFailure = "\(credential): \(message)"
            return next(ifLast: ErrorReply(.invalidRequest, status: 400, "an image or document in the request cannot be used: \(message)"))
        case .head(let status, let headers, let lowerNames, let translating):
            guard mode == .waiting else { return .none }
            return head(status: status, headers: headers, lowerNames: lowerNames, translating: translating)
        case .end(let failure):
            return end(failure, env)
        case .carriedOut:
            if let e = endAfterRelease, mode == .streaming {
                endAfterRelease = nil
                return .finishStream(e)
            }
            guard let a = after, mode != .done else { return .none }
            after = nil
            switch a {
            case .failedOver(let now): return failedOver(now: now, env)
            case .next(let ifLast): return next(ifLast: ifLast)
            case .retrySame:
                attempts += 1
                return sendCurrent()
            }
        case .finished:
            mode = .done
            after = nil
            return .none
        }
    }

    /// Try the next candidate, or answer with what we learned.
    private mutating func attempt() -> Action {
        index += 1
        guard index < candidates.count else { return giveUp() }
        attempts += 1
        return sendCurrent()
    }

    /// A fresh answer for the current candidate (again after its preparation).
    private mutating func sendCurrent() -> Action {
        mode = .waiting
        status = 0
        errorBody = []
        held = []
        heldStart = nil
        endAfterRelease = nil
        buffered = 0
        answerTooLarge = false
        return .send(candidate: index)
    }

    private mutating func next(ifLast: ErrorReply?) -> Action {
        if index + 1 < candidates.count { return attempt() }
        if let ifLast { return .respond(ifLast) }
        return giveUp()
    }

    private func giveUp() -> Action {
        .respond(ErrorReply(.upstream, status: 502, "no upstream could answer for app \(app): \(lastFailure ?? "no candidate")"))
    }

    private mutating func head(status: Int, headers: [(String, String)], lowerNames: [String], translating: Bool) -> Action {
        self.status = status
        upstreamHeaders = headers
        upstreamLowerNames = lowerNames
        if Self.isFailoverStatus(status) || (status == 400 && heldBack400.contains(credential)) {
            mode = .bufferingError   // decide when the body is in: it may say why (quota, overload, reset time)
            return .none
        }
        var length: Int?
        for i in headers.indices {
            if lowerNames[i] == "content-type" { isEventStream = headers[i].1.hasPrefix("text/event-stream") }
            // The upstream parser checked it; a negative one (Int("-5") parses) is never passed on as a length.
            if lowerNames[i] == "content-length" { length = Int(headers[i].1).flatMap { $0 >= 0 ? $0 : nil } }
        }
        if !stream, collectStream.contains(credential), (200..<300).contains(status) {
            mode = .bufferingBody
            return .bufferAnswer
        }
        let start: Action
        if translating {
            // A stream is re-encoded event by event; anything else (a whole answer, an error) is read whole first.
            guard (200..<300).contains(status), stream, isEventStream else { mode = .bufferingBody; return .bufferAnswer }
            start = .startTranscodedStream
        } else {
            // An event stream's head goes out at once (clients show progress); a plain body's head waits for the
            // first bytes, so both leave in one send. A known length is kept: no re-chunking.
            start = .startStream(contentLength: isEventStream ? nil : length, flushHead: isEventStream)
        }
        if (200..<300).contains(status), isEventStream, holdStreamStart.contains(credential) {
            mode = .holding
            heldStart = start
            return .none
        }
        mode = .streaming
        return start
    }

    /// Whether the held bytes are only a stream's preamble (`response.created`, `response.in_progress`), events
    /// that say nothing yet, or not one whole event.
    static func preambleOnly(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self).split(separator: "\r", omittingEmptySubsequences: false).joined()
        let events = text.pieces(separatedBy: "\n\n").dropLast()   // the last one may be incomplete
        return events.allSatisfy { $0.includes("response.created") || $0.includes("response.in_progress") || $0.allSatisfy(\.isWhitespace) }
    }

    static func isUsageLimit(_ bytes: [UInt8]) -> Bool { String(decoding: bytes, as: UTF8.self).includes("usage_limit_reached") }

    private mutating func body(_ bytes: UnsafeRawBufferPointer) -> Action {
        switch mode {
        case .streaming:
            return .forwardBody
        case .bufferingBody:
            // Too big to translate whole: the rest is dropped and the end reports it.
            if buffered + bytes.count > maxAnswerBytes { answerTooLarge = true; return .none }
            buffered += bytes.count
            if collectStream.contains(credential), errorBody.count < Self.maxErrorBody {
                errorBody.append(contentsOf: bytes.prefix(Self.maxErrorBody - errorBody.count))
            }
            return .keepBody
        case .bufferingError:
            if errorBody.count < Self.maxErrorBody { errorBody.append(contentsOf: bytes.prefix(Self.maxErrorBody - errorBody.count)) }
            return .none
        case .holding:
            held.append(contentsOf: bytes)
            // A usage limit waits for the stream's end (then fails over); a first real event, or more than the
            // error body's cap, lets the stream go.
            if Self.isUsageLimit(held) && held.count < Self.maxErrorBody { return .none }
            if Self.preambleOnly(held) && held.count < Self.maxErrorBody { return .none }
            mode = .streaming
            return .releaseHeld(heldStart ?? .none)
        default:
            return .none
        }
    }

    private mutating func end<E: ExchangeEnvironment>(_ failure: Failure?, _ env: E) -> Action {
        switch mode {
        case .streaming:
            return .finishStream(failure)
        case .holding:
            guard Self.isUsageLimit(held) else {
                // A short stream that never got past its preamble: it goes to the client as it is, then ends.
                mode = .streaming
                endAfterRelease = .some(failure)
                return .releaseHeld(heldStart ?? .none)
            }
            // A usage limit inside a 200 stream: what a 429 with that body would be, before the client saw a byte.
            status = 429
            errorBody = Array(held.prefix(Self.maxErrorBody))
            mode = .bufferingError
            return end(nil, env)
        case .bufferingBody:
            if let failure {
                return .respond(ErrorReply(.upstream, status: 502, "upstream \(credential) failed before its answer was complete: \(failure.message)"))
            }
            if answerTooLarge {
                return .respond(ErrorReply(.upstream, status: 502, "upstream \(credential) answered with more than \(maxAnswerBytes) bytes, too much to translate"))
            }
            if collectStream.contains(credential), (200..<300).contains(status), Self.isUsageLimit(errorBody),
               !String(decoding: errorBody, as: UTF8.self).includes("response.completed") {
                // A usage limit inside the collected stream: what a 429 with that body would be (the client saw nothing).
                status = 429
                mode = .bufferingError
                return end(nil, env)
            }
            guard (200..<300).contains(status) else { return .translateUpstreamError }
            if stream { return .respond(ErrorReply(.upstream, status: 502, "upstream \(credential) answered a streamed request without an event stream")) }
            return .translateAnswer
        case .bufferingError:
            if status == 401, refreshOn401.contains(credential), refreshed401.insert(credential).inserted {
                lastFailure = "\(credential): upstream answered 401"
                after = .retrySame
                return .refreshToken(credential: credential)
            }
            let now = env.nowMillis
            let verdict = Cooldowns.verdict(status: status, headers: upstreamHeaders, body: errorBody, nowMillis: now,
                                            consecutiveFailures: env.failureCount(credential), capMillis: cooldownCapMillis)
            lastFailure = "\(credential): \(verdict?.reason ?? "upstream answered \(status)")"
            guard let action = record(verdict) else { return failedOver(now: now, env) }
            after = .failedOver(now: now)
            return action
        case .waiting:
            // No response at all: connection refused, timeout, reset before the head.
            let msg = failure?.message ?? "no response"
            lastFailure = "\(credential): \(msg)"
            if failure?.localResources == true {
                // Our own shortage (out of descriptors): the credential is not to blame, and the next one would
                // fail the same way. No cooldown; the client may come back in a moment.
                return .respond(ErrorReply(.unavailable, status: 503, "proxypoold cannot open a connection upstream right now (\(msg)); try again shortly",
                                           headers: [("Retry-After", "1")]))
            }
            let verdict = Cooldowns.connectFailure(nowMillis: env.nowMillis, consecutiveFailures: env.failureCount(credential),
                                                   capMillis: cooldownCapMillis, message: msg)
            after = .next(ifLast: nil)
            return record(verdict) ?? .none
        case .idle, .done:
            return .none
        }
    }

    /// The action that writes a verdict down.
    private func record(_ verdict: FailureVerdict?) -> Action? {
        guard let v = verdict else { return nil }
        switch v.action {
        case .coolDown(let until, let perModel):
            return .coolDown(Cooldown(credential: credential, model: perModel ? model : nil, untilMillis: until, reason: v.reason))
        case .authFailed:
            if v.reason == Cooldowns.planRefusesThirdParty { return .markAuthFailed(credential: credential, why: v.reason) }
            return .markAuthFailed(credential: credential, why: "was refused by its upstream (\(status))")
        case .retryElsewhere:
            return .retryElsewhere(credential: credential, reason: v.reason)
        }
    }

    /// After a held-back failure (and its cooldown): the next candidate; out of candidates, when they are all
    /// cooling, say when to come back; else pass the upstream's error on.
    private mutating func failedOver<E: ExchangeEnvironment>(now: Int64, _ env: E) -> Action {
        if index + 1 < candidates.count { return attempt() }
        if status == 429 || status == 529 || status == 503, let e = Self.earliestRecovery(candidates, model: model, now: now, env) {
            let secs = max(1, (e - now + 999) / 1000)
            let blocks = candidates.map { Self.describeBlock($0, model: model, now: now, env) }.joined(separator: "; ")
            return .respond(ErrorReply(.rateLimited, status: 429, "no credential for app \(app) is available: \(blocks)",
                                       headers: [("Retry-After", String(secs))]))
        }
        return .relayUpstreamError(reason: lastFailure ?? "upstream answered \(status)")
    }

    /// When the first of `names` is usable again, if every one is cooling down; nil when one is usable (or only
    /// auth-failed): not a rate limit.
    static func earliestRecovery<E: ExchangeEnvironment>(_ names: [String], model: String?, now: Int64, _ env: E) -> Int64? {
        let times = names.compactMap { env.blockedUntil($0, model: model, now: now)?.until }.filter { $0 != Int64.max }
        guard times.count == names.count else { return nil }
        return times.min()
    }

    static func describeBlock<E: ExchangeEnvironment>(_ name: String, model: String?, now: Int64, _ env: E) -> String {
        guard let (until, reason) = env.blockedUntil(name, model: model, now: now) else { return "\(name) available" }
        return until == Int64.max ? "\(name) \(reason)" : "\(name) \(reason) until \(Timestamp.clock(until))"
    }

    /// These answers are held back and read for why (quota, overload, reset time); the next candidate may answer.
    static func isFailoverStatus(_ status: Int) -> Bool {
        switch status {
        case 401, 403, 429, 500, 502, 503, 504, 529: return true
        default: return false
        }
    }
}
