import Glibc

/// Finds the few top-level fields routing needs (`model`, `stream`) and, in the same single pass, checks that the
/// body is exactly one JSON object that any strict parser reads as the proxy does: RFC 8259 grammar (no NaN or
/// Infinity, nothing after the object, only the escapes \" \\ \/ \b \f \n \r \t and \uXXXX, no raw control
/// characters in strings), strict UTF-8, at most `maxDepth` levels of nesting, and `model` / `stream` given once
/// each at the top level (parsers disagree on which duplicate wins), `model` a string and `stream` a boolean (null
/// counts as absent). Nothing is built but the model's string, and nesting costs no stack (a bit per level).
/// Tests/JSONCrossCheck: crosscheck.py compares the verdicts with Python's json; bench.sh times it (strings are
/// read eight bytes per step; about twice the old quote-skipping scan, which checked nothing inside strings).
public struct RequestFields: Sendable, Equatable {
    public var model: String?
    public var stream: Bool?
    /// Why the body is refused, as a sentence for the client; nil when it passed every check above.
    public var problem: String?
    public var validObject: Bool { problem == nil }

    public static let maxDepth = 128

    public init(model: String? = nil, stream: Bool? = nil, problem: String? = nil) {
        self.model = model; self.stream = stream; self.problem = problem
    }

    public static func scan(_ b: [UInt8]) -> RequestFields {
        b.withUnsafeBufferPointer { scan($0) }
    }

    public static func scan(_ b: UnsafeBufferPointer<UInt8>) -> RequestFields {
        guard let base = b.baseAddress, b.count > 0 else { return RequestFields(problem: "the request body is empty; it must be a JSON object") }
        var r = RequestFields()
        do throws(StrictJSON.Failure) {
            try walk(StrictJSON(p: base, n: b.count), &r)
        } catch {
            r.model = nil; r.stream = nil
            r.problem = error.message
        }
        return r
    }

    private enum Expect { case value, key, after }
    private enum Member { case other, model, stream }

    /// The whole body, one byte state machine: `value` (a value starts here), `key` (a member name starts here),
    /// `after` (a value just ended). Containers are a bit stack (1 = array), at most 128 deep.
    private static func walk(_ j: StrictJSON, _ r: inout RequestFields) throws(StrictJSON.Failure) {
        let p = j.p, n = j.n
        var i = j.skipSpace(0)
        guard i < n else { throw StrictJSON.Failure("the request body is empty; it must be a JSON object", at: 0) }
        guard p[i] == UInt8(ascii: "{") else { throw StrictJSON.Failure("the request body must be a JSON object", at: i) }
        var depth = 0
        var arrays: UInt128 = 0
        var expect = Expect.value
        // The top-level member being read, where its value starts, and whether its string value held escapes.
        var member = Member.other
        var valueStart = 0
        var valueEscaped = false
        var seenModel = false, seenStream = false
        while true {
            switch expect {
            case .value:
                guard i < n else { throw StrictJSON.Failure("the body ends in the middle of a value", at: i) }
                switch p[i] {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    let isArray = p[i] == UInt8(ascii: "[")
                    depth += 1
                    guard depth <= maxDepth else { throw StrictJSON.Failure("the body nests deeper than \(maxDepth) levels (at byte \(i))", at: i) }
                    let bit: UInt128 = 1 << (depth - 1)
                    if isArray { arrays |= bit } else { arrays &= ~bit }
                    i = j.skipSpace(i + 1)
                    if i < n && p[i] == (isArray ? UInt8(ascii: "]") : UInt8(ascii: "}")) { i += 1; depth -= 1; expect = .after }
                    else { expect = isArray ? .value : .key }
                case StrictJSON.quote:
                    var escaped = false
                    i = try j.stringEnd(i, &escaped) + 1
                    if depth == 1 { valueEscaped = escaped }
                    expect = .after
                case UInt8(ascii: "-"), 0x30...0x39:
                    i = try j.numberEnd(i)
                    expect = .after
                case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                    i = try j.literalEnd(i)
                    expect = .after
                default:
                    throw j.unexpected(i)
                }
            case .key:
                guard i < n, p[i] == StrictJSON.quote else {
                    throw i < n ? StrictJSON.Failure("a member name in double quotes is expected at byte \(i)", at: i)
                                : StrictJSON.Failure("the body ends inside an object", at: i)
                }
                var escaped = false
                let end = try j.stringEnd(i, &escaped)
                if depth == 1 {
                    member = topMember(j, i + 1, end, escaped)
                    switch member {
                    case .model:
                        guard !seenModel else { throw StrictJSON.Failure("\"model\" is given twice; give it once", at: i) }
                        seenModel = true
                    case .stream:
                        guard !seenStream else { throw StrictJSON.Failure("\"stream\" is given twice; give it once", at: i) }
                        seenStream = true
                    case .other: break
                    }
                }
                i = j.skipSpace(end + 1)
                guard i < n, p[i] == UInt8(ascii: ":") else { throw StrictJSON.Failure("':' is expected after a member name (byte \(i))", at: i) }
                i = j.skipSpace(i + 1)
                if depth == 1 { valueStart = i }
                expect = .value
            case .after:
                if depth == 1 && member != .other {
                    try take(member, j, valueStart, i, valueEscaped, &r)
                    member = .other
                }
                i = j.skipSpace(i)
                if depth == 0 {
                    guard i == n else { throw StrictJSON.Failure("the body holds more than one JSON value (bytes follow the object at byte \(i))", at: i) }
                    return
                }
                guard i < n else { throw StrictJSON.Failure("the body ends inside \(arrays >> (depth - 1) & 1 == 1 ? "an array" : "an object")", at: i) }
                let inArray = arrays >> (depth - 1) & 1 == 1
                switch p[i] {
                case UInt8(ascii: ","):
                    i = j.skipSpace(i + 1)
                    expect = inArray ? .value : .key
                case UInt8(ascii: "]") where inArray, UInt8(ascii: "}") where !inArray:
                    i += 1
                    depth -= 1
                default:
                    throw StrictJSON.Failure("',' or '\(inArray ? "]" : "}")' is expected at byte \(i)", at: i)
                }
            }
        }
    }

    /// Which of the members routing reads a top-level name is; an escaped name is read as its text
    /// (`"mod\u0065l"` is `model` to every parser).
    private static func topMember(_ j: StrictJSON, _ from: Int, _ to: Int, _ escaped: Bool) -> Member {
        if escaped {
            switch j.unescaped(from, to) {
            case "model": return .model
            case "stream": return .stream
            default: return .other
            }
        }
        if j.matches(modelWord, at: from, end: to) { return .model }
        if j.matches(streamWord, at: from, end: to) { return .stream }
        return .other
    }

    static let modelWord = Array("model".utf8), streamWord = Array("stream".utf8)

    private static func take(_ m: Member, _ j: StrictJSON, _ start: Int, _ end: Int, _ escaped: Bool, _ r: inout RequestFields) throws(StrictJSON.Failure) {
        let isNull = j.matches(StrictJSON.nullWord, at: start, end: end)
        switch m {
        case .model:
            if isNull { return }
            guard j.p[start] == StrictJSON.quote else { throw StrictJSON.Failure("\"model\" must be a string", at: start) }
            r.model = escaped ? j.unescaped(start + 1, end - 1)
                              : String(decoding: UnsafeBufferPointer(start: j.p + start + 1, count: end - start - 2), as: UTF8.self)
        case .stream:
            if isNull { return }
            if j.matches(StrictJSON.trueWord, at: start, end: end) { r.stream = true }
            else if j.matches(StrictJSON.falseWord, at: start, end: end) { r.stream = false }
            else { throw StrictJSON.Failure("\"stream\" must be true or false", at: start) }
        case .other: break
        }
    }
}

