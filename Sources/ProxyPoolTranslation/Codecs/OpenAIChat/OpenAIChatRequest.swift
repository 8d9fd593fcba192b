import ProxyPoolCore

/// OpenAI Chat Completions (`POST /v1/chat/completions`), both sides; also the wire of most OpenAI-compatible
/// servers (DeepSeek, vLLM, Ollama, OpenRouter, Azure OpenAI).
///
/// Choices written down here:
/// - Reasoning text goes to the client as `reasoning_content` on the message / delta (the field DeepSeek and
///   most OpenAI-compatible servers use; the openai SDK keeps unknown fields and ignores them). OpenAI Chat cannot
///   take reasoning back, so reasoning blocks are dropped when encoding a request.
/// - An error in the middle of a client stream: OpenAI has no standard for it. We write
///   `data: {"error":{"message","type","param","code"}}` (what OpenAI itself sends when a stream fails) and
///   end the stream without `[DONE]`, so the client sees an incomplete stream rather than a clean end.
/// - System text goes upstream as one `system` message first (every OpenAI-compatible server accepts `system`;
///   several chat templates accept only one, at the start).
/// - The output limit goes upstream as `max_completion_tokens` for OpenAI's own model names (its reasoning
///   models reject `max_tokens`) and as `max_tokens` for any other name (most compatible servers only know that).
/// - `top_k` has no Chat Completions field and is not sent; a tool error flag becomes an `Error: ` prefix on
///   the tool message (Chat has no flag); images returned by a tool go in a user message right after the tool
///   messages (tool messages take text only).
/// - Answers to clients use `tool_calls`, also when the client declared legacy `functions`.
public enum OpenAIChatCodec: ProtocolCodec {
    public static let wire = WireProtocol.openAIChat

    // MARK: - Client side: request

    private static let knownFields: Set<String> = [
        "model", "messages", "tools", "tool_choice", "parallel_tool_calls", "max_tokens", "max_completion_tokens", "temperature",
        "top_p", "stop", "reasoning_effort", "response_format", "stream", "stream_options", "user", "safety_identifier", "n",
        "logprobs", "top_logprobs", "audio", "modalities", "functions", "function_call", "logit_bias", "web_search_options",
        "prompt_cache_key",
    ]

    /// A `cache_control` on one of a message's content parts (`{"type": "ephemeral", "ttl": "1h"}`), the
    /// convention of gateways that put Anthropic models behind Chat Completions: a breakpoint after that message.
    static func cacheBreakpoint(_ content: JSONNode?, path: String) throws(TranslationError) -> CacheBreakpoints.Point? {
        var point: CacheBreakpoints.Point?
        for (i, p) in (content?.array ?? []).enumerated() {
            guard let cc = p["cache_control"], !cc.isNull else { continue }
            guard let type = try Field.string(cc["type"], "\(path)[\(i)].cache_control.type"), type == "ephemeral" else {
                throw TranslationError(field: "\(path)[\(i)].cache_control.type", "must be \"ephemeral\"")
            }
            let ttl = try Field.string(cc["ttl"], "\(path)[\(i)].cache_control.ttl")
            if let ttl, ttl != "5m", ttl != "1h" { throw TranslationError(field: "\(path)[\(i)].cache_control.ttl", "must be \"5m\" or \"1h\"") }
            point = CacheBreakpoints.Point(ttl: ttl)
        }
        return point
    }

