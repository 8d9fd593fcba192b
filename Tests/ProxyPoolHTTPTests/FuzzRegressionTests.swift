import Foundation
import Testing
@testable import ProxyPoolHTTP
@testable import ProxyPoolHTTPWire

/// Inputs the HTTP request fuzzer (Tests/Fuzz/Targets/http-request.swift) found, in
/// Fixtures/fuzz/http-request/: byte 0 is the fuzzer's split seed, the rest what a client sent. Replayed as the
/// target does: one read, then many small ones, with the default limits and with small ones; both must refuse
/// the connection or both must give the same requests.
@Suite struct HTTPFuzzRegressionTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz/http-request")

    struct Outcome: Equatable {
        var requests: [String] = []
        var failed = false
        var leftover = 0
    }

    static func drive(_ bytes: ArraySlice<UInt8>, step: Int, limits: HTTPLimits) -> Outcome {
        var p = HTTPRequestParser(limits: limits)
        var o = Outcome()
        func record(_ events: [HTTPRequestParser.Event]) -> Bool {
            var complete = false
            for e in events {
                switch e {
                case .head(let h): o.requests.append("\(h.method) \(h.target) \(h.headers.map { "\($0.name)=\($0.value)" })")
                case .complete(let body): o.requests.append("body \(body)"); complete = true
                }
            }
            return complete
        }
        do {
            var i = bytes.startIndex
            while i < bytes.endIndex {
                var more = record(try p.feed(bytes[i..<min(i + step, bytes.endIndex)]))
                while more { p.reset(); more = record(try p.feed([UInt8]())) }
                i += step
            }
        } catch {
            o.failed = true
            return o
        }
        o.leftover = p.leftover.count
        return o
    }

    static var smallLimits: HTTPLimits {
        var l = HTTPLimits()
        l.maxHeaderBytes = 256; l.maxHeaderCount = 8; l.maxBodyBytes = 1024
        return l
    }

    @Test func splittingDoesNotChangeTheVerdict() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.dir.path).sorted()
        #expect(!names.isEmpty)
        for name in names {
            let wire = [UInt8](try Data(contentsOf: Self.dir.appendingPathComponent(name))).dropFirst()
            for limits in [HTTPLimits(), Self.smallLimits] {
                let whole = Self.drive(wire, step: max(wire.count, 1), limits: limits)
                for step in [1, 2, 3, 9] {
                    let pieces = Self.drive(wire, step: step, limits: limits)
                    if whole.failed || pieces.failed { #expect(whole.failed == pieces.failed, "\(name), step \(step)") }
                    else { #expect(whole == pieces, "\(name), step \(step)") }
                }
            }
        }
    }

    /// A head exactly at the limit is accepted however its terminating blank line is split.
    @Test func headAtTheLimitIsAcceptedInAnyPieces() {
        var limits = HTTPLimits()
        limits.maxHeaderBytes = 64
        var head = "GET / HTTP/1.1\r\nHost: a\r\nX: "
        head += String(repeating: "y", count: 64 - head.utf8.count)
        #expect(head.utf8.count == 64)
        let wire = Array((head + "\r\n\r\n").utf8)[...]
        for step in 1...wire.count {
            let o = Self.drive(wire, step: step, limits: limits)
            #expect(!o.failed && o.requests.count == 2, "step \(step)")
        }
        let over = Array(("A" + head + "\r\n\r\n").utf8)[...]
        for step in 1...over.count { #expect(Self.drive(over, step: step, limits: limits).failed, "step \(step)") }
    }

    /// A chunk-size line (with extensions) just under its 1024-byte limit, split anywhere; one byte longer is refused.
    @Test func chunkLineAtTheLimitIsAcceptedInAnyPieces() {
        for (length, ok) in [(1024, true), (1025, false)] {
            let line = "5;" + String(repeating: "e", count: length - 2)
            let wire = Array("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\(line)\r\nhello\r\n0\r\n\r\n".utf8)[...]
            for step in [1, 2, 3, 50, 1023, 1024, 1025, wire.count] {
                let o = Self.drive(wire, step: step, limits: HTTPLimits())
                #expect(o.failed == !ok, "length \(length), step \(step)")
            }
        }
    }

    /// A large head arriving a byte at a time is scanned once, not once per read (it was O(n²): 64 KiB took
    /// seconds of CPU).
    @Test func headReadByteByByteIsLinear() {
        var head = "POST / HTTP/1.1\r\nHost: a\r\n"
        while head.utf8.count < 60_000 { head += "X-Filler: " + String(repeating: "z", count: 900) + "\r\n" }
        let wire = Array((head + "Content-Length: 2\r\n\r\nok").utf8)[...]
        let clock = ContinuousClock()
        var o = Outcome()
        let t = clock.measure { o = Self.drive(wire, step: 1, limits: HTTPLimits()) }
        #expect(!o.failed && o.requests.count == 2 && o.requests.last == "body [111, 107]")
        #expect(t < .seconds(5), "took \(t)")
    }
}
