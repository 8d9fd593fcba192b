import Testing
import CByteScan
@testable import ProxyPoolCore

/// The C string loop (CByteScan) against the Swift one it replaced, which stays the reference and names problems.
@Suite struct ByteScanTests {
    /// Both loops on `b` (its byte 0 the opening quote) from `start`: the closing quote and escape flag, or nil.
    static func both(_ b: [UInt8], _ start: Int = 0) -> (c: (Int, Bool)?, swift: (Int, Bool)?) {
        b.withUnsafeBufferPointer { buf in
            var escC: Int32 = 0, escSwift = false
            let c = cbytescan_json_string_end(buf.baseAddress!, buf.count, start + 1, &escC)
            let swift = try? StrictJSON(p: buf.baseAddress!, n: buf.count).stringEndInSwift(start, &escSwift)
            return (c >= 0 ? (c, escC != 0) : nil, swift.map { ($0, escSwift) })
        }
    }

    static func agree(_ r: (c: (Int, Bool)?, swift: (Int, Bool)?)) -> Bool {
        r.c?.0 == r.swift?.0 && r.c?.1 == r.swift?.1
    }

    @Test func eachByteAtEachPosition() {
        // Every byte value at every position of a 40-byte run that a quote closes and a body follows, from every
        // start of the first 17 (so that the byte falls in a wide step, in the tail, and on each lane of a step).
        for v in 0...255 {
            for at in 0..<40 {
                var b = [UInt8](repeating: UInt8(ascii: "a"), count: 40) + Array(#"", "stream": true}"#.utf8)
                b[at] = UInt8(v)
                for start in 0...min(at, 16) {
                    var s = b
                    s[start] = 0x22
                    let r = Self.both(s, start)
                    #expect(Self.agree(r), "byte \(v) at \(at), string from \(start): C \(String(describing: r.c)), Swift \(String(describing: r.swift))")
                }
            }
        }
    }

    @Test func unclosedAndEmpty() {
        // Plain text to the end of the body: no closing quote, both refuse; an empty string closes at once.
        let plain = [0x22] + [UInt8](repeating: UInt8(ascii: "x"), count: 1000)
        #expect(Self.both(plain).c == nil && Self.both(plain).swift == nil)
        let r = Self.both([0x22, 0x22])
        #expect(r.c?.0 == 1 && Self.agree(r))
        #expect(Self.both([0x22]).c == nil)
    }

    /// A JSON string's text from pieces that matter to the rules: plain runs, escapes good and bad, UTF-8
    /// sequences good, overlong, surrogate, too high and cut short, stray continuation bytes, control characters.
    static func randomStringBytes(_ rng: inout some RandomNumberGenerator) -> [UInt8] {
        var out: [UInt8] = []
        let hex = Array("0123456789abcdefABCDEFgG".utf8)
        for _ in 0..<Int.random(in: 0...24, using: &rng) {
            switch Int.random(in: 0..<14, using: &rng) {
            case 0...3: out += (0..<Int.random(in: 1...40, using: &rng)).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) }.filter { $0 != 0x22 && $0 != 0x5C }
            case 4: out += [0x5C, Array(#""\/bfnrtux0"#.utf8).randomElement(using: &rng)!]
            case 5: out += [0x5C, UInt8(ascii: "u")] + (0..<4).map { _ in hex.randomElement(using: &rng)! }
            case 6: // a valid scalar of 2, 3 or 4 bytes
                let ranges: [ClosedRange<UInt32>] = [0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
                out += Array(String(Unicode.Scalar(UInt32.random(in: ranges.randomElement(using: &rng)!, using: &rng))!).utf8)
            case 7: out += [[0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
                            [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF]].randomElement(using: &rng)!
            case 8: out += [[0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xE2, 0x41, 0x80], [0xF0, 0x9F, 0x41, 0x80]].randomElement(using: &rng)!
            case 9: out.append(UInt8.random(in: 0x80...0xBF, using: &rng))
            case 10: out.append(UInt8.random(in: 0x00...0x1F, using: &rng))
            case 11: out.append(0x22)
            case 12: out.append(0x5C)
            default: out.append(UInt8.random(in: 0...255, using: &rng))
            }
        }
        return out
    }

    @Test func theStringLoopInCAgreesWithTheOneInSwift() {
        var rng = SystemRandomNumberGenerator()
        var closed = 0, refused = 0
        for _ in 0..<20_000 {
            // An opening quote, the text, and sometimes a closing quote and more of a body after it.
            var b: [UInt8] = [0x22] + Self.randomStringBytes(&rng)
            if Bool.random(using: &rng) { b += Array(#"", "stream": true}"#.utf8) }
            b.withUnsafeBufferPointer { buf in
                let json = StrictJSON(p: buf.baseAddress!, n: buf.count)
                var escC: Int32 = 0, escSwift = false
                let c = cbytescan_json_string_end(buf.baseAddress!, buf.count, 1, &escC)
                let swift: Int? = try? json.stringEndInSwift(0, &escSwift)
                #expect((c >= 0 ? c : nil) == swift, "\(b)")
                if let swift, c == swift { #expect((escC != 0) == escSwift, "\(b)"); closed += 1 } else { refused += 1 }
            }
        }
        // Both verdicts came up often enough to mean something.
        #expect(closed > 2_000 && refused > 2_000, "closed \(closed), refused \(refused)")
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
