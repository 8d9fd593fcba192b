/// `JSONTree` → JSON text, byte for byte what JSONEncoder printed with `.sortedKeys` and
/// `.withoutEscapingSlashes` (and `.prettyPrinted` for `pretty`), swift-foundation 6.3's JSONWriter.swift:
/// keys sorted by their UTF-8 bytes; `"`, `\`, \b \f \n \r \t and the other control characters (\u00XX,
/// lowercase hex) escaped and nothing else (not `/`, DEL or U+2028); pretty output indents by two spaces, writes
/// `"key" : value`, and an empty container as its brackets on two lines with an empty line between.
struct JSONTreeWriter {
    /// JSONEncoder refused deeper structures; so do we (a parsed tree is limited far below this).
    static let maxDepth = 512

    struct TooDeep: Error {}

    let pretty: Bool
    private(set) var bytes: [UInt8] = []
    private var indent = 0

    init(pretty: Bool) { self.pretty = pretty; bytes.reserveCapacity(256) }

    mutating func write(_ tree: JSONTree, depth: Int = 0) throws(TooDeep) {
        switch tree {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let b): bytes.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let text): bytes.append(contentsOf: text.utf8)
        case .string(let s): writeString(s)
        case .array(let items):
            guard depth + 1 < Self.maxDepth else { throw TooDeep() }
            open(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                separate(first: k == 0)
                try write(item, depth: depth + 1)
            }
            close(UInt8(ascii: "]"))
        case .object(let fields):
            guard depth + 1 < Self.maxDepth else { throw TooDeep() }
            open(UInt8(ascii: "{"))
            let sorted = fields.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (k, field) in sorted.enumerated() {
                separate(first: k == 0)
                writeString(field.key)
                if pretty { bytes.append(contentsOf: " : ".utf8) } else { bytes.append(UInt8(ascii: ":")) }
                try write(field.value, depth: depth + 1)
            }
            close(UInt8(ascii: "}"))
        }
    }

    private mutating func open(_ bracket: UInt8) {
        bytes.append(bracket)
        if pretty { bytes.append(0x0A); indent += 1 }
    }

    private mutating func separate(first: Bool) {
        if !first { bytes.append(UInt8(ascii: ",")); if pretty { bytes.append(0x0A) } }
        if pretty { writeIndent() }
    }

    private mutating func close(_ bracket: UInt8) {
        if pretty { bytes.append(0x0A); indent -= 1; writeIndent() }
        bytes.append(bracket)
    }

    private mutating func writeIndent() {
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * indent))
    }

    private mutating func writeString(_ s: String) { JSONText.appendQuoted(s, to: &bytes) }
}
