#if canImport(CByteScan)
import CByteScan
#endif

/// The byte-level pieces of the request body check (RequestFields.scan): RFC 8259 grammar with strict UTF-8
/// (Unicode 15 table 3-7: no overlong forms, no encoded surrogates, nothing above U+10FFFF), over a pointer with
/// integer positions. Nothing is built: strings are checked in C (CByteScan: sixteen bytes at a time through plain
/// text), and in Swift (eight at a time) only to name a problem, or in a build without the C target.
struct StrictJSON {
    /// Why a body is refused: a sentence for the client and the byte it is about.
    struct Failure: Error, Equatable {
        var message: String
        var offset: Int
        init(_ message: String, at offset: Int) { self.message = message; self.offset = offset }
    }

    let p: UnsafePointer<UInt8>
    let n: Int

    static let quote: UInt8 = 0x22, backslash: UInt8 = 0x5C

    @inline(__always) func skipSpace(_ from: Int) -> Int {
        var i = from
        while i < n {
            let c = p[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { break }
            i += 1
        }
        return i
    }

    /// Non-zero when one of the eight bytes of `w` is a quote, a backslash, below 0x20 or above 0x7F; its lowest
    /// set bit is in the first such byte (the borrows of the zero-byte tests only run upwards, from a true hit).
    @inline(__always) static func attention(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
        let q = w ^ (ones &* 0x22), s = w ^ (ones &* 0x5C)
        let hasQuote = (q &- ones) & ~q & high
        let hasBackslash = (s &- ones) & ~s & high
        // A byte below 0x20 wraps to bit 7 when 0x20 is taken from it; one at or above 0x80 has bit 7 already.
        let controlOrHigh = ((w &- ones &* 0x20) | w) & high
        return hasQuote | hasBackslash | controlOrHigh
    }

    /// The index of the closing quote of the string whose opening quote is at `start`; `escaped` is set when
    /// the string holds a backslash (its text then differs from its bytes).
    @inline(__always) func stringEnd(_ start: Int, _ escaped: inout Bool) throws(Failure) -> Int {
        #if canImport(CByteScan)
        // Most strings are short (the keys, roles, model names): when the first eight bytes hold the closing
        // quote and nothing to look at before it, no call.
        // Else the C loop starts at the first byte to look at (the ones before it are plain).
        var from = start &+ 1
        if start &+ 9 <= n {
            let m = Self.attention(UInt64(littleEndian: UnsafeRawPointer(p + from).loadUnaligned(as: UInt64.self)))
            if m == 0 { from &+= 8 } else {
                from &+= m.trailingZeroBitCount >> 3
                if p[from] == Self.quote { return from }
            }
        }
        // The whole string in C: sixteen bytes per step (SSE2) through plain text, escapes and UTF-8 checked
        // in the same loop. In Swift, eight bytes per step and a return to the loop after every escape and
        // every non-ASCII character cost 7.7 instructions per byte of prose with accents (callgrind).
        var esc: Int32 = 0
        let end = cbytescan_json_string_end(p, n, from, &esc)
        if end >= 0 {
            if esc != 0 { escaped = true }
            return end
        }
        // A problem: the Swift loop finds it again and says which.
        #endif
        return try stringEndInSwift(start, &escaped)
    }

    /// `stringEnd` in Swift: the reference the C loop is tested against, and what names a problem.
    func stringEndInSwift(_ start: Int, _ escaped: inout Bool) throws(Failure) -> Int {
        var i = start + 1
        while true {
            while i &+ 8 <= n {
                let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                let m = Self.attention(w)
                if m != 0 { i &+= m.trailingZeroBitCount >> 3; break }
                i &+= 8
            }
            guard i < n else { throw Failure("a string is not closed (it starts at byte \(start))", at: start) }
            let c = p[i]
            if c == Self.quote { return i }
            if c == Self.backslash {
                escaped = true
                // The one-letter escapes here (most of them: \n and \" in code and prose); \u and errors out of line.
                if i + 1 < n, Self.isShortEscape(p[i + 1]) { i += 2 } else { i = try escapeEnd(i) }
            }
            else if c < 0x20 { throw Failure("a raw control character (0x\(Self.hex2(c))) is in a string at byte \(i); it must be escaped", at: i) }
            else if c >= 0x80 { i = try utf8End(i) }
            else { i += 1 }
        }
    }

    @inline(__always) static func isShortEscape(_ c: UInt8) -> Bool {
        switch c {
        case quote, backslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"): return true
        default: return false
        }
    }

    /// One past the escape starting with the backslash at `i`. `\uXXXX` may name a lone surrogate: the grammar
    /// allows it (RFC 8259 §8.2 leaves its meaning to the receiver), and Python's json and browsers accept it.
    func escapeEnd(_ i: Int) throws(Failure) -> Int {
        guard i + 1 < n else { throw Failure("a string is not closed", at: i) }
        switch p[i + 1] {
        case Self.quote, Self.backslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
             UInt8(ascii: "r"), UInt8(ascii: "t"):
            return i + 2
        case UInt8(ascii: "u"):
            guard i + 6 <= n, (2..<6).allSatisfy({ Self.hexValue(p[i + $0]) != nil }) else {
                throw Failure("a \\u escape at byte \(i) needs four hex digits", at: i)
            }
            return i + 6
        default:
            let c = p[i + 1]
            let shown = c >= 0x21 && c < 0x7F ? "\\\(Character(Unicode.Scalar(c)))" : "a backslash followed by byte 0x\(Self.hex2(c))"
            throw Failure("invalid escape \(shown) in a string at byte \(i)", at: i)
        }
    }

    /// One past the UTF-8 sequence whose first byte (≥ 0x80) is at `i`.
    @inline(__always) func utf8End(_ i: Int) throws(Failure) -> Int {
        @inline(__always) func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool { k < n && p[k] >= lo && p[k] <= hi }
        switch p[i] {
        case 0xC2...0xDF: if cont(i + 1) { return i + 2 }
        case 0xE0: if cont(i + 1, 0xA0) && cont(i + 2) { return i + 3 }
        case 0xE1...0xEC, 0xEE...0xEF: if cont(i + 1) && cont(i + 2) { return i + 3 }
        case 0xED: if cont(i + 1, 0x80, 0x9F) && cont(i + 2) { return i + 3 }
        case 0xF0: if cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) { return i + 4 }
        case 0xF1...0xF3: if cont(i + 1) && cont(i + 2) && cont(i + 3) { return i + 4 }
        case 0xF4: if cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) { return i + 4 }
        default: break
        }
        throw Failure("invalid UTF-8 at byte \(i) (\(utf8Problem(i)))", at: i)
    }

    /// What is wrong with the sequence at `i` (only when it is wrong).
    func utf8Problem(_ i: Int) -> String {
        let c = p[i], next: UInt8? = i + 1 < n ? p[i + 1] : nil
        switch c {
        case 0x80...0xBF: return "a continuation byte without a lead byte"
        case 0xC0, 0xC1: return "an overlong form"
        case 0xE0 where next.map { $0 >= 0x80 && $0 < 0xA0 } ?? false: return "an overlong form"
        case 0xF0 where next.map { $0 >= 0x80 && $0 < 0x90 } ?? false: return "an overlong form"
        case 0xED where next.map { $0 >= 0xA0 && $0 <= 0xBF } ?? false: return "an encoded surrogate"
        case 0xF4 where next.map { $0 >= 0x90 && $0 <= 0xBF } ?? false: return "a code point above U+10FFFF"
        case 0xF5...0xFF: return "byte 0x\(Self.hex2(c)) never occurs in UTF-8"
        default: return "a sequence cut short"
        }
    }

    /// One past the number starting at `i` (a '-' or a digit): -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    func numberEnd(_ i: Int) throws(Failure) -> Int {
        @inline(__always) func digit(_ k: Int) -> Bool { k < n && p[k] >= 0x30 && p[k] <= 0x39 }
        var j = i
        if p[j] == UInt8(ascii: "-") { j += 1 }
        if j < n && p[j] == UInt8(ascii: "0") { j += 1 }
        else if digit(j) { while digit(j) { j += 1 } }
        else if j < n && p[j] == UInt8(ascii: "I") { throw Failure("-Infinity is not JSON (at byte \(i))", at: i) }
        else { throw Failure("invalid number at byte \(i)", at: i) }
        if j < n && p[j] == UInt8(ascii: ".") {
            j += 1
            guard digit(j) else { throw Failure("invalid number at byte \(i) (a digit must follow the '.')", at: i) }
            while digit(j) { j += 1 }
        }
        if j < n && (p[j] == UInt8(ascii: "e") || p[j] == UInt8(ascii: "E")) {
            j += 1
            if j < n && (p[j] == UInt8(ascii: "+") || p[j] == UInt8(ascii: "-")) { j += 1 }
            guard digit(j) else { throw Failure("invalid number at byte \(i) (the exponent has no digits)", at: i) }
            while digit(j) { j += 1 }
        }
        return j
    }

    /// One past `true`, `false` or `null` at `i`.
    func literalEnd(_ i: Int) throws(Failure) -> Int {
        let word: [UInt8]
        switch p[i] {
        case UInt8(ascii: "t"): word = Self.trueWord
        case UInt8(ascii: "f"): word = Self.falseWord
        default: word = Self.nullWord
        }
        guard i + word.count <= n, (1..<word.count).allSatisfy({ p[i + $0] == word[$0] }) else { throw unexpected(i) }
        return i + word.count
    }

    static let trueWord = Array("true".utf8), falseWord = Array("false".utf8), nullWord = Array("null".utf8)

    func matches(_ word: [UInt8], at i: Int, end: Int) -> Bool {
        end - i == word.count && (0..<word.count).allSatisfy { p[i + $0] == word[$0] }
    }

    /// What to say about a byte where a value should start.
    func unexpected(_ i: Int) -> Failure {
        guard i < n else { return Failure("the body ends in the middle of a value", at: i) }
        let c = p[i]
        if c == UInt8(ascii: "N") { return Failure("NaN is not JSON (at byte \(i))", at: i) }
        if c == UInt8(ascii: "I") { return Failure("Infinity is not JSON (at byte \(i))", at: i) }
        if c == UInt8(ascii: "'") { return Failure("strings must be in double quotes (byte \(i))", at: i) }
        if c >= 0x21 && c < 0x7F { return Failure("unexpected '\(Character(Unicode.Scalar(c)))' at byte \(i)", at: i) }
        return Failure("unexpected byte 0x\(Self.hex2(c)) at byte \(i)", at: i)
    }

    /// The text of a string whose escapes were already checked (content between the quotes).
    func unescaped(_ from: Int, _ to: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(to - from)
        var i = from
        func hex4(_ k: Int) -> UInt32 { (0..<4).reduce(0) { $0 << 4 | UInt32(Self.hexValue(p[k + $1]) ?? 0) } }
        while i < to {
            let c = p[i]
            guard c == Self.backslash else { out.append(c); i += 1; continue }
            let e = p[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var v = hex4(i)
                i += 4
                if v >= 0xD800 && v < 0xDC00, i + 6 <= to, p[i] == Self.backslash, p[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(i + 2)
                    if low >= 0xDC00 && low < 0xE000 { v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00); i += 6 }
                }
                // A lone surrogate has no UTF-8 form: U+FFFD stands for it.
                out.append(contentsOf: String(Character(Unicode.Scalar(v) ?? "\u{FFFD}")).utf8)
            default: out.append(e)   // " \ /
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    static func hex2(_ c: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(c >> 4)], digits[Int(c & 15)]], as: UTF8.self)
    }
}
