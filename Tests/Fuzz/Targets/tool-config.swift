// Fuzz target: the tool-configuration editors (TOML, JSON, JSON5, .env) and the per-tool plans. Byte 0 picks the
// format, the rest is the file. Beyond not crashing: what parses can be edited; adding a key only inserts (the
// original bytes are a subsequence of the result, in order); the result parses again and holds the value; doing
// it again changes nothing; a tool's plan on the same file either refuses it or yields files that parse.
import ProxyPoolCore

func isSubsequence(_ a: [UInt8], of b: [UInt8]) -> Bool {
    var j = 0
    for c in a {
        while j < b.count && b[j] != c { j += 1 }
        if j == b.count { return false }
        j += 1
    }
    return true
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let all = input(data, size)
    guard let first = all.first else { return 0 }
    let bytes = Array(all.dropFirst())
    let key = "zz_fuzz_key", value = "ppk_fuzzvalue"
    switch first % 4 {
    case 0:
        guard let doc = try? TOMLDocument(bytes) else { return 0 }
        for table in [[], ["zz", "fuzz"]] as [[String]] {
            guard doc.valueText(table, key) == nil, let edits = try? doc.edits(setting: [(key: key, value: TOMLDocument.string(value))], inTable: table) else { continue }
            let after = TextEdit.apply(edits, to: bytes)
            check(isSubsequence(bytes, of: after), "TOML: adding a key changed other bytes")
            guard let again = try? TOMLDocument(after) else { check(false, "TOML: the edited file does not parse"); return 0 }
            check(again.valueText(table, key) == TOMLDocument.string(value), "TOML: the value does not read back")
            let twice = (try? again.edits(setting: [(key: key, value: TOMLDocument.string(value))], inTable: table)).map { TextEdit.apply($0, to: after) }
            check(twice == after, "TOML: setting the same value again changed the file")
        }
        plan(.codex, "/h/.codex/config.toml", bytes)
    case 1, 2:
        let dialect: JSON5Document.Dialect = first % 4 == 1 ? .json : .json5
        guard let doc = try? JSON5Document(bytes, dialect: dialect) else { return 0 }
        for path in [[key], ["env", key], ["models", "providers", "proxypool"]] {
            guard !doc.contains(path), let after = try? doc.setting(path, to: .string(value)) else { continue }
            check(isSubsequence(bytes, of: after.bytes), "JSON: adding a member changed other bytes")
            check(after.stringValue(path) == value, "JSON: the value does not read back")
            let twice = try? after.setting(path, to: .string(value))
            check(twice?.bytes == after.bytes, "JSON: setting the same value again changed the file")
            let removed = try? after.removing(path)
            check(removed != nil && removed?.contains(path) == false, "JSON: the member added cannot be removed")
        }
        plan(dialect == .json ? .claudeCode : .openclaw, dialect == .json ? "/h/.claude/settings.json" : "/h/.openclaw/openclaw.json", bytes)
    default:
        guard let doc = try? DotEnvDocument(bytes), doc.value(key.uppercased()) == nil,
              let after = try? doc.setting(key.uppercased(), to: value) else { return 0 }
        check(isSubsequence(bytes, of: after.bytes), ".env: adding a name changed other bytes")
        check(after.value(key.uppercased()) == value, ".env: the value does not read back")
        plan(.geminiCLI, "/h/.gemini/.env", bytes)
    }
    return 0
}

/// A tool's plan with `bytes` as its file: refused, or every planned file parses as its format.
func plan(_ tool: ConfigurableTool, _ path: String, _ bytes: [UInt8]) {
    let request = ToolConfigRequest(tool: tool, proxyURL: "http://127.0.0.1:8081", key: ToolConfigPlanner.keyPlaceholder)
    guard let p = try? ToolConfigPlanner.plan(request, home: ToolHome(home: "/h"), read: { $0 == path ? bytes : nil }) else { return }
    for f in p.files {
        let ok: Bool
        switch f.path {
        case let s where s.hasSuffix(".toml"): ok = (try? TOMLDocument(f.after)) != nil
        case let s where s.hasSuffix("settings.json"): ok = (try? JSON5Document(f.after, dialect: .json)) != nil
        case let s where s.hasSuffix(".json"): ok = (try? JSON5Document(f.after, dialect: .json5)) != nil
        default: ok = (try? DotEnvDocument(f.after)) != nil
        }
        check(ok, "\(tool.rawValue): the planned \(f.path) does not parse")
        _ = ToolConfigDiff.render(f, display: f.path, secrets: p.secrets)
    }
}
