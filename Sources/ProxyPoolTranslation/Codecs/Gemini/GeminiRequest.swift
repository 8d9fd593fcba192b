import ProxyPoolCore

/// Gemini `generateContent` / `streamGenerateContent` (google-genai SDK, Gemini CLI).
///
/// Gemini's JSON mapping accepts both camelCase and snake_case field names, and the genai SDK mixes them
/// (`inlineData` with `mime_type`, `parameters_json_schema`): every client field is read under both spellings.
///
/// Gemini has no call ids. Client side: calls in the history get ids derived from their position and name
/// (`gc_<turn>_<ordinal>_<name>`), so the same history gives the same ids on every turn, and each
/// `functionResponse` is matched to the earliest unanswered call of the same name. Upstream side: calls from
/// Gemini get fresh random ids (the client echoes them back) and function responses are sent with the name
/// of the call they answer.
public enum GeminiCodec: ProtocolCodec {
    public static let wire = WireProtocol.gemini

    /// Reads `obj[camel]`, else `obj[snake_case of camel]`.
    static func get(_ obj: JSONNode?, _ camel: String) -> JSONNode? {
        guard let obj else { return nil }
        if let v = obj[camel] { return v }
        return obj[snake(camel)]
    }

    static func snake(_ s: String) -> String {
        var out = ""
        for c in s {
            if c.isUppercase { out.append("_"); out.append(contentsOf: c.lowercased()) } else { out.append(c) }
        }
        return out
    }

    // MARK: - Client side: request

