/// A `.env` file (Gemini CLI's `~/.gemini/.env`, Codex's `$CODEX_HOME/.env`): `[export ]NAME=value` lines, comments
/// and blank lines; values bare, 'single', "double" or `backtick` quoted (quoted ones may span lines, as dotenv
/// and dotenvy read them). A line that is none of these is refused. Setting a name rewrites each of its
/// assignments (readers differ on whether the first or the last wins) or adds one at the end; every other
/// byte stays.
public struct DotEnvDocument: Sendable {
    struct Assignment: Sendable {
        var name: String
        /// The statement's bytes, from the line's start to just past its line feed.
        var start: Int
        var end: Int
        var value: String
    }

    public let bytes: [UInt8]
    var assignments: [Assignment] = []
    let newline: [UInt8]

    public static let maxBytes = 1 << 20

    public init(_ bytes: [UInt8]) throws(ToolConfigError) {
        guard bytes.count <= Self.maxBytes else { throw ToolConfigError("the file is larger than 1 MiB") }
        try TextScan.requireUTF8(bytes)
        self.bytes = bytes
        let firstLF = bytes.firstIndex(of: 0x0A)
        newline = firstLF.map { $0 > 0 && bytes[$0 - 1] == 0x0D } == true ? [0x0D, 0x0A] : [0x0A]
        var i = 0
        func fail(_ m: String, _ at: Int) -> ToolConfigError { ToolConfigError(m, line: TextScan.line(of: at, in: bytes)) }
        func spaces() { while i < bytes.count && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 } }
        while i < bytes.count {
            let start = i
            spaces()
            if i == bytes.count { break }
            if bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == UInt8(ascii: "#") { i = TextScan.lineEnd(i, in: bytes); continue }
            if Self.startsWord("export", bytes, i) { i += 6; spaces() }
            let nameStart = i
            while i < bytes.count && Self.isNameByte(bytes[i], first: i == nameStart) { i += 1 }
            guard i > nameStart else { throw fail("expected NAME=value", i) }
            let name = String(decoding: bytes[nameStart..<i], as: UTF8.self)
            spaces()
            guard i < bytes.count && bytes[i] == UInt8(ascii: "=") else { throw fail("expected '=' after \(name)", i) }
            i += 1
            spaces()
            var value = ""
            if i < bytes.count, let q = [UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`")].first(where: { $0 == bytes[i] }) {
                let open = i
                i += 1
                let from = i
                while i < bytes.count && bytes[i] != q {
                    if q == UInt8(ascii: "\"") && bytes[i] == UInt8(ascii: "\\") { i += 1 }
                    i += 1
                }
                guard i < bytes.count else { throw fail("a quoted value is never closed", open) }
                value = String(decoding: bytes[from..<i], as: UTF8.self)
                i += 1
                spaces()
                guard i == bytes.count || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == UInt8(ascii: "#") else {
                    throw fail("unexpected text after the quoted value of \(name)", i)
                }
            } else {
                let from = i
                while i < bytes.count && bytes[i] != 0x0A && bytes[i] != 0x0D && !(bytes[i] == UInt8(ascii: "#") && i > from && (bytes[i - 1] == 0x20 || bytes[i - 1] == 0x09)) { i += 1 }
                value = String(decoding: bytes[from..<i], as: UTF8.self).trimming(" ")
            }
            i = TextScan.lineEnd(i, in: bytes)
            assignments.append(.init(name: name, start: start, end: i, value: value))
        }
    }

    /// The value of the name's last assignment, as written between its quotes.
    public func value(_ name: String) -> String? { assignments.last { $0.name == name }?.value }

    /// The document with `name` set to `value` (letters, digits and `_-.:/+=@` only: written bare).
    public func setting(_ name: String, to value: String) throws(ToolConfigError) -> DotEnvDocument {
        precondition(Self.isBare(value) && name.utf8.enumerated().allSatisfy { Self.isNameByte($1, first: $0 == 0) })
        let line = Array("\(name)=\(value)".utf8)
        let mine = assignments.filter { $0.name == name }
        var edits: [TextEdit] = []
        if mine.isEmpty {
            let lead: [UInt8] = bytes.isEmpty || bytes.last == 0x0A ? [] : newline
            edits.append(TextEdit(bytes.count, bytes.count, lead + line + newline))
        }
        for a in mine {
            let ending: [UInt8] = a.end > a.start && bytes[a.end - 1] == 0x0A ? (a.end - 2 >= a.start && bytes[a.end - 2] == 0x0D ? [0x0D, 0x0A] : [0x0A]) : []
            edits.append(TextEdit(a.start, a.end, line + ending))
        }
        return try DotEnvDocument(TextEdit.apply(edits, to: bytes))
    }

    /// The document without any assignment of `name`.
    public func removing(_ name: String) throws(ToolConfigError) -> DotEnvDocument {
        try DotEnvDocument(TextEdit.apply(assignments.filter { $0.name == name }.map { TextEdit($0.start, $0.end, []) }, to: bytes))
    }

    static func isBare(_ v: String) -> Bool {
        v.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || Array("_-.:/+=@".utf8).contains($0) }
    }

    static func isNameByte(_ c: UInt8, first: Bool) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || (!first && ((c >= 0x30 && c <= 0x39) || c == 0x2E))
    }

    static func startsWord(_ w: String, _ bytes: [UInt8], _ i: Int) -> Bool {
        let u = Array(w.utf8)
        guard i + u.count < bytes.count, Array(bytes[i..<i + u.count]) == u else { return false }
        return bytes[i + u.count] == 0x20 || bytes[i + u.count] == 0x09
    }
}
