#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
            case "store", "include", "prompt_cache_key", "prompt_cache_retention", "service_tier", "metadata", "client_metadata",
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

    // MARK: - Client side: response

    public static func encodeResponse(_ response: ChatResponse, for request: ChatRequest) -> JSONNode {
        var items: [JSONNode] = []
        var lastWasText = false
        for block in response.content {
            switch block {
            case .text(let t):
                if lastWasText {
                    var msg = items.removeLast()
                    var content = msg["content"]?.array ?? []
                    content.append(outputText(t))
                    msg.set("content", .array(content))
                    items.append(msg)
                } else {
                    items.append(messageItem(id: IDs.make("msg_"), texts: [t], status: "completed"))
                }
                lastWasText = true
                continue
            case .reasoning(let r):
                items.append(reasoningItem(id: r.itemID ?? IDs.make("rs_"), summary: r.text.isEmpty ? [] : [r.text],
                                           encrypted: Envelope.encode(r)))
            case .toolCall(let c):
                items.append(callItem(c, tools: request.tools, status: "completed"))
            case .image, .document, .toolResult:
                break
            }
            lastWasText = false
        }
        var r = ResponseObject(id: IDs.make("resp_"), model: response.model, request: request)
        r.output = items
        r.usage = response.usage
        r.setStop(response.stopReason)
        return r.node()
    }

    static func outputText(_ t: String) -> JSONNode {
        ["type": "output_text", "text": .string(t), "annotations": [], "logprobs": []]
    }

    static func messageItem(id: String, texts: [String], status: String) -> JSONNode {
        ["id": .string(id), "type": "message", "status": .string(status), "role": "assistant",
         "content": .array(texts.map(outputText))]
    }

    static func reasoningItem(id: String, summary: [String], encrypted: String?) -> JSONNode {
        var item: JSONNode = ["id": .string(id), "type": "reasoning",
                              "summary": .array(summary.map { ["type": "summary_text", "text": .string($0)] })]
        if let encrypted { item.set("encrypted_content", .string(encrypted)) }
        return item
    }

    /// The client's form of a call: `function_call`, or `custom_tool_call` for a freeform tool; with the
    /// tool's own name and namespace.
    static func callItem(_ c: ToolCall, tools: [ToolDefinition], status: String, itemID: String? = nil) -> JSONNode {
        let origin = tools.first(where: { $0.name == c.name })?.origin
        let name = origin?.name ?? c.name
        if origin?.freeform == true {
            var item: JSONNode = ["id": .string(itemID ?? IDs.make("ctc_")), "type": "custom_tool_call", "status": .string(status),
                                  "call_id": .string(c.id), "name": .string(name), "input": .string(freeformInput(c.arguments))]
            if let ns = origin?.namespace { item.set("namespace", .string(ns)) }
            return item
        }
        var item: JSONNode = ["id": .string(itemID ?? IDs.make("fc_")), "type": "function_call", "status": .string(status),
                              "arguments": .string(c.arguments), "call_id": .string(c.id), "name": .string(name)]
        if let ns = origin?.namespace { item.set("namespace", .string(ns)) }
        return item
    }

    /// The `input` string of a freeform call's canonical `{"input": "..."}` arguments. A model that wrote
    /// something else is passed through as is, so the client shows what it got.
    static func freeformInput(_ arguments: String) -> String {
        if let v = try? JSONParser.parse(arguments), let s = v["input"]?.string { return s }
        return arguments
    }

    /// The `response` object, as `response.created`, `response.completed` and non-streamed answers carry it.
    struct ResponseObject {
        var id: String
        var model: String
        var createdAt: Int = Int(time(nil))
        var status = "in_progress"
        var incompleteReason: String?
        var error: ErrorInfo?
        var output: [JSONNode] = []
        var usage: Usage?
        let effort: String?
        let summary: String?
        let parallel: Bool
        let toolChoice: JSONNode
        let maxOutputTokens: Int?
        let temperature: Double?
        let topP: Double?

        init(id: String, model: String, request: ChatRequest) {
            self.id = id; self.model = model
            effort = request.reasoning?.effort?.rawValue
            summary = request.reasoning?.includeThoughts == true ? "auto" : nil
            parallel = request.parallelToolCalls ?? true
            switch request.toolChoice {
            case .none?: toolChoice = "none"
            case .required?: toolChoice = "required"
            case .tool(let n)?: toolChoice = ["type": "function", "name": .string(n)]
            default: toolChoice = "auto"
            }
            maxOutputTokens = request.maxOutputTokens
            temperature = request.temperature
            topP = request.topP
        }

        mutating func setStop(_ reason: StopReason) {
            switch reason {
            case .maxTokens: status = "incomplete"; incompleteReason = "max_output_tokens"
            case .contentFilter: status = "incomplete"; incompleteReason = "content_filter"
            case .error: status = "failed"
            default: status = "completed"
            }
        }

        func node() -> JSONNode {
            var u: JSONNode = .null
            if let usage {
                u = ["input_tokens": .int(usage.input), "input_tokens_details": ["cached_tokens": .int(usage.cachedInput)],
                     "output_tokens": .int(usage.output), "output_tokens_details": ["reasoning_tokens": .int(usage.reasoning)],
                     "total_tokens": .int(usage.input + usage.output)]
            }
            var err: JSONNode = .null
            if let error { err = ["code": .string(OpenAIResponsesCodec.errorCode(error.kind)), "message": .string(error.message)] }
            return [
                "id": .string(id), "object": "response", "created_at": .int(createdAt), "status": .string(status),
                "background": false, "error": err,
                "incomplete_details": incompleteReason.map { ["reason": .string($0)] } ?? .null,
                "instructions": .null, "max_output_tokens": maxOutputTokens.map(JSONNode.int) ?? .null,
                "model": .string(model), "output": .array(output.filter { !$0.isNull }), "parallel_tool_calls": .bool(parallel),
                "previous_response_id": .null,
                "reasoning": ["effort": effort.map(JSONNode.string) ?? .null, "summary": summary.map(JSONNode.string) ?? .null],
                "store": false, "temperature": .double(temperature ?? 1), "text": ["format": ["type": "text"]],
                "tool_choice": toolChoice, "tools": [], "top_p": .double(topP ?? 1), "truncation": "disabled",
                "usage": u, "metadata": [:],
            ]
        }
    }

    public static func makeStreamEncoder(for request: ChatRequest, context: ClientContext) -> any StreamEncoder {
        ResponsesStreamEncoder(request: request)
    }

    static func errorCode(_ kind: ErrorInfo.Kind) -> String {
        switch kind {
        case .invalidRequest: return "invalid_request_error"
        case .authentication: return "invalid_api_key"
        case .permission: return "permission_denied"
        case .notFound: return "model_not_found"
        case .tooLarge: return "context_length_exceeded"
        case .rateLimited: return "rate_limit_exceeded"
        case .overloaded: return "server_is_overloaded"
        case .server: return "server_error"
        case .timeout: return "server_error"
        }
    }

    static func errorType(_ kind: ErrorInfo.Kind) -> String {
        switch kind {
        case .invalidRequest, .notFound, .tooLarge, .authentication: return "invalid_request_error"
        case .permission: return "permission_error"
        case .rateLimited: return "rate_limit_error"
        case .overloaded, .server, .timeout: return "server_error"
        }
    }

    public static func encodeError(_ error: ErrorInfo) -> JSONNode {
        ["error": ["message": .string(error.message), "type": .string(errorType(error.kind)), "param": .null,
                   "code": .string(errorCode(error.kind))]]
    }

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

    // MARK: - Upstream side: response

    public static func decodeResponse(_ body: JSONNode) throws(TranslationError) -> ChatResponse {
        guard body.isObject else { throw TranslationError(field: nil, "the upstream answer is not a JSON object") }
        let id = body["id"]?.string ?? IDs.make("resp_")
        let model = body["model"]?.string ?? ""
        var content: [ContentBlock] = []
        var refusal = false
        for item in body["output"]?.array ?? [] {
            switch item["type"]?.string {
            case "message":
                for part in item["content"]?.array ?? [] {
                    if let t = part["text"]?.string, part["type"]?.string == "output_text" { content.append(.text(t)) }
                    if let t = part["refusal"]?.string { content.append(.text(t)); refusal = true }
                }
            case "reasoning":
                content.append(.reasoning(ReasoningBlock(text: reasoningText(item), encrypted: item["encrypted_content"]?.string,
                                                         itemID: item["id"]?.string, family: .openai)))
            case "function_call":
                content.append(.toolCall(ToolCall(id: item["call_id"]?.string ?? item["id"]?.string ?? IDs.make("call_"),
                                                  name: item["name"]?.string ?? "", arguments: nonEmpty(item["arguments"]?.string))))
            case "custom_tool_call":
                content.append(.toolCall(ToolCall(id: item["call_id"]?.string ?? item["id"]?.string ?? IDs.make("call_"),
                                                  name: item["name"]?.string ?? "",
                                                  arguments: JSONWriter.string(["input": .string(item["input"]?.string ?? "")]))))
            default:
                continue
            }
        }
        let hasCall = content.contains { if case .toolCall = $0 { return true }; return false }
        let stop = stopReason(status: body["status"]?.string, incompleteReason: body["incomplete_details"]?["reason"]?.string,
                              hasToolCall: hasCall, refusal: refusal)
        return ChatResponse(id: id, model: model, content: content, stopReason: stop, usage: decodeUsage(body["usage"]))
    }

    static func nonEmpty(_ s: String?) -> String { (s ?? "").isEmpty ? "{}" : s! }

    static func reasoningText(_ item: JSONNode) -> String {
        var texts = (item["summary"]?.array ?? []).compactMap { $0["text"]?.string }
        if texts.isEmpty { texts = (item["content"]?.array ?? []).compactMap { $0["text"]?.string } }
        return texts.joined(separator: "\n\n")
    }

    static func stopReason(status: String?, incompleteReason: String?, hasToolCall: Bool, refusal: Bool) -> StopReason {
        switch status {
        case "incomplete":
            return incompleteReason == "content_filter" ? .contentFilter : .maxTokens
        case "failed", "cancelled":
            return .error
        default:
            if hasToolCall { return .toolUse }
            return refusal ? .refusal : .endTurn
        }
    }

    static func decodeUsage(_ u: JSONNode?) -> Usage {
        guard let u, u.isObject else { return Usage() }
        return Usage(input: u["input_tokens"]?.tokenCount ?? 0, output: u["output_tokens"]?.tokenCount ?? 0,
                     cachedInput: u["input_tokens_details"]?["cached_tokens"]?.tokenCount ?? 0,
                     reasoning: u["output_tokens_details"]?["reasoning_tokens"]?.tokenCount ?? 0)
    }

    public static func makeStreamDecoder() -> any StreamDecoder { ResponsesStreamDecoder() }

    public static func decodeError(status: Int, body: JSONNode?) -> ErrorInfo {
        let e = body?["error"]
        let message = e?["message"]?.string ?? body?["message"]?.string ?? "upstream error (HTTP \(status))"
        let code = e?["code"]?.string ?? e?["type"]?.string ?? ""
        return ErrorInfo(kind: errorKind(status: status, code: code), message: message, status: status)
    }

    static func errorKind(status: Int, code: String) -> ErrorInfo.Kind {
        switch code {
        case "rate_limit_exceeded", "insufficient_quota", "requests", "tokens": return .rateLimited
        case "context_length_exceeded": return .tooLarge
        case "invalid_api_key": return .authentication
        case "server_is_overloaded", "slow_down": return .overloaded
        case "model_not_found": return .notFound
        default: break
        }
        switch status {
        case 400, 422: return .invalidRequest
        case 401: return .authentication
        case 403: return .permission
        case 404: return .notFound
        case 413: return .tooLarge
        case 429: return .rateLimited
        case 503, 529: return .overloaded
        case 408, 504: return .timeout
        default:
            if code == "server_error" { return .server }
            return status >= 500 ? .server : .invalidRequest
        }
    }

    static func statusFor(_ kind: ErrorInfo.Kind) -> Int {
        switch kind {
        case .invalidRequest: return 400
        case .authentication: return 401
        case .permission: return 403
        case .notFound: return 404
        case .tooLarge: return 400
        case .rateLimited: return 429
        case .overloaded: return 503
        case .server: return 500
        case .timeout: return 504
        }
    }
}

