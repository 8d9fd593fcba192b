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
