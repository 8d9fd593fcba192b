// Fuzz target: the SSE parser. Byte 0 seeds the chunk splits; the rest is the stream. Beyond not crashing:
// any split gives the same events as one read, with or without a size limit, and every event survives
// SSEWriter → SSEParser unchanged.
import ProxyPoolTranslation

func parseAll(_ chunks: [ArraySlice<UInt8>], max: Int) -> [SSEEvent]? {
    var p = SSEParser(maxEventBytes: max)
    var out: [SSEEvent] = []
    for c in chunks {
        do { out += try p.feed(c) } catch { return nil }
    }
    if let last = p.finish() { out.append(last) }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard let seed = bytes.first else { return 0 }
    let stream = bytes[1...]
    var split = Splitter(seed: seed)
    let whole = parseAll([stream], max: 16 << 20)
    let pieces = parseAll(split.chunks(stream, maxPiece: 16), max: 16 << 20)
    let bytewise = parseAll(split.chunks(stream, maxPiece: 1), max: 16 << 20)
    check(whole != nil && whole == pieces && whole == bytewise, "splitting changed the events")
    // A small limit: one read and many must agree on whether it is exceeded, and on the events when not.
    let small = parseAll([stream], max: 24)
    let smallPieces = parseAll(split.chunks(stream, maxPiece: 7), max: 24)
    check(small == smallPieces, "splitting changed the outcome under a size limit")

    for e in whole ?? [] {
        var out: [UInt8] = []
        SSEWriter.event(e.event, data: e.data, into: &out)
        check(parseAll([out[...]], max: 16 << 20) == [e], "SSEWriter → SSEParser changed \(e)")
    }
    return 0
}
