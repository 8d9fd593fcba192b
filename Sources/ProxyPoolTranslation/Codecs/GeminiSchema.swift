/// Rewrites a JSON Schema into the subset Gemini's `parameters` accepts (an OpenAPI 3.0 Schema subset):
/// `$schema`, `additionalProperties` and other unsupported keywords are removed; local `$ref`s are inlined;
/// `anyOf`/`oneOf` with a null branch and `[T, "null"]` type arrays become `nullable`; `const` becomes a
/// one-value `enum`; `allOf` of objects is merged; string `format`s other than `enum`/`date-time` are dropped
/// (the description keeps the hint); non-string enums move into the description.
///
/// Inlining `$ref`s (and splitting type arrays into `anyOf` branches) can make the output exponentially larger
/// than the client's schema: 2 KB of `$defs` where each refers to the next twice is 2^n copies. So the work is
/// bounded: a `Budget` shared by all the schemas of one request counts the bytes written (and one per keyword
/// read), and nesting is capped; a schema beyond either is refused with a TranslationError (a 400 for the
/// client) instead of stalling the event loop and sending megabytes upstream.
public enum GeminiSchema {
    static let kept: Set<String> = ["type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
                                    "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example",
                                    "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum"]

    /// The deepest nesting (schemas inside schemas, inlined `$ref`s counting as a level) the output may have.
    public static let maxDepth = 64

    /// What the schemas of one request may still produce once inlined, in bytes of JSON (plus one per keyword
    /// read, so input that produces little output still counts). Parts cleaned twice (`allOf` branches) count
    /// twice, so what goes upstream is at most `maxOutputBytes`.
    public struct Budget: Sendable {
        public static let maxOutputBytes = 1 << 20
        public private(set) var remaining: Int
        public init(bytes: Int = Budget.maxOutputBytes) { remaining = bytes }

        mutating func spend(_ n: Int, field: String) throws(TranslationError) {
            remaining -= n
            guard remaining < 0 else { return }
            throw TranslationError(field: field, "the tool schemas become larger than \(Budget.maxOutputBytes >> 20) MiB once their $refs are "
                                   + "inlined for Gemini (which has no $ref); send a schema whose $defs do not multiply")
        }
    }

    /// One schema on its own budget (tests, callers with a single schema).
    public static func sanitize(_ schema: JSONNode, field: String) throws(TranslationError) -> JSONNode {
        var budget = Budget()
        return try sanitize(schema, field: field, budget: &budget)
    }

    /// One schema of a request whose schemas share `budget`.
    public static func sanitize(_ schema: JSONNode, field: String, budget: inout Budget) throws(TranslationError) -> JSONNode {
        let defs = (schema["$defs"]?.fields ?? []) + (schema["definitions"]?.fields ?? [])
        var defMap: [String: JSONNode] = [:]
        for d in defs { defMap[d.key] = d.value }
        var cleaner = Cleaner(defs: defMap, field: field, budget: budget)
        defer { budget = cleaner.budget }
        return try cleaner.clean(schema, depth: 0, refs: [])
    }

    /// A `$ref` already inlined: its output, the budget it took and how many levels it goes below itself.
    struct Expansion { var node: JSONNode; var cost: Int; var height: Int }

    struct Cleaner {
        let defs: [String: JSONNode]
        let field: String
        var budget: Budget
        /// A `$ref` (with the same keywords beside it) comes out the same wherever it is, so each is cleaned
        /// once; later uses take the copy (array storage is shared) and pay its cost. Keyed by the def's name, and
        /// the sibling keywords' JSON when there are any.
        var expansions: [String: Expansion] = [:]
        /// The deepest level cleaned so far, to learn an expansion's height.
        var deepest = 0

        mutating func spend(_ n: Int) throws(TranslationError) { try budget.spend(n, field: field) }

        func tooDeep() -> TranslationError { TranslationError(field: field, "the schema is nested too deeply for Gemini (more than \(GeminiSchema.maxDepth) levels once $refs are inlined)") }

