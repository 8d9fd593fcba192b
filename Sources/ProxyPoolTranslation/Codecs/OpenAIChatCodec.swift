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
    ]

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
            case "user":
                flush()
                noteExtras(m, known: ["role", "content", "name"], dropped: &r.dropped)
                r.messages.append(Message(role: .user, content: try userContent(m["content"], path: "\(path).content", dropped: &r.dropped)))
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

    // MARK: - Client side: responses

    static func finishReason(_ s: StopReason) -> String {
        switch s {
        case .endTurn, .stopSequence, .pauseTurn, .error: return "stop"
        case .maxTokens: return "length"
        case .toolUse: return "tool_calls"
        case .contentFilter, .refusal: return "content_filter"
        }
    }

    static func stopReason(_ s: String?) -> StopReason {
        switch s {
        case "length": return .maxTokens
        case "tool_calls", "function_call": return .toolUse
        case "content_filter": return .contentFilter
        default: return .endTurn
        }
    }

    static func encodeUsage(_ u: Usage) -> JSONNode {
        ["prompt_tokens": .int(u.input), "completion_tokens": .int(u.output), "total_tokens": .int(u.input + u.output),
         "prompt_tokens_details": ["cached_tokens": .int(u.cachedInput)],
         "completion_tokens_details": ["reasoning_tokens": .int(u.reasoning)]]
    }

    static func completionID(_ id: String) -> String { id.hasPrefix("chatcmpl-") ? id : "chatcmpl-" + (id.isEmpty ? IDs.make("") : id) }

    public static func encodeResponse(_ response: ChatResponse, for request: ChatRequest) -> JSONNode {
        var text = ""
        var reasoning = ""
        var calls: [JSONNode] = []
        for b in response.content {
            switch b {
            case .text(let t): text += t
            case .reasoning(let r): reasoning += r.text
            case .toolCall(let c):
                calls.append(["id": .string(c.id), "type": "function",
                              "function": ["name": .string(c.name), "arguments": .string(c.arguments.isEmpty ? "{}" : c.arguments)]])
            case .image, .document, .toolResult: continue
            }
        }
        var message = JSONNode.make(("role", "assistant"), ("content", text.isEmpty && !calls.isEmpty ? .null : .string(text)),
                                    ("refusal", .null))
        if !reasoning.isEmpty { message.set("reasoning_content", .string(reasoning)) }
        if !calls.isEmpty { message.set("tool_calls", .array(calls)) }
        let choice: JSONNode = ["index": 0, "message": message, "logprobs": nil, "finish_reason": .string(finishReason(response.stopReason))]
        return .make(("id", .string(completionID(response.id))), ("object", "chat.completion"), ("created", .int(Int(Timestamp.now()))),
                     ("model", .string(response.model.isEmpty ? request.model : response.model)), ("choices", [choice]),
                     ("usage", encodeUsage(response.usage)))
    }

    public static func makeStreamEncoder(for request: ChatRequest, context: ClientContext) -> any StreamEncoder {
        OpenAIChatStreamEncoder(model: request.model, includeUsage: request.streamUsage)
    }

    static func errorTypeAndCode(_ k: ErrorInfo.Kind) -> (String, String?) {
        switch k {
        case .invalidRequest: return ("invalid_request_error", nil)
        case .authentication: return ("authentication_error", "invalid_api_key")
        case .permission: return ("permission_error", nil)
        case .notFound: return ("invalid_request_error", "not_found")
        case .tooLarge: return ("invalid_request_error", "request_too_large")
        case .rateLimited: return ("rate_limit_error", "rate_limit_exceeded")
        case .overloaded: return ("server_error", "overloaded")
        case .server: return ("server_error", nil)
        case .timeout: return ("server_error", "timeout")
        }
    }

    public static func encodeError(_ error: ErrorInfo) -> JSONNode {
        let (type, code) = errorTypeAndCode(error.kind)
        return ["error": ["message": .string(error.message), "type": .string(type), "param": nil, "code": code.map { .string($0) } ?? .null]]
    }

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

    // MARK: - Upstream side: responses

    static func decodeUsage(_ u: JSONNode) -> Usage {
        let cached = u["prompt_tokens_details"]?["cached_tokens"]?.tokenCount ?? u["prompt_cache_hit_tokens"]?.tokenCount ?? 0
        return Usage(input: u["prompt_tokens"]?.tokenCount ?? 0, output: u["completion_tokens"]?.tokenCount ?? 0, cachedInput: cached,
                     reasoning: u["completion_tokens_details"]?["reasoning_tokens"]?.tokenCount ?? 0)
    }

    public static func decodeResponse(_ body: JSONNode) throws(TranslationError) -> ChatResponse {
        guard let choice = body["choices"]?[0], let message = choice["message"] else {
            throw TranslationError(field: "choices", "the upstream answer has no choice")
        }
        var content: [ContentBlock] = []
        if let r = message["reasoning_content"]?.string ?? message["reasoning"]?.string, !r.isEmpty {
            content.append(.reasoning(ReasoningBlock(text: r)))
        }
        if let t = message["content"]?.string, !t.isEmpty { content.append(.text(t)) }
        if let t = message["refusal"]?.string, !t.isEmpty { content.append(.text(t)) }
        for (k, c) in (message["tool_calls"]?.array ?? []).enumerated() {
            guard let name = c["function"]?["name"]?.string else { throw TranslationError(field: "choices[0].message.tool_calls[\(k)]", "has no name") }
            content.append(.toolCall(ToolCall(id: c["id"]?.string ?? IDs.make("call_"), name: name,
                                              arguments: c["function"]?["arguments"]?.string ?? "")))
        }
        if let fc = message["function_call"], let name = fc["name"]?.string {
            content.append(.toolCall(ToolCall(id: IDs.make("call_"), name: name, arguments: fc["arguments"]?.string ?? "")))
        }
        var stop = stopReason(choice["finish_reason"]?.string)
        if message["refusal"]?.string?.isEmpty == false { stop = .refusal }
        if stop == .endTurn, content.contains(where: { if case .toolCall = $0 { return true }; return false }) { stop = .toolUse }
        return ChatResponse(id: body["id"]?.string ?? IDs.make("chatcmpl-"), model: body["model"]?.string ?? "", content: content,
                            stopReason: stop, usage: body["usage"].map(decodeUsage) ?? Usage())
    }

    public static func makeStreamDecoder() -> any StreamDecoder { OpenAIChatStreamDecoder() }

    static func errorKind(type: String?, code: String?, status: Int) -> ErrorInfo.Kind {
        switch code ?? "" {
        case "rate_limit_exceeded", "insufficient_quota": return .rateLimited
        case "invalid_api_key": return .authentication
        case "context_length_exceeded": return .invalidRequest
        default: break
        }
        switch type ?? "" {
        case "invalid_request_error" where status < 400 || status >= 500: return .invalidRequest
        case "authentication_error": return .authentication
        case "permission_error": return .permission
        case "rate_limit_error", "requests", "tokens": return .rateLimited
        default: return StatusKind.of(status)
        }
    }

    public static func decodeError(status: Int, body: JSONNode?) -> ErrorInfo {
        // OpenAI: {"error":{...}}; some compatible servers answer with a list of those or a bare message.
        let root = body?.array?.first ?? body
        let e = root?["error"]
        let message = e?["message"]?.string ?? e?.string ?? root?["message"]?.string ?? "upstream error (HTTP \(status))"
        let code = e?["code"]?.string ?? e?["code"]?.int.map { String($0) }
        return ErrorInfo(kind: errorKind(type: e?["type"]?.string, code: code, status: status), message: message, status: status)
    }
}

