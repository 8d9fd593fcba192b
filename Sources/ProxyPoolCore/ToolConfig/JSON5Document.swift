/// A JSON or JSON5 file (Claude Code's `settings.json`, OpenClaw's `openclaw.json`) parsed with the byte span of
/// every member, so that a member can be set, added or removed while every other byte stays as it was: comments,
/// trailing commas, unquoted keys, single quotes, order and indentation. A file that does not parse as its
/// dialect is refused, never rewritten. (JSON: RFC 8259; JSON5: https://spec.json5.org/.)
public struct JSON5Document: Sendable {
    public enum Dialect: Sendable { case json, json5 }

    struct Member: Sendable {
        var key: String
        var keyStart: Int
        var valueStart: Int
        var valueEnd: Int
        var value: Node
        /// Just past the comma after the value, when there is one.
        var commaEnd: Int?
    }

    indirect enum Node: Sendable {
        case object(open: Int, close: Int, members: [Member])
        case other
    }

    public let bytes: [UInt8]
    public let dialect: Dialect
    var root: Node
    /// The root's span.
    var rootStart = 0, rootEnd = 0
    let newline: [UInt8]

    public static let maxBytes = 4 << 20

    public init(_ bytes: [UInt8], dialect: Dialect) throws(ToolConfigError) {
        guard bytes.count <= Self.maxBytes else { throw ToolConfigError("the file is larger than \(Self.maxBytes >> 20) MiB") }
        try TextScan.requireUTF8(bytes)
        self.bytes = bytes
        self.dialect = dialect
        let firstLF = bytes.firstIndex(of: 0x0A)
        newline = firstLF.map { $0 > 0 && bytes[$0 - 1] == 0x0D } == true ? [0x0D, 0x0A] : [0x0A]
        var p = JSON5Parser(bytes: bytes, json5: dialect == .json5)
        try p.skipSpace()
        // A UTF-8 byte-order mark is kept as it is (JSON5 counts it as space; RFC 8259 lets parsers ignore it).
        rootStart = p.i
        root = try p.valueThrowing(depth: 0)
        rootEnd = p.i
        try p.skipSpace()
        guard p.i == bytes.count else { throw p.fail("unexpected text after the document's value") }
    }

    /// Whether `path` names a member.
    public func contains(_ path: [String]) -> Bool { (try? find(path)) != nil }

    /// The document with `path` set to `value`: an existing member's value is replaced, a missing one is added
    /// (with the objects on its way) at the end of its object, indented as its siblings.
    public func setting(_ path: [String], to value: ConfigValue) throws(ToolConfigError) -> JSON5Document {
        precondition(!path.isEmpty)
        // The deepest object on the way that exists, and the first key missing under it.
        var node = root
        var depth = 0
        var lineOf = rootStart
        while depth < path.count {
            guard case .object(_, _, let members) = node else {
                throw ToolConfigError("'\(path.prefix(depth).joined(separator: "."))' is not an object; change it by hand", line: TextScan.line(of: lineOf, in: bytes))
            }
            guard let m = members.first(where: { $0.key == path[depth] }) else { break }
            if depth == path.count - 1 {
                let indent = TextScan.indentation(at: m.keyStart, in: bytes)
                return try edited([TextEdit(m.valueStart, m.valueEnd, render(value, indent: indent))])
            }
            node = m.value
            lineOf = m.keyStart
            depth += 1
        }
        guard case .object(let open, let close, let members) = node else {
            throw ToolConfigError("'\(path.prefix(depth).joined(separator: "."))' is not an object; change it by hand", line: TextScan.line(of: lineOf, in: bytes))
        }
        // What goes in: the missing key, holding the rest of the path as nested objects.
        var inner = value
        for k in path[(depth + 1)...].reversed() { inner = .object([(k, inner)]) }
        let key = path[depth]
        let unit = indentUnit()
        if let last = members.last {
            let lineStart = TextScan.lineStart(last.keyStart, in: bytes)
            let multiLine = TextScan.blank(bytes, lineStart, last.keyStart) && TextScan.line(of: open, in: bytes) != TextScan.line(of: last.keyStart, in: bytes)
            if !multiLine {
                let member = Array(" \(ConfigValue.quoted(key)): \(inner.compactJSON)".utf8)
                if let c = last.commaEnd { return try edited([TextEdit(c, c, member + Array(",".utf8))]) }
                return try edited([TextEdit(last.valueEnd, last.valueEnd, Array(",".utf8) + member)])
            }
            let indent = TextScan.indentation(at: last.keyStart, in: bytes)
            let member = newline + indent + memberText(key, inner, indent: indent)
            if let c = last.commaEnd {
                let at = endOfLineContent(after: c)
                return try edited([TextEdit(at, at, member + Array(",".utf8))])
            }
            let at = endOfLineContent(after: last.valueEnd)
            return try edited([TextEdit(last.valueEnd, last.valueEnd, Array(",".utf8)), TextEdit(at, at, member)])
        }
        // An empty object (perhaps holding comments): the member on a line of its own after the brace.
        let outer = TextScan.indentation(at: open, in: bytes)
        let indent = outer + unit
        let member = newline + indent + memberText(key, inner, indent: indent)
        let sameLine = TextScan.line(of: open, in: bytes) == TextScan.line(of: close, in: bytes)
        // Only ever inserting: whatever lies between the braces stays.
        if sameLine { return try edited([TextEdit(close, close, member + newline + outer)]) }
        return try edited([TextEdit(open + 1, open + 1, member)])
    }