    public static func decodeRequest(_ body: JSONNode, context: ClientContext) throws(TranslationError) -> ChatRequest {
        guard body.isObject else { throw TranslationError(field: nil, "the request body must be a JSON object") }
        let bodyModel = try Field.string(body["model"], "model")
        var model = try Field.required(context.pathModel ?? bodyModel, "model")
        if model.hasPrefix("models/") { model = String(model.dropFirst(7)) }
        var req = ChatRequest(model: model, stream: context.streamFromPath ?? false)
        var dropped: [String] = []
        let known: Set<String> = ["contents", "systemInstruction", "system_instruction", "tools", "toolConfig", "tool_config",
                                  "generationConfig", "generation_config", "model"]
        for (k, v) in body.fields ?? [] where !known.contains(k) && !v.isNull {
            switch k {
            case "cachedContent", "cached_content":
                throw TranslationError(field: k, "cached contents live on Google's servers and cannot be used with this upstream")
            default:
                dropped.append(k)   // safetySettings, labels, …
            }
        }

        if let si = get(body, "systemInstruction"), !si.isNull {
            if let s = si.string {
                req.system.append(s)
            } else {
                for (j, p) in (try Field.array(si["parts"], "systemInstruction.parts") ?? []).enumerated() {
                    guard let t = try Field.string(p["text"], "systemInstruction.parts[\(j)].text") else {
                        throw TranslationError(field: "systemInstruction.parts[\(j)]", "system instructions can only hold text")
                    }
                    req.system.append(t)
                }
            }
        }

        // Contents, with synthesized call ids.
        // Calls not answered yet, in order; `synthesized` when the call came without an id.
        var pending: [(id: String, name: String, synthesized: Bool)] = []
        var messages: [Message] = []
        let contents = try Field.array(body["contents"], "contents") ?? []
        for (ci, c) in contents.enumerated() {
            let cp = "contents[\(ci)]"
            guard c.isObject else { throw TranslationError(field: cp, "must be an object") }
            let roleName = try Field.string(c["role"], "\(cp).role") ?? "user"
            let role: Role
            switch roleName {
            case "user", "function": role = .user
            case "model": role = .assistant
            default: throw TranslationError(field: "\(cp).role", "unknown role '\(roleName)'")
            }
            var blocks: [ContentBlock] = []
            var ordinal = 0
            for (pi, p) in (try Field.array(c["parts"], "\(cp).parts") ?? []).enumerated() {
                let pp = "\(cp).parts[\(pi)]"
                guard p.isObject else { throw TranslationError(field: pp, "must be an object") }
                let signature = try Field.string(get(p, "thoughtSignature"), "\(pp).thoughtSignature")
                if let text = try Field.string(p["text"], "\(pp).text") {
                    if try Field.bool(p["thought"], "\(pp).thought") == true {
                        blocks.append(.reasoning(ReasoningBlock(text: text, signature: signature, family: .gemini)))
                    } else {
                        // A signature on a plain part belongs to the thinking behind it: kept on an empty
                        // reasoning block right before it, which the encoder puts back on the next part.
                        if let signature { blocks.append(.reasoning(ReasoningBlock(text: "", signature: signature, family: .gemini))) }
                        blocks.append(.text(text))
                    }
                } else if let d = get(p, "inlineData") {
                    let mime = try Field.required(Field.string(get(d, "mimeType"), "\(pp).inlineData.mimeType"), "\(pp).inlineData.mimeType")
                    let data = try Field.required(Field.string(d["data"], "\(pp).inlineData.data"), "\(pp).inlineData.data")
                    blocks.append(mediaBlock(.base64(mediaType: mime, data: data), mime: mime))
                } else if let f = get(p, "fileData") {
                    let uri = try Field.required(Field.string(get(f, "fileUri"), "\(pp).fileData.fileUri"), "\(pp).fileData.fileUri")
                    let mime = try Field.string(get(f, "mimeType"), "\(pp).fileData.mimeType")
                    let src: MediaSource
                    if uri.includes("generativelanguage.googleapis.com/") || !(uri.hasPrefix("https://") || uri.hasPrefix("http://")) {
                        src = .fileReference(id: uri, mediaType: mime, family: .gemini)
                    } else {
                        src = .url(uri, mediaType: mime)
                    }
                    blocks.append(mediaBlock(src, mime: mime ?? "image/*"))
                } else if let fc = get(p, "functionCall") {
                    let name = try Field.required(Field.string(fc["name"], "\(pp).functionCall.name"), "\(pp).functionCall.name")
                    let args = get(fc, "args") ?? [:]
                    guard args.isObject else { throw Field.mismatch(args, "an object", "\(pp).functionCall.args") }
                    let given = try Field.string(fc["id"], "\(pp).functionCall.id")
                    let id = given ?? syntheticID(turn: ci, ordinal: ordinal, name: name)
                    ordinal += 1
                    pending.append((id, name, given == nil))
                    blocks.append(.toolCall(ToolCall(id: id, name: name, arguments: JSONWriter.string(args), signature: signature)))
                } else if let fr = get(p, "functionResponse") {
                    let name = try Field.required(Field.string(fr["name"], "\(pp).functionResponse.name"), "\(pp).functionResponse.name")
                    let given = try Field.string(fr["id"], "\(pp).functionResponse.id")
                    // By id when both sides have one; else by name. Gemini CLI gives each result an id of its own
                    // making (`<tool>-<millis>-<random>`, packages/core/src/utils/generateContentResponseUtilities.ts)
                    // when the model's call had none, as Gemini 2.x's calls do not: such a result answers the first
                    // id-less call of that name, as Gemini itself pairs them.
                    let match = pending.firstIndex { given != nil && $0.id == given }
                        ?? pending.firstIndex { $0.name == name && (given == nil || $0.synthesized) }
                    guard let match else {
                        throw TranslationError(field: "\(pp).functionResponse", "answers no earlier functionCall named '\(name)'")
                    }
                    let id = pending.remove(at: match).id
                    let response = get(fr, "response") ?? [:]
                    blocks.append(.toolResult(toolResult(id: id, name: name, response: response)))
                } else if get(p, "executableCode") != nil || get(p, "codeExecutionResult") != nil {
                    throw TranslationError(field: pp, "code execution parts need Gemini's hosted code execution, which this upstream does not have")
                } else if signature != nil {
                    blocks.append(.reasoning(ReasoningBlock(text: "", signature: signature, family: .gemini)))
                } else {
                    throw TranslationError(field: pp, "has no part this proxy can translate (text, inlineData, fileData, functionCall, functionResponse)")
                }
            }
            if let last = messages.last, last.role == role {
                messages[messages.count - 1].content.append(contentsOf: blocks)
            } else {
                messages.append(Message(role: role, content: blocks))
            }
        }
        req.messages = messages

        if let tools = try Field.array(body["tools"], "tools") {
            for (ti, t) in tools.enumerated() {
                for (k, v) in t.fields ?? [] where !v.isNull {
                    switch k {
                    case "functionDeclarations", "function_declarations":
                        for (fi, f) in (try Field.array(v, "tools[\(ti)].\(k)") ?? []).enumerated() {
                            let fp = "tools[\(ti)].functionDeclarations[\(fi)]"
                            let name = try Field.required(Field.string(f["name"], "\(fp).name"), "\(fp).name")
                            var params: JSONNode = ["type": "object", "properties": [:]]
                            if let js = get(f, "parametersJsonSchema"), !js.isNull {
                                params = js
                            } else if let s = try Field.object(f["parameters"], "\(fp).parameters") {
                                params = openAPIToJSONSchema(s)
                            }
                            req.tools.append(ToolDefinition(name: name, description: try Field.string(f["description"], "\(fp).description"),
                                                            parameters: params))
                        }
                    default:
                        throw TranslationError(field: "tools[\(ti)].\(k)", "this Gemini built-in tool is not available with this upstream")
                    }
                }
            }
        }

        if let tc = get(body, "toolConfig"), let fcc = get(tc, "functionCallingConfig") {
            let mode = (try Field.string(fcc["mode"], "toolConfig.functionCallingConfig.mode") ?? "AUTO").uppercased()
            let allowed = (try Field.array(get(fcc, "allowedFunctionNames"), "toolConfig.functionCallingConfig.allowedFunctionNames") ?? [])
                .compactMap(\.string)
            switch mode {
            case "AUTO", "MODE_UNSPECIFIED", "VALIDATED": req.toolChoice = .auto
            case "NONE": req.toolChoice = ToolChoice.none
            case "ANY":
                if allowed.count == 1 { req.toolChoice = .tool(allowed[0]) }
                else if allowed.isEmpty || Set(allowed) == Set(req.tools.map(\.name)) { req.toolChoice = .required }
                else {
                    throw TranslationError(field: "toolConfig.functionCallingConfig.allowedFunctionNames",
                                           "restricting the model to a subset of its functions cannot be expressed for this upstream")
                }
            default: throw TranslationError(field: "toolConfig.functionCallingConfig.mode", "unknown mode '\(mode)'")
            }
        }

        if let g = get(body, "generationConfig"), g.isObject {
            try decodeGenerationConfig(g, into: &req, dropped: &dropped)
        }
        req.dropped = dropped
        return req
    }

