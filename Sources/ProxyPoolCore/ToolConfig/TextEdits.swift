/// What the tool-configuration editors share: byte-range edits applied to the original text, so every byte
/// outside an edit stays as it was, and the errors that say where a file could not be read.
public struct TextEdit: Equatable, Sendable {
    /// Byte offsets into the original text.
    public var start: Int
    public var end: Int
    public var replacement: [UInt8]
    public init(_ start: Int, _ end: Int, _ replacement: [UInt8]) { self.start = start; self.end = end; self.replacement = replacement }
    public init(_ start: Int, _ end: Int, _ replacement: String) { self.init(start, end, Array(replacement.utf8)) }

    /// `edits` applied to `bytes`. They must not overlap; two insertions at one offset keep their order.
    public static func apply(_ edits: [TextEdit], to bytes: [UInt8]) -> [UInt8] {
        let sorted = edits.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + sorted.reduce(0) { $0 + $1.replacement.count })
        var at = 0
        for e in sorted {
            precondition(e.start >= at && e.end >= e.start && e.end <= bytes.count, "overlapping or out-of-range edit")
            out += bytes[at..<e.start]
            out += e.replacement
            at = e.end
        }
        out += bytes[at...]
        return out
    }
}

/// A tool's file that cannot be read as its format: it is left alone, and this says where and why.
public struct ToolConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// 1-based line of the problem, when there is one.
    public var line: Int?
    public init(_ message: String, line: Int? = nil) { self.message = message; self.line = line }
    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}

/// Positions and bytes, for the parsers.
enum TextScan {
    /// The 1-based line of a byte offset.
    static func line(of offset: Int, in bytes: [UInt8]) -> Int {
        var n = 1
        for i in 0..<min(offset, bytes.count) where bytes[i] == 0x0A { n += 1 }
        return n
    }

    /// The offset of the start of the line holding `offset`.
    static func lineStart(_ offset: Int, in bytes: [UInt8]) -> Int {
        var i = offset
        while i > 0 && bytes[i - 1] != 0x0A { i -= 1 }
        return i
    }

    /// The offset just past the line feed ending the line holding `offset` (or the end of the text).
    static func lineEnd(_ offset: Int, in bytes: [UInt8]) -> Int {
        var i = offset
        while i < bytes.count && bytes[i] != 0x0A { i += 1 }
        return i < bytes.count ? i + 1 : i
    }

    /// The spaces and tabs that begin the line holding `offset`.
    static func indentation(at offset: Int, in bytes: [UInt8]) -> [UInt8] {
        var i = lineStart(offset, in: bytes)
        var out: [UInt8] = []
        while i < bytes.count && (bytes[i] == 0x20 || bytes[i] == 0x09) { out.append(bytes[i]); i += 1 }
        return out
    }

    /// Whether only spaces and tabs lie between `from` and `to`.
    static func blank(_ bytes: [UInt8], _ from: Int, _ to: Int) -> Bool {
        from >= to || bytes[from..<to].allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    static func isHexDigit(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) }

    /// The text is UTF-8 (the formats require it; a file in another encoding is refused, not re-encoded).
    static func requireUTF8(_ bytes: [UInt8]) throws(ToolConfigError) {
        if String(validating: bytes, as: UTF8.self) == nil {
            var i = 0
            while i < bytes.count && bytes[i] < 0x80 { i += 1 }
            throw ToolConfigError("the file is not UTF-8 text", line: line(of: i, in: bytes))
        }
    }
}