/// Token counts read from a response as it streams by: the numbers after the usage keys of all four APIs.
/// Keeps the largest value seen per key (streams repeat running totals), and a short tail so that a key cut
/// across two chunks is still found. It never holds the response.
public struct UsageScanner: Sendable {
    public private(set) var input: Int64 = 0
    public private(set) var output: Int64 = 0
    public private(set) var cached: Int64 = 0
    private var tail: [UInt8] = []
    /// Scratch for the junction of the tail and the start of a chunk (≤ 48 + 64 bytes, reused).
    private var junction: [UInt8] = []

    static let inputKeys = ["\"prompt_tokens\"", "\"input_tokens\"", "\"promptTokenCount\""].map { Array($0.utf8) }
    static let outputKeys = ["\"completion_tokens\"", "\"output_tokens\"", "\"candidatesTokenCount\""].map { Array($0.utf8) }
    static let cachedKeys = ["\"cached_tokens\"", "\"cache_read_input_tokens\"", "\"cachedContentTokenCount\""].map { Array($0.utf8) }
    /// Whether "oken" occurs in `b` (memchr for its rarer 'k', then the neighbours).
    static func containsOken(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return false }
        var i = 1
        while i + 2 < b.count {
            guard let k = memchr(base + i, 0x6B, b.count - 2 - i) else { return false }
            i = base.distance(to: k.assumingMemoryBound(to: UInt8.self))
            if b[i - 1] == 0x6F && b[i + 1] == 0x65 && b[i + 2] == 0x6E { return true }
            i += 1
        }
        return false
    }
    static let tailLength = 48
    static let junctionPrefix = 64

    public init() {}

    /// Reads `tail + chunk` as one text, without building it: the junction (the tail and the chunk's first bytes)
    /// and then the chunk are scanned in place. Finding a value twice changes nothing (the largest is kept); a
    /// value that runs past the junction's end is read from the whole concatenation (rare: long whitespace).
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        let c = chunk.bindMemory(to: UInt8.self)
        if !tail.isEmpty {
            junction.removeAll(keepingCapacity: true)
            junction.append(contentsOf: tail)
            let n = min(c.count, Self.junctionPrefix)
            junction.append(contentsOf: UnsafeBufferPointer(rebasing: c[0..<n]))
            let cut = junction.withUnsafeBufferPointer { scan($0) }
            if cut && n < c.count {
                var all = tail
                all.append(contentsOf: c)
                _ = all.withUnsafeBufferPointer { scan($0) }
            }
        }
        _ = scan(c)
        if c.count >= Self.tailLength {
            tail.removeAll(keepingCapacity: true)
            tail.append(contentsOf: UnsafeBufferPointer(rebasing: c[(c.count - Self.tailLength)...]))
        } else {
            tail.append(contentsOf: c)
            if tail.count > Self.tailLength { tail.removeFirst(tail.count - Self.tailLength) }
        }
    }

    public mutating func feed(_ chunk: [UInt8]) { chunk.withUnsafeBytes { feed($0) } }

    /// Returns whether a key's value was cut off by the end of `b` (it is read again with more bytes).
    private mutating func scan(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return false }
        // Every key has "oken" in it (tokens, TokenCount): text without it (most events of a stream) has none.
        guard Self.containsOken(b) else { return false }
        let (inputKeys, outputKeys, cachedKeys) = (Self.inputKeys, Self.outputKeys, Self.cachedKeys)
        var cut = false
        var i = 0
        while i < b.count {
            // Jump to the next quote; a key starts with one.
            guard let q = memchr(base + i, 0x22, b.count - i) else { break }
            i = base.distance(to: q.assumingMemoryBound(to: UInt8.self))
            // Every key's first letter is one of c, i, o, p: most quotes are ruled out by one compare.
            if i + 1 < b.count, b[i + 1] == 0x63 || b[i + 1] == 0x69 || b[i + 1] == 0x6F || b[i + 1] == 0x70 {
                if let (v, end) = Self.value(b, i, inputKeys, &cut) { input = max(input, v); i = end; continue }
                if let (v, end) = Self.value(b, i, outputKeys, &cut) { output = max(output, v); i = end; continue }
                if let (v, end) = Self.value(b, i, cachedKeys, &cut) { cached = max(cached, v); i = end; continue }
            }
            i += 1
        }
        return cut
    }

    /// A JSON number's text longer than this is taken as the cap (no real count is; 18 digits and an exponent
    /// fit), so a long one is never cut across chunks past the tail and is never read as less than it is.
    static let maxNumberLength = 20

    /// The non-negative number at `b[start...]` as a token count, read in place like `Saturating.tokens(text:)`
    /// reads it: a fraction is cut to its integer part, an exponent applied, and the result held to 0…10^12.
    /// nil when no digit starts there (a sign, a string); nil with `cut` set when `b` ends inside it.
    private static func number(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ cut: inout Bool) -> (Int64, Int)? {
        let cap = Saturating.maxTokensPerRequest
        // digits × 10^exponent, from at most 18 significant digits. A 19th integer digit is the cap at once (no
        // real count has one), not read on: its key may be gone from the tail by the time the number ends.
        var mantissa: Int64 = 0, kept = 0, exponent = 0, sawDigit = false
        var i = start
        func isDigit(_ i: Int) -> Bool { i < b.count && b[i] >= 0x30 && b[i] <= 0x39 }
        while isDigit(i) {
            if kept == 18 { return (cap, i) }
            mantissa = mantissa * 10 + Int64(b[i] - 0x30); if mantissa > 0 { kept += 1 }
            sawDigit = true; i += 1
            if i - start > maxNumberLength { return (cap, i) }
        }
        if i == b.count { cut = true; return nil }
        guard sawDigit else { return nil }
        if b[i] == UInt8(ascii: ".") {
            i += 1
            while isDigit(i) {
                if kept < 18 { mantissa = mantissa * 10 + Int64(b[i] - 0x30); if mantissa > 0 { kept += 1 }; exponent -= 1 }
                i += 1
                if i - start > maxNumberLength { return (cap, i) }
            }
        }
        if i < b.count && (b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
            i += 1
            var negative = false
            if i < b.count && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) { negative = b[i] == UInt8(ascii: "-"); i += 1 }
            var e = 0
            while isDigit(i) {
                e = min(e * 10 + Int(b[i] - 0x30), 1_000_000)   // far past any cap, and no overflow
                i += 1
                if i - start > maxNumberLength { return (cap, i) }
            }
            exponent += negative ? -e : e
        }
        if i == b.count { cut = true; return nil }
        var v = mantissa
        if v == 0 { return (0, i) }
        if exponent >= 0 {
            for _ in 0..<exponent { if v >= cap { break }; v *= 10 }   // below 10^12 before: no overflow
        } else {
            for _ in 0 ..< -exponent { v /= 10; if v == 0 { break } }
        }
        return (min(v, cap), i)
    }

    private static func value(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ keys: [[UInt8]], _ cut: inout Bool) -> (Int64, Int)? {
        for k in keys {
            let n = k.count
            // The closing quote and the first letter first: a memcmp only when both agree.
            guard at + n < b.count, b[at + n - 1] == 0x22, b[at + 1] == k[1],
                  k.withUnsafeBufferPointer({ memcmp(b.baseAddress! + at, $0.baseAddress!, n) == 0 }) else { continue }
            var i = at + n
            while i < b.count, b[i] == 0x20 || b[i] == UInt8(ascii: ":") { i += 1 }
            return number(b, i, &cut)
        }
        return nil
    }
}