    static func mediaBlock(_ src: MediaSource, mime: String) -> ContentBlock {
        mime.hasPrefix("image/") ? .image(src) : .document(src, title: nil)
    }

    /// `gc_<turn>_<ordinal>_<name>`, with the name reduced to the characters every protocol allows in an id.
    static func syntheticID(turn: Int, ordinal: Int, name: String) -> String {
        let safe = String(name.unicodeScalars.map { s -> Character in
            (("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "_" || s == "-")
                ? Character(s) : "_"
        }.prefix(40))
        return "gc_\(turn)_\(ordinal)_\(safe)"
    }

    /// A `functionResponse.response` as canonical content: `{"result": "text"}` / `{"output": "text"}` become
    /// that text, `{"error": …}` an error result, anything else its JSON.
    static func toolResult(id: String, name: String, response: JSONNode) -> ToolResult {
        let keys = response.keys
        if keys.count == 1, let s = response[keys[0]]?.string {
            if keys[0] == "result" || keys[0] == "output" || keys[0] == "content" { return ToolResult(callID: id, name: name, content: [.text(s)]) }
            if keys[0] == "error" { return ToolResult(callID: id, name: name, content: [.text(s)], isError: true) }
        }
        if keys.count == 1, keys[0] == "error", let e = response["error"] {
            return ToolResult(callID: id, name: name, content: [.text(JSONWriter.string(e))], isError: true)
        }
        return ToolResult(callID: id, name: name, content: [.text(JSONWriter.string(response))])
    }

    /// Gemini's OpenAPI-style `parameters` (types in capitals, `nullable`) as JSON Schema.
    static func openAPIToJSONSchema(_ s: JSONNode) -> JSONNode {
        switch s {
        case .object(let fields):
            var out: [(key: String, value: JSONNode)] = []
            var nullable = false
            for f in fields {
                switch f.key {
                case "type": out.append((key: "type", value: .string((f.value.string ?? "").lowercased())))
                case "nullable": nullable = f.value.bool == true
                case "properties":
                    out.append((key: "properties", value: .object((f.value.fields ?? []).map { (key: $0.key, value: openAPIToJSONSchema($0.value)) })))
                case "items": out.append((key: "items", value: openAPIToJSONSchema(f.value)))
                case "anyOf": out.append((key: "anyOf", value: .array((f.value.array ?? []).map(openAPIToJSONSchema))))
                case "propertyOrdering": continue
                default: out.append(f)
                }
            }
            if nullable, let i = out.firstIndex(where: { $0.key == "type" }), let t = out[i].value.string {
                out[i].value = [.string(t), "null"]
            }
            return .object(out)
        default:
            return s
        }
    }

    static func decodeGenerationConfig(_ g: JSONNode, into req: inout ChatRequest, dropped: inout [String]) throws(TranslationError) {
        let p = "generationConfig"
        req.maxOutputTokens = try Field.int(get(g, "maxOutputTokens"), "\(p).maxOutputTokens")
        req.temperature = try Field.double(g["temperature"], "\(p).temperature")
        req.topP = try Field.double(get(g, "topP"), "\(p).topP")
        req.topK = try Field.int(get(g, "topK"), "\(p).topK")
        req.stopSequences = (try Field.array(get(g, "stopSequences"), "\(p).stopSequences") ?? []).compactMap(\.string)
        if let n = try Field.int(get(g, "candidateCount"), "\(p).candidateCount"), n > 1 {
            throw TranslationError(field: "\(p).candidateCount", "only one candidate can be produced through this upstream")
        }
        if try Field.bool(get(g, "responseLogprobs"), "\(p).responseLogprobs") == true || get(g, "logprobs").map({ !$0.isNull }) == true {
            throw TranslationError(field: "\(p).responseLogprobs", "log probabilities cannot be produced by this upstream")
        }
        if let mods = try Field.array(get(g, "responseModalities"), "\(p).responseModalities"),
           mods.contains(where: { ($0.string ?? "").uppercased() != "TEXT" }) {
            throw TranslationError(field: "\(p).responseModalities", "only text output can be produced through this upstream")
        }
        if let s = get(g, "speechConfig"), !s.isNull { throw TranslationError(field: "\(p).speechConfig", "audio output cannot be produced through this upstream") }
        if let mime = try Field.string(get(g, "responseMimeType"), "\(p).responseMimeType") {
            switch mime {
            case "application/json":
                if let js = get(g, "responseJsonSchema"), js.isObject {
                    req.responseFormat = .jsonSchema(name: "response", schema: js, strict: nil)
                } else if let s = get(g, "responseSchema"), s.isObject {
                    req.responseFormat = .jsonSchema(name: "response", schema: openAPIToJSONSchema(s), strict: nil)
                } else {
                    req.responseFormat = .jsonObject
                }
            case "text/plain": req.responseFormat = .text
            default: throw TranslationError(field: "\(p).responseMimeType", "'\(mime)' output cannot be produced through this upstream")
            }
        }
        if let t = get(g, "thinkingConfig"), t.isObject {
            var cfg = ReasoningConfig(includeThoughts: try Field.bool(get(t, "includeThoughts"), "\(p).thinkingConfig.includeThoughts") ?? false)
            if let b = try Field.int(get(t, "thinkingBudget"), "\(p).thinkingConfig.thinkingBudget") {
                if b == 0 { cfg.enabled = false } else if b > 0 { cfg.budgetTokens = b; cfg.effort = ReasoningEffort(budgetTokens: b) }
            }
            if let level = try Field.string(get(t, "thinkingLevel"), "\(p).thinkingConfig.thinkingLevel") {
                switch level.lowercased() {
                case "minimal": cfg.effort = .minimal
                case "low": cfg.effort = .low
                case "medium": cfg.effort = .medium
                case "high": cfg.effort = .high
                default: throw TranslationError(field: "\(p).thinkingConfig.thinkingLevel", "unknown level '\(level)'")
                }
            }
            req.reasoning = cfg
        }
        let used: Set<String> = ["maxOutputTokens", "temperature", "topP", "topK", "stopSequences", "candidateCount", "responseLogprobs",
                                 "logprobs", "responseModalities", "speechConfig", "responseMimeType", "responseJsonSchema",
                                 "responseSchema", "thinkingConfig"]
        for (k, v) in g.fields ?? [] where !v.isNull && !used.contains(k) && !used.contains(camel(k)) {
            dropped.append("\(p).\(k)")   // presencePenalty, frequencyPenalty, seed, mediaResolution, …
        }
    }

    static func camel(_ s: String) -> String {
        var out = ""
        var up = false
        for c in s {
            if c == "_" { up = true; continue }
            out.append(up ? Character(c.uppercased()) : c)
            up = false
        }
        return out
    }
}

extension GeminiCodec {
    // MARK: - Upstream side: request

    public static func encodeRequest(_ request: ChatRequest) throws(TranslationError) -> JSONNode {
        var body: JSONNode = [:]
        var names: [String: String] = [:]   // call id → name, for function responses
        var contents: [JSONNode] = []
        var lastRole: String?
        func add(_ role: String, _ parts: [JSONNode]) {
            guard !parts.isEmpty else { return }
            if role == lastRole, case .object = contents[contents.count - 1] {
                var c = contents.removeLast()
                c.set("parts", .array((c["parts"]?.array ?? []) + parts))
                contents.append(c)
            } else {
                contents.append(["role": .string(role), "parts": .array(parts)])
                lastRole = role
            }
        }
        let needsSentinel = !(request.model.hasPrefix("gemini-1") || request.model.hasPrefix("gemini-2")
                              || request.model.hasPrefix("models/gemini-1") || request.model.hasPrefix("models/gemini-2"))
        for (mi, m) in request.messages.enumerated() {
            var responses: [JSONNode] = []
            var parts: [JSONNode] = []
            var pendingSignature: String?
            var sawCall = false
            var callsSigned = false
            for (bi, b) in m.content.enumerated() {
                let path = "messages[\(mi)].content[\(bi)]"
                var part: JSONNode
                switch b {
                case .text(let t):
                    part = ["text": .string(t)]
                case .image(let src), .document(let src, _):
                    part = try mediaPart(src, path: path)
                case .toolCall(let c):
                    names[c.id] = c.name
                    part = ["functionCall": ["name": .string(try geminiName(c.name, field: path)), "args": argsObject(c.arguments)]]
                    if let s = c.signature { part.set("thoughtSignature", .string(s)); callsSigned = true }
                    if !sawCall, c.signature == nil, pendingSignature == nil, needsSentinel, m.role == .assistant {
                        // Gemini 3 refuses a model turn whose first call has no signature (history from
                        // another provider): Google documents this value for exactly that case.
                        part.set("thoughtSignature", "skip_thought_signature_validator")
                    }
                    sawCall = true
                case .toolResult(let r):
                    guard let name = r.name ?? names[r.callID] else {
                        throw TranslationError(field: path, "answers a tool call that is not in the conversation (\(r.callID))")
                    }
                    var text = ""
                    var media: [JSONNode] = []
                    for (k, c) in r.content.enumerated() {
                        switch c {
                        case .text(let t): text += (text.isEmpty ? "" : "\n") + t
                        case .image(let src), .document(let src, _): media.append(try mediaPart(src, path: "\(path).content[\(k)]"))
                        default: break
                        }
                    }
                    // Google's FunctionResponse.response: "Use "output" key to specify function output and "error"
                    // key to specify error details" (ai.google.dev/api/caching#FunctionResponse).
                    responses.append(["functionResponse": ["name": .string(try geminiName(name, field: path)),
                                                           "response": [(r.isError ? "error" : "output"): .string(text)]]])
                    responses.append(contentsOf: media)
                    continue
                case .reasoning(let r):
                    guard r.family == .gemini, let sig = r.signature else { continue }
                    if !r.text.isEmpty {
                        part = ["text": .string(r.text), "thought": true, "thoughtSignature": .string(sig)]
                    } else {
                        pendingSignature = sig
                        continue
                    }
                }
                if let s = pendingSignature, part["thoughtSignature"] == nil || part["thoughtSignature"]?.string == "skip_thought_signature_validator" {
                    part.set("thoughtSignature", .string(s))
                }
                pendingSignature = nil
                parts.append(part)
            }
            _ = callsSigned
            let role = m.role == .assistant ? "model" : "user"
            // Function responses go first in their user turn, right after the model turn with the calls.
            add(role, responses + parts)
        }
        body.set("contents", .array(contents))
        if !request.system.isEmpty {
            body.set("systemInstruction", ["parts": .array(request.system.map { ["text": .string($0)] })])
        }
        // All the request's schemas share one bound on what inlining their $refs may produce.
        var schemaBudget = GeminiSchema.Budget()
        if !request.tools.isEmpty {
            var decls: [JSONNode] = []
            for (i, t) in request.tools.enumerated() {
                var d: JSONNode = ["name": .string(try geminiName(t.name, field: "tools[\(i)].name"))]
                if let desc = t.description { d.set("description", .string(desc)) }
                let schema = try GeminiSchema.sanitize(t.parameters, field: "tools[\(i)].parameters", budget: &schemaBudget)
                if let props = schema["properties"]?.fields, !props.isEmpty { d.set("parameters", schema) }
                decls.append(d)
            }
            body.set("tools", [["functionDeclarations": .array(decls)]])
        }
        if let tc = request.toolChoice {
            var fcc: JSONNode
            switch tc {
            case .auto: fcc = ["mode": "AUTO"]
            case .none: fcc = ["mode": "NONE"]
            case .required: fcc = ["mode": "ANY"]
            case .tool(let n): fcc = ["mode": "ANY", "allowedFunctionNames": [.string(try geminiName(n, field: "tool_choice"))]]
            }
            body.set("toolConfig", ["functionCallingConfig": fcc])
        }
        var g: JSONNode = [:]
        let limits = GeminiModelLimits(model: request.model)
        if let v = request.maxOutputTokens { g.set("maxOutputTokens", .int(limits.outputTokens(v))) }
        if let v = request.temperature { g.set("temperature", .double(v)) }
        if let v = request.topP { g.set("topP", .double(v)) }
        if let v = request.topK { g.set("topK", .int(v)) }
        if !request.stopSequences.isEmpty { g.set("stopSequences", .array(request.stopSequences.map(JSONNode.string))) }
        switch request.responseFormat {
        case .jsonObject?: g.set("responseMimeType", "application/json")
        case .jsonSchema(_, let schema, _)?:
            g.set("responseMimeType", "application/json")
            g.set("responseSchema", try GeminiSchema.sanitize(schema, field: "response_format.schema", budget: &schemaBudget))
        default: break
        }
        if let r = request.reasoning {
            var t: JSONNode = [:]
            if !r.enabled {
                t.set("thinkingBudget", .int(limits.thinkingBudget(0)))
            } else {
                if let b = r.budgetTokens ?? r.effort?.budgetTokens { t.set("thinkingBudget", .int(limits.thinkingBudget(b))) }
                if r.includeThoughts { t.set("includeThoughts", true) }
            }
            if !(t.fields ?? []).isEmpty { g.set("thinkingConfig", t) }
        }
        if !(g.fields ?? []).isEmpty { body.set("generationConfig", g) }
        return body
    }

    static func mediaPart(_ src: MediaSource, path: String) throws(TranslationError) -> JSONNode {
        switch src {
        case .base64(let type, let data):
            return ["inlineData": ["mimeType": .string(type), "data": .string(data)]]
        case .url:
            throw TranslationError(field: path, "Gemini only takes inline data; the URL should have been fetched before this request was translated")
        case .fileReference(let id, let type, let family):
            guard family == .gemini else { throw TranslationError(field: path, "a \(family.rawValue) file reference cannot be sent to Gemini") }
            var f: JSONNode = ["fileUri": .string(id)]
            if let type { f.set("mimeType", .string(type)) }
            return ["fileData": f]
        }
    }

    /// Gemini function names: `^[a-zA-Z_][a-zA-Z0-9_.-]{0,63}$`. Names from the other protocols only use
    /// `[a-zA-Z0-9_-]`, so the one case to fix (a leading digit or `-`) gets a `_.` prefix, which no such
    /// name contains and `originalName` strips on the way back. Longer names cannot be shortened reversibly.
    static func geminiName(_ name: String, field: String) throws(TranslationError) -> String {
        guard let first = name.unicodeScalars.first else { throw TranslationError(field: field, "a function name cannot be empty") }
        var out = name
        if !(("a"..."z").contains(first) || ("A"..."Z").contains(first) || first == "_") { out = "_." + name }
        for s in out.unicodeScalars where !(("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "_" || s == "." || s == "-") {
            throw TranslationError(field: field, "the function name '\(name)' has a character Gemini does not allow ('\(s)')")
        }
        if out.utf8.count > 64 { throw TranslationError(field: field, "the function name '\(name)' is longer than Gemini's 64 characters") }
        return out
    }

    static func originalName(_ name: String) -> String {
        name.hasPrefix("_.") ? String(name.dropFirst(2)) : name
    }
}
