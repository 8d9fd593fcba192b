#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ProxyPoolCore

/// OpenAI Responses API (`POST /v1/responses`), what Codex CLI and the openai SDK's `responses` speak.
///
/// Client side: Codex's two request shapes (top-level `tools`, or code mode's `additional_tools` input item
/// with `namespace` groups and freeform `custom` tools), the SDK's plain shapes, and the full stream event
/// sequence the SDK's stream helper and Codex need. Upstream side: requests with `store: false` and encrypted
/// reasoning included, responses and streams decoded event by event.
///
/// Mappings worth knowing:
/// - `namespace` tools are flattened to `namespace__name` (Codex's own convention when it talks Chat
///   Completions); the namespace called `functions` is the default one and adds no prefix (Codex's code-mode
///   `exec` comes back as a plain `custom_tool_call` named `exec`). Calls go back with `name` + `namespace`.
/// - Freeform `custom` tools (a grammar or free text instead of JSON arguments) become a function with a
///   single string argument `input`; the grammar is appended to the description so the model still knows the
///   expected syntax. A call comes back to the client as `custom_tool_call` with that string as its `input`,
///   and history `custom_tool_call` / `custom_tool_call_output` items map to the same canonical call/result.
///   This is the one faithful mapping: every other provider only has JSON-argument functions.
/// - Hosted tools run on OpenAI's servers. `web_search` and `tool_search` are dropped (listed in `dropped`):
///   Codex always offers them, they only widen what the model may do, and refusing them would make Codex
///   unusable on any other upstream. Hosted tools whose absence changes results (file_search over the user's
///   vector stores, code_interpreter, computer use, MCP, image generation, local shell) are refused.
/// - `previous_response_id`, `conversation`, `prompt` templates and `item_reference` need server-side state we
///   do not keep: refused, naming the field.
public enum OpenAIResponsesCodec: ProtocolCodec {
    public static let wire = WireProtocol.openAIResponses

    /// The namespace whose members keep their plain names.
    static let defaultNamespace = "functions"
    static let namespaceSeparator = "__"

    // MARK: - Client side: request

