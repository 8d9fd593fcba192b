/// A TOML file read strictly enough to edit it safely (Codex's `config.toml`): every statement is parsed (tables,
/// array tables, dotted and quoted keys, strings of all four kinds, arrays, inline tables, numbers, dates), and
/// a file that does not parse is refused, never rewritten. Edits replace a value's bytes or insert lines, so
/// comments, ordering, formatting and unrelated tables stay byte for byte.
/// (TOML 1.0, https://toml.io/en/v1.0.0; inline tables may span lines and end with a comma as in TOML 1.1.)
public struct TOMLDocument: Sendable {
    /// A `key = value` statement.
    struct Entry: Sendable {
        var table: [String]
        var key: [String]
        var lineStart: Int
        var valueStart: Int
        var valueEnd: Int
        /// Just past the statement's line feed.
        var lineEnd: Int
    }

    /// A `[table]` or `[[array]]` header and the end of its last statement.
    struct Table: Sendable {
        var path: [String]
        var isArray: Bool
        var headerStart: Int
        var lastStatementEnd: Int
    }

    public let bytes: [UInt8]
    var entries: [Entry] = []
    var tables: [Table] = []
    /// The end of the root table's last statement (0 when it has none).
    var rootLastStatementEnd = 0
    /// Tables made by dotted keys or written as inline tables: TOML forbids reopening them with a header.
    var closedTables: Set<[String]> = []
    /// The line ending the file uses ("\r\n" when its first line ends so).
    let newline: [UInt8]

    /// Files larger than this are refused (a config file is a few KiB).
    public static let maxBytes = 4 << 20

    public init(_ bytes: [UInt8]) throws(ToolConfigError) {
        guard bytes.count <= Self.maxBytes else { throw ToolConfigError("the file is larger than \(Self.maxBytes >> 20) MiB") }
        try TextScan.requireUTF8(bytes)
        self.bytes = bytes
        let firstLF = bytes.firstIndex(of: 0x0A)
        newline = firstLF.map { $0 > 0 && bytes[$0 - 1] == 0x0D } == true ? [0x0D, 0x0A] : [0x0A]
        var p = TOMLParser(bytes: bytes)
        try p.parse(into: &self)
    }

    /// The edits that set `values` (key → TOML value text, see `TOMLDocument.string`) in `table` (`[]` = the root
    /// table): an existing value is replaced in place, missing keys are added after the table's last statement,
    /// and a missing table is appended at the end of the file.
    public func edits(setting values: [(key: String, value: String)], inTable table: [String]) throws(ToolConfigError) -> [TextEdit] {
        var edits: [TextEdit] = []
        var missing: [(key: String, value: String)] = []
        for (key, value) in values {
            if let e = entries.first(where: { $0.table == table && $0.key == [key] }) {
                edits.append(TextEdit(e.valueStart, e.valueEnd, value))
            } else if let e = entries.first(where: { $0.table == table && $0.key.first == key }) {
                throw ToolConfigError("'\(Self.dotted(table + [key]))' is set with dotted keys; change it by hand", line: TextScan.line(of: e.lineStart, in: bytes))
            } else {
                missing.append((key, value))
            }
        }
        guard !missing.isEmpty else { return edits }
        let lines = missing.flatMap { Array("\(Self.key($0.key)) = \($0.value)".utf8) + newline }
        if table.isEmpty {
            // After the root table's last statement; with none, at the very top (before any header's comments).
            let at = rootLastStatementEnd
            edits.append(TextEdit(at, at, (at > 0 && bytes[at - 1] != 0x0A ? newline : []) + lines + (at == 0 && !bytes.isEmpty ? newline : [])))
        } else if let t = tables.first(where: { $0.path == table }) {
            if t.isArray { throw ToolConfigError("'\(Self.dotted(table))' is an array of tables; change it by hand", line: TextScan.line(of: t.headerStart, in: bytes)) }
            let at = t.lastStatementEnd
            edits.append(TextEdit(at, at, (at > 0 && bytes[at - 1] != 0x0A ? newline : []) + lines))
        } else {
            for n in 1...table.count where closedTables.contains(Array(table.prefix(n))) || entries.contains(where: { $0.table + $0.key == Array(table.prefix(n)) }) {
                throw ToolConfigError("'\(Self.dotted(Array(table.prefix(n))))' is written as a value or with dotted keys; change it by hand")
            }
            var block: [UInt8] = []
            if !bytes.isEmpty {
                if bytes.last != 0x0A { block += newline }
                block += newline
            }
            block += Array("[\(table.map(Self.key).joined(separator: "."))]".utf8) + newline + lines
            edits.append(TextEdit(bytes.count, bytes.count, block))
        }
        return edits
    }

