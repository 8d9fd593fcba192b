/// A strict RFC 8259 parser over bytes: no trailing commas, comments, NaN or leading zeros; strings must be
/// valid UTF-8; nesting is capped so a hostile body cannot exhaust the stack.
public enum JSONParser {
    public struct Error: Swift.Error, Equatable, CustomStringConvertible {
        public var message: String
        public var offset: Int
        public var description: String { "invalid JSON at byte \(offset): \(message)" }
    }

    public static let maxDepth = 200

    public static func parse(_ bytes: some Collection<UInt8>) throws(Error) -> JSONNode {
        let result: Result<JSONNode, Error>? = bytes.withContiguousStorageIfAvailable { buf in
            var p = Cursor(buf)
            return Result { () throws(Error) -> JSONNode in try p.document() }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buf throws(Error) -> JSONNode in
            var p = Cursor(buf)
            return try p.document()
        }
    }

    public static func parse(_ text: String) throws(Error) -> JSONNode { try parse(Array(text.utf8)) }

    private struct Cursor {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0
        var depth = 0
        init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

        func fail(_ m: String) -> Error { Error(message: m, offset: i) }

        mutating func document() throws(Error) -> JSONNode {
            let v = try value()
            skipSpace()
            guard i == b.count else { throw fail("unexpected data after the value") }
            return v
        }

        mutating func skipSpace() {
            while i < b.count {
                switch b[i] {
                case 0x20, 0x09, 0x0A, 0x0D: i += 1
                default: return
                }
            }
        }

        mutating func value() throws(Error) -> JSONNode {
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input") }
            switch b[i] {
            case UInt8(ascii: "{"): return try object()
            case UInt8(ascii: "["): return try array()
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw fail("unexpected character '\(Unicode.Scalar(b[i]))'")
            }
        }

        mutating func literal(_ word: StaticString) throws(Error) {
            let n = word.utf8CodeUnitCount
            guard i + n <= b.count else { throw fail("unexpected end of input") }
            let w = word.utf8Start
            for k in 0..<n where b[i + k] != w[k] { throw fail("invalid literal") }
            i += n
        }

        mutating func enter() throws(Error) {
            depth += 1
            if depth > JSONParser.maxDepth { throw fail("nested deeper than \(JSONParser.maxDepth) levels") }
        }

        mutating func object() throws(Error) -> JSONNode {
            try enter()
            i += 1
            var fields: [(key: String, value: JSONNode)] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; depth -= 1; return .object(fields) }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let k = try string()
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                fields.append((k, try value()))
                skipSpace()
                guard i < b.count else { throw fail("unexpected end of input") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; break }
                throw fail("expected ',' or '}'")
            }
            depth -= 1
            return .object(fields)
        }

        mutating func array() throws(Error) -> JSONNode {
            try enter()
            i += 1
            var items: [JSONNode] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; depth -= 1; return .array(items) }
            while true {
                items.append(try value())
                skipSpace()
                guard i < b.count else { throw fail("unexpected end of input") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; break }
                throw fail("expected ',' or ']'")
            }
            depth -= 1
            return .array(items)
        }

        mutating func number() throws(Error) -> JSONNode {
            let start = i
            if b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count else { throw fail("incomplete number") }
            if b[i] == UInt8(ascii: "0") {
                i += 1
                if i < b.count, isDigit(b[i]) { throw fail("leading zero in a number") }
            } else {
                guard isDigit(b[i]) else { throw fail("expected a digit") }
                while i < b.count, isDigit(b[i]) { i += 1 }
            }
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                guard i < b.count, isDigit(b[i]) else { throw fail("expected a digit after '.'") }
                while i < b.count, isDigit(b[i]) { i += 1 }
            }
            if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                i += 1
                if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                guard i < b.count, isDigit(b[i]) else { throw fail("expected a digit in the exponent") }
                while i < b.count, isDigit(b[i]) { i += 1 }
            }
            return .number(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self))
        }

        func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

        /// A string starting at the opening quote. Runs without escapes are copied as slices.
        mutating func string() throws(Error) -> String {
            i += 1
            let start = i
            // Fast path: no escapes before the closing quote.
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    let s = try utf8(start, i)
                    i += 1
                    return s
                }
                if c == UInt8(ascii: "\\") { break }
                if c < 0x20 { throw fail("control character in a string") }
                i += 1
            }
            guard i < b.count else { throw fail("unterminated string") }
            var out = String()
            out += try utf8(start, i)
            var run = i
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    out += try utf8(run, i)
                    i += 1
                    return out
                }
                if c < 0x20 { throw fail("control character in a string") }
                guard c == UInt8(ascii: "\\") else { i += 1; continue }
                out += try utf8(run, i)
                i += 1
                guard i < b.count else { throw fail("unterminated string") }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): out += "\""
                case UInt8(ascii: "\\"): out += "\\"
                case UInt8(ascii: "/"): out += "/"
                case UInt8(ascii: "b"): out += "\u{08}"
                case UInt8(ascii: "f"): out += "\u{0C}"
                case UInt8(ascii: "n"): out += "\n"
                case UInt8(ascii: "r"): out += "\r"
                case UInt8(ascii: "t"): out += "\t"
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one; a lone half becomes U+FFFD.
                        if i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                            let save = i
                            i += 2
                            let low = try hex4()
                            if (0xDC00...0xDFFF).contains(low) { scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) }
                            else { i = save; scalar = 0xFFFD }
                        } else { scalar = 0xFFFD }
                    } else if (0xDC00...0xDFFF).contains(scalar) { scalar = 0xFFFD }
                    out.unicodeScalars.append(Unicode.Scalar(scalar) ?? "\u{FFFD}")
                default: throw fail("invalid escape '\\\(Unicode.Scalar(e))'")
                }
                run = i
            }
            throw fail("unterminated string")
        }

        mutating func hex4() throws(Error) -> UInt32 {
            guard i + 4 <= b.count else { throw fail("incomplete \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = b[i]
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
                default: throw fail("invalid \\u escape")
                }
                v = v << 4 | UInt32(d)
                i += 1
            }
            return v
        }

        func utf8(_ from: Int, _ to: Int) throws(Error) -> String {
            let slice = UnsafeBufferPointer(rebasing: b[from..<to])
            guard let s = String(validating: slice, as: UTF8.self) else { throw Error(message: "invalid UTF-8 in a string", offset: from) }
            return s
        }
    }
}