    public static func decodeRequest(_ body: JSONNode, context: ClientContext) throws(TranslationError) -> ChatRequest {
        guard body.isObject else { throw TranslationError(field: nil, "the request body must be a JSON object") }
        let model = try Field.required(Field.string(body["model"], "model"), "model")
        var req = ChatRequest(model: model)
        var dropped: [String] = []
        func drop(_ s: String) { if !dropped.contains(s) { dropped.append(s) } }

        for (key, value) in body.fields ?? [] {
            switch key {
            case "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "reasoning", "text",
                 "max_output_tokens", "temperature", "top_p", "stream", "user", "safety_identifier":
                continue
            case "previous_response_id", "conversation":
                if !value.isNull { throw TranslationError(field: key, "needs server-side conversation state, which this proxy does not keep; send the whole conversation in `input`") }
            case "prompt":
                if !value.isNull { throw TranslationError(field: key, "stored prompt templates live on OpenAI's servers and cannot be used with this upstream") }
            case "background":
                if value.bool == true { throw TranslationError(field: key, "background responses are not supported through this proxy") }
            case "top_logprobs":
                if let n = value.int, n > 0 { throw TranslationError(field: key, "log probabilities cannot be produced by this upstream") }
            case "prompt_cache_key":
                req.promptCacheKey = try Field.string(value, key)
            case "store", "include", "prompt_cache_retention", "service_tier", "metadata", "client_metadata",
                 "truncation", "stream_options", "max_tool_calls":
                if !value.isNull { drop(key) }
            default:
                if !value.isNull { drop(key) }
            }
        }
        if let include = try Field.array(body["include"], "include") {
            for (i, v) in include.enumerated() where v.string == "message.output_text.logprobs" {
                throw TranslationError(field: "include[\(i)]", "log probabilities cannot be produced by this upstream")
            }
        }

        if let instructions = try Field.string(body["instructions"], "instructions"), !instructions.isEmpty {
            req.system.append(instructions)
        }

        var tools: [ToolDefinition] = []
        if let list = try Field.array(body["tools"], "tools") {
            try decodeTools(list, path: "tools", into: &tools, dropped: &dropped)
        }

        // Input: a string, or items.
        var builder = MessageBuilder()
        if let s = body["input"]?.string {
            builder.append(.user, .text(s))
        } else if let items = try Field.array(body["input"], "input") {
            var callNames: [String: String] = [:]
            for (i, item) in items.enumerated() {
                try decodeItem(item, path: "input[\(i)]", builder: &builder, system: &req.system, tools: &tools,
                               callNames: &callNames, dropped: &dropped)
            }
        } else if body["input"] == nil || body["input"]!.isNull {
            throw TranslationError(field: "input", "is required")
        }
        req.messages = builder.messages
        req.tools = tools

        if let tc = body["tool_choice"], !tc.isNull { req.toolChoice = try decodeToolChoice(tc, tools: tools) }
        req.parallelToolCalls = try Field.bool(body["parallel_tool_calls"], "parallel_tool_calls")
        req.maxOutputTokens = try Field.int(body["max_output_tokens"], "max_output_tokens")
        req.temperature = try Field.double(body["temperature"], "temperature")
        req.topP = try Field.double(body["top_p"], "top_p")
        req.stream = try Field.bool(body["stream"], "stream") ?? false
        let safetyID = try Field.string(body["safety_identifier"], "safety_identifier")
        let user = try Field.string(body["user"], "user")
        req.user = safetyID ?? user

        if let r = try Field.object(body["reasoning"], "reasoning") {
            var cfg = ReasoningConfig(includeThoughts: false)
            if let e = try Field.string(r["effort"], "reasoning.effort") {
                switch e {
                case "none": cfg.enabled = false
                case "minimal": cfg.effort = .minimal
                case "low": cfg.effort = .low
                case "medium": cfg.effort = .medium
                case "high", "xhigh": cfg.effort = .high
                default: throw TranslationError(field: "reasoning.effort", "unknown effort '\(e)'")
                }
            }
            let summaryField = try Field.string(r["summary"], "reasoning.summary")
            let legacySummary = try Field.string(r["generate_summary"], "reasoning.generate_summary")
            let summary = summaryField ?? legacySummary
            cfg.includeThoughts = summary != nil && summary != "none"
            for k in r.keys where !["effort", "summary", "generate_summary"].contains(k) { drop("reasoning.\(k)") }
            req.reasoning = cfg
        }

        if let text = try Field.object(body["text"], "text") {
            if let f = try Field.object(text["format"], "text.format") {
                let type = try Field.required(Field.string(f["type"], "text.format.type"), "text.format.type")
                switch type {
                case "text": req.responseFormat = .text
                case "json_object": req.responseFormat = .jsonObject
                case "json_schema":
                    let schema = try Field.required(Field.object(f["schema"], "text.format.schema"), "text.format.schema")
                    req.responseFormat = .jsonSchema(name: try Field.string(f["name"], "text.format.name") ?? "response",
                                                     schema: schema, strict: try Field.bool(f["strict"], "text.format.strict"))
                default: throw TranslationError(field: "text.format.type", "unknown format '\(type)'")
                }
            }
            if let v = text["verbosity"], !v.isNull { drop("text.verbosity") }
        }
        req.dropped = dropped
        return req
    }

    /// Collects messages, merging consecutive items of the same role into one message.
    struct MessageBuilder {
        var messages: [Message] = []
        mutating func append(_ role: Role, _ block: ContentBlock) {
            if let last = messages.last, last.role == role {
                messages[messages.count - 1].content.append(block)
            } else {
                messages.append(Message(role: role, content: [block]))
            }
        }
    }

