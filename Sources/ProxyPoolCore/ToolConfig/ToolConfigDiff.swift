/// A plan shown before it is written: per file, the lines removed and added (no context lines: a settings
/// file's other lines may hold secrets of their own), with every secret redacted.
public enum ToolConfigDiff {
    /// One file's changes as text: `--- path` / `+++ path`, then `@@ -old +new @@` hunks of `-` and `+` lines.
    public static func render(_ file: PlannedFile, display: String, secrets: [String]) -> String {
        guard file.changed else { return "\(display): unchanged\n" }
        let old = lines(file.before ?? []), new = lines(file.after)
        var out = "--- \(file.before == nil ? "/dev/null" : display)\n+++ \(display)\(file.before == nil ? " (new file)" : "")\n"
        for h in hunks(old, new) {
            out += "@@ -\(h.oldStart + 1),\(h.removed.count) +\(h.newStart + 1),\(h.added.count) @@\n"
            for l in h.removed { out += "-" + redact(l, secrets) + "\n" }
            for l in h.added { out += "+" + redact(l, secrets) + "\n" }
        }
        return out
    }

    struct Hunk: Equatable { var oldStart: Int; var newStart: Int; var removed: [String]; var added: [String] }

    static func lines(_ bytes: [UInt8]) -> [String] {
        var out = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
        if out.last == "" { out.removeLast() }
        return out
    }

    /// The changed runs between two line lists: common prefix and suffix cut off, then a longest common
    /// subsequence of what is left (a plain table, capped; beyond the cap the middle is one hunk).
    static func hunks(_ a: [String], _ b: [String]) -> [Hunk] {
        var pre = 0
        while pre < a.count && pre < b.count && a[pre] == b[pre] { pre += 1 }
        var suf = 0
        while suf < a.count - pre && suf < b.count - pre && a[a.count - 1 - suf] == b[b.count - 1 - suf] { suf += 1 }
        let x = Array(a[pre..<a.count - suf]), y = Array(b[pre..<b.count - suf])
        if x.isEmpty && y.isEmpty { return [] }
        guard x.count * y.count <= 4_000_000 else { return [Hunk(oldStart: pre, newStart: pre, removed: x, added: y)] }
        // lcs[i][j]: the longest common subsequence of x[i...] and y[j...].
        let w = y.count + 1
        var lcs = [Int32](repeating: 0, count: (x.count + 1) * w)
        for i in stride(from: x.count - 1, through: 0, by: -1) {
            for j in stride(from: y.count - 1, through: 0, by: -1) {
                lcs[i * w + j] = x[i] == y[j] ? lcs[(i + 1) * w + j + 1] + 1 : max(lcs[(i + 1) * w + j], lcs[i * w + j + 1])
            }
        }
        var out: [Hunk] = []
        var i = 0, j = 0
        var current: Hunk?
        func flush() { if let c = current { out.append(c); current = nil } }
        while i < x.count || j < y.count {
            if i < x.count && j < y.count && x[i] == y[j] { flush(); i += 1; j += 1; continue }
            if current == nil { current = Hunk(oldStart: pre + i, newStart: pre + j, removed: [], added: []) }
            if j < y.count && (i == x.count || lcs[i * w + j + 1] >= lcs[(i + 1) * w + j]) {
                current!.added.append(y[j]); j += 1
            } else {
                current!.removed.append(x[i]); i += 1
            }
        }
        flush()
        return out
    }

    /// A line with its secrets shown as their first four characters and `…`: the known ones anywhere, and the
    /// value of any key whose name says it is one (`…key`, `…token`, `secret`, `password`).
    public static func redact(_ line: String, _ secrets: [String]) -> String {
        var l = line
        for s in secrets where s.count >= 8 { l = l.replacingEvery(s, with: String(s.prefix(4)) + "…") }
        guard let sep = l.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return l }
        let name = l[..<sep].lowercased().filter { $0.isLetter || $0.isNumber || $0 == "_" }
        let secretName = ["key", "token", "secret", "password"].contains { name.hasSuffix($0) } && name != "env_key"
        guard secretName else { return l }
        let rest = l[l.index(after: sep)...]
        let lead = rest.prefix { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "'" }
        var value = rest.dropFirst(lead.count)
        var tail = ""
        while let c = value.last, c == "," || c == "\"" || c == "'" || c == " " { tail = String(c) + tail; value = value.dropLast() }
        if value.hasSuffix("…") || value.count <= 4 || value.allSatisfy({ $0.isUppercase || $0 == "_" }) { return l }
        return String(l[...sep]) + lead + value.prefix(4) + "…" + tail
    }
}
