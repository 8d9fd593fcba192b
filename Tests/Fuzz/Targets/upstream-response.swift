// Fuzz target: the daemon's handling of an upstream's answer, from raw bytes on: HTTP1Client's parsing, then the
// decisions of ProxyPoolDaemon's ExchangeMachine (compiled into this target with the sources of ProxyPoolHTTPWire), carried
// out as Exchange carries them out. Byte 0 seeds the read splits (and picks how large reads are); byte 1 picks the
// upstream's protocol (bits 0-1), the client's (bits 2-3) and the credential's failures so far (bits 4-7; all
// set: a HEAD request); the rest is what the upstream sends, read in pieces as from a socket:
//   status line and headers → HTTPResponseParser (1xx skipped, framing, chunked decoding) → the machine's head
//   body pieces             → UsageScanner (token counts of an untranslated answer)
//   a 2xx event stream      → StreamTranscoder to the client's protocol, when it is another (with the
//                             reasoning collector for Anthropic and Gemini upstreams, as the daemon sets it)
//   a failover status       → the machine keeps the error body (first 64 KiB) → Cooldowns.verdict → its action
//                             (cooldown, mark, retry) → out of candidates: the all-cooling 429 or the error relayed
// Beyond not crashing: never more body than bytes sent; the usage scanner finds in pieces what it finds in one
// read; every client stream carries JSON events and ends; a verdict's cooldown lies within the cap; the machine
// holds back exactly the failover statuses and keeps the first 64 KiB of their bodies.
import ProxyPoolCore
import ProxyPoolTranslation

/// As the daemon's options default (cooldown-max 1800 s) and a fixed clock, so that a crash replays.
let cooldownCapMillis: Int64 = 1_800_000
let fixedNowMillis: Int64 = 1_764_000_000_000

/// The cooldown table as the machine reads it: the credential's failures so far, and what the machine asked
/// to write (so that its all-cooling 429 is reached), keyed like the daemon's table.
final class Table: ExchangeEnvironment {
    let nowMillis = fixedNowMillis
    let failures: Int
    var cooling: [String: Int64] = [:]
    var authFailed: Set<String> = []

    init(failures: Int) { self.failures = failures }

    func failureCount(_ credential: String) -> Int { failures }

    func blockedUntil(_ c: String, model: String?, now: Int64) -> (until: Int64, reason: String)? {
        if authFailed.contains(c) { return (Int64.max, "auth failed") }
        let times = [cooling[c], model.flatMap { cooling[c + "\u{0}" + $0] }].compactMap { $0 }.filter { $0 > now }
        return times.max().map { ($0, "cooling") }
    }
}

/// What one answer did to the exchange, as far as the daemon acts on it.
final class Answer {
    let upstream: WireProtocol
    let client: WireProtocol
    let table: Table
    /// One candidate: a failure is the last one's, so the machine answers the client.
    var machine = ExchangeMachine(candidates: ["a"], app: "fuzz", model: "m", stream: true,
                                  cooldownCapMillis: cooldownCapMillis, maxAnswerBytes: 1 << 20)
    var status = 0
    var transcoder: StreamTranscoder?
    var out: [UInt8] = []
    var usage = UsageScanner()
    var body: [UInt8] = []
    var complete = false
    var failure: String?

    init(upstream: WireProtocol, client: WireProtocol, failures: Int) {
        self.upstream = upstream; self.client = client
        table = Table(failures: failures)
        let first = machine.handle(.start, table)
        check(first == .send(candidate: 0), "the first action is \(first)")
    }

    /// Exchange.upstreamHead: a failover status is held back; a 2xx event stream in another protocol than the
    /// client's is translated as it comes.
    func head(status: Int, headers: [(String, String)], lowerNames: [String]) {
        check(headers.count == lowerNames.count, "a lower-cased name per header")
        self.status = status
        let action = machine.handle(.head(status: status, headers: headers, lowerNames: lowerNames, translating: client != upstream), table)
        check((action == .none) == ExchangeMachine.isFailoverStatus(status), "\(action) for status \(status)")
        guard action == .startTranscodedStream else { return }
        check(client != upstream && (200..<300).contains(status) && machine.isEventStream, "a transcoded stream for \(status)")
        let t = StreamTranscoder(from: upstream, to: client, request: sampleRequest, context: context(for: client))
        if upstream.family != .openai { t.collector = StreamReasoningCollector() }
        transcoder = t
    }

    /// Exchange.upstreamBody: counted (untranslated), translated, or kept as the error body.
    func body(_ bytes: UnsafeRawBufferPointer) {
        check(!bytes.isEmpty, "an empty body piece")
        usage.feed(bytes)
        body.append(contentsOf: bytes)
        if machine.handle(.body(bytes), table) == .forwardBody { transcoder?.feed(bytes, into: &out) }
    }

