import ProxyPoolCore

/// Compact JSON output, keys in the order they were set.
public enum JSONWriter {
    public static func bytes(_ node: JSONNode) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(node, into: &out)
        return out
    }

    public static func string(_ node: JSONNode) -> String { String(decoding: bytes(node), as: UTF8.self) }

    /// How many bytes `write` would produce for `node`, without producing them (to bound output before it
    /// is built).
    public static func count(_ node: JSONNode) -> Int {
        switch node {
        case .null: return 4
        case .bool(let v): return v ? 4 : 5
        case .number(let n): return n.utf8.count
        case .string(let s): return count(string: s)
        case .array(let items):
            var n = 2 + max(items.count - 1, 0)
            for v in items { n += count(v) }
            return n
        case .object(let fields):
            var n = 2 + max(fields.count - 1, 0) + fields.count
            for f in fields { n += count(string: f.key) + count(f.value) }
            return n
        }
    }

    /// The bytes of `s` written as a JSON string: quotes, and escapes as `writeString` makes them.
    static func count(string s: String) -> Int {
        var n = 2
        for c in s.utf8 {
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { n += 2 }
            else if c < 0x20 { n += c == 0x0A || c == 0x0D || c == 0x09 || c == 0x08 || c == 0x0C ? 2 : 6 }
            else { n += 1 }
        }
        return n
    }

    public static func write(_ node: JSONNode, into out: inout [UInt8]) {
        switch node {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let v): out.append(contentsOf: (v ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (k, v) in items.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                write(v, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            for (k, f) in fields.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                writeString(f.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(f.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    public static func writeString(_ s: String, into out: inout [UInt8]) { JSONText.appendQuoted(s, to: &out) }
}