/// Provider payloads that must reach the next turn through a Responses client, which only echoes OpenAI's
/// own fields. An Anthropic thinking signature (or redacted thinking) travels in the reasoning item's
/// `encrypted_content` behind a `proxypool:` prefix — OpenAI's own encrypted content never starts like that —
/// and is restored as the original family's reasoning on the way back in, so Claude still gets its signed
/// thinking before a tool call.
enum Envelope {
    static let prefix = "proxypool:"

    static func encode(_ r: ReasoningBlock) -> String? {
        switch r.family {
        case .openai?: return r.encrypted
        case .anthropic?:
            if r.redacted, let data = r.encrypted { return prefix + "anthropic-redacted:" + data }
            if let sig = r.signature { return prefix + "anthropic:" + sig }
            return nil
        case .gemini?:
            if let sig = r.signature { return prefix + "gemini:" + sig }
            return nil
        case nil: return nil
        }
    }

    static func decodeReasoning(text: String, encrypted: String?, itemID: String?) -> ReasoningBlock {
        guard let encrypted, encrypted.hasPrefix(prefix) else {
            return ReasoningBlock(text: text, encrypted: encrypted, itemID: itemID, family: .openai)
        }
        let rest = encrypted.dropFirst(prefix.count)
        if rest.hasPrefix("anthropic-redacted:") {
            return ReasoningBlock(text: "", encrypted: String(rest.dropFirst("anthropic-redacted:".count)), itemID: itemID,
                                  redacted: true, family: .anthropic)
        }
        if rest.hasPrefix("anthropic:") {
            return ReasoningBlock(text: text, signature: String(rest.dropFirst("anthropic:".count)), itemID: itemID, family: .anthropic)
        }
        if rest.hasPrefix("gemini:") {
            return ReasoningBlock(text: text, signature: String(rest.dropFirst("gemini:".count)), itemID: itemID, family: .gemini)
        }
        return ReasoningBlock(text: text, itemID: itemID)
    }
}

