// Fuzz target: the HTTP/1.1 response parser our upstream client uses (ProxyPoolHTTPWire is compiled into
// this target). Byte 0 seeds the chunk splits, byte 1 picks the request method; the rest is what an upstream
// sends. Beyond not crashing: a response read in pieces gives the same head, body and ending as one read, and
// both refuse it or neither does; body bytes never exceed what was sent. The same response again on a connection
// that keeps the previous head's lines (HeaderLineCache), and the first half of it after the whole, give what a
// parse afresh gives, refusals included.

struct Outcome: Equatable {
    var transcript: [String] = []
    var body: [UInt8] = []
    var failed = false
    var complete = false
    var completeAtClose = false
}

func drive(_ chunks: [ArraySlice<UInt8>], method: String, lineCache: HeaderLineCache? = nil) -> Outcome {
    var p = HTTPResponseParser(requestMethod: method, lineCache: lineCache)
    var o = Outcome()
    for c in chunks where !o.complete {
        let bytes = Array(c)
        let r: Result<Void, HTTPResponseParser.Failure> = bytes.withUnsafeBytes { buf in
            var offset = 0
            while true {
                do throws(HTTPResponseParser.Failure) {
                    switch try p.next(buf, &offset) {
                    case .head(let status, let headers, let lower):
                        check(headers.count == lower.count && lower.allSatisfy { $0 == $0.lowercased() }, "lower-cased names")
                        o.transcript.append("head \(status) \(headers.map { "\($0.0)=\($0.1)" }) keepAlive=\(p.keepAlive)")
                    case .body(let b):
                        check(!b.isEmpty, "an empty body piece")
                        o.body += b
                    case .end:
                        o.complete = true
                        o.transcript.append("end keepAlive=\(p.keepAlive)")
                        return .success(())
                    case .needMore:
                        check(offset == buf.count, "needMore with input left")
                        return .success(())
                    }
                } catch {
                    return .failure(error)
                }
                check(offset <= buf.count, "offset past the input")
            }
        }
        if case .failure = r { o.failed = true; return o }
    }
    o.completeAtClose = o.complete || p.closed()
    return o
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard bytes.count >= 2 else { return 0 }
    let method = bytes[1] & 1 == 0 ? "POST" : "HEAD"
    let wire = bytes[2...]
    var split = Splitter(seed: bytes[0])
    let whole = drive([wire], method: method)
    let pieces = drive(split.chunks(wire, maxPiece: 9), method: method)
    check(whole.body.count <= wire.count, "more body than bytes")
    let kept = HeaderLineCache()
    check(drive([wire], method: method, lineCache: kept) == whole, "a parse that keeps lines differs from one afresh")
    check(drive(split.chunks(wire, maxPiece: 9), method: method, lineCache: kept) == pieces, "kept lines changed a parse in pieces")
    let half = wire.prefix(wire.count / 2 + 1)
    check(drive([half], method: method, lineCache: kept) == drive([half], method: method), "kept lines changed the parse of another head")
    if whole.failed || pieces.failed {
        check(whole.failed == pieces.failed, "one read refused, pieces did not (or the reverse): \(whole) vs \(pieces)")
    } else {
        check(whole == pieces, "pieces gave another response than one read: \(whole) vs \(pieces)")
    }
    return 0
}