    /// The document without the member at `path` (unchanged when there is none), with its comma.
    public func removing(_ path: [String]) throws(ToolConfigError) -> JSON5Document {
        guard let (members, index) = try? find(path) else { return self }
        let m = members[index]
        let lineStart = TextScan.lineStart(m.keyStart, in: bytes)
        let firstOnLine = TextScan.blank(bytes, lineStart, m.keyStart)
        if let c = m.commaEnd {
            var end = c
            while end < bytes.count && (bytes[end] == 0x20 || bytes[end] == 0x09) { end += 1 }
            if firstOnLine && (end == bytes.count || bytes[end] == 0x0A || bytes[end] == 0x0D) {
                return try edited([TextEdit(lineStart, TextScan.lineEnd(end, in: bytes), [])])
            }
            return try edited([TextEdit(firstOnLine ? lineStart : m.keyStart, end, [])])
        }
        // The last member: from the end of the line before it, and the comma before it; on one line with the
        // member before it, from that member's value.
        if index > 0 && !firstOnLine { return try edited([TextEdit(members[index - 1].valueEnd, m.valueEnd, [])]) }
        var start = m.keyStart
        if firstOnLine && lineStart > 0 {
            start = lineStart - 1
            if start > 0 && bytes[start - 1] == 0x0D { start -= 1 }
        }
        var edits = [TextEdit(start, m.valueEnd, [])]
        if index > 0, let c = members[index - 1].commaEnd, c - 1 < start { edits.append(TextEdit(c - 1, c, [])) }
        return try edited(edits)
    }

    /// The members of the object holding `path`'s last key, and the index of that key.
    func find(_ path: [String]) throws -> ([Member], Int) {
        var node = root
        for (d, k) in path.enumerated() {
            guard case .object(_, _, let members) = node, let i = members.firstIndex(where: { $0.key == k }) else { throw ToolConfigError("no member") }
            if d == path.count - 1 { return (members, i) }
            node = members[i].value
        }
        throw ToolConfigError("empty path")
    }

    /// The string at `path`, when it is one written as plain JSON (what we write ourselves).
    public func stringValue(_ path: [String]) -> String? {
        guard let (members, i) = try? find(path) else { return nil }
        let m = members[i]
        var p = JSON5Parser(bytes: bytes, json5: true)
        p.i = m.valueStart
        return try? p.stringContents()
    }

    func edited(_ edits: [TextEdit]) throws(ToolConfigError) -> JSON5Document {
        try JSON5Document(TextEdit.apply(edits, to: bytes), dialect: dialect)
    }

    /// Where text added after `offset` goes: the end of that line when only spaces or a line comment follow,
    /// else `offset` itself.
    func endOfLineContent(after offset: Int) -> Int {
        var j = offset
        while j < bytes.count && (bytes[j] == 0x20 || bytes[j] == 0x09) { j += 1 }
        if j + 1 < bytes.count && bytes[j] == 0x2F && bytes[j + 1] == 0x2F {
            while j < bytes.count && bytes[j] != 0x0A { j += 1 }
            if j > offset && bytes[j - 1] == 0x0D { j -= 1 }
            return j
        }
        if j < bytes.count && (bytes[j] == 0x0A || bytes[j] == 0x0D) { return j }
        return offset
    }