// MARK: - Client stream: canonical events → Responses SSE

/// Writes the Responses event sequence as canonical events arrive: `response.created`, `response.in_progress`,
/// then per output item `output_item.added`, its content events and `output_item.done`, and a terminal
/// `response.completed` / `response.incomplete` / `response.failed` carrying the whole response object. The
/// output items are kept (the terminal event must repeat them); nothing is held back from the client.
final class ResponsesStreamEncoder: StreamEncoder {
    enum Kind { case text, function, freeform, reasoning }

    struct Item {
        var kind: Kind
        var outputIndex: Int
        var id: String
        var text = ""
        var call: ToolCall?
        var summaryOpen = false
        var summaries: [String] = []
        var encrypted: String?
        var signature: String?
        var family: ProviderFamily?
        var redacted = false
    }

    let request: ChatRequest
    var response: OpenAIResponsesCodec.ResponseObject
    var seq = 0
    var started = false
    var finished = false
    var items: [Int: Item] = [:]
    var stop: StopReason = .endTurn

    init(request: ChatRequest) {
        self.request = request
        response = OpenAIResponsesCodec.ResponseObject(id: IDs.make("resp_"), model: request.model, request: request)
    }

    func emit(_ type: String, _ fields: [(String, JSONNode)], into out: inout [UInt8]) {
        var obj: [(key: String, value: JSONNode)] = [(key: "type", value: .string(type))]
        for f in fields { obj.append((key: f.0, value: f.1)) }
        obj.append((key: "sequence_number", value: .int(seq)))
        seq += 1
        SSEWriter.event(type, .object(obj), into: &out)
    }