        mutating func clean(_ s: JSONNode, depth: Int, refs: [String]) throws(TranslationError) -> JSONNode {
            guard depth < GeminiSchema.maxDepth else { throw tooDeep() }
            if depth > deepest { deepest = depth }
            if let b = s.bool {
                try spend(b ? 2 : 31)
                return b ? [:] : ["type": "string", "enum": []]
            }
            guard let fields = s.fields else { try spend(2); return [:] }
            try spend(fields.count + 1)

            if let ref = s["$ref"]?.string {
                let name = ref.hasPrefix("#/$defs/") ? String(ref.dropFirst(8)) : ref.hasPrefix("#/definitions/") ? String(ref.dropFirst(14)) : nil
                guard let name, let target = defs[name] else {
                    throw TranslationError(field: field, "the schema reference '\(ref)' cannot be resolved for Gemini (only local $defs are supported)")
                }
                guard !refs.contains(name) else {
                    throw TranslationError(field: field, "the schema is recursive ('\(ref)'), which Gemini cannot express")
                }
                var key = name
                if fields.count > 1 {
                    key += "\u{0}" + JSONWriter.string(.object(fields.filter { $0.key != "$ref" }))
                    try spend(key.utf8.count)
                }
                if let e = expansions[key] {
                    guard depth + e.height < GeminiSchema.maxDepth else { throw tooDeep() }
                    deepest = max(deepest, depth + e.height)
                    try spend(e.cost)
                    return e.node
                }
                var merged = target.fields ?? []
                var names = Set(merged.map(\.key))
                for f in fields where f.key != "$ref" && names.insert(f.key).inserted { merged.append(f) }
                let (outerDeepest, before) = (deepest, budget.remaining)
                deepest = depth
                let node = try clean(.object(merged), depth: depth + 1, refs: refs + [name])
                expansions[key] = Expansion(node: node, cost: before - budget.remaining, height: deepest - depth)
                deepest = max(deepest, outerDeepest)
                return node
            }

            // allOf: merge object branches into this schema. Linear in the keywords: a repeated key keeps its last
            // value in its first place; properties and required are gathered aside and written once.
            if let all = s["allOf"]?.array {
                var merged: [(key: String, value: JSONNode)] = []
                var at: [String: Int] = [:]
                for f in fields where f.key != "allOf" {
                    if let i = at[f.key] { merged[i].value = f.value } else { at[f.key] = merged.count; merged.append(f) }
                }
                func slot(_ key: String) -> Int {
                    if let i = at[key] { return i }
                    at[key] = merged.count
                    merged.append((key: key, value: .null))
                    return merged.count - 1
                }
                var props: [(key: String, value: JSONNode)]?
                var propNames = Set<String>()
                var required: [JSONNode]?
                for branch in all {
                    let b = try clean(branch, depth: depth + 1, refs: refs)
                    for f in b.fields ?? [] {
                        switch f.key {
                        case "properties":
                            if props == nil {
                                props = merged[slot("properties")].value.fields ?? []
                                propNames = Set(props?.map(\.key) ?? [])
                            }
                            for p in f.value.fields ?? [] where propNames.insert(p.key).inserted { props?.append(p) }
                        case "required":
                            if required == nil { required = merged[slot("required")].value.array ?? [] }
                            required?.append(contentsOf: f.value.array ?? [])
                        default:
                            if at[f.key] == nil { at[f.key] = merged.count; merged.append(f) }
                        }
                    }
                }
                if let props { merged[slot("properties")].value = .object(props) }
                if let required { merged[slot("required")].value = .array(required) }
                return try clean(.object(merged), depth: depth + 1, refs: refs)
            }

            var out: JSONNode = [:]
            var nullable = false
            var descriptionExtra: [String] = []
            /// The names under `properties`, for `required` (worked out once, however often `required` repeats).
            var propertyNames: Set<String>?

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
                        // One branch per type, each a copy of the rest of the schema: paid for like any output.
                        var copy = s
                        copy.set("type", nil)
                        var branches: [JSONNode] = []
                        for t in rest {
                            var c = copy
                            c.set("type", .string(t))
                            branches.append(try clean(c, depth: depth + 1, refs: refs))
                        }
                        out.set("anyOf", .array(branches))
                        if nullable { out.set("nullable", true) }
                        try spend(GeminiSchema.ownBytes(out))
                        return out
                    }
                }
            }

            // anyOf / oneOf: drop null branches (→ nullable); a single remaining branch replaces the union.
            if let union = s["anyOf"]?.array ?? s["oneOf"]?.array {
                var branches: [JSONNode] = []
                for b in union {
                    if b["type"]?.string == "null" { nullable = true; continue }
                    branches.append(try clean(b, depth: depth + 1, refs: refs))
                }
                if branches.count == 1 {
                    var single = branches[0]
                    for f in fields where ["description", "title", "default"].contains(f.key) && single[f.key] == nil {
                        single.set(f.key, f.value)
                        try spend(JSONWriter.count(.string(f.key)) + 2 + JSONWriter.count(f.value))
                    }
                    if nullable { single.set("nullable", true); try spend(16) }
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
                        props.append((key: p.key, value: try clean(p.value, depth: depth + 1, refs: refs)))
                    }
                    if !props.isEmpty { out.set("properties", .object(props)) }
                case "items":
                    if f.value.isObject { out.set("items", try clean(f.value, depth: depth + 1, refs: refs)) }
                    else if let tuple = f.value.array, let first = tuple.first {
                        out.set("items", try clean(first, depth: depth + 1, refs: refs))
                    }
                case "prefixItems":
                    if s["items"] == nil, let first = f.value.array?.first {
                        out.set("items", try clean(first, depth: depth + 1, refs: refs))
                    }
                case "required":
                    if propertyNames == nil { propertyNames = Set(s["properties"]?.keys ?? []) }
                    let names = propertyNames ?? []
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
                    if GeminiSchema.kept.contains(f.key) && out[f.key] == nil { out.set(f.key, f.value) }
                }
            }
            if !descriptionExtra.isEmpty {
                let d = (out["description"]?.string).map { $0 + " " } ?? ""
                out.set("description", .string(d + descriptionExtra.joined(separator: " ")))
            }
            if nullable { out.set("nullable", true) }
            try spend(GeminiSchema.ownBytes(out))
            return out
        }
    }

    /// The bytes `out` writes itself, not counting the schemas cleaned into it (they paid for themselves): an
    /// upper bound (one separator too many per field).
    static func ownBytes(_ out: JSONNode) -> Int {
        var n = 2
        for f in out.fields ?? [] {
            n += JSONWriter.count(.string(f.key)) + 2
            switch f.key {
            case "properties":
                n += 2
                for p in f.value.fields ?? [] { n += JSONWriter.count(.string(p.key)) + 2 }
            case "items": break
            case "anyOf": n += 1 + (f.value.array?.count ?? 0)
            default: n += JSONWriter.count(f.value)
            }
        }
        return n
    }
}