    static func decodeItem(_ item: JSONNode, path: String, builder: inout MessageBuilder, system: inout [String],
                           tools: inout [ToolDefinition], callNames: inout [String: String],
                           dropped: inout [String]) throws(TranslationError) {
        guard item.isObject else { throw TranslationError(field: path, "must be an object") }
        let type = try Field.string(item["type"], "\(path).type") ?? "message"
        switch type {
        case "message":
            let role = try Field.required(Field.string(item["role"], "\(path).role"), "\(path).role")
            let content = try decodeMessageContent(item["content"], path: "\(path).content")
            switch role {
            case "system", "developer":
                var texts: [String] = []
                for (j, b) in content.enumerated() {
                    guard case .text(let t) = b else {
                        throw TranslationError(field: "\(path).content[\(j)]", "\(role) messages can only hold text")
                    }
                    texts.append(t)
                }
                system.append(texts.joined(separator: "\n\n"))
            case "user":
                for b in content { builder.append(.user, b) }
            case "assistant":
                for b in content { builder.append(.assistant, b) }
            default:
                throw TranslationError(field: "\(path).role", "unknown role '\(role)'")
            }
        case "function_call":
            let callID = try Field.required(Field.string(item["call_id"], "\(path).call_id"), "\(path).call_id")
            var name = try Field.required(Field.string(item["name"], "\(path).name"), "\(path).name")
            if let ns = try Field.string(item["namespace"], "\(path).namespace"), ns != defaultNamespace {
                name = ns + namespaceSeparator + name
            }
            let args = try Field.string(item["arguments"], "\(path).arguments") ?? "{}"
            callNames[callID] = name
            builder.append(.assistant, .toolCall(ToolCall(id: callID, name: name, arguments: args.isEmpty ? "{}" : args)))
        case "custom_tool_call":
            let callID = try Field.required(Field.string(item["call_id"], "\(path).call_id"), "\(path).call_id")
            var name = try Field.required(Field.string(item["name"], "\(path).name"), "\(path).name")
            if let ns = try Field.string(item["namespace"], "\(path).namespace"), ns != defaultNamespace {
                name = ns + namespaceSeparator + name
            }
            let input = try Field.string(item["input"], "\(path).input") ?? ""
            callNames[callID] = name
            builder.append(.assistant, .toolCall(ToolCall(id: callID, name: name, arguments: JSONWriter.string(["input": .string(input)]))))
        case "function_call_output", "custom_tool_call_output":
            let callID = try Field.required(Field.string(item["call_id"], "\(path).call_id"), "\(path).call_id")
            let content: [ContentBlock]
            if let s = item["output"]?.string {
                content = [.text(s)]
            } else if let parts = try Field.array(item["output"], "\(path).output") {
                content = try decodeContentParts(parts, path: "\(path).output")
            } else {
                content = []
            }
            var isError = false
            if let s = item["status"]?.string, s == "incomplete" { isError = true }
            builder.append(.user, .toolResult(ToolResult(callID: callID, name: callNames[callID], content: content, isError: isError)))
        case "reasoning":
            var texts: [String] = []
            if let summary = try Field.array(item["summary"], "\(path).summary") {
                for (j, s) in summary.enumerated() {
                    if let t = try Field.string(s["text"], "\(path).summary[\(j)].text") { texts.append(t) }
                }
            }
            let encrypted = try Field.string(item["encrypted_content"], "\(path).encrypted_content")
            let id = try Field.string(item["id"], "\(path).id")
            builder.append(.assistant, .reasoning(Envelope.decodeReasoning(text: texts.joined(separator: "\n\n"), encrypted: encrypted, itemID: id)))
        case "additional_tools":
            let list = try Field.array(item["tools"], "\(path).tools") ?? []
            try decodeTools(list, path: "\(path).tools", into: &tools, dropped: &dropped)
        case "web_search_call":
            // Only possible when an earlier turn ran on OpenAI; its results are not in the item, so it carries
            // nothing another model could use.
            if !dropped.contains("input[].web_search_call") { dropped.append("input[].web_search_call") }
        case "item_reference":
            throw TranslationError(field: "\(path).type", "item references need server-side state, which this proxy does not keep")
        case "compaction", "compaction_summary":
            throw TranslationError(field: "\(path).type", "a compacted history is encrypted by OpenAI and cannot be read by this upstream")
        default:
            throw TranslationError(field: "\(path).type", "input items of type '\(type)' cannot be translated for this upstream")
        }
    }

    static func decodeMessageContent(_ content: JSONNode?, path: String) throws(TranslationError) -> [ContentBlock] {
        guard let content, !content.isNull else { return [] }
        if let s = content.string { return [.text(s)] }
        guard let parts = content.array else { throw Field.mismatch(content, "a string or an array", path) }
        return try decodeContentParts(parts, path: path)
    }

