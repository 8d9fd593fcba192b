import ProxyPoolCore
import ProxyPoolSystem

/// What verbs print: stdout, stderr, JSON and tables.
enum Output {
    static func out(_ s: String) { try? Posix.writeAll(1, Array(s.utf8)) }
    static func err(_ s: String) { Posix.printError(s) }

    static func json<T: Encodable>(_ v: T) {
        guard let bytes = try? JSON.encode(v, pretty: true) else { return }
        out(String(decoding: bytes, as: UTF8.self) + "\n")
    }

    /// A listing verb's output: JSON, or a hint when there is nothing, or a table.
    static func list<T: Encodable>(_ ctx: Ctl.Context, _ items: [T], empty: String, header: [String], row: (T) -> [String]) {
        if ctx.json { json(items) } else if items.isEmpty { out(empty + "\n") } else { out(table(header, items.map(row))) }
    }

    /// Columns padded to their widest cell.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count) }
                .joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