    func start(into out: inout [UInt8]) {
        guard !started else { return }
        started = true
        emit("response.created", [("response", response.node())], into: &out)
        emit("response.in_progress", [("response", response.node())], into: &out)
    }

    func encode(_ event: StreamEvent, into out: inout [UInt8]) {
        guard !finished else { return }
        switch event {
        case .messageStart(_, let model, _):
            if !model.isEmpty { response.model = model }
            start(into: &out)
        case .blockStart(let index, let kind):
            start(into: &out)
            open(index, kind, into: &out)
        case .blockDelta(let index, let delta):
            start(into: &out)
            guard var item = items[index] else { return }
            let oi = JSONNode.int(item.outputIndex)
            switch delta {
            case .text(let t):
                guard item.kind == .text else { return }
                item.text += t
                emit("response.output_text.delta", [("item_id", .string(item.id)), ("output_index", oi), ("content_index", 0),
                                                    ("delta", .string(t)), ("logprobs", [])], into: &out)
            case .toolArguments(let a):
                guard var call = item.call else { return }
                call.arguments += a
                item.call = call
                if item.kind == .function {
                    emit("response.function_call_arguments.delta", [("item_id", .string(item.id)), ("output_index", oi),
                                                                    ("delta", .string(a))], into: &out)
                }
            case .reasoning(let t):
                guard item.kind == .reasoning else { return }
                if !item.summaryOpen {
                    item.summaryOpen = true
                    item.summaries.append("")
                    emit("response.reasoning_summary_part.added", [("item_id", .string(item.id)), ("output_index", oi),
                                                                   ("summary_index", .int(item.summaries.count - 1)),
                                                                   ("part", ["type": "summary_text", "text": ""])], into: &out)
                }
                item.summaries[item.summaries.count - 1] += t
                emit("response.reasoning_summary_text.delta", [("item_id", .string(item.id)), ("output_index", oi),
                                                               ("summary_index", .int(item.summaries.count - 1)),
                                                               ("delta", .string(t))], into: &out)
            case .reasoningSignature(let s):
                item.signature = (item.signature ?? "") + s
            case .reasoningEncrypted(let e):
                item.encrypted = (item.encrypted ?? "") + e
            }
            items[index] = item
        case .blockStop(let index):
            close(index, into: &out)
        case .messageDelta(let reason, _, let usage):
            stop = reason
            response.usage = usage
        case .messageStop:
            start(into: &out)
            for index in items.keys.sorted() { close(index, into: &out) }
            response.setStop(stop)
            let name = response.status == "incomplete" ? "response.incomplete" : (response.status == "failed" ? "response.failed" : "response.completed")
            emit(name, [("response", response.node())], into: &out)
            finished = true
        case .error(let info):
            fail(info, into: &out)
        }
    }