    /// The value text of `key` in `table`, as written in the file.
    public func valueText(_ table: [String], _ key: String) -> String? {
        entries.first { $0.table == table && $0.key == [key] }.map { String(decoding: bytes[$0.valueStart..<$0.valueEnd], as: UTF8.self) }
    }

    /// A TOML basic string: JSON's escapes are TOML's, and TOML refuses a raw DEL too.
    public static func string(_ s: String) -> String { JSONText.literal(s, escapingAlso: { $0.value == 0x7F }) }

    /// A key: bare when it may be, else quoted.
    static func key(_ k: String) -> String {
        !k.isEmpty && k.utf8.allSatisfy(TOMLParser.isBareKey) ? k : string(k)
    }

    static func dotted(_ path: [String]) -> String { path.map(key).joined(separator: ".") }
}

/// The statements of a TOML file, byte by byte.
struct TOMLParser {
    let bytes: [UInt8]
    var i = 0
    var table: [String] = []
    var seenKeys: Set<[String]> = []
    var seenTables: Set<[String]> = []

    init(bytes: [UInt8]) { self.bytes = bytes }

    static func isBareKey(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
    }

    func fail(_ message: String, at: Int? = nil) -> ToolConfigError {
        ToolConfigError(message, line: TextScan.line(of: at ?? i, in: bytes))
    }

