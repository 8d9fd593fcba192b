import Foundation
import Testing
@testable import ProxyPoolHTTPWire

/// What one connection's requests parsed to, as values (refusals included), read one after another.
private struct Parsed: Equatable {
    var heads: [[String]] = []
    var bodies: [[UInt8]] = []
    var error: HTTPParseError?
}

/// Feeds `messages` one by one to one parser, as the server does on a keep-alive connection.
private func requests(_ messages: [String], caching: Bool, limits: HTTPLimits = HTTPLimits()) -> Parsed {
    var p = HTTPRequestParser(limits: limits, cachingLines: caching)
    var out = Parsed()
    for m in messages {
        do {
            for e in try p.feed(Array(m.utf8)) {
                switch e {
                case .head(let h):
                    out.heads.append(["\(h.method) \(h.target) 1.\(h.minorVersion) keepAlive=\(h.keepAlive)"]
                                     + zip(h.headers, h.lowerNames).map { "\($0.name)|\($1)|\($0.value)" })
                case .complete(let b): out.bodies.append(b)
                }
            }
            p.reset()
        } catch {
            out.error = error
            return out
        }
    }
    return out
}

/// Parses `responses` one by one, each with a new parser as the upstream client does, sharing `cache`.
private func responses(_ messages: [String], cache: HeaderLineCache?) -> [String] {
    messages.map { m in
        var p = HTTPResponseParser(requestMethod: "POST", lineCache: cache)
        var out: [String] = []
        Array(m.utf8).withUnsafeBytes { buf in
            var off = 0
            loop: while true {
                do {
                    switch try p.next(buf, &off) {
                    case .head(let s, let h, let lower): out.append("\(s) " + zip(h, lower).map { "\($0.0)|\($1)|\($0.1)" }.joined(separator: ","))
                    case .body(let b): out.append("body \(b.count)")
                    case .end: out.append("end keepAlive=\(p.keepAlive)"); break loop
                    case .needMore: out.append("more"); break loop
                    }
                } catch {
                    out.append("refused: \(error)")
                    break loop
                }
            }
        }
        return out.joined(separator: ";")
    }
}

@Suite struct HeaderLineCacheTests {
    static let head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nContent-Type: application/json\r\nAuthorization: Bearer pp-local-key-0123456789\r\nx-stainless-retry-count: 0\r\nContent-Length: 2\r\n\r\n{}"

    @Test func aRepeatedHeadParsesAsTheFirstAndLinesThatChangedAreReadAgain() {
        let changed = Self.head.replacingOccurrences(of: "retry-count: 0", with: "retry-count: 1")
            .replacingOccurrences(of: "Content-Length: 2\r\n\r\n{}", with: "Content-Length: 3\r\n\r\n{ }")
        let msgs = [Self.head, Self.head, changed, Self.head]
        let kept = requests(msgs, caching: true), afresh = requests(msgs, caching: false)
        #expect(kept == afresh)
        #expect(kept.heads.count == 4 && kept.heads[0] == kept.heads[1] && kept.heads[1] == kept.heads[3])
        #expect(kept.heads[2].contains("x-stainless-retry-count|x-stainless-retry-count|1"))
        #expect(kept.bodies == [Array("{}".utf8), Array("{}".utf8), Array("{ }".utf8), Array("{}".utf8)])
    }

    @Test func whatDependsOnTheOtherLinesIsCheckedOnEveryHead() {
        // Each line was fine last time, at its position; together they are not.
        let base = "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
        for bad in ["GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",                               // two Hosts
                    "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", // two lengths
                    "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
                    "GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"] {                             // no Host
            let kept = requests([base, base, bad], caching: true)
            #expect(kept == requests([base, base, bad], caching: false))
            #expect(kept.error?.status == 400, "\(bad)")
        }
        var limits = HTTPLimits()
        limits.maxHeaderCount = 2
        let three = "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nY: 2\r\n\r\n", two = "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n"
        let kept = requests([two, two, three], caching: true, limits: limits)
        #expect(kept.error?.status == 431 && kept.heads.count == 2)
        #expect(kept == requests([two, two, three], caching: false, limits: limits))
    }

    @Test func aLineOnlyAlmostTheSameIsParsedAndCheckedAgain() {
        let good = "GET / HTTP/1.1\r\nHost: a\r\nX-Test: value\r\n\r\n"
        for bad in ["GET / HTTP/1.1\r\nHost: a\r\nX-Test : value\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nX-Test: val\u{1}e\r\n\r\n",
                    "GET / HTTP/1.1\r\nHost: a\r\n X-Test: value\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nX-Test value\r\n\r\n"] {
            let kept = requests([good, bad], caching: true)
            #expect(kept.error?.status == 400 && kept == requests([good, bad], caching: false), "\(bad)")
        }
    }

