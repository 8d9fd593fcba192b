// Fuzz target: the HTTP/1.1 request parser (the sources of ProxyPoolHTTPWire are compiled into this target). Byte 0
// seeds the chunk splits (bit 0 set: small limits; bit 1 set: pieces against one read, else kept lines against
// none); the rest is what a client sends on one connection (pipelined requests included).
// Beyond not crashing: a connection read in pieces gives the same requests as one read in one piece, and
// both refuse it or neither does; a parser that keeps the previous head's lines (HeaderLineCache) gives what
// one that parses every line afresh gives, refusals included.

/// What the parser made of one request (compared as values: describing them as strings on every run cost more
/// than the parsing).
struct Request: Equatable {
    var method = "", target = "", minorVersion = 0, keepAlive = false
    var names: [String] = [], values: [String] = []
    var body: [UInt8]?
}

struct Outcome: Equatable {
    var requests: [Request] = []
    var error: HTTPParseError?
    var failed: Bool { error != nil }
    var leftover = 0
}

/// The connection's bytes `wire`, in one read (maxPiece nil) or in reads of 1…maxPiece bytes.
func drive(_ wire: ArraySlice<UInt8>, maxPiece: Int?, _ split: inout Splitter, _ limits: HTTPLimits, cachingLines: Bool = true) -> Outcome {
    var p = HTTPRequestParser(limits: limits, cachingLines: cachingLines)
    var o = Outcome()
    func record(_ events: [HTTPRequestParser.Event]) -> Bool {
        var complete = false
        for e in events {
            switch e {
            case .head(let h):
                o.requests.append(Request(method: h.method, target: h.target, minorVersion: h.minorVersion, keepAlive: h.keepAlive,
                                          names: h.headers.map(\.name), values: h.headers.map(\.value)))
            case .complete(let body):
                check(!o.requests.isEmpty && o.requests[o.requests.count - 1].body == nil, "a body without its head")
                o.requests[o.requests.count - 1].body = body
                complete = true
            }
        }
        return complete
    }
    func read(_ c: ArraySlice<UInt8>) throws(HTTPParseError) {
        var more = record(try p.feed(c))
        while more {   // as the server does: next request on the connection, from the pipelined bytes
            p.reset()
            more = record(try p.feed([UInt8]()))
        }
    }
    do throws(HTTPParseError) {
        if let maxPiece {
            var failure: HTTPParseError?
            split.forEachPiece(of: wire, maxPiece: maxPiece) { c in
                guard failure == nil else { return }
                do throws(HTTPParseError) { try read(c) } catch { failure = error }
            }
            if let failure { throw failure }
        } else {
            try read(wire)
        }
    } catch {
        o.error = error
        return o
    }
    o.leftover = p.leftover.count
    return o
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard let seed = bytes.first else { return 0 }
    let wire = bytes[1...]
    var limits = HTTPLimits()
    limits.maxHeaderBytes = 256
    limits.maxHeaderCount = 8
    limits.maxBodyBytes = 1024
    var split = Splitter(seed: seed)
    // The seed's low bit picks the limits: both on every input cost twice the time for what the fuzzer
    // reaches as well by flipping one bit.
    let small = seed & 1 == 1
    let l = small ? limits : HTTPLimits()
    let whole = drive(wire, maxPiece: nil, &split, l)
    // Bit 1 picks the second parse: the same bytes in pieces, or in one read by a parser that keeps no lines.
    // Both on every input made three parses per input (7.7k exec/s against 15k before the kept lines came);
    // the fuzzer reaches both comparisons by flipping one bit, as with the limits. seeds.py writes the captures
    // with all four combinations of the two bits.
    if seed & 2 == 0 {
        let afresh = drive(wire, maxPiece: nil, &split, l, cachingLines: false)
        check(whole == afresh, "the kept lines changed what was parsed: \(whole) vs \(afresh)")
    } else {
        let pieces = drive(wire, maxPiece: 9, &split, l)
        if whole.failed || pieces.failed {
            check(whole.failed == pieces.failed, "one read refused, pieces did not (or the reverse), small limits \(small): \(whole) vs \(pieces)")
        } else {
            check(whole == pieces, "pieces gave other requests than one read: \(whole) vs \(pieces)")
        }
    }
    return 0
}
