import Testing
import CByteScan
@testable import ProxyPoolCore

/// The vectorised scan against the plain definition: the first quote, backslash, control character or byte
/// above 0x7F.
@Suite struct ByteScanTests {
    static func reference(_ b: [UInt8], _ from: Int) -> Int {
        var i = from
        while i < b.count {
            let c = b[i]
            if c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x80 { return i - from }
            i += 1
        }
        return b.count - from
    }

    static func scan(_ b: [UInt8], _ from: Int) -> Int {
        b.withUnsafeBufferPointer { cbytescan_json_string_stop($0.baseAddress! + from, b.count - from) }
    }

    @Test func eachStopByteAtEachPosition() {
        // Every byte value at every position of a 40-byte run, from every start offset of the first 17 (so that
        // the stop falls in a wide step, in the tail, and on each lane of a step).
        for v in 0...255 {
            for at in 0..<40 {
                var b = [UInt8](repeating: UInt8(ascii: "a"), count: 40)
                b[at] = UInt8(v)
                for from in 0...min(at, 16) {
                    #expect(Self.scan(b, from) == Self.reference(b, from), "byte \(v) at \(at), from \(from)")
                }
            }
        }
    }

    @Test func randomRunsAgreeWithTheDefinition() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let n = Int.random(in: 0...100, using: &rng)
            // Mostly plain bytes, now and then one that stops the run.
            let b = (0..<n).map { _ in Int.random(in: 0..<40, using: &rng) == 0 ? UInt8.random(in: 0...255, using: &rng) : UInt8.random(in: 0x20...0x7E, using: &rng) }
            let from = n == 0 ? 0 : Int.random(in: 0..<n, using: &rng)
            #expect(Self.scan(b, from) == Self.reference(b, from), "\(b) from \(from)")
        }
    }

    @Test func nothingToScan() {
        let b: [UInt8] = [0x22]
        #expect(b.withUnsafeBufferPointer { cbytescan_json_string_stop($0.baseAddress!, 0) } == 0)
        let plain = [UInt8](repeating: UInt8(ascii: "x"), count: 1000)
        #expect(Self.scan(plain, 0) == 1000 && Self.scan(plain, 999) == 1)
    }

    @Test func theBodyScanStillFindsEveryProblemInALongString() {
        // The scanner's verdicts on strings long enough for the wide steps, each problem at each lane.
        for at in [0, 1, 7, 15, 16, 17, 31, 40] {
            func body(_ inner: [UInt8]) -> [UInt8] {
                Array(#"{"model":"m","messages":[{"role":"user","content":""#.utf8) + inner + Array(#""}]}"#.utf8)
            }
            var text = [UInt8](repeating: UInt8(ascii: "a"), count: 48)
            #expect(RequestFields.scan(body(text)).problem == nil)
            text[at] = 0x01
            #expect(RequestFields.scan(body(text)).problem != nil, "a control character at \(at)")
            text[at] = 0xC3; text[at + 1] = 0xA9   // é
            #expect(RequestFields.scan(body(text)).problem == nil, "é at \(at)")
            text[at + 1] = 0x41
            #expect(RequestFields.scan(body(text)).problem != nil, "a lead byte without its continuation at \(at)")
            text[at] = 0x5C; text[at + 1] = UInt8(ascii: "n")
            #expect(RequestFields.scan(body(text)).problem == nil, "\\n at \(at)")
            text[at + 1] = UInt8(ascii: "q")
            #expect(RequestFields.scan(body(text)).problem != nil, "\\q at \(at)")
        }
    }
}