// MARK: - Streams

/// OpenAI Chat chunks → canonical events. Text and reasoning open a block when they start and close it when
/// something else starts; each tool call index gets its own block (several may stream interleaved). The
/// `finish_reason` may arrive before the usage chunk, so the message end waits for usage, `[DONE]` or EOF.
final class OpenAIChatStreamDecoder: StreamDecoder {
    private var started = false
    private var next = 0
    private var textBlock: Int?
    private var reasoningBlock: Int?
    private var tools: [Int: Int] = [:]            // OpenAI tool_call index → canonical block index
    private var toolIDs: [String: Int] = [:]       // id → OpenAI index, for servers that omit `index`
    private var openTools: Set<Int> = []
    private var lastTool: Int?
    private var finishReason: String?
    private var usage: Usage?
    private var sawToolCall = false
    private var ended = false

    func decode(_ event: SSEEvent) throws(TranslationError) -> [StreamEvent] {
        if ended { return [] }
        let data = event.data.trimmingSpaces
        if data == "[DONE]" { return end() }
        let json: JSONNode
        do { json = try JSONParser.parse(String(data)) } catch {
            throw TranslationError(field: nil, "the upstream sent a chunk that is not JSON: \(error)")
        }
        if let e = json["error"], !e.isNull {
            ended = true
            let code = e["code"]?.string
            let kind = OpenAIChatCodec.errorKind(type: e["type"]?.string, code: code, status: 500)
            let status = kind == .rateLimited ? 429 : kind == .invalidRequest ? 400 : kind == .overloaded ? 503 : 500
            return [.error(ErrorInfo(kind: kind, message: e["message"]?.string ?? e.string ?? "upstream stream error", status: status))]
        }
        var out: [StreamEvent] = []
        if !started {
            started = true
            out.append(.messageStart(id: json["id"]?.string ?? IDs.make("chatcmpl-"), model: json["model"]?.string ?? "", usage: nil))
        }
        let chunkUsage = json["usage"].flatMap { $0.isNull ? nil : OpenAIChatCodec.decodeUsage($0) }
        if let chunkUsage { usage = chunkUsage }
        for choice in json["choices"]?.array ?? [] where (choice["index"]?.int ?? 0) == 0 {
            if let d = choice["delta"] {
                if let r = d["reasoning_content"]?.string ?? d["reasoning"]?.string, !r.isEmpty {
                    if let t = textBlock { out.append(.blockStop(index: t)); textBlock = nil }
                    if reasoningBlock == nil {
                        reasoningBlock = next; next += 1
                        out.append(.blockStart(index: reasoningBlock!, .reasoning(family: nil, itemID: nil)))
                    }
                    out.append(.blockDelta(index: reasoningBlock!, .reasoning(r)))
                }
                for key in ["content", "refusal"] {
                    guard let t = d[key]?.string, !t.isEmpty else { continue }
                    if let r = reasoningBlock { out.append(.blockStop(index: r)); reasoningBlock = nil }
                    if textBlock == nil {
                        textBlock = next; next += 1
                        out.append(.blockStart(index: textBlock!, .text))
                    }
                    out.append(.blockDelta(index: textBlock!, .text(t)))
                }
                for (k, tc) in (d["tool_calls"]?.array ?? []).enumerated() {
                    out += toolDelta(tc, position: k)
                }
            }
            if let f = choice["finish_reason"]?.string {
                finishReason = f
                out += closeAll()
            }
        }
        // Usage in the finish chunk itself (some servers) ends the message now; else a later usage chunk does.
        if finishReason != nil, chunkUsage != nil { out += end() }
        return out
    }

