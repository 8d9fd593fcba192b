// Shared by the translation fuzz targets: drive the codecs the way the daemon does (ProxyPoolDaemon's
// Exchange / Translator / StreamTranscoder), then check what can be checked cheaply.
import ProxyPoolTranslation
import ProxyPoolCore

let allWires = WireProtocol.allCases

/// The request stream encoders and response encoders see: a tool, so tool-call paths have something to map to.
let sampleRequest = ChatRequest(
    model: "fuzz-model", system: ["be brief"],
    messages: [Message(role: .user, content: [.text("hi")])],
    tools: [ToolDefinition(name: "get_weather", description: "weather",
                           parameters: .make(("type", "object"), ("properties", .make(("city", .make(("type", "string")))))))],
    stream: true, streamUsage: true)

func context(for wire: WireProtocol) -> ClientContext {
    wire == .gemini ? ClientContext(pathModel: "gemini-fuzz", streamFromPath: false, geminiSSE: true) : ClientContext()
}

/// Bytes every encoder writes must be JSON we can read back.
func checkJSON(_ bytes: [UInt8], _ what: @autoclosure () -> String) {
    do { _ = try JSONParser.parse(bytes) } catch { check(false, "\(what()) wrote invalid JSON: \(error)") }
}

/// A client request body in `wire`'s protocol → canonical → every protocol's upstream request.
func fuzzRequest(_ wire: WireProtocol, _ data: UnsafePointer<UInt8>?, _ size: Int) {
    let body = input(data, size)
    guard let req = try? Translator.decodeRequest(body, from: wire, context: context(for: wire)) else { return }
    for target in allWires {
        if let out = try? Translator.encodeRequest(req, to: target) { checkJSON(out, "encodeRequest(\(target))") }
    }
    _ = TokenEstimate.inputTokens(req)
}

/// Byte 0 picks the upstream protocol (and an error status); the rest is its whole (non-streamed) answer,
/// translated for every client protocol, and also read as an error body.
func fuzzResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) {
    let bytes = input(data, size)
    guard let sel = bytes.first else { return }
    let upstream = allWires[Int(sel) % allWires.count]
    let body = Array(bytes.dropFirst())
    let status = [400, 401, 403, 404, 413, 429, 500, 503, 529][Int(sel >> 2) % 9]
    for client in allWires {
        if let (out, _) = try? Translator.translateResponse(body, from: upstream, to: client, request: sampleRequest) {
            checkJSON(out, "encodeResponse(\(client))")
        }
        let (_, err) = Translator.translateError(status: status, body: body, from: upstream, to: client)
        checkJSON(err, "encodeError(\(client))")
    }
}

/// Byte 0 picks the upstream protocol (bits 0-1) and the client's (bits 2-3), byte 1 seeds the chunk splits;
/// the rest is the upstream's SSE stream. It goes through the daemon's StreamTranscoder to the client protocol
/// in arbitrary chunks; every event the client gets must carry JSON (or OpenAI's `[DONE]`), and the canonical
/// events (after CanonicalOrder, as the transcoder passes them on) must follow the grammar the encoders rely on.
/// One client per input: all four on every input cost four decodes and encodes for what the fuzzer reaches
/// as well by choosing the client byte (the target ran at under 100 inputs a second).
func fuzzStream(_ data: UnsafePointer<UInt8>?, _ size: Int) {
    let bytes = input(data, size)
    guard bytes.count >= 2 else { return }
    let upstream = allWires[Int(bytes[0]) % allWires.count]
    let client = allWires[Int(bytes[0] >> 2) % allWires.count]
    let stream = bytes[2...]
    var split = Splitter(seed: bytes[1])
    let t = StreamTranscoder(from: upstream, to: client, request: sampleRequest, context: context(for: client))
    var out: [UInt8] = []
    split.forEachPiece(of: stream, maxPiece: 64) { t.feed($0, into: &out) }
    t.finish(into: &out)
    check(t.isEnded, "the \(client) stream (from \(upstream)) did not end")
    checkClientStream(out, client, from: upstream)
    // The canonical sequence straight from the decoder.
    var p = SSEParser()
    guard var sse = try? p.feed(stream) else { return }
    if let last = p.finish() { sse.append(last) }
    let decoder = Codecs.codec(upstream).makeStreamDecoder()
    var canonical: [StreamEvent] = []
    for e in sse {
        do { canonical += try decoder.decode(e) } catch { break }
    }
    canonical += decoder.finish()
    // What the daemon passes on: the decoder's events held to the canonical order.
    var order = CanonicalOrder()
    checkGrammar(order.filter(canonical), upstream)
}

/// What a StreamTranscoder wrote for `client`: every event carries JSON (or OpenAI's `[DONE]`).
func checkClientStream(_ out: [UInt8], _ client: WireProtocol, from upstream: WireProtocol) {
    var p = SSEParser()
    var events = (try? p.feed(out)) ?? []
    if let last = p.finish() { events.append(last) }
    for e in events where e.data != "[DONE]" {
        checkJSON(Array(e.data.utf8), "the \(client) stream encoder (from \(upstream))")
    }
}

/// messageStart (blockStart blockDelta* blockStop)* messageDelta messageStop, an error possible anywhere;
/// block indexes count from 0 in blockStart order; deltas and stops only for open blocks.
/// Only the prefix up to the first messageStop / error is checked: the transcoder stops there.
func checkGrammar(_ events: [StreamEvent], _ wire: WireProtocol) {
    var started = false, deltaSeen = false
    var open = Set<Int>()
    var nextIndex = 0
    for (n, e) in events.enumerated() {
        // Only when a check fails: describing the events (reflection) costs more than the rest of the run.
        func at() -> String { "\(wire) event \(n) \(e) in \(events)" }
        switch e {
        case .error: return
        case .messageStart:
            check(!started, "second messageStart: \(at())")
            started = true
        case .blockStart(let i, _):
            check(started && !deltaSeen, "blockStart outside the message: \(at())")
            check(i == nextIndex, "blockStart index out of order: \(at())")
            open.insert(i); nextIndex += 1
        case .blockDelta(let i, _):
            check(open.contains(i), "delta for a block that is not open: \(at())")
        case .blockStop(let i):
            check(open.remove(i) != nil, "stop for a block that is not open: \(at())")
        case .messageDelta:
            check(started && !deltaSeen, "messageDelta out of place: \(at())")
            check(open.isEmpty, "messageDelta with open blocks: \(at())")
            deltaSeen = true
        case .messageStop:
            check(deltaSeen, "messageStop before messageDelta: \(at())")
            return
        }
    }
}