    /// Exchange.upstreamComplete, and the side effects carried out until the machine answers the client.
    func end() {
        var action = machine.handle(.end(failure.map { ExchangeMachine.Failure(localResources: false, message: $0) }), table)
        if case .finishStream = action, let t = transcoder {
            if let failure { t.fail("upstream failed mid-response: \(failure)", into: &out) } else { t.finish(into: &out) }
            check(t.isEnded, "the \(client) stream (from \(upstream)) did not end")
            checkClientStream(out, client, from: upstream)
        }
        guard ExchangeMachine.isFailoverStatus(status) else { return }
        check(machine.errorBody.elementsEqual(body.prefix(ExchangeMachine.maxErrorBody)), "the error body is the body's first 64 KiB")
        switch (status, action) {
        case (401, .markAuthFailed), (403, .markAuthFailed):
            table.authFailed.insert("a")
        case (500, .retryElsewhere), (502, .retryElsewhere), (504, .retryElsewhere):
            break
        case (429, .coolDown(let c)), (503, .coolDown(let c)), (529, .coolDown(let c)):
            check(c.untilMillis >= fixedNowMillis + min(100, cooldownCapMillis) && c.untilMillis <= fixedNowMillis + cooldownCapMillis,
                  "cooldown until \(c.untilMillis) for \(status): outside now + [100 ms, cap]")
            table.cooling[c.model.map { c.credential + "\u{0}" + $0 } ?? c.credential] = c.untilMillis
        default:
            check(false, "action \(action) for status \(status)")
        }
        action = machine.handle(.carriedOut, table)
        switch action {
        case .respond(let r):
            // Out of candidates, all cooling: come back when the first one is usable.
            let secs = r.headers.first { $0.0 == "Retry-After" }.flatMap { Int64($0.1) }
            check([429, 503, 529].contains(status) && r.status == 429 && (secs ?? 0) >= 1 && (secs ?? 0) <= cooldownCapMillis / 1000 + 1,
                  "\(r) for status \(status)")
        case .relayUpstreamError:
            check(![429, 503, 529].contains(status), "a cooling credential's \(status) relayed, not the all-cooling 429")
        default:
            check(false, "after the verdict for \(status): \(action)")
        }
    }
}

/// The upstream's bytes `wire` read in pieces of 1…maxPiece bytes, as HTTP1Client.process hands them on; then
/// the close.
func exchange(_ wire: ArraySlice<UInt8>, maxPiece: Int, _ split: inout Splitter, upstream: WireProtocol, client: WireProtocol,
              method: String, consecutiveFailures: Int) -> Answer {
    var parser = HTTPResponseParser(requestMethod: method)
    let answer = Answer(upstream: upstream, client: client, failures: consecutiveFailures)
    var headSeen = false
    split.forEachPiece(of: wire, maxPiece: maxPiece) { piece in
        guard !answer.complete && answer.failure == nil else { return }
        let bytes = Array(piece)   // a read buffer of its own: ASan sees any access past the read
        let outcome: Result<Bool, HTTPResponseParser.Failure> = bytes.withUnsafeBytes { buf in
            var offset = 0
            while true {
                do throws(HTTPResponseParser.Failure) {
                    switch try parser.next(buf, &offset) {
                    case .head(let status, let headers, let lower):
                        check(!headSeen, "a second final head")
                        headSeen = true
                        answer.head(status: status, headers: headers, lowerNames: lower)
                    case .body(let b):
                        answer.body(b)
                    case .end:
                        return .success(true)
                    case .needMore:
                        check(offset == buf.count, "needMore with input left")
                        return .success(false)
                    }
                } catch {
                    return .failure(error)
                }
                check(offset <= buf.count, "offset past the input")
            }
        }
        switch outcome {
        case .success(let complete): answer.complete = complete
        case .failure(let e): answer.failure = e.message
        }
    }
    if !answer.complete && answer.failure == nil {
        if parser.closed() { answer.complete = true } else { answer.failure = "the upstream's response was cut off (connection closed)" }
    }
    // Before a head the daemon has no answer to act on (it fails over on the connection error).
    if headSeen { answer.end() }
    return answer
}

/// The longest run of the bytes UsageScanner skips between a key and its number (spaces and colons).
func longestSeparatorRun(_ b: [UInt8]) -> Int {
    var longest = 0, run = 0
    for c in b {
        if c == 0x20 || c == 0x3A { run += 1; longest = max(longest, run) } else { run = 0 }
    }
    return longest
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard bytes.count >= 2 else { return 0 }
    let upstream = allWires[Int(bytes[1] & 3)]
    let client = allWires[Int(bytes[1] >> 2 & 3)]
    let method = bytes[1] >> 4 == 15 ? "HEAD" : "POST"
    let failures = Int(bytes[1] >> 4) * 2
    let wire = bytes[2...]
    var split = Splitter(seed: bytes[0])
    let maxPiece = [1, 7, 64, 1024, 16384][Int(bytes[0]) % 5]
    let answer = exchange(wire, maxPiece: maxPiece, &split, upstream: upstream, client: client, method: method, consecutiveFailures: failures)
    check(answer.body.count <= wire.count, "more body than bytes")

    // The scanner keeps a 48-byte tail between reads so that a usage key cut by a read boundary is still found:
    // reads never find more than one read, and the same when key, separator and number fit in the tail (no
    // run of more than 4 spaces or colons between them; a longer one is lost at a boundary, which the
    // scanner accepts: no upstream pads its usage numbers).
    var whole = UsageScanner()
    whole.feed(answer.body)
    let (u, w) = (answer.usage, whole)
    let what = "usage in pieces \((u.input, u.output, u.cached)) vs one read \((w.input, w.output, w.cached))"
    check(u.input <= w.input && u.output <= w.output && u.cached <= w.cached, what)
    if longestSeparatorRun(answer.body) <= 4 { check(u.input == w.input && u.output == w.output && u.cached == w.cached, what) }
    return 0
}