    static func decodeContentParts(_ parts: [JSONNode], path: String) throws(TranslationError) -> [ContentBlock] {
        var out: [ContentBlock] = []
        for (j, p) in parts.enumerated() {
            let pp = "\(path)[\(j)]"
            let type = try Field.required(Field.string(p["type"], "\(pp).type"), "\(pp).type")
            switch type {
            case "input_text", "output_text", "text":
                out.append(.text(try Field.string(p["text"], "\(pp).text") ?? ""))
            case "refusal":
                out.append(.text(try Field.string(p["refusal"], "\(pp).refusal") ?? ""))
            case "input_image":
                if let url = try Field.string(p["image_url"], "\(pp).image_url") {
                    out.append(.image(try MediaSource.fromURL(url, field: "\(pp).image_url")))
                } else if let id = try Field.string(p["file_id"], "\(pp).file_id") {
                    out.append(.image(.fileReference(id: id, mediaType: nil, family: .openai)))
                } else {
                    throw TranslationError(field: "\(pp).image_url", "is required")
                }
            case "input_file":
                let title = try Field.string(p["filename"], "\(pp).filename")
                if let data = try Field.string(p["file_data"], "\(pp).file_data") {
                    if data.hasPrefix("data:") {
                        out.append(.document(try MediaSource.fromURL(data, field: "\(pp).file_data"), title: title))
                    } else {
                        out.append(.document(.base64(mediaType: mediaType(forFilename: title), data: data), title: title))
                    }
                } else if let url = try Field.string(p["file_url"], "\(pp).file_url") {
                    out.append(.document(try MediaSource.fromURL(url, field: "\(pp).file_url"), title: title))
                } else if let id = try Field.string(p["file_id"], "\(pp).file_id") {
                    out.append(.document(.fileReference(id: id, mediaType: nil, family: .openai), title: title))
                } else {
                    throw TranslationError(field: "\(pp).file_data", "is required")
                }
            default:
                throw TranslationError(field: "\(pp).type", "content of type '\(type)' cannot be translated for this upstream")
            }
        }
        return out
    }

    static func mediaType(forFilename name: String?) -> String {
        let lower = (name ?? "").lowercased()
        if lower.hasSuffix(".pdf") { return "application/pdf" }
        if lower.hasSuffix(".txt") { return "text/plain" }
        if lower.hasSuffix(".png") { return "image/png" }
        if lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") { return "image/jpeg" }
        return "application/pdf"
    }

    static let freeformMarker = "Freeform tool input"

    static func decodeTools(_ list: [JSONNode], path: String, namespace: String? = nil, into tools: inout [ToolDefinition],
                            dropped: inout [String]) throws(TranslationError) {
        for (i, t) in list.enumerated() {
            let tp = "\(path)[\(i)]"
            let type = try Field.required(Field.string(t["type"], "\(tp).type"), "\(tp).type")
            func canonicalName(_ name: String) -> String {
                guard let namespace, namespace != defaultNamespace else { return name }
                return namespace + namespaceSeparator + name
            }
            let ns = namespace == defaultNamespace ? nil : namespace
            switch type {
            case "function":
                let name = try Field.required(Field.string(t["name"], "\(tp).name"), "\(tp).name")
                let params = try Field.object(t["parameters"], "\(tp).parameters") ?? ["type": "object", "properties": [:]]
                tools.append(ToolDefinition(name: canonicalName(name), description: try Field.string(t["description"], "\(tp).description"),
                                            parameters: params, strict: try Field.bool(t["strict"], "\(tp).strict"),
                                            origin: ns == nil ? nil : ToolOrigin(namespace: ns, name: name)))
            case "custom":
                let name = try Field.required(Field.string(t["name"], "\(tp).name"), "\(tp).name")
                var desc = try Field.string(t["description"], "\(tp).description") ?? ""
                var inputDesc = "\(freeformMarker): the raw text this tool takes (not JSON-encoded arguments)."
                if let f = try Field.object(t["format"], "\(tp).format"), f["type"]?.string == "grammar" {
                    let syntax = f["syntax"]?.string ?? "lark"
                    let def = f["definition"]?.string ?? ""
                    inputDesc += " It must match this \(syntax) grammar:\n\(def)"
                    desc += (desc.isEmpty ? "" : "\n\n") + "This tool takes raw text in its `input` argument, matching a \(syntax) grammar (see the argument's description)."
                }
                let params: JSONNode = [
                    "type": "object",
                    "properties": ["input": ["type": "string", "description": .string(inputDesc)]],
                    "required": ["input"],
                    "additionalProperties": false,
                ]
                tools.append(ToolDefinition(name: canonicalName(name), description: desc.isEmpty ? nil : desc, parameters: params,
                                            strict: nil, origin: ToolOrigin(namespace: ns, name: name, freeform: true)))
            case "namespace":
                let name = try Field.required(Field.string(t["name"], "\(tp).name"), "\(tp).name")
                let members = try Field.array(t["tools"], "\(tp).tools") ?? []
                try decodeTools(members, path: "\(tp).tools", namespace: name, into: &tools, dropped: &dropped)
            case "web_search", "web_search_preview", "web_search_2025_08_26", "web_search_preview_2025_03_11", "tool_search":
                let d = "tools[].\(type)"
                if !dropped.contains(d) { dropped.append(d) }
            default:
                throw TranslationError(field: "\(tp).type", "the hosted tool '\(type)' runs on OpenAI's servers and is not available with this upstream")
            }
        }
    }

