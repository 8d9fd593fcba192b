/// JSON text written by hand where a whole JSON tree would be too much (the proxy's model lists).
public enum JSONText {
    /// A JSON string literal, escaped: quote, backslash and control characters, and the scalars `escapingAlso`
    /// names too (JSON5 files escape U+2028/U+2029, which old JavaScript took for line ends; TOML escapes DEL).
    /// The same text is a TOML basic string.
    public static func quoted(_ s: String) -> String { literal(s, escapingAlso: { _ in false }) }

    public static func literal(_ s: String, escapingAlso extra: (Unicode.Scalar) -> Bool) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || extra(u) {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Appends `s` as a JSON string in bytes: quote and backslash escaped, \b \f \n \r \t short and the other
    /// control characters as \u00xx (lowercase hex), nothing else (not `/`, DEL or U+2028). The translation codecs'
    /// writer and the Codable writer both write strings so (the latter byte for byte as JSONEncoder did).
    public static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { u in
            var run = 0
            for k in 0..<u.count {
                let c = u[k]
                guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<k]))
                run = k + 1
                out.append(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(c)
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default: out.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 15)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<u.count]))
        }
        out.append(UInt8(ascii: "\""))
    }
}