    public static func decodeRequest(_ body: JSONNode, context: ClientContext) throws(TranslationError) -> ChatRequest {
        guard body.isObject else { throw TranslationError(field: nil, "the request body must be a JSON object") }
        var r = ChatRequest(model: try Field.required(try Field.string(body["model"], "model"), "model"))
        for key in body.keys where !knownFields.contains(key) { r.dropped.noteDropped(key) }

        // What would make the answer silently wrong.
        if let n = try Field.int(body["n"], "n"), n > 1 { throw TranslationError(field: "n", "only one choice (n = 1) can be translated") }
        if try Field.bool(body["logprobs"], "logprobs") == true { throw TranslationError(field: "logprobs", "log probabilities cannot be translated") }
        if let k = try Field.int(body["top_logprobs"], "top_logprobs"), k > 0 {
            throw TranslationError(field: "top_logprobs", "log probabilities cannot be translated")
        }
        if let a = body["audio"], !a.isNull { throw TranslationError(field: "audio", "audio output cannot be translated") }
        if let mods = try Field.array(body["modalities"], "modalities") {
            if mods.contains(where: { $0.string == "audio" }) { throw TranslationError(field: "modalities", "audio output cannot be translated") }
            r.dropped.noteDropped("modalities")
        }
        if let lb = try Field.object(body["logit_bias"], "logit_bias"), !(lb.fields ?? []).isEmpty {
            throw TranslationError(field: "logit_bias", "token biases cannot be translated to another model's tokens")
        }
        if let w = body["web_search_options"], !w.isNull {
            throw TranslationError(field: "web_search_options", "OpenAI's hosted web search is not available through other providers")
        }

        guard let messages = try Field.array(body["messages"], "messages") else { throw TranslationError(field: "messages", "is required") }
        var pendingResults: [ContentBlock] = []
        var legacyCalls: [(id: String, name: String)] = []
        var legacyCount = 0
        func flush() {
            if !pendingResults.isEmpty { r.messages.append(Message(role: .user, content: pendingResults)); pendingResults = [] }
        }
        for (i, m) in messages.enumerated() {
            let path = "messages[\(i)]"
            guard let m = try Field.object(m, path) else { throw TranslationError(field: path, "must be an object, not null") }
            let role = try Field.required(try Field.string(m["role"], "\(path).role"), "\(path).role")
            switch role {
            case "system", "developer":
                flush()
                noteExtras(m, known: ["role", "content", "name"], dropped: &r.dropped)
                r.system += try texts(m["content"], path: "\(path).content")
                if let point = try cacheBreakpoint(m["content"], path: "\(path).content") { r.cacheBreakpoints = (r.cacheBreakpoints ?? .init()).with(system: point) }
            case "user":
                flush()
                noteExtras(m, known: ["role", "content", "name"], dropped: &r.dropped)
                r.messages.append(Message(role: .user, content: try userContent(m["content"], path: "\(path).content", dropped: &r.dropped)))
                if let point = try cacheBreakpoint(m["content"], path: "\(path).content") {
                    r.cacheBreakpoints = (r.cacheBreakpoints ?? .init()).with(message: r.messages.count - 1, point)
                }
            case "assistant":
                flush()
                noteExtras(m, known: ["role", "content", "name", "tool_calls", "function_call", "refusal", "reasoning_content", "reasoning"],
                           dropped: &r.dropped)
                if let a = m["audio"], !a.isNull { throw TranslationError(field: "\(path).audio", "audio answers cannot be translated") }
                var blocks: [ContentBlock] = []
                for key in ["reasoning_content", "reasoning"] {
                    if let t = try Field.string(m[key], "\(path).\(key)"), !t.isEmpty { blocks.append(.reasoning(ReasoningBlock(text: t))); break }
                }
                if let c = m["content"], !c.isNull {
                    for t in try texts(c, path: "\(path).content", allowRefusal: true) where !t.isEmpty { blocks.append(.text(t)) }
                }
                if let refusal = try Field.string(m["refusal"], "\(path).refusal"), !refusal.isEmpty { blocks.append(.text(refusal)) }
                if let calls = try Field.array(m["tool_calls"], "\(path).tool_calls") {
                    for (k, c) in calls.enumerated() { blocks.append(.toolCall(try toolCall(c, path: "\(path).tool_calls[\(k)]"))) }
                }
                if let fc = try Field.object(m["function_call"], "\(path).function_call") {
                    let name = try Field.required(try Field.string(fc["name"], "\(path).function_call.name"), "\(path).function_call.name")
                    let args = try Field.string(fc["arguments"], "\(path).function_call.arguments") ?? ""
                    legacyCount += 1
                    let id = "call_legacy_\(legacyCount)"
                    legacyCalls.append((id, name))
                    blocks.append(.toolCall(ToolCall(id: id, name: name, arguments: args)))
                }
                r.messages.append(Message(role: .assistant, content: blocks))
            case "tool":
                noteExtras(m, known: ["role", "content", "tool_call_id", "name"], dropped: &r.dropped)
                let id = try Field.required(try Field.string(m["tool_call_id"], "\(path).tool_call_id"), "\(path).tool_call_id")
                var content: [ContentBlock] = []
                for t in try texts(m["content"], path: "\(path).content") { content.append(.text(t)) }
                pendingResults.append(.toolResult(ToolResult(callID: id, content: content)))
            case "function":
                // Legacy function results: matched to the latest legacy call of that name.
                let name = try Field.required(try Field.string(m["name"], "\(path).name"), "\(path).name")
                guard let k = legacyCalls.lastIndex(where: { $0.name == name }) else {
                    throw TranslationError(field: "\(path).name", "no earlier function_call named \"\(name)\"")
                }
                let id = legacyCalls.remove(at: k).id
                var content: [ContentBlock] = []
                for t in try texts(m["content"], path: "\(path).content") { content.append(.text(t)) }
                pendingResults.append(.toolResult(ToolResult(callID: id, name: name, content: content)))
            default:
                throw TranslationError(field: "\(path).role", "must be system, developer, user, assistant or tool, not \"\(role)\"")
            }
        }
        flush()

        // Tools, also the legacy `functions`.
        if let tools = try Field.array(body["tools"], "tools") {
            for (i, t) in tools.enumerated() {
                let p = "tools[\(i)]"
                guard let t = try Field.object(t, p) else { throw TranslationError(field: p, "must be an object, not null") }
                let type = try Field.string(t["type"], "\(p).type") ?? "function"
                guard type == "function" else {
                    throw TranslationError(field: "\(p).type", "only function tools can be translated, not \"\(type)\"")
                }
                guard let f = try Field.object(t["function"], "\(p).function") else { throw TranslationError(field: "\(p).function", "is required") }
                r.tools.append(try functionDefinition(f, path: "\(p).function"))
            }
        }
        if let fns = try Field.array(body["functions"], "functions") {
            for (i, f) in fns.enumerated() {
                guard let f = try Field.object(f, "functions[\(i)]") else { throw TranslationError(field: "functions[\(i)]", "must be an object") }
                r.tools.append(try functionDefinition(f, path: "functions[\(i)]"))
            }
        }
        if let tc = body["tool_choice"], !tc.isNull {
            r.toolChoice = try toolChoice(tc, path: "tool_choice")
        } else if let fc = body["function_call"], !fc.isNull {
            r.toolChoice = try toolChoice(fc, path: "function_call")
        }
        r.parallelToolCalls = try Field.bool(body["parallel_tool_calls"], "parallel_tool_calls")

        let maxCompletion = try Field.int(body["max_completion_tokens"], "max_completion_tokens")
        let maxTokens = try Field.int(body["max_tokens"], "max_tokens")
        r.maxOutputTokens = maxCompletion ?? maxTokens
        r.temperature = try Field.double(body["temperature"], "temperature")
        r.topP = try Field.double(body["top_p"], "top_p")
        if let stop = body["stop"], !stop.isNull {
            if let s = stop.string { r.stopSequences = [s] } else {
                guard let items = stop.array else { throw TranslationError(field: "stop", "must be a string or an array of strings") }
                for (k, s) in items.enumerated() {
                    r.stopSequences.append(try Field.required(try Field.string(s, "stop[\(k)]"), "stop[\(k)]"))
                }
            }
        }
        if let e = try Field.string(body["reasoning_effort"], "reasoning_effort") {
            switch e {
            case "none": r.reasoning = ReasoningConfig(enabled: false, includeThoughts: false)
            case "minimal": r.reasoning = ReasoningConfig(effort: .minimal)
            case "low": r.reasoning = ReasoningConfig(effort: .low)
            case "medium": r.reasoning = ReasoningConfig(effort: .medium)
            case "high", "xhigh": r.reasoning = ReasoningConfig(effort: .high)
            default: throw TranslationError(field: "reasoning_effort", "must be none, minimal, low, medium, high or xhigh, not \"\(e)\"")
            }
        }
        if let rf = try Field.object(body["response_format"], "response_format") {
            let type = try Field.required(try Field.string(rf["type"], "response_format.type"), "response_format.type")
            switch type {
            case "text": r.responseFormat = .text
            case "json_object": r.responseFormat = .jsonObject
            case "json_schema":
                guard let js = try Field.object(rf["json_schema"], "response_format.json_schema") else {
                    throw TranslationError(field: "response_format.json_schema", "is required")
                }
                let name = try Field.required(try Field.string(js["name"], "response_format.json_schema.name"), "response_format.json_schema.name")
                let schema = try Field.object(js["schema"], "response_format.json_schema.schema") ?? .object([])
                r.responseFormat = .jsonSchema(name: name, schema: schema, strict: try Field.bool(js["strict"], "response_format.json_schema.strict"))
            default:
                throw TranslationError(field: "response_format.type", "must be text, json_object or json_schema, not \"\(type)\"")
            }
        }
        r.stream = try Field.bool(body["stream"], "stream") ?? false
        if let so = try Field.object(body["stream_options"], "stream_options") {
            r.streamUsage = try Field.bool(so["include_usage"], "stream_options.include_usage") ?? false
            r.dropped.noteDropped("stream_options")
        }
        let user = try Field.string(body["user"], "user")
        let safety = try Field.string(body["safety_identifier"], "safety_identifier")
        r.user = user ?? safety
        r.promptCacheKey = try Field.string(body["prompt_cache_key"], "prompt_cache_key")
        return r
    }

