/// Rewrites a JSON Schema into the subset Gemini's `parameters` accepts (an OpenAPI 3.0 Schema subset):
/// `$schema`, `additionalProperties` and other unsupported keywords are removed; local `$ref`s are inlined;
/// `anyOf`/`oneOf` with a null branch and `[T, "null"]` type arrays become `nullable`; `const` becomes a
/// one-value `enum`; `allOf` of objects is merged; string `format`s other than `enum`/`date-time` are dropped
/// (the description keeps the hint); non-string enums move into the description.
public enum GeminiSchema {
    static let kept: Set<String> = ["type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
                                    "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example",
                                    "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum"]

    public static func sanitize(_ schema: JSONNode, field: String) throws(TranslationError) -> JSONNode {
        let defs = (schema["$defs"]?.fields ?? []) + (schema["definitions"]?.fields ?? [])
        var defMap: [String: JSONNode] = [:]
        for d in defs { defMap[d.key] = d.value }
        return try clean(schema, defs: defMap, field: field, depth: 0, refs: [])
    }

    static func clean(_ s: JSONNode, defs: [String: JSONNode], field: String, depth: Int, refs: [String]) throws(TranslationError) -> JSONNode {
        guard depth < 64 else { throw TranslationError(field: field, "the schema is nested too deeply for Gemini") }
        if let b = s.bool { return b ? [:] : ["type": "string", "enum": []] }
        guard var fields = s.fields else { return [:] }

        if let ref = s["$ref"]?.string {
            let name = ref.hasPrefix("#/$defs/") ? String(ref.dropFirst(8)) : ref.hasPrefix("#/definitions/") ? String(ref.dropFirst(14)) : nil
            guard let name, let target = defs[name] else {
                throw TranslationError(field: field, "the schema reference '\(ref)' cannot be resolved for Gemini (only local $defs are supported)")
            }
            guard !refs.contains(name) else {
                throw TranslationError(field: field, "the schema is recursive ('\(ref)'), which Gemini cannot express")
            }
            var merged = target.fields ?? []
            for f in fields where f.key != "$ref" && !merged.contains(where: { $0.key == f.key }) { merged.append(f) }
            return try clean(.object(merged), defs: defs, field: field, depth: depth + 1, refs: refs + [name])
        }

        // allOf: merge object branches into this schema.
        if let all = s["allOf"]?.array {
            fields.removeAll { $0.key == "allOf" }
            var merged = JSONNode.object(fields)
            for branch in all {
                let b = try clean(branch, defs: defs, field: field, depth: depth + 1, refs: refs)
                for f in b.fields ?? [] {
                    switch f.key {
                    case "properties":
                        var props = merged["properties"]?.fields ?? []
                        for p in f.value.fields ?? [] where !props.contains(where: { $0.key == p.key }) { props.append(p) }
                        merged.set("properties", .object(props))
                    case "required":
                        let req = (merged["required"]?.array ?? []) + (f.value.array ?? [])
                        merged.set("required", .array(req))
                    default:
                        if merged[f.key] == nil { merged.set(f.key, f.value) }
                    }
                }
            }
            return try clean(merged, defs: defs, field: field, depth: depth + 1, refs: refs)
        }

        var out: JSONNode = [:]
        var nullable = false
        var descriptionExtra: [String] = []

        // type: a string, or an array with "null".
        if let t = s["type"] {
            if let ts = t.string {
                if ts == "null" { nullable = true } else { out.set("type", .string(ts)) }
            } else if let arr = t.array {
                let types = arr.compactMap(\.string)
                nullable = types.contains("null")
                let rest = types.filter { $0 != "null" }
                if rest.count == 1 {
                    out.set("type", .string(rest[0]))
                } else if rest.count > 1 {
                    var copy = s
                    copy.set("type", nil)
                    out.set("anyOf", .array(try rest.map { (t: String) throws(TranslationError) -> JSONNode in
                        var c = copy; c.set("type", .string(t))
                        return try clean(c, defs: defs, field: field, depth: depth + 1, refs: refs)
                    }))
                    if nullable { out.set("nullable", true) }
                    return out
                }
            }
        }

        // anyOf / oneOf: drop null branches (→ nullable); a single remaining branch replaces the union.
        if let union = s["anyOf"]?.array ?? s["oneOf"]?.array {
            var branches: [JSONNode] = []
            for b in union {
                if b["type"]?.string == "null" { nullable = true; continue }
                branches.append(try clean(b, defs: defs, field: field, depth: depth + 1, refs: refs))
            }
            if branches.count == 1 {
                var single = branches[0]
                for f in fields where ["description", "title", "default"].contains(f.key) && single[f.key] == nil { single.set(f.key, f.value) }
                if nullable { single.set("nullable", true) }
                return single
            }
            out.set("anyOf", .array(branches))
        }

        for f in fields {
            switch f.key {
            case "type", "anyOf", "oneOf", "$schema", "$defs", "definitions", "$id", "$comment", "additionalProperties": continue
            case "properties":
                var props: [(key: String, value: JSONNode)] = []
                for p in f.value.fields ?? [] {
                    props.append((key: p.key, value: try clean(p.value, defs: defs, field: field, depth: depth + 1, refs: refs)))
                }
                if !props.isEmpty { out.set("properties", .object(props)) }
            case "items":
                if f.value.isObject { out.set("items", try clean(f.value, defs: defs, field: field, depth: depth + 1, refs: refs)) }
                else if let tuple = f.value.array, let first = tuple.first {
                    out.set("items", try clean(first, defs: defs, field: field, depth: depth + 1, refs: refs))
                }
            case "prefixItems":
                if s["items"] == nil, let first = f.value.array?.first {
                    out.set("items", try clean(first, defs: defs, field: field, depth: depth + 1, refs: refs))
                }
            case "required":
                let names = Set((s["properties"]?.keys ?? []))
                let req = (f.value.array ?? []).filter { names.contains($0.string ?? "") }
                if !req.isEmpty { out.set("required", .array(req)) }
            case "const":
                if let c = f.value.string { out.set("enum", [.string(c)]); if out["type"] == nil { out.set("type", "string") } }
                else { descriptionExtra.append("Must be \(JSONWriter.string(f.value)).") }
            case "enum":
                let vals = f.value.array ?? []
                if vals.allSatisfy({ $0.string != nil }) {
                    out.set("enum", f.value)
                    if out["type"] == nil, s["type"] == nil { out.set("type", "string") }
                } else {
                    descriptionExtra.append("Allowed values: " + vals.map { JSONWriter.string($0) }.joined(separator: ", ") + ".")
                }
            case "format":
                let type = out["type"]?.string ?? s["type"]?.string
                let ok: Set<String> = type == "string" ? ["enum", "date-time"] : ["int32", "int64", "float", "double"]
                if let v = f.value.string, ok.contains(v) { out.set("format", f.value) }
                else if let v = f.value.string { descriptionExtra.append("Format: \(v).") }
            case "default", "example":
                continue   // Gemini validates these against the type and rejects mismatches; they carry no constraint
            case "exclusiveMinimum", "exclusiveMaximum":
                if let n = f.value.double { out.set(f.key == "exclusiveMinimum" ? "minimum" : "maximum", .double(n)) }
            default:
                if kept.contains(f.key) && out[f.key] == nil { out.set(f.key, f.value) }
            }
        }
        if !descriptionExtra.isEmpty {
            let d = (out["description"]?.string).map { $0 + " " } ?? ""
            out.set("description", .string(d + descriptionExtra.joined(separator: " ")))
        }
        if nullable { out.set("nullable", true) }
        return out
    }
}