    @Test func longLinesAndManyLinesAreParsedButNotKept() {
        let long = String(repeating: "v", count: HeaderLineCache.lineBytes + 10)
        var head = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: \(long)\r\n"
        for i in 0..<(HeaderLineCache.slots + 6) { head += "X-\(i): \(i)\r\n" }
        head += "\r\n"
        let other = head.replacingOccurrences(of: "X-29: 29", with: "X-29: 30").replacingOccurrences(of: "vvvv\r\n", with: "vvvw\r\n")
        let kept = requests([head, head, other, head], caching: true)
        #expect(kept.error == nil && kept.heads.count == 4)
        #expect(kept == requests([head, head, other, head], caching: false))
        #expect(kept.heads[2].contains("X-29|x-29|30") && kept.heads[2][2].hasSuffix("vvvw"))
    }

    /// Random heads from a few variants of each line (some invalid), in random orders, on one connection:
    /// a parser that keeps lines and one that does not agree on every message, refusals included.
    @Test func keptLinesNeverChangeWhatIsParsed() {
        let variants: [[String]] = [
            ["Host: a", "Host: b", "host: a", "Host:  a ", "Host: a\u{7F}"],
            ["Content-Type: application/json", "content-type: application/json", "Content-Type: text/plain", "Content-Type : x"],
            ["Authorization: Bearer k1", "Authorization: Bearer k2", "authorization: Bearer k1", "Authorization: Bearer\tk1"],
            ["Content-Length: 2", "Content-Length: 02", "Content-Length: x", "Transfer-Encoding: chunked", "Connection: close"],
            ["User-Agent: claude-cli/2.0 (external, cli)", "USER-AGENT: claude-cli/2.0 (external, cli)", "X-Other: 1", " folded: x", "NoColon"],
        ]
        var rng = SplitMix(seed: 12)
        for _ in 0..<300 {
            var msgs: [String] = []
            for _ in 0..<(1 + Int(rng.next() % 5)) {
                var lines = variants.map { $0[Int(rng.next() % UInt64($0.count))] }
                if rng.next() % 3 == 0 { lines.swapAt(Int(rng.next() % 5), Int(rng.next() % 5)) }
                if rng.next() % 4 == 0 { lines.removeLast(Int(rng.next() % 3)) }
                let body = lines.contains("Transfer-Encoding: chunked") ? "2\r\n{}\r\n0\r\n\r\n" : "{}"
                msgs.append("POST /v1/x HTTP/1.1\r\n" + lines.joined(separator: "\r\n") + "\r\n\r\n" + body)
            }
            let kept = requests(msgs, caching: true), afresh = requests(msgs, caching: false)
            #expect(kept == afresh, "\(msgs)")
        }
    }

    @Test func anUpstreamConnectionsAnswersParseTheSameWithKeptLines() {
        let a = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 05 Dec 2026 14:00:00 GMT\r\nContent-Type: application/json\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\n{}{}"
        let variants = [
            a, a,
            a.replacingOccurrences(of: "14:00:00", with: "14:00:01"),
            a.replacingOccurrences(of: "Content-Length: 4", with: "Content-Length: 3"),
            a.replacingOccurrences(of: "Connection: keep-alive", with: "Connection: close"),
            a.replacingOccurrences(of: "Connection: keep-alive", with: "Transfer-Encoding: chunked") + "\r\n0\r\n\r\n",
            a.replacingOccurrences(of: "Connection: keep-alive", with: "Content-Length: 4"),
            a.replacingOccurrences(of: "Server: nginx/1.22.1", with: "Server: nginx/1.22.1\r"),
            a.replacingOccurrences(of: "Server: nginx/1.22.1", with: "Server nginx/1.22.1"),
            a, a.replacingOccurrences(of: "Content-Length: 4", with: "Content-Length: 4x"), a,
        ]
        let cache = HeaderLineCache()
        let kept = responses(variants, cache: cache), afresh = responses(variants, cache: nil)
        #expect(kept == afresh)
        #expect(kept[0] == kept[1] && kept[0].hasSuffix("body 4;end keepAlive=true"))
        #expect(kept[4].hasSuffix("end keepAlive=false") && kept[7].hasPrefix("refused") && kept[10].hasPrefix("refused"))
        #expect(kept[2].contains("Date|date|Sat, 05 Dec 2026 14:00:01 GMT"))
    }
}

/// A small deterministic generator (SplitMix64) for the random heads.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
