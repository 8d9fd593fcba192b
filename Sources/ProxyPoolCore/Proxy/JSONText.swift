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
}