    /// The file's indentation step: the first indented line's, else two spaces.
    func indentUnit() -> [UInt8] {
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x0A, i + 1 < bytes.count, bytes[i + 1] == 0x20 || bytes[i + 1] == 0x09 {
                let indent = TextScan.indentation(at: i + 1, in: bytes)
                if !indent.isEmpty && indent.count <= 8 { return indent }
            }
            i += 1
        }
        return Array("  ".utf8)
    }

    func memberText(_ key: String, _ value: ConfigValue, indent: [UInt8]) -> [UInt8] {
        Array(ConfigValue.quoted(key).utf8) + Array(": ".utf8) + render(value, indent: indent)
    }

    /// A value as JSON (valid JSON5 too), nested lines indented from `indent`.
    func render(_ value: ConfigValue, indent: [UInt8]) -> [UInt8] {
        let unit = indentUnit()
        switch value {
        case .object(let members) where !members.isEmpty:
            var out = Array("{".utf8)
            for (n, (k, v)) in members.enumerated() {
                out += newline + indent + unit + memberText(k, v, indent: indent + unit)
                if n < members.count - 1 { out += Array(",".utf8) }
            }
            return out + newline + indent + Array("}".utf8)
        case .array(let items) where !items.isEmpty:
            var out = Array("[".utf8)
            for (n, v) in items.enumerated() {
                out += newline + indent + unit + render(v, indent: indent + unit)
                if n < items.count - 1 { out += Array(",".utf8) }
            }
            return out + newline + indent + Array("]".utf8)
        default:
            return Array(value.compactJSON.utf8)
        }
    }
}

/// A value the tool configurations write.
public indirect enum ConfigValue: Equatable, Sendable {
    case string(String)
    case bool(Bool)
    case int(Int)
    case array([ConfigValue])
    case object([(String, ConfigValue)])

    public static func == (a: ConfigValue, b: ConfigValue) -> Bool { a.compactJSON == b.compactJSON }

    public var compactJSON: String {
        switch self {
        case .string(let s): return Self.quoted(s)
        case .bool(let b): return b ? "true" : "false"
        case .int(let n): return String(n)
        case .array(let items): return "[" + items.map(\.compactJSON).joined(separator: ", ") + "]"
        case .object(let members): return "{" + members.map { Self.quoted($0.0) + ": " + $0.1.compactJSON }.joined(separator: ", ") + "}"
        }
    }

    /// A JSON string literal (U+2028 and U+2029 escaped too: older JavaScript parsers end a line there).
    public static func quoted(_ s: String) -> String { JSONText.literal(s, escapingAlso: { $0 == "\u{2028}" || $0 == "\u{2029}" }) }
}

/// JSON and JSON5, byte by byte, keeping spans.
struct JSON5Parser {
    let bytes: [UInt8]
    let json5: Bool
    var i = 0

    init(bytes: [UInt8], json5: Bool) { self.bytes = bytes; self.json5 = json5 }

    func fail(_ message: String, at: Int? = nil) -> ToolConfigError {
        ToolConfigError(message, line: TextScan.line(of: at ?? i, in: bytes))
    }

    var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    func starts(_ s: String, at j: Int) -> Bool {
        let u = Array(s.utf8)
        return j + u.count <= bytes.count && Array(bytes[j..<j + u.count]) == u
    }