    private static func noteExtras(_ m: JSONNode, known: Set<String>, dropped: inout [String]) {
        for k in m.keys where !known.contains(k) && k != "audio" { dropped.noteDropped("messages[].\(k)") }
        if m["name"] != nil { dropped.noteDropped("messages[].name") }
    }

    /// Text-only content: a string or text parts (system, developer, tool, and assistant messages).
    private static func texts(_ c: JSONNode?, path: String, allowRefusal: Bool = false) throws(TranslationError) -> [String] {
        guard let c, !c.isNull else { return [] }
        if let s = c.string { return [s] }
        guard let parts = c.array else { throw TranslationError(field: path, "must be a string or an array of text parts") }
        var out: [String] = []
        for (k, p) in parts.enumerated() {
            let pp = "\(path)[\(k)]"
            let type = try Field.string(p["type"], "\(pp).type")
            switch type {
            case "text": out.append(try Field.required(try Field.string(p["text"], "\(pp).text"), "\(pp).text"))
            case "refusal" where allowRefusal: out.append(try Field.string(p["refusal"], "\(pp).refusal") ?? "")
            default: throw TranslationError(field: "\(pp).type", "only text parts are allowed here, not \"\(type ?? "null")\"")
            }
        }
        return out
    }

    private static func userContent(_ c: JSONNode?, path: String, dropped: inout [String]) throws(TranslationError) -> [ContentBlock] {
        guard let c, !c.isNull else { throw TranslationError(field: path, "is required") }
        if let s = c.string { return [.text(s)] }
        guard let parts = c.array else { throw TranslationError(field: path, "must be a string or an array of content parts") }
        var out: [ContentBlock] = []
        for (k, p) in parts.enumerated() {
            let pp = "\(path)[\(k)]"
            guard let p = try Field.object(p, pp) else { throw TranslationError(field: pp, "must be an object, not null") }
            let type = try Field.required(try Field.string(p["type"], "\(pp).type"), "\(pp).type")
            switch type {
            case "text":
                out.append(.text(try Field.required(try Field.string(p["text"], "\(pp).text"), "\(pp).text")))
            case "image_url":
                let iu = p["image_url"]
                // The SDK sends `{url, detail}`; some clients send the URL as a bare string.
                let url: String
                if let s = iu?.string { url = s } else {
                    guard let o = try Field.object(iu, "\(pp).image_url") else { throw TranslationError(field: "\(pp).image_url", "is required") }
                    url = try Field.required(try Field.string(o["url"], "\(pp).image_url.url"), "\(pp).image_url.url")
                    if o["detail"] != nil { dropped.noteDropped("image_url.detail") }
                }
                out.append(.image(try MediaSource.fromURL(url, field: "\(pp).image_url.url")))
            case "file":
                guard let f = try Field.object(p["file"], "\(pp).file") else { throw TranslationError(field: "\(pp).file", "is required") }
                let filename = try Field.string(f["filename"], "\(pp).file.filename")
                if let id = try Field.string(f["file_id"], "\(pp).file.file_id") {
                    out.append(.document(.fileReference(id: id, mediaType: nil, family: .openai), title: filename))
                } else {
                    let data = try Field.required(try Field.string(f["file_data"], "\(pp).file.file_data"), "\(pp).file.file_data")
                    if data.hasPrefix("data:") {
                        out.append(.document(try MediaSource.fromURL(data, field: "\(pp).file.file_data"), title: filename))
                    } else if filename?.lowercased().hasSuffix(".pdf") == true {
                        out.append(.document(.base64(mediaType: "application/pdf", data: data), title: filename))
                    } else {
                        throw TranslationError(field: "\(pp).file.file_data", "must be a data URI (the file's type is needed)")
                    }
                }
            case "input_audio":
                throw TranslationError(field: "\(pp).type", "audio input cannot be translated")
            default:
                throw TranslationError(field: "\(pp).type", "unsupported content part type \"\(type)\"")
            }
        }
        return out
    }

