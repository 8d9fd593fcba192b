// Fuzz target: the HTTP/1.1 request parser (HTTPRequestParser.swift is compiled into this target). Byte 0
// seeds the chunk splits; the rest is what a client sends on one connection (pipelined requests included).
// Beyond not crashing: a connection read in pieces gives the same requests as one read in one piece, and
// both refuse it or neither does.

struct Outcome: Equatable {
    var transcript: [String] = []
    var error: HTTPParseError?
    var failed: Bool { error != nil }
    var leftover = 0
}

func drive(_ chunks: [ArraySlice<UInt8>], _ limits: HTTPLimits) -> Outcome {
    var p = HTTPRequestParser(limits: limits)
    var o = Outcome()
    func record(_ events: [HTTPRequestParser.Event]) -> Bool {
        var complete = false
        for e in events {
            switch e {
            case .head(let h):
                o.transcript.append("head \(h.method) \(h.target) 1.\(h.minorVersion) \(h.headers.map { "\($0.name)=\($0.value)" }) keepAlive=\(h.keepAlive)")
            case .complete(let body):
                o.transcript.append("body \(body.count) \(body.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 })")
                complete = true
            }
        }
        return complete
    }
    do {
        for c in chunks {
            var more = record(try p.feed(c))
            while more {   // as the server does: next request on the connection, from the pipelined bytes
                p.reset()
                more = record(try p.feed([UInt8]()))
            }
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
    for (n, l) in [HTTPLimits(), limits].enumerated() {
        let whole = drive([wire], l)
        let pieces = drive(split.chunks(wire, maxPiece: 9), l)
        if whole.failed || pieces.failed {
            check(whole.failed == pieces.failed, "one read refused, pieces did not (or the reverse), limits \(n): \(whole) vs \(pieces)")
        } else {
            check(whole == pieces, "pieces gave other requests than one read: \(whole) vs \(pieces)")
        }
    }
    return 0
}