    static func decodeToolChoice(_ v: JSONNode, tools: [ToolDefinition]) throws(TranslationError) -> ToolChoice {
        if let s = v.string {
            switch s {
            case "auto": return .auto
            case "none": return .none
            case "required": return .required
            default: throw TranslationError(field: "tool_choice", "unknown tool choice '\(s)'")
            }
        }
        guard v.isObject else { throw Field.mismatch(v, "a string or an object", "tool_choice") }
        let type = try Field.required(Field.string(v["type"], "tool_choice.type"), "tool_choice.type")
        switch type {
        case "function", "custom":
            var name = try Field.required(Field.string(v["name"], "tool_choice.name"), "tool_choice.name")
            if let ns = try Field.string(v["namespace"], "tool_choice.namespace"), ns != defaultNamespace { name = ns + namespaceSeparator + name }
            return .tool(name)
        case "allowed_tools":
            let mode = try Field.string(v["mode"], "tool_choice.mode") ?? "auto"
            let allowed = try Field.array(v["tools"], "tool_choice.tools") ?? []
            if allowed.count == 1, mode == "required", let n = allowed[0]["name"]?.string { return .tool(n) }
            if allowed.count == tools.count { return mode == "required" ? .required : .auto }
            throw TranslationError(field: "tool_choice.tools", "restricting the model to a subset of its tools cannot be expressed for this upstream")
        default:
            throw TranslationError(field: "tool_choice.type", "the hosted tool '\(type)' is not available with this upstream")
        }
    }
}

extension OpenAIResponsesCodec {
    // MARK: - Upstream side: request