    private func toolDelta(_ tc: JSONNode, position: Int) -> [StreamEvent] {
        var out: [StreamEvent] = []
        let id = tc["id"]?.string
        let upIndex: Int
        if let i = tc["index"]?.int { upIndex = i } else if let id, let i = toolIDs[id] { upIndex = i } else if id == nil, let last = lastTool {
            upIndex = last
        } else { upIndex = Int(Saturating.add(Int64(tools.keys.max() ?? -1), Int64(1 + position))) }   // an index from upstream may be Int.max
        lastTool = upIndex
        let f = tc["function"]
        if tools[upIndex] == nil {
            if let t = textBlock { out.append(.blockStop(index: t)); textBlock = nil }
            if let r = reasoningBlock { out.append(.blockStop(index: r)); reasoningBlock = nil }
            let idx = next; next += 1
            tools[upIndex] = idx
            openTools.insert(idx)
            let callID = id ?? IDs.make("call_")
            toolIDs[callID] = upIndex
            sawToolCall = true
            out.append(.blockStart(index: idx, .toolCall(id: callID, name: f?["name"]?.string ?? "", signature: nil)))
        }
        if let idx = tools[upIndex], openTools.contains(idx), let a = f?["arguments"]?.string, !a.isEmpty {
            out.append(.blockDelta(index: idx, .toolArguments(a)))
        }
        return out
    }

    private func closeAll() -> [StreamEvent] {
        var out: [StreamEvent] = []
        if let r = reasoningBlock { out.append(.blockStop(index: r)); reasoningBlock = nil }
        if let t = textBlock { out.append(.blockStop(index: t)); textBlock = nil }
        for i in openTools.sorted() { out.append(.blockStop(index: i)) }
        openTools.removeAll()
        return out
    }

    /// The end of the message: `[DONE]`, the usage after `finish_reason`, or EOF after `finish_reason`.
    private func end() -> [StreamEvent] {
        if ended { return [] }
        guard started else {
            ended = true
            return [.error(ErrorInfo(kind: .server, message: "the upstream stream ended before it started", status: 502))]
        }
        ended = true
        var stop = OpenAIChatCodec.stopReason(finishReason)
        if stop == .endTurn, sawToolCall { stop = .toolUse }   // servers that say "stop" after tool calls
        return closeAll() + [.messageDelta(stopReason: stop, stopSequence: nil, usage: usage ?? Usage()), .messageStop]
    }