    func fail(_ info: ErrorInfo, into out: inout [UInt8]) {
        start(into: &out)
        response.status = "failed"
        response.error = info
        emit("response.failed", [("response", response.node())], into: &out)
        finished = true
    }

    func open(_ index: Int, _ kind: BlockStart, into out: inout [UInt8]) {
        let oi = response.output.count + items.count
        switch kind {
        case .text:
            let item = Item(kind: .text, outputIndex: oi, id: IDs.make("msg_"))
            items[index] = item
            emit("response.output_item.added", [("output_index", .int(oi)),
                                                ("item", OpenAIResponsesCodec.messageItem(id: item.id, texts: [], status: "in_progress"))], into: &out)
            emit("response.content_part.added", [("item_id", .string(item.id)), ("output_index", .int(oi)), ("content_index", 0),
                                                 ("part", OpenAIResponsesCodec.outputText(""))], into: &out)
        case .toolCall(let id, let name, _):
            let freeform = request.tools.first(where: { $0.name == name })?.origin?.freeform == true
            let call = ToolCall(id: id, name: name, arguments: "")
            let item = Item(kind: freeform ? .freeform : .function, outputIndex: oi, id: IDs.make(freeform ? "ctc_" : "fc_"), call: call)
            items[index] = item
            var added = OpenAIResponsesCodec.callItem(call, tools: request.tools, status: "in_progress", itemID: item.id)
            if freeform { added.set("input", "") }
            emit("response.output_item.added", [("output_index", .int(oi)), ("item", added)], into: &out)
        case .reasoning(let family, let itemID):
            let item = Item(kind: .reasoning, outputIndex: oi, id: itemID ?? IDs.make("rs_"), family: family)
            items[index] = item
            emit("response.output_item.added", [("output_index", .int(oi)),
                                                ("item", OpenAIResponsesCodec.reasoningItem(id: item.id, summary: [], encrypted: nil))], into: &out)
        case .encryptedReasoning(let block):
            var item = Item(kind: .reasoning, outputIndex: oi, id: block.itemID ?? IDs.make("rs_"), family: block.family)
            if !block.text.isEmpty { item.summaries = [block.text] }
            item.encrypted = block.encrypted; item.signature = block.signature; item.redacted = block.redacted
            items[index] = item
            emit("response.output_item.added", [("output_index", .int(oi)),
                                                ("item", OpenAIResponsesCodec.reasoningItem(id: item.id, summary: [], encrypted: nil))], into: &out)
        }
    }