    public static func encodeRequest(_ request: ChatRequest) throws(TranslationError) -> JSONNode {
        if !request.stopSequences.isEmpty {
            throw TranslationError(field: "stop", "the OpenAI Responses API has no stop sequences")
        }
        var body: JSONNode = ["model": .string(request.model)]
        if !request.system.isEmpty { body.set("instructions", .string(request.system.joined(separator: "\n\n"))) }
        var input: [JSONNode] = []
        var hasEncrypted = false
        for (mi, m) in request.messages.enumerated() {
            var texts: [JSONNode] = []
            func flush() {
                guard !texts.isEmpty else { return }
                input.append(["type": "message", "role": .string(m.role.rawValue), "content": .array(texts)])
                texts = []
            }
            for (bi, b) in m.content.enumerated() {
                let path = "messages[\(mi)].content[\(bi)]"
                switch b {
                case .text(let t):
                    texts.append(m.role == .assistant ? outputText(t) : ["type": "input_text", "text": .string(t)])
                case .image(let src):
                    guard m.role == .user else { throw TranslationError(field: path, "images can only be sent in user turns") }
                    texts.append(try imagePart(src, path: path))
                case .document(let src, let title):
                    guard m.role == .user else { throw TranslationError(field: path, "documents can only be sent in user turns") }
                    texts.append(try filePart(src, title: title, path: path))
                case .toolCall(let c):
                    flush()
                    input.append(["type": "function_call", "call_id": .string(c.id), "name": .string(c.name),
                                  "arguments": .string(c.arguments)])
                case .toolResult(let r):
                    flush()
                    var output: JSONNode
                    if r.content.allSatisfy({ if case .text = $0 { return true }; return false }) {
                        output = .string(r.content.map { if case .text(let t) = $0 { return t }; return "" }.joined(separator: "\n"))
                    } else {
                        var parts: [JSONNode] = []
                        for (k, c) in r.content.enumerated() {
                            switch c {
                            case .text(let t): parts.append(["type": "input_text", "text": .string(t)])
                            case .image(let src): parts.append(try imagePart(src, path: "\(path).content[\(k)]"))
                            case .document(let src, let title): parts.append(try filePart(src, title: title, path: "\(path).content[\(k)]"))
                            default: throw TranslationError(field: "\(path).content[\(k)]", "tool results can only hold text, images and files")
                            }
                        }
                        output = .array(parts)
                    }
                    input.append(["type": "function_call_output", "call_id": .string(r.callID), "output": output])
                case .reasoning(let r):
                    // Only OpenAI's own encrypted reasoning can go back; readable thinking from another family
                    // is not something the Responses API accepts as input.
                    guard r.family == .openai, let enc = r.encrypted, let id = r.itemID else { continue }
                    flush()
                    hasEncrypted = true
                    input.append(["type": "reasoning", "id": .string(id),
                                  "summary": .array(r.text.isEmpty ? [] : [["type": "summary_text", "text": .string(r.text)]]),
                                  "encrypted_content": .string(enc)])
                }
            }
            flush()
        }
        body.set("input", .array(input))
        if !request.tools.isEmpty {
            body.set("tools", .array(request.tools.map { t in
                var n: JSONNode = ["type": "function", "name": .string(t.name)]
                if let d = t.description { n.set("description", .string(d)) }
                n.set("parameters", t.parameters)
                n.set("strict", .bool(t.strict ?? false))
                return n
            }))
        }
        switch request.toolChoice {
        case .auto?: body.set("tool_choice", "auto")
        case .none?: body.set("tool_choice", "none")
        case .required?: body.set("tool_choice", "required")
        case .tool(let n)?: body.set("tool_choice", ["type": "function", "name": .string(n)])
        case nil: break
        }
        if let p = request.parallelToolCalls { body.set("parallel_tool_calls", .bool(p)) }
        if let m = request.maxOutputTokens { body.set("max_output_tokens", .int(m)) }
        if let t = request.temperature { body.set("temperature", .double(t)) }
        if let p = request.topP { body.set("top_p", .double(p)) }
        if let r = request.reasoning {
            var rn: JSONNode = [:]
            if !r.enabled {
                rn.set("effort", "none")
            } else if let e = r.effort ?? r.budgetTokens.map(ReasoningEffort.init(budgetTokens:)) {
                rn.set("effort", .string(e.rawValue))
            }
            if r.enabled, r.includeThoughts { rn.set("summary", "auto") }
            if !(rn.fields ?? []).isEmpty { body.set("reasoning", rn) }
        }
        switch request.responseFormat {
        case .jsonObject?: body.set("text", ["format": ["type": "json_object"]])
        case .jsonSchema(let name, let schema, let strict)?:
            var f: JSONNode = ["type": "json_schema", "name": .string(name), "schema": schema]
            if let strict { f.set("strict", .bool(strict)) }
            body.set("text", ["format": f])
        default: break
        }
        body.set("stream", .bool(request.stream))
        body.set("store", false)
        // Reasoning stays usable on the next turn only if we ask for its encrypted form (store is false).
        if request.reasoning?.enabled != false || hasEncrypted { body.set("include", ["reasoning.encrypted_content"]) }
        if let u = request.user { body.set("safety_identifier", .string(EndUserID.openAI(u))) }
        if let k = request.promptCacheKey { body.set("prompt_cache_key", .string(PromptCacheKey.bounded(k))) }
        return body
    }

    static func imagePart(_ src: MediaSource, path: String) throws(TranslationError) -> JSONNode {
        switch src {
        case .base64(let type, let data): return ["type": "input_image", "image_url": .string(MediaSource.dataURI(mediaType: type, data: data)), "detail": "auto"]
        case .url(let u, _): return ["type": "input_image", "image_url": .string(u), "detail": "auto"]
        case .fileReference(let id, _, let family):
            guard family == .openai else { throw TranslationError(field: path, "a \(family.rawValue) file reference cannot be sent to OpenAI") }
            return ["type": "input_image", "file_id": .string(id), "detail": "auto"]
        }
    }

    static func filePart(_ src: MediaSource, title: String?, path: String) throws(TranslationError) -> JSONNode {
        var n: JSONNode = ["type": "input_file"]
        switch src {
        case .base64(let type, let data):
            n.set("filename", .string(title ?? (type == "application/pdf" ? "document.pdf" : "document")))
            n.set("file_data", .string(MediaSource.dataURI(mediaType: type, data: data)))
        case .url(let u, _):
            n.set("file_url", .string(u))
        case .fileReference(let id, _, let family):
            guard family == .openai else { throw TranslationError(field: path, "a \(family.rawValue) file reference cannot be sent to OpenAI") }
            n.set("file_id", .string(id))
        }
        return n
    }
}
