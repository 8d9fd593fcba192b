// Fuzz target: the WebSocket frame parser (the sources of ProxyPoolHTTPWire are compiled into this target) and
// the Responses WebSocket messages (the daemon's ResponsesWebSocketProtocol.swift, on ProxyPoolCore and
// ProxyPoolTranslation). Byte 0 seeds the read splits; its low bit picks a small message cap (300 bytes, else
// 64 KiB); the rest is what a client sends after the handshake.
// Beyond not crashing: reads in pieces give the same events and the same close code as one read (the events
// before a violation are delivered, however the bytes were split); a refusal
// carries one of the codes RFC 6455 names for it; no message is over the cap, no control payload over 125 bytes,
// every text message is valid UTF-8; the parser holds at most one frame and one message; every text message
// read as a client message gives either a refusal or a body that is a JSON object with `stream: true` and no
// `type`, whose JSON writes and parses again.

import ProxyPoolTranslation

struct Outcome: Equatable {
    var events: [WebSocketEvent] = []
    var closeCode: UInt16?
}

func drive(_ wire: ArraySlice<UInt8>, cap: Int, maxPiece: Int?, _ split: inout Splitter) -> Outcome {
    var p = WebSocketFrameParser(maxMessageBytes: cap)
    var o = Outcome()
    func read(_ c: ArraySlice<UInt8>) {
        guard o.closeCode == nil else { return }
        do throws(WebSocketProtocolError) { o.events += try p.feed(c) } catch { o.closeCode = error.closeCode }
        if let f = p.failure { check(o.closeCode == nil || o.closeCode == f.closeCode, "two failures"); o.closeCode = f.closeCode }
        // At most one frame in the buffer (a header, a mask, a payload under the cap or 125 bytes) and one message.
        check(p.heldBytes <= 2 * Swift.max(cap, 125) + 14, "the parser holds \(p.heldBytes) bytes with a cap of \(cap)")
    }
    if let maxPiece { split.forEachPiece(of: wire, maxPiece: maxPiece) { read($0) } } else { read(wire) }
    return o
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard let seed = bytes.first else { return 0 }
    let wire = bytes[1...]
    let cap = seed & 1 == 1 ? 300 : 1 << 16
    var split = Splitter(seed: seed)
    let whole = drive(wire, cap: cap, maxPiece: nil, &split)
    let pieces = drive(wire, cap: cap, maxPiece: 11, &split)
    check(whole == pieces, "pieces gave other events than one read: \(whole) vs \(pieces)")
    if let c = whole.closeCode { check([1002, 1007, 1009].contains(c), "close code \(c)") }
    var history = ResponsesWebSocketHistory(maxBytes: cap, ttlMillis: 1000)
    for e in whole.events {
        switch e {
        case .text(let m):
            check(m.count <= cap, "a message of \(m.count) bytes over the cap \(cap)")
            check(UTF8Validator.isValid(m), "a text message that is not UTF-8")
            switch ResponsesWebSocketProtocol.read(m, history: &history, nowMillis: 0) {
            case .create(let body, let input, _, _):
                check(body.isObject && body["type"] == nil && body["stream"] == .bool(true), "a turn's body: \(body)")
                check(body["input"] == .array(input), "the body's input is the turn's input")
                let again = try? JSONParser.parse(JSONWriter.bytes(body))
                check(again == body, "the body does not write and parse again")
                history.remember(id: "resp_fuzz", input: input, output: [], bytes: m.count, nowMillis: 0)
            case .refuse(let status, _, _): check(status == 400, "refusal status \(status)")
            case .ignore: break
            }
        case .binary(let m): check(m.count <= cap, "a binary message over the cap")
        case .ping(let p), .pong(let p): check(p.count <= 125, "a control payload of \(p.count) bytes")
        case .close(let code, let reason):
            check(code.map(WebSocketCloseCode.isValidReceived) ?? true, "close code \(code ?? 0)")
            check(UTF8Validator.isValid(reason), "a close reason that is not UTF-8")
        }
    }
    return 0
}