    private static func toolCall(_ c: JSONNode, path: String) throws(TranslationError) -> ToolCall {
        guard let c = try Field.object(c, path) else { throw TranslationError(field: path, "must be an object, not null") }
        let type = try Field.string(c["type"], "\(path).type") ?? "function"
        guard type == "function" else { throw TranslationError(field: "\(path).type", "only function tool calls can be translated, not \"\(type)\"") }
        let id = try Field.required(try Field.string(c["id"], "\(path).id"), "\(path).id")
        guard let f = try Field.object(c["function"], "\(path).function") else { throw TranslationError(field: "\(path).function", "is required") }
        let name = try Field.required(try Field.string(f["name"], "\(path).function.name"), "\(path).function.name")
        let args = try Field.string(f["arguments"], "\(path).function.arguments") ?? ""
        return ToolCall(id: id, name: name, arguments: args)
    }

    private static func functionDefinition(_ f: JSONNode, path: String) throws(TranslationError) -> ToolDefinition {
        let name = try Field.required(try Field.string(f["name"], "\(path).name"), "\(path).name")
        let description = try Field.string(f["description"], "\(path).description")
        // No parameters means a function without arguments.
        let params = try Field.object(f["parameters"], "\(path).parameters") ?? ["type": "object", "properties": .object([])]
        return ToolDefinition(name: name, description: description, parameters: params, strict: try Field.bool(f["strict"], "\(path).strict"))
    }