    var atEnd: Bool { i >= bytes.count }
    var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    mutating func skipSpaces() { while i < bytes.count && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 } }

    /// A comment's text must hold no control characters but tabs.
    mutating func skipComment() throws(ToolConfigError) {
        guard peek == UInt8(ascii: "#") else { return }
        while i < bytes.count && bytes[i] != 0x0A {
            if bytes[i] == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A { break }
            if (bytes[i] < 0x20 && bytes[i] != 0x09) || bytes[i] == 0x7F { throw fail("a control character in a comment") }
            i += 1
        }
    }

    /// The end of a statement: spaces, an optional comment, then a newline or the end of the file.
    mutating func endOfLine() throws(ToolConfigError) {
        skipSpaces()
        try skipComment()
        if atEnd { return }
        if bytes[i] == 0x0A { i += 1; return }
        if bytes[i] == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A { i += 2; return }
        throw fail("unexpected text after a value or header")
    }

    mutating func parse(into doc: inout TOMLDocument) throws(ToolConfigError) {
        while !atEnd {
            let lineStart = i
            skipSpaces()
            guard let c = peek else { break }
            if c == UInt8(ascii: "#") || c == 0x0A || c == 0x0D { try endOfLine(); continue }
            if c == UInt8(ascii: "[") {
                let isArray = i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "[")
                i += isArray ? 2 : 1
                skipSpaces()
                let path = try key()
                skipSpaces()
                guard peek == UInt8(ascii: "]") else { throw fail("a table header must end with ']'") }
                i += 1
                if isArray {
                    guard peek == UInt8(ascii: "]") else { throw fail("an array-of-tables header must end with ']]'") }
                    i += 1
                }
                if isArray {
                    // Each [[array]] element is a table of its own: its keys start afresh.
                    seenKeys = seenKeys.filter { !($0.count > path.count && Array($0.prefix(path.count)) == path) }
                    seenTables = seenTables.filter { !($0.count > path.count && Array($0.prefix(path.count)) == path) }
                } else {
                    if seenTables.contains(path) || doc.closedTables.contains(path) || seenKeys.contains(path) {
                        throw fail("table [\(TOMLDocument.dotted(path))] is defined twice", at: lineStart)
                    }
                    seenTables.insert(path)
                }
                try endOfLine()
                table = path
                doc.tables.append(.init(path: path, isArray: isArray, headerStart: lineStart, lastStatementEnd: i))
                continue
            }
            let k = try key()
            skipSpaces()
            guard peek == UInt8(ascii: "=") else { throw fail("expected '=' after the key") }
            i += 1
            skipSpaces()
            let valueStart = i
            let full = table + k
            try value(path: full, doc: &doc)
            let valueEnd = i
            try endOfLine()
            if seenKeys.contains(full) || seenTables.contains(full) { throw fail("key '\(TOMLDocument.dotted(full))' is defined twice", at: lineStart) }
            // Dotted keys define the tables on their way; a header may not reopen those.
            for n in table.count + 1..<full.count {
                let t = Array(full.prefix(n))
                if seenKeys.contains(t) { throw fail("key '\(TOMLDocument.dotted(t))' is defined twice", at: lineStart) }
                doc.closedTables.insert(t)
            }
            seenKeys.insert(full)
            doc.entries.append(.init(table: table, key: k, lineStart: lineStart, valueStart: valueStart, valueEnd: valueEnd, lineEnd: i))
            if doc.tables.isEmpty { doc.rootLastStatementEnd = i } else { doc.tables[doc.tables.count - 1].lastStatementEnd = i }
        }
    }

    /// A dotted key: bare, "basic" or 'literal' parts with optional spaces around the dots.
    mutating func key() throws(ToolConfigError) -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            guard let c = peek else { throw fail("expected a key") }
            if c == UInt8(ascii: "\"") {
                if i + 2 < bytes.count && bytes[i + 1] == c && bytes[i + 2] == c { throw fail("a key cannot be a multi-line string") }
                let start = i
                try basicString()
                parts.append(try decodeBasic(start + 1, i - 1))
            } else if c == UInt8(ascii: "'") {
                if i + 2 < bytes.count && bytes[i + 1] == c && bytes[i + 2] == c { throw fail("a key cannot be a multi-line string") }
                let start = i
                try literalString()
                parts.append(String(decoding: bytes[start + 1..<i - 1], as: UTF8.self))
            } else {
                let start = i
                while i < bytes.count && Self.isBareKey(bytes[i]) { i += 1 }
                guard i > start else { throw fail("expected a key") }
                parts.append(String(decoding: bytes[start..<i], as: UTF8.self))
            }
            let afterPart = i
            skipSpaces()
            if peek == UInt8(ascii: ".") { i += 1; continue }
            i = afterPart
            return parts
        }
    }

    /// A value; arrays and inline tables recursively. `path` is the key it belongs to.
    mutating func value(path: [String], doc: inout TOMLDocument, depth: Int = 0) throws(ToolConfigError) {
        guard depth < 64 else { throw fail("values nested deeper than 64 levels") }
        guard let c = peek else { throw fail("expected a value") }
        switch c {
        case UInt8(ascii: "\""):
            if i + 2 < bytes.count && bytes[i + 1] == c && bytes[i + 2] == c { try multiline(quote: c) } else { try basicString() }
        case UInt8(ascii: "'"):
            if i + 2 < bytes.count && bytes[i + 1] == c && bytes[i + 2] == c { try multiline(quote: c) } else { try literalString() }
        case UInt8(ascii: "["):
            i += 1
            while true {
                try skipSpacesNewlinesComments()
                if peek == UInt8(ascii: "]") { i += 1; return }
                try value(path: path, doc: &doc, depth: depth + 1)
                try skipSpacesNewlinesComments()
                if peek == UInt8(ascii: ",") { i += 1; continue }
                if peek == UInt8(ascii: "]") { i += 1; return }
                throw fail("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "{"):
            i += 1
            doc.closedTables.insert(path)
            var keys: Set<[String]> = []
            while true {
                try skipSpacesNewlinesComments()
                if peek == UInt8(ascii: "}") { i += 1; return }
                let k = try key()
                guard keys.insert(k).inserted else { throw fail("key '\(TOMLDocument.dotted(k))' is defined twice in an inline table") }
                skipSpaces()
                guard peek == UInt8(ascii: "=") else { throw fail("expected '=' in an inline table") }
                i += 1
                skipSpaces()
                try value(path: path + k, doc: &doc, depth: depth + 1)
                try skipSpacesNewlinesComments()
                if peek == UInt8(ascii: ",") { i += 1; continue }
                if peek == UInt8(ascii: "}") { i += 1; return }
                throw fail("expected ',' or '}' in an inline table")
            }
        default:
            try bareValue()
        }
    }

    mutating func skipSpacesNewlinesComments() throws(ToolConfigError) {
        while true {
            skipSpaces()
            guard let c = peek else { return }
            if c == UInt8(ascii: "#") { try skipComment(); continue }
            if c == 0x0A { i += 1; continue }
            if c == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A { i += 2; continue }
            return
        }
    }

    /// true, false, numbers and dates: the characters they may hold, starting as they may start.
    mutating func bareValue() throws(ToolConfigError) {
        let start = i
        func allowed(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2B || c == 0x2D || c == 0x5F || c == 0x2E || c == 0x3A
        }
        while i < bytes.count && allowed(bytes[i]) {
            i += 1
            // A date-time may separate date and time with one space: 1979-05-27 07:32:00.
            if i - start == 10, i + 2 < bytes.count, bytes[i] == 0x20, bytes[start + 4] == 0x2D, bytes[start + 7] == 0x2D,
               bytes[i + 1] >= 0x30 && bytes[i + 1] <= 0x39 { i += 1 }
        }
        let token = String(decoding: bytes[start..<i], as: UTF8.self)
        guard !token.isEmpty else { throw fail("expected a value") }
        if ["true", "false", "inf", "+inf", "-inf", "nan", "+nan", "-nan"].contains(token) { return }
        guard let f = token.utf8.first, (f >= 0x30 && f <= 0x39) || f == 0x2B || f == 0x2D else {
            throw fail("'\(token.prefix(40))' is not a TOML value (strings need quotes)", at: start)
        }
        // Letters only where numbers and dates have them: hex digits, exponents, prefixes, T and Z.
        for u in token.utf8 where (u >= 0x41 && u <= 0x5A) || (u >= 0x61 && u <= 0x7A) {
            let l = u | 0x20
            if !(l >= 0x61 && l <= 0x66) && l != 0x78 && l != 0x6F && l != 0x62 && l != 0x74 && l != 0x7A {
                throw fail("'\(token.prefix(40))' is not a TOML value (strings need quotes)", at: start)
            }
        }
    }

    /// "basic": escapes, no newline.
    mutating func basicString() throws(ToolConfigError) {
        let start = i
        i += 1
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") { i += 1; return }
            if c == UInt8(ascii: "\\") { try escape(multiline: false); continue }
            if c == 0x0A || c == 0x0D { break }
            if (c < 0x20 && c != 0x09) || c == 0x7F { throw fail("a control character in a string") }
            i += 1
        }
        throw fail("a string is not closed on its line", at: start)
    }

    /// 'literal': no escapes, no newline.
    mutating func literalString() throws(ToolConfigError) {
        let start = i
        i += 1
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "'") { i += 1; return }
            if c == 0x0A || c == 0x0D { break }
            if (c < 0x20 && c != 0x09) || c == 0x7F { throw fail("a control character in a string") }
            i += 1
        }
        throw fail("a string is not closed on its line", at: start)
    }

    /// """multi-line basic""" or '''multi-line literal''': up to two more quotes may end it.
    mutating func multiline(quote q: UInt8) throws(ToolConfigError) {
        let start = i
        i += 3
        while i < bytes.count {
            let c = bytes[i]
            if c == q && i + 2 < bytes.count && bytes[i + 1] == q && bytes[i + 2] == q {
                i += 3
                var extra = 0
                while extra < 2 && i < bytes.count && bytes[i] == q { i += 1; extra += 1 }
                return
            }
            if q == UInt8(ascii: "\"") && c == UInt8(ascii: "\\") { try escape(multiline: true); continue }
            if (c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) || c == 0x7F { throw fail("a control character in a string") }
            i += 1
        }
        throw fail("a multi-line string is never closed", at: start)
    }

    mutating func escape(multiline: Bool) throws(ToolConfigError) {
        guard i + 1 < bytes.count else { throw fail("a string ends in a backslash") }
        let e = bytes[i + 1]
        switch e {
        case UInt8(ascii: "b"), UInt8(ascii: "t"), UInt8(ascii: "n"), UInt8(ascii: "f"), UInt8(ascii: "r"), UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "e"):
            i += 2
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let n = e == UInt8(ascii: "u") ? 4 : 8
            guard i + 2 + n <= bytes.count, bytes[i + 2..<i + 2 + n].allSatisfy(TextScan.isHexDigit) else { throw fail("a bad \\u escape in a string") }
            i += 2 + n
        case 0x20, 0x09, 0x0A, 0x0D:
            // A line-ending backslash (multi-line strings only): spaces, then a newline.
            guard multiline else { throw fail("a bad escape in a string") }
            var j = i + 1
            while j < bytes.count && (bytes[j] == 0x20 || bytes[j] == 0x09) { j += 1 }
            guard j < bytes.count && (bytes[j] == 0x0A || bytes[j] == 0x0D) else { throw fail("a bad escape in a string") }
            i = j
        default:
            throw fail("a bad escape '\\\(Character(Unicode.Scalar(e)))' in a string")
        }
    }

    /// A quoted key's text (the escapes our keys use; any other is kept as written).
    func decodeBasic(_ from: Int, _ to: Int) throws(ToolConfigError) -> String {
        var out: [UInt8] = []
        var j = from
        while j < to {
            if bytes[j] == UInt8(ascii: "\\") && j + 1 < to {
                switch bytes[j + 1] {
                case UInt8(ascii: "\""): out.append(0x22); j += 2
                case UInt8(ascii: "\\"): out.append(0x5C); j += 2
                case UInt8(ascii: "n"): out.append(0x0A); j += 2
                case UInt8(ascii: "t"): out.append(0x09); j += 2
                default: out.append(bytes[j]); j += 1
                }
            } else { out.append(bytes[j]); j += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