    func close(_ index: Int, into out: inout [UInt8]) {
        guard let item = items.removeValue(forKey: index) else { return }
        let oi = JSONNode.int(item.outputIndex)
        let id = JSONNode.string(item.id)
        let done: JSONNode
        switch item.kind {
        case .text:
            emit("response.output_text.done", [("item_id", id), ("output_index", oi), ("content_index", 0),
                                               ("text", .string(item.text)), ("logprobs", [])], into: &out)
            emit("response.content_part.done", [("item_id", id), ("output_index", oi), ("content_index", 0),
                                                ("part", OpenAIResponsesCodec.outputText(item.text))], into: &out)
            done = OpenAIResponsesCodec.messageItem(id: item.id, texts: [item.text], status: "completed")
        case .function:
            var call = item.call!
            if call.arguments.isEmpty { call.arguments = "{}" }
            let name = request.tools.first(where: { $0.name == call.name })?.origin?.name ?? call.name
            emit("response.function_call_arguments.done", [("item_id", id), ("output_index", oi), ("name", .string(name)),
                                                            ("arguments", .string(call.arguments))], into: &out)
            done = OpenAIResponsesCodec.callItem(call, tools: request.tools, status: "completed", itemID: item.id)
        case .freeform:
            let call = item.call!
            let input = OpenAIResponsesCodec.freeformInput(call.arguments)
            if !input.isEmpty {
                emit("response.custom_tool_call_input.delta", [("item_id", id), ("output_index", oi), ("delta", .string(input))], into: &out)
            }
            emit("response.custom_tool_call_input.done", [("item_id", id), ("output_index", oi), ("input", .string(input))], into: &out)
            done = OpenAIResponsesCodec.callItem(call, tools: request.tools, status: "completed", itemID: item.id)
        case .reasoning:
            if item.summaryOpen, let last = item.summaries.last {
                let si = JSONNode.int(item.summaries.count - 1)
                emit("response.reasoning_summary_text.done", [("item_id", id), ("output_index", oi), ("summary_index", si),
                                                              ("text", .string(last))], into: &out)
                emit("response.reasoning_summary_part.done", [("item_id", id), ("output_index", oi), ("summary_index", si),
                                                              ("part", ["type": "summary_text", "text": .string(last)])], into: &out)
            }
            let block = ReasoningBlock(text: item.summaries.joined(separator: "\n\n"), signature: item.signature, encrypted: item.encrypted,
                                       itemID: item.id, redacted: item.redacted, family: item.family)
            done = OpenAIResponsesCodec.reasoningItem(id: item.id, summary: item.summaries.filter { !$0.isEmpty },
                                                      encrypted: Envelope.encode(block))
        }
        emit("response.output_item.done", [("output_index", oi), ("item", done)], into: &out)
        // Output indexes are assigned at `added` time; keep the array in that order.
        while response.output.count <= item.outputIndex { response.output.append(.null) }
        response.output[item.outputIndex] = done
    }

    func finish(into out: inout [UInt8]) {
        guard !finished else { return }
        fail(ErrorInfo(kind: .server, message: "the upstream stream ended before the response was complete", status: 502), into: &out)
    }
}

// MARK: - Upstream stream: Responses SSE → canonical events

/// Reads an upstream Responses stream. Canonical blocks are opened per content part (text), per function or
/// custom call and per reasoning item; arguments that only arrive in `...arguments.done` or in
/// `output_item.done` are emitted then. Terminal events: `response.completed`, `response.incomplete`,
/// `response.failed`, `error`.
final class ResponsesStreamDecoder: StreamDecoder {
    enum Kind { case text, call, freeform, reasoning }
    struct Open {
        var kind: Kind
        var index: Int
        var gotDelta = false
        var summaryIndex = -1
    }

    var started = false
    var done = false
    var nextIndex = 0
    /// Open canonical blocks by item id (text blocks by "itemID#contentIndex").
    var open: [String: Open] = [:]
    var order: [String] = []
    var sawToolCall = false
    var refusal = false
    var responseID = ""
    var model = ""