    private static func toolChoice(_ tc: JSONNode, path: String) throws(TranslationError) -> ToolChoice {
        if let s = tc.string {
            switch s {
            case "auto": return .auto
            case "none": return ToolChoice.none
            case "required": return .required
            default: throw TranslationError(field: path, "must be auto, none, required or a function, not \"\(s)\"")
            }
        }
        guard tc.isObject else { throw TranslationError(field: path, "must be a string or an object") }
        if path == "function_call" {   // legacy: {"name": ...}
            return .tool(try Field.required(try Field.string(tc["name"], "function_call.name"), "function_call.name"))
        }
        let type = try Field.string(tc["type"], "\(path).type") ?? "function"
        guard type == "function" else { throw TranslationError(field: "\(path).type", "only a function can be chosen, not \"\(type)\"") }
        return .tool(try Field.required(try Field.string(tc["function"]?["name"], "\(path).function.name"), "\(path).function.name"))
    }
}

extension OpenAIChatCodec {
    // MARK: - Upstream side: request

    /// OpenAI's own model names (as opposed to a compatible server's or an Azure deployment's).
    static func isOpenAIModel(_ model: String) -> Bool {
        let m = model.lowercased()
        return ["gpt-", "o1", "o3", "o4", "chatgpt-", "codex-"].contains { m.hasPrefix($0) }
    }