    func finish() -> [StreamEvent] {
        if ended { return [] }
        if finishReason != nil { return end() }
        ended = true
        return [.error(ErrorInfo(kind: .server, message: started ? "the upstream stream ended before the message was complete"
                                                                  : "the upstream stream ended before it started", status: 502))]
    }
}

private extension String {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\n" || f == "\r" || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\r" || l == "\t" { s = s.dropLast() }
        return s
    }
}

/// Canonical events → `chat.completion.chunk` lines, `[DONE]` at the end.
final class OpenAIChatStreamEncoder: StreamEncoder {
    private let model: String
    private let includeUsage: Bool
    private var id = IDs.make("chatcmpl-")
    private var responseModel: String
    private let created = Int(Timestamp.now())
    private var started = false
    private var toolIndex: [Int: Int] = [:]   // canonical block → index among tool calls
    private var argsSent: Set<Int> = []
    private var finished = false
    private var ended = false

    init(model: String, includeUsage: Bool) {
        self.model = model
        self.includeUsage = includeUsage
        self.responseModel = model
    }

    func encode(_ event: StreamEvent, into out: inout [UInt8]) {
        if ended { return }
        switch event {
        case .messageStart(let id, let model, _):
            guard !started else { return }
            self.id = OpenAIChatCodec.completionID(id)
            if !model.isEmpty { responseModel = model }
            ensureStarted(into: &out)
        case .blockStart(let index, let b):
            ensureStarted(into: &out)
            if case .toolCall(let callID, let name, _) = b {
                let k = toolIndex.count
                toolIndex[index] = k
                chunk(["tool_calls": [["index": .int(k), "id": .string(callID), "type": "function",
                                       "function": ["name": .string(name), "arguments": ""]]]], into: &out)
            }
        case .blockDelta(let index, let d):
            ensureStarted(into: &out)
            switch d {
            case .text(let t): if !t.isEmpty { chunk(["content": .string(t)], into: &out) }
            case .reasoning(let t): if !t.isEmpty { chunk(["reasoning_content": .string(t)], into: &out) }
            case .toolArguments(let a):
                guard let k = toolIndex[index], !a.isEmpty else { return }
                argsSent.insert(index)
                chunk(["tool_calls": [["index": .int(k), "function": ["arguments": .string(a)]]]], into: &out)
            case .reasoningSignature, .reasoningEncrypted: return   // nothing in Chat Completions carries them
            }
        case .blockStop(let index):
            // A call that streamed no arguments gets `{}` so the client can parse them.
            if let k = toolIndex[index], !argsSent.contains(index) {
                argsSent.insert(index)
                chunk(["tool_calls": [["index": .int(k), "function": ["arguments": "{}"]]]], into: &out)
            }
        case .messageDelta(let reason, _, let usage):
            ensureStarted(into: &out)
            guard !finished else { return }
            finished = true
            chunk(.object([]), finish: OpenAIChatCodec.finishReason(reason), into: &out)
            if includeUsage {
                SSEWriter.event(nil, .make(("id", .string(id)), ("object", "chat.completion.chunk"), ("created", .int(created)),
                                           ("model", .string(responseModel)), ("choices", .array([])),
                                           ("usage", OpenAIChatCodec.encodeUsage(usage))), into: &out)
            }
        case .messageStop:
            if !finished { encode(.messageDelta(stopReason: .endTurn, stopSequence: nil, usage: Usage()), into: &out) }
        case .error(let e):
            SSEWriter.event(nil, OpenAIChatCodec.encodeError(e), into: &out)
            ended = true
        }
    }

    func finish(into out: inout [UInt8]) {
        if ended { return }
        ended = true
        if finished {
            out.append(contentsOf: "data: [DONE]\n\n".utf8)
        } else {
            SSEWriter.event(nil, OpenAIChatCodec.encodeError(
                ErrorInfo(kind: .server, message: "the upstream stream ended before the message was complete", status: 502)), into: &out)
        }
    }

    private func ensureStarted(into out: inout [UInt8]) {
        guard !started else { return }
        started = true
        chunk(["role": "assistant", "content": ""], into: &out)
    }

    private func chunk(_ delta: JSONNode, finish: String? = nil, into out: inout [UInt8]) {
        let choice = JSONNode.make(("index", 0), ("delta", delta), ("logprobs", .null), ("finish_reason", finish.map { .string($0) } ?? .null))
        SSEWriter.event(nil, .make(("id", .string(id)), ("object", "chat.completion.chunk"), ("created", .int(created)),
                                   ("model", .string(responseModel)), ("choices", .array([choice]))), into: &out)
    }
}