    func decode(_ event: SSEEvent) throws(TranslationError) -> [StreamEvent] {
        guard !done else { return [] }
        guard let data = try? JSONParser.parse(event.data) else {
            if event.data == "[DONE]" { return [] }
            throw TranslationError(field: nil, "the upstream sent an event that is not JSON")
        }
        let type = data["type"]?.string ?? event.event ?? ""
        var out: [StreamEvent] = []
        switch type {
        case "response.created", "response.in_progress":
            ensureStarted(data["response"], &out)
        case "response.output_item.added":
            ensureStarted(nil, &out)
            let item = data["item"] ?? [:]
            let id = item["id"]?.string ?? "item\(data["output_index"]?.int ?? 0)"
            switch item["type"]?.string {
            case "function_call":
                openBlock(id, .call, .toolCall(id: item["call_id"]?.string ?? id, name: item["name"]?.string ?? "", signature: nil), &out)
                sawToolCall = true
            case "custom_tool_call":
                openBlock(id, .freeform, .toolCall(id: item["call_id"]?.string ?? id, name: item["name"]?.string ?? "", signature: nil), &out)
                out.append(.blockDelta(index: open[id]!.index, .toolArguments("{\"input\":\"")))
                sawToolCall = true
            case "reasoning":
                openBlock(id, .reasoning, .reasoning(family: .openai, itemID: item["id"]?.string), &out)
            default:
                break
            }
        case "response.content_part.added":
            ensureStarted(nil, &out)
            let key = textKey(data)
            if open[key] == nil { openBlock(key, .text, .text, &out) }
        case "response.output_text.delta", "response.refusal.delta":
            ensureStarted(nil, &out)
            if type == "response.refusal.delta" { refusal = true }
            let key = textKey(data)
            if open[key] == nil { openBlock(key, .text, .text, &out) }
            if let d = data["delta"]?.string, !d.isEmpty {
                open[key]!.gotDelta = true
                out.append(.blockDelta(index: open[key]!.index, .text(d)))
            }
        case "response.output_text.done", "response.refusal.done", "response.content_part.done":
            let key = textKey(data)
            if var o = open[key] {
                let full = data["text"]?.string ?? data["refusal"]?.string ?? data["part"]?["text"]?.string
                if !o.gotDelta, let full, !full.isEmpty { out.append(.blockDelta(index: o.index, .text(full))); o.gotDelta = true; open[key] = o }
                closeBlock(key, &out)
            }
        case "response.function_call_arguments.delta":
            if let id = data["item_id"]?.string, var o = open[id], let d = data["delta"]?.string, !d.isEmpty {
                o.gotDelta = true; open[id] = o
                out.append(.blockDelta(index: o.index, .toolArguments(d)))
            }
        case "response.function_call_arguments.done":
            if let id = data["item_id"]?.string, var o = open[id], !o.gotDelta, let a = data["arguments"]?.string, !a.isEmpty {
                o.gotDelta = true; open[id] = o
                out.append(.blockDelta(index: o.index, .toolArguments(a)))
            }
        case "response.custom_tool_call_input.delta":
            if let id = data["item_id"]?.string, var o = open[id], let d = data["delta"]?.string, !d.isEmpty {
                o.gotDelta = true; open[id] = o
                out.append(.blockDelta(index: o.index, .toolArguments(jsonEscaped(d))))
            }
        case "response.custom_tool_call_input.done":
            if let id = data["item_id"]?.string, var o = open[id], !o.gotDelta, let a = data["input"]?.string, !a.isEmpty {
                o.gotDelta = true; open[id] = o
                out.append(.blockDelta(index: o.index, .toolArguments(jsonEscaped(a))))
            }
        case "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
            ensureStarted(nil, &out)
            guard let id = data["item_id"]?.string else { break }
            if open[id] == nil { openBlock(id, .reasoning, .reasoning(family: .openai, itemID: id), &out) }
            var o = open[id]!
            let si = data["summary_index"]?.int ?? data["content_index"]?.int ?? 0
            if si != o.summaryIndex {
                if o.summaryIndex >= 0 { out.append(.blockDelta(index: o.index, .reasoning("\n\n"))) }
                o.summaryIndex = si
            }
            if type != "response.reasoning_summary_part.added", let d = data["delta"]?.string, !d.isEmpty {
                o.gotDelta = true
                out.append(.blockDelta(index: o.index, .reasoning(d)))
            }
            open[id] = o
        case "response.output_item.done":
            ensureStarted(nil, &out)
            itemDone(data["item"] ?? [:], outputIndex: data["output_index"]?.int ?? 0, &out)
        case "response.completed", "response.incomplete":
            ensureStarted(data["response"], &out)
            let r = data["response"] ?? [:]
            for key in order { closeBlock(key, &out) }
            let stop = OpenAIResponsesCodec.stopReason(status: r["status"]?.string ?? (type == "response.incomplete" ? "incomplete" : "completed"),
                                                       incompleteReason: r["incomplete_details"]?["reason"]?.string,
                                                       hasToolCall: sawToolCall, refusal: refusal)
            out.append(.messageDelta(stopReason: stop, stopSequence: nil, usage: OpenAIResponsesCodec.decodeUsage(r["usage"])))
            out.append(.messageStop)
            done = true
        case "response.failed":
            let e = data["response"]?["error"]
            let code = e?["code"]?.string ?? ""
            let kind = OpenAIResponsesCodec.errorKind(status: 500, code: code)
            out.append(.error(ErrorInfo(kind: kind, message: e?["message"]?.string ?? "the upstream response failed",
                                        status: OpenAIResponsesCodec.statusFor(kind))))
            done = true
        case "error":
            let e = data["error"]?.isObject == true ? data["error"]! : data
            let code = e["code"]?.string ?? e["type"]?.string ?? ""
            let kind = OpenAIResponsesCodec.errorKind(status: 500, code: code)
            out.append(.error(ErrorInfo(kind: kind, message: e["message"]?.string ?? "upstream stream error",
                                        status: OpenAIResponsesCodec.statusFor(kind))))
            done = true
        default:
            break
        }
        return out
    }

    func ensureStarted(_ response: JSONNode?, _ out: inout [StreamEvent]) {
        if let response {
            if let id = response["id"]?.string { responseID = id }
            if let m = response["model"]?.string { model = m }
        }
        guard !started else { return }
        started = true
        if responseID.isEmpty { responseID = IDs.make("resp_") }
        out.append(.messageStart(id: responseID, model: model, usage: nil))
    }

