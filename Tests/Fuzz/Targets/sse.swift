// Fuzz target: the SSE parser. Byte 0 seeds the chunk splits (odd: byte by byte); the rest is the stream.
// Beyond not crashing: any split gives the same events as one read, with or without a size limit, and every
// event survives SSEWriter → SSEParser unchanged.
import ProxyPoolTranslation

/// The events of `stream` read in one piece (maxPiece nil) or in pieces of 1…maxPiece bytes; nil if refused.
func parseAll(_ stream: ArraySlice<UInt8>, maxPiece: Int?, _ split: inout Splitter, max: Int) -> [SSEEvent]? {
    var p = SSEParser(maxEventBytes: max)
    var out: [SSEEvent] = []
    do {
        if let maxPiece {
            try split.forEachPiece(of: stream, maxPiece: maxPiece) { out += try p.feed($0) }
        } else {
            out = try p.feed(stream)
        }
    } catch { return nil }
    if let last = p.finish() { out.append(last) }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard let seed = bytes.first else { return 0 }
    let stream = bytes[1...]
    var split = Splitter(seed: seed)
    let whole = parseAll(stream, maxPiece: nil, &split, max: 16 << 20)
    // One split per input, picked by it (both kinds on every input cost twice the time for the same coverage).
    let pieces = parseAll(stream, maxPiece: seed & 1 == 1 ? 1 : 16, &split, max: 16 << 20)
    check(whole != nil && whole == pieces, "splitting changed the events")
    // A small limit: one read and many must agree on whether it is exceeded, and on the events when not.
    let small = parseAll(stream, maxPiece: nil, &split, max: 24)
    let smallPieces = parseAll(stream, maxPiece: 7, &split, max: 24)
    check(small == smallPieces, "splitting changed the outcome under a size limit")

    for e in whole ?? [] {
        var out: [UInt8] = []
        SSEWriter.event(e.event, data: e.data, into: &out)
        check(parseAll(out[...], maxPiece: nil, &split, max: 16 << 20) == [e], "SSEWriter → SSEParser changed \(e)")
    }
    return 0
}