    /// Models known to refuse `reasoning_effort` (OpenAI's non-reasoning families). Other names get it when the
    /// client asked for reasoning; a compatible server that does not know it ignores it or says so.
    static func refusesReasoningEffort(_ model: String) -> Bool {
        let m = model.lowercased()
        return ["gpt-4", "gpt-3.5", "chatgpt-4o"].contains { m.hasPrefix($0) } || m.hasPrefix("gpt-5-chat")
    }

    public static func encodeRequest(_ request: ChatRequest) throws(TranslationError) -> JSONNode {
        var messages: [JSONNode] = []
        let system = request.system.filter { !$0.isEmpty }
        if !system.isEmpty { messages.append(["role": "system", "content": .string(system.joined(separator: "\n\n"))]) }
        for (i, m) in request.messages.enumerated() {
            let path = "messages[\(i)]"
            switch m.role {
            case .user:
                var parts: [JSONNode] = []
                var toolImages: [JSONNode] = []
                for (j, b) in m.content.enumerated() {
                    let p = "\(path).content[\(j)]"
                    switch b {
                    case .text(let t): parts.append(["type": "text", "text": .string(t)])
                    case .image(let s): parts.append(try imagePart(s, path: p))
                    case .document(let s, let title): parts.append(try documentPart(s, title: title, path: p))
                    case .toolResult(let r):
                        var text = ""
                        var images: [JSONNode] = []
                        for (k, c) in r.content.enumerated() {
                            switch c {
                            case .text(let t): text += text.isEmpty ? t : "\n" + t
                            case .image(let s): images.append(try imagePart(s, path: "\(p).content[\(k)]"))
                            case .document(let s, let title):
                                if case .base64(let mt, let d) = s, mt.hasPrefix("text/"), let t = TextBase64.decodeText(d) {
                                    text += text.isEmpty ? t : "\n" + t
                                } else {
                                    images.append(try documentPart(s, title: title, path: "\(p).content[\(k)]"))
                                }
                            default: throw TranslationError(field: "\(p).content[\(k)]", "a tool result holds text, images and documents only")
                            }
                        }
                        if r.isError { text = "Error: " + text }
                        messages.append(["role": "tool", "tool_call_id": .string(r.callID), "content": .string(text)])
                        if !images.isEmpty {
                            toolImages.append(["type": "text", "text": .string("Attachments returned by tool call \(r.callID):")])
                            toolImages += images
                        }
                    case .toolCall: throw TranslationError(field: p, "a tool call must be in an assistant message")
                    case .reasoning: continue
                    }
                }
                let all = toolImages + parts
                if all.isEmpty { continue }
                if all.count == 1, let t = all[0]["text"], all[0]["type"]?.string == "text" {
                    messages.append(["role": "user", "content": t])
                } else {
                    messages.append(["role": "user", "content": .array(all)])
                }
            case .assistant:
                var text = ""
                var calls: [JSONNode] = []
                for (j, b) in m.content.enumerated() {
                    switch b {
                    case .text(let t): text += t
                    case .toolCall(let c):
                        calls.append(["id": .string(c.id), "type": "function",
                                      "function": ["name": .string(c.name), "arguments": .string(c.arguments.isEmpty ? "{}" : c.arguments)]])
                    case .reasoning: continue   // Chat Completions cannot take reasoning back
                    case .image, .document, .toolResult:
                        throw TranslationError(field: "\(path).content[\(j)]", "OpenAI Chat assistant messages hold text and tool calls only")
                    }
                }
                if text.isEmpty && calls.isEmpty { continue }
                var msg = JSONNode.make(("role", "assistant"), ("content", text.isEmpty ? .null : .string(text)))
                if !calls.isEmpty { msg.set("tool_calls", .array(calls)) }
                messages.append(msg)
            }
        }

        var out = JSONNode.make(("model", .string(request.model)), ("messages", .array(messages)))
        if !request.tools.isEmpty {
            out.set("tools", .array(request.tools.map { t in
                ["type": "function", "function": .make(("name", .string(t.name)), ("description", t.description.map { .string($0) }),
                                                       ("parameters", t.parameters), ("strict", t.strict.map { .bool($0) }))]
            }))
            switch request.toolChoice {
            case .auto?: out.set("tool_choice", "auto")
            case .none?: out.set("tool_choice", "none")
            case .required?: out.set("tool_choice", "required")
            case .tool(let n)?: out.set("tool_choice", ["type": "function", "function": ["name": .string(n)]])
            case nil: break
            }
            if let p = request.parallelToolCalls { out.set("parallel_tool_calls", .bool(p)) }
        }
        if let max = request.maxOutputTokens {
            out.set(isOpenAIModel(request.model) ? "max_completion_tokens" : "max_tokens", .int(max))
        }
        out.set("temperature", request.temperature.map { .double($0) })
        out.set("top_p", request.topP.map { .double($0) })
        if !request.stopSequences.isEmpty { out.set("stop", .array(request.stopSequences.map { .string($0) })) }
        if let r = request.reasoning, r.enabled, !refusesReasoningEffort(request.model) {
            if let effort = r.effort ?? r.budgetTokens.map({ ReasoningEffort(budgetTokens: $0) }) {
                out.set("reasoning_effort", .string(effort.rawValue))
            }
        }
        switch request.responseFormat {
        case .text?: out.set("response_format", ["type": "text"])
        case .jsonObject?: out.set("response_format", ["type": "json_object"])
        case .jsonSchema(let name, let schema, let strict)?:
            out.set("response_format", ["type": "json_schema",
                                        "json_schema": .make(("name", .string(name)), ("schema", schema), ("strict", strict.map { .bool($0) }))])
        case nil: break
        }
        if let u = request.user { out.set("user", .string(EndUserID.openAI(u))) }
        if let k = request.promptCacheKey { out.set("prompt_cache_key", .string(PromptCacheKey.bounded(k))) }
        if request.stream {
            out.set("stream", true)
            out.set("stream_options", ["include_usage": true])   // so the usage is known at the end
        }
        return out
    }