    /// Spaces (and, in JSON5, comments and the other white space it allows).
    mutating func skipSpace() throws(ToolConfigError) {
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1; continue }
            // A UTF-8 byte-order mark at the start.
            if i == 0 && starts("\u{FEFF}", at: 0) { i += 3; continue }
            guard json5 else {
                if c == 0x2F { throw fail("a comment (JSON allows none)") }
                return
            }
            if c == 0x0B || c == 0x0C { i += 1; continue }
            if starts("\u{00A0}", at: i) { i += 2; continue }
            if starts("\u{2028}", at: i) || starts("\u{2029}", at: i) || starts("\u{FEFF}", at: i) { i += 3; continue }
            if c == 0x2F && i + 1 < bytes.count && bytes[i + 1] == 0x2F {
                while i < bytes.count && bytes[i] != 0x0A { i += 1 }
                continue
            }
            if c == 0x2F && i + 1 < bytes.count && bytes[i + 1] == 0x2A {
                let start = i
                i += 2
                while i + 1 < bytes.count && !(bytes[i] == 0x2A && bytes[i + 1] == 0x2F) { i += 1 }
                guard i + 1 < bytes.count else { throw fail("a /* comment is never closed", at: start) }
                i += 2
                continue
            }
            return
        }
    }

    mutating func valueThrowing(depth: Int) throws(ToolConfigError) -> JSON5Document.Node {
        guard depth < 128 else { throw fail("values nested deeper than 128 levels") }
        guard let c = peek else { throw fail("the document ends where a value was expected") }
        switch c {
        case UInt8(ascii: "{"):
            let open = i
            i += 1
            var members: [JSON5Document.Member] = []
            var keys: Set<String> = []
            while true {
                try skipSpace()
                if peek == UInt8(ascii: "}") {
                    if !json5, let last = members.last, last.commaEnd != nil { throw fail("a comma before '}' (JSON allows none)") }
                    break
                }
                if let last = members.last, last.commaEnd == nil { throw fail("expected ',' or '}' after a member") }
                let keyStart = i
                let key = try memberKey()
                guard keys.insert(key).inserted else { throw fail("key '\(key.prefix(60))' appears twice in one object", at: keyStart) }
                try skipSpace()
                guard peek == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
                i += 1
                try skipSpace()
                let valueStart = i
                let v = try valueThrowing(depth: depth + 1)
                let valueEnd = i
                try skipSpace()
                var commaEnd: Int?
                if peek == UInt8(ascii: ",") { i += 1; commaEnd = i }
                members.append(.init(key: key, keyStart: keyStart, valueStart: valueStart, valueEnd: valueEnd, value: v, commaEnd: commaEnd))
            }
            let close = i
            i += 1
            return .object(open: open, close: close, members: members)
        case UInt8(ascii: "["):
            i += 1
            var trailingComma = false, count = 0
            while true {
                try skipSpace()
                if peek == UInt8(ascii: "]") {
                    if !json5 && trailingComma { throw fail("a comma before ']' (JSON allows none)") }
                    i += 1
                    return .other
                }
                if count > 0 && !trailingComma { throw fail("expected ',' or ']' in an array") }
                _ = try valueThrowing(depth: depth + 1)
                count += 1
                try skipSpace()
                trailingComma = peek == UInt8(ascii: ",")
                if trailingComma { i += 1 }
            }
        case UInt8(ascii: "\""):
            _ = try stringContents()
            return .other
        case UInt8(ascii: "'") where json5:
            _ = try stringContents()
            return .other
        default:
            for word in ["true", "false", "null"] + (json5 ? ["Infinity", "+Infinity", "-Infinity", "NaN", "+NaN", "-NaN"] : []) where starts(word, at: i) {
                let end = i + word.utf8.count
                if end < bytes.count && Self.isIdentifierByte(bytes[end]) { break }
                i = end
                return .other
            }
            try number()
            return .other
        }
    }

    /// A key: a string, or in JSON5 an identifier.
    mutating func memberKey() throws(ToolConfigError) -> String {
        guard let c = peek else { throw fail("the document ends where a key was expected") }
        if c == UInt8(ascii: "\"") || (json5 && c == UInt8(ascii: "'")) { return try stringContents() }
        guard json5 else { throw fail("a key must be a string in double quotes") }
        let start = i
        while i < bytes.count && (Self.isIdentifierByte(bytes[i]) || bytes[i] == UInt8(ascii: "\\")) {
            if bytes[i] == UInt8(ascii: "\\") {
                guard i + 5 < bytes.count, bytes[i + 1] == UInt8(ascii: "u"), bytes[i + 2..<i + 6].allSatisfy(TextScan.isHexDigit) else {
                    throw fail("a bad escape in a key")
                }
                i += 6
            } else { i += 1 }
        }
        guard i > start, !(bytes[start] >= 0x30 && bytes[start] <= 0x39) else { throw fail("expected a key (a string or a name)", at: start) }
        var p = JSON5Parser(bytes: bytes, json5: true)
        return try p.decode(start, i)
    }

    static func isIdentifierByte(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x24 || c >= 0x80
    }

    /// A quoted string at `i`, decoded; `i` ends past its closing quote.
    mutating func stringContents() throws(ToolConfigError) -> String {
        guard let q = peek, q == 0x22 || (json5 && q == 0x27) else { throw fail("expected a string") }
        let start = i
        i += 1
        let contentStart = i
        while i < bytes.count {
            let c = bytes[i]
            if c == q {
                let end = i
                i += 1
                return try decode(contentStart, end)
            }
            if c == 0x5C {
                guard i + 1 < bytes.count else { break }
                let e = bytes[i + 1]
                switch e {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: i += 2
                case 0x75:
                    guard i + 5 < bytes.count, bytes[i + 2..<i + 6].allSatisfy(TextScan.isHexDigit) else { throw fail("a bad \\u escape in a string") }
                    i += 6
                default:
                    guard json5 else { throw fail("a bad escape in a string (JSON)") }
                    if e == 0x78 {
                        guard i + 3 < bytes.count, bytes[i + 2..<i + 4].allSatisfy(TextScan.isHexDigit) else { throw fail("a bad \\x escape in a string") }
                        i += 4
                    } else if e >= 0x31 && e <= 0x39 {
                        throw fail("a digit escape in a string")
                    } else if e == 0x0D && i + 2 < bytes.count && bytes[i + 2] == 0x0A {
                        i += 3
                    } else {
                        // Any other character escapes itself (a line feed continues the string); skip it whole.
                        i += 2
                        while i < bytes.count && bytes[i] & 0xC0 == 0x80 { i += 1 }
                    }
                }
                continue
            }
            if c == 0x0A || c == 0x0D { throw fail("a line break inside a string", at: start) }
            if c < 0x20 && !(json5 && c == 0x09) { throw fail("a control character inside a string") }
            i += 1
        }
        throw fail("a string is never closed", at: start)
    }

    /// The text of a string's contents (or an identifier) with its escapes resolved.
    mutating func decode(_ from: Int, _ to: Int) throws(ToolConfigError) -> String {
        var out: [UInt8] = []
        var j = from
        var pendingHigh: UInt32?
        func scalar(_ v: UInt32) {
            if let h = pendingHigh, v >= 0xDC00 && v <= 0xDFFF {
                pendingHigh = nil
                let s = 0x10000 + ((h - 0xD800) << 10) + (v - 0xDC00)
                out += Array(String(Unicode.Scalar(s).map(Character.init) ?? "\u{FFFD}").utf8)
                return
            }
            if pendingHigh != nil { out += Array("\u{FFFD}".utf8); pendingHigh = nil }
            if v >= 0xD800 && v <= 0xDBFF { pendingHigh = v; return }
            out += Array(String(Unicode.Scalar(v).map(Character.init) ?? "\u{FFFD}").utf8)
        }
        while j < to {
            let c = bytes[j]
            guard c == 0x5C, j + 1 < to else {
                if pendingHigh != nil { out += Array("\u{FFFD}".utf8); pendingHigh = nil }
                out.append(c); j += 1; continue
            }
            let e = bytes[j + 1]
            switch e {
            case 0x75:
                scalar(UInt32(String(decoding: bytes[j + 2..<j + 6], as: UTF8.self), radix: 16) ?? 0xFFFD); j += 6
            case 0x78:
                scalar(UInt32(String(decoding: bytes[j + 2..<j + 4], as: UTF8.self), radix: 16) ?? 0xFFFD); j += 4
            default:
                let simple: [UInt8: UInt8] = [0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09, 0x76: 0x0B, 0x30: 0x00]
                if pendingHigh != nil { out += Array("\u{FFFD}".utf8); pendingHigh = nil }
                if let s = simple[e] { out.append(s); j += 2 }
                else if e == 0x0A { j += 2 }
                else if e == 0x0D { j += (j + 2 < to && bytes[j + 2] == 0x0A) ? 3 : 2 }
                else { out.append(e); j += 2 }   // the character escaped (\\, \", \', \/, or any other in JSON5)
            }
        }
        if pendingHigh != nil { out += Array("\u{FFFD}".utf8) }
        return String(decoding: out, as: UTF8.self)
    }

    /// A number: JSON's grammar, or JSON5's (sign, hex, leading or trailing point).
    mutating func number() throws(ToolConfigError) {
        let start = i
        func digits() -> Int { let s = i; while i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 { i += 1 }; return i - s }
        if peek == UInt8(ascii: "-") || (json5 && peek == UInt8(ascii: "+")) { i += 1 }
        if json5 && peek == UInt8(ascii: "0") && i + 1 < bytes.count && (bytes[i + 1] | 0x20) == UInt8(ascii: "x") {
            i += 2
            let s = i
            while i < bytes.count && TextScan.isHexDigit(bytes[i]) { i += 1 }
            guard i > s else { throw fail("a bad hexadecimal number", at: start) }
        } else {
            let intDigits = digits()
            if !json5 && intDigits > 1 && bytes[i - intDigits] == UInt8(ascii: "0") { throw fail("a number with a leading zero", at: start) }
            var fracDigits = 0
            if peek == UInt8(ascii: ".") {
                i += 1
                fracDigits = digits()
                if !json5 && fracDigits == 0 { throw fail("a number ends in '.'", at: start) }
            }
            guard intDigits > 0 || (json5 && fracDigits > 0) else { throw fail("expected a value", at: start) }
            if let e = peek, e | 0x20 == UInt8(ascii: "e") {
                i += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { throw fail("a number with a bad exponent", at: start) }
            }
        }
        if let c = peek, Self.isIdentifierByte(c) { throw fail("expected a value", at: start) }
    }
}
