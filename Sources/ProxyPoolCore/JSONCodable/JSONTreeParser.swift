/// JSON text → `JSONTree`, for `JSON.decode`. The grammar and UTF-8 checks are the request body check's
/// (StrictJSON: RFC 8259, no trailing commas, comments, NaN or leading zeros, strict UTF-8, a lone \uD800
/// read as U+FFFD) and so is the nesting limit, so a hostile control line or upstream answer cannot exhaust
/// the stack. Callers bound the size (line framing, body caps) before the bytes get here.
enum JSONTreeParser {
    static let maxDepth = RequestFields.maxDepth

    static func parse(_ bytes: some Collection<UInt8>) throws(StrictJSON.Failure) -> JSONTree {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(StrictJSON.Failure) -> JSONTree in try parse(buffer) }
        }
        if let result { return try result.get() }
        return try Array(bytes).withUnsafeBufferPointer { buffer throws(StrictJSON.Failure) -> JSONTree in try parse(buffer) }
    }

    static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(StrictJSON.Failure) -> JSONTree {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { throw StrictJSON.Failure("the JSON text is empty", at: 0) }
        var reader = Reader(j: StrictJSON(p: base, n: buffer.count))
        // A UTF-8 byte order mark: RFC 8259 §8.1 lets a parser ignore it, and JSONDecoder did.
        var i = buffer.count >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF ? 3 : 0
        let tree = try reader.value(&i)
        i = reader.j.skipSpace(i)
        guard i == buffer.count else { throw StrictJSON.Failure("unexpected data after the JSON value at byte \(i)", at: i) }
        return tree
    }

    private struct Reader {
        let j: StrictJSON
        var depth = 0

        mutating func value(_ i: inout Int) throws(StrictJSON.Failure) -> JSONTree {
            i = j.skipSpace(i)
            guard i < j.n else { throw StrictJSON.Failure("the JSON text ends in the middle of a value", at: i) }
            switch j.p[i] {
            case UInt8(ascii: "{"): return try object(&i)
            case UInt8(ascii: "["): return try array(&i)
            case StrictJSON.quote: return .string(try string(&i))
            case UInt8(ascii: "t"): i = try j.literalEnd(i); return .bool(true)
            case UInt8(ascii: "f"): i = try j.literalEnd(i); return .bool(false)
            case UInt8(ascii: "n"): i = try j.literalEnd(i); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let end = try j.numberEnd(i)
                defer { i = end }
                return .number(String(decoding: UnsafeBufferPointer(start: j.p + i, count: end - i), as: UTF8.self))
            default: throw j.unexpected(i)
            }
        }

        /// The string whose opening quote is at `i`; `i` ends one past its closing quote.
        mutating func string(_ i: inout Int) throws(StrictJSON.Failure) -> String {
            var escaped = false
            let end = try j.stringEnd(i, &escaped)
            defer { i = end + 1 }
            // stringEnd checked the UTF-8, so decoding replaces nothing.
            return escaped ? j.unescaped(i + 1, end) : String(decoding: UnsafeBufferPointer(start: j.p + i + 1, count: end - i - 1), as: UTF8.self)
        }

        mutating func enter(_ i: Int) throws(StrictJSON.Failure) {
            depth += 1
            guard depth <= JSONTreeParser.maxDepth else {
                throw StrictJSON.Failure("the JSON nests deeper than \(JSONTreeParser.maxDepth) levels (at byte \(i))", at: i)
            }
        }

        /// Past `,` or the closing byte after a member or element; false at the closing byte.
        func more(_ i: inout Int, closing: UInt8) throws(StrictJSON.Failure) -> Bool {
            i = j.skipSpace(i)
            guard i < j.n else { throw StrictJSON.Failure("the JSON text ends before a '\(Character(Unicode.Scalar(closing)))'", at: i) }
            let c = j.p[i]
            i += 1
            if c == UInt8(ascii: ",") { return true }
            if c == closing { return false }
            throw StrictJSON.Failure("expected ',' or '\(Character(Unicode.Scalar(closing)))' at byte \(i - 1)", at: i - 1)
        }

        mutating func object(_ i: inout Int) throws(StrictJSON.Failure) -> JSONTree {
            try enter(i)
            i = j.skipSpace(i + 1)
            var fields: [String: JSONTree] = [:]
            if i < j.n && j.p[i] == UInt8(ascii: "}") { i += 1; depth -= 1; return .object(fields) }
            repeat {
                i = j.skipSpace(i)
                guard i < j.n, j.p[i] == StrictJSON.quote else { throw StrictJSON.Failure("expected a string key at byte \(i)", at: i) }
                let key = try string(&i)
                i = j.skipSpace(i)
                guard i < j.n, j.p[i] == UInt8(ascii: ":") else { throw StrictJSON.Failure("expected ':' at byte \(i)", at: i) }
                i += 1
                let v = try value(&i)
                // The first of repeated keys wins, as in JSONDecoder.
                if fields.index(forKey: key) == nil { fields[key] = v }
            } while try more(&i, closing: UInt8(ascii: "}"))
            depth -= 1
            return .object(fields)
        }

        mutating func array(_ i: inout Int) throws(StrictJSON.Failure) -> JSONTree {
            try enter(i)
            i = j.skipSpace(i + 1)
            var items: [JSONTree] = []
            if i < j.n && j.p[i] == UInt8(ascii: "]") { i += 1; depth -= 1; return .array(items) }
            repeat { items.append(try value(&i)) } while try more(&i, closing: UInt8(ascii: "]"))
            depth -= 1
            return .array(items)
        }
    }
}