    private static func imagePart(_ s: MediaSource, path: String) throws(TranslationError) -> JSONNode {
        switch s {
        case .base64(let mt, let d): return ["type": "image_url", "image_url": ["url": .string(MediaSource.dataURI(mediaType: mt, data: d))]]
        case .url(let u, _): return ["type": "image_url", "image_url": ["url": .string(u)]]
        case .fileReference(_, _, let family):
            throw TranslationError(field: path, "a \(family.rawValue) file reference cannot be sent to OpenAI Chat as an image")
        }
    }

    private static func documentPart(_ s: MediaSource, title: String?, path: String) throws(TranslationError) -> JSONNode {
        switch s {
        case .base64(let mt, let d):
            if mt.hasPrefix("text/"), let t = TextBase64.decodeText(d) {
                return ["type": "text", "text": .string(title.map { "\($0)\n\n\(t)" } ?? t)]
            }
            if mt.hasPrefix("image/") { return try imagePart(s, path: path) }
            return ["type": "file", "file": .make(("filename", .string(title ?? "document.pdf")),
                                                  ("file_data", .string(MediaSource.dataURI(mediaType: mt, data: d))))]
        case .fileReference(let id, _, .openai):
            return ["type": "file", "file": ["file_id": .string(id)]]
        case .fileReference(_, _, let family):
            throw TranslationError(field: path, "a \(family.rawValue) file reference cannot be sent to OpenAI")
        case .url:
            throw TranslationError(field: path, "OpenAI Chat takes documents inline only: the URL must be fetched first")
        }
    }
}