    func textKey(_ data: JSONNode) -> String {
        "\(data["item_id"]?.string ?? "item\(data["output_index"]?.int ?? 0)")#\(data["content_index"]?.int ?? 0)"
    }

    func openBlock(_ key: String, _ kind: Kind, _ start: BlockStart, _ out: inout [StreamEvent]) {
        // Blocks do not interleave (tool calls aside): a new non-call block closes open text/reasoning.
        if kind != .call && kind != .freeform {
            for k in order where open[k]?.kind == .text || open[k]?.kind == .reasoning { closeBlock(k, &out) }
        }
        open[key] = Open(kind: kind, index: nextIndex)
        order.append(key)
        out.append(.blockStart(index: nextIndex, start))
        nextIndex += 1
    }

    func closeBlock(_ key: String, _ out: inout [StreamEvent]) {
        guard let o = open.removeValue(forKey: key) else { return }
        order.removeAll { $0 == key }
        closedKeys.insert(key)
        if o.kind == .freeform { out.append(.blockDelta(index: o.index, .toolArguments("\"}"))) }
        if o.kind == .call && !o.gotDelta { out.append(.blockDelta(index: o.index, .toolArguments("{}"))) }
        out.append(.blockStop(index: o.index))
    }

    func itemDone(_ item: JSONNode, outputIndex: Int, _ out: inout [StreamEvent]) {
        let id = item["id"]?.string ?? "item\(outputIndex)"
        switch item["type"]?.string {
        case "message":
            // Text parts never announced by content events arrive whole here.
            let parts = item["content"]?.array ?? []
            for (ci, part) in parts.enumerated() {
                let key = "\(id)#\(ci)"
                let text = part["text"]?.string ?? part["refusal"]?.string ?? ""
                if part["type"]?.string == "refusal" { refusal = true }
                if var o = open[key] {
                    if !o.gotDelta, !text.isEmpty { out.append(.blockDelta(index: o.index, .text(text))); o.gotDelta = true; open[key] = o }
                    closeBlock(key, &out)
                } else if !closedKeys.contains(key), !text.isEmpty {
                    openBlock(key, .text, .text, &out)
                    out.append(.blockDelta(index: open[key]!.index, .text(text)))
                    closeBlock(key, &out)
                }
            }
            for key in order where key.hasPrefix(id + "#") { closeBlock(key, &out) }
        case "function_call", "custom_tool_call":
            let freeform = item["type"]?.string == "custom_tool_call"
            if open[id] == nil {
                sawToolCall = true
                openBlock(id, freeform ? .freeform : .call,
                          .toolCall(id: item["call_id"]?.string ?? id, name: item["name"]?.string ?? "", signature: nil), &out)
                if freeform { out.append(.blockDelta(index: open[id]!.index, .toolArguments("{\"input\":\""))) }
            }
            var o = open[id]!
            if !o.gotDelta {
                if freeform, let s = item["input"]?.string, !s.isEmpty { out.append(.blockDelta(index: o.index, .toolArguments(jsonEscaped(s)))) }
                if !freeform, let s = item["arguments"]?.string, !s.isEmpty { out.append(.blockDelta(index: o.index, .toolArguments(s))) ; o.gotDelta = true }
                open[id] = o
            }
            closeBlock(id, &out)
        case "reasoning":
            if open[id] == nil {
                openBlock(id, .reasoning, .reasoning(family: .openai, itemID: item["id"]?.string), &out)
            }
            let o = open[id]!
            if !o.gotDelta {
                let text = OpenAIResponsesCodec.reasoningText(item)
                if !text.isEmpty { out.append(.blockDelta(index: o.index, .reasoning(text))) }
            }
            if let enc = item["encrypted_content"]?.string, !enc.isEmpty { out.append(.blockDelta(index: o.index, .reasoningEncrypted(enc))) }
            closeBlock(id, &out)
        default:
            break
        }
    }

    /// Blocks already closed (so `output_item.done` does not repeat text that content events delivered).
    var closedKeys: Set<String> = []

    /// A string's JSON-escaped body (no quotes), for streaming a freeform input as `{"input":"..."}` fragments.
    func jsonEscaped(_ s: String) -> String {
        let w = JSONWriter.string(.string(s))
        return String(w.dropFirst().dropLast())
    }

    func finish() -> [StreamEvent] {
        guard !done else { return [] }
        done = true
        var out: [StreamEvent] = []
        ensureStarted(nil, &out)
        for key in order { closeBlock(key, &out) }
        out.append(.error(ErrorInfo(kind: .server, message: "the upstream stream ended before response.completed", status: 502)))
        return out
    }
}
