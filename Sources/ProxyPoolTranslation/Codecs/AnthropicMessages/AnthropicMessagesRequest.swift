import ProxyPoolCore

/// Anthropic Messages API (`POST /v1/messages`), both sides.
///
/// Client side: decodes what Claude Code and the anthropic SDKs send (see `clients.md` and the captures),
/// encodes messages and the event stream Claude Code needs (it loops on a stream without its end, so the
/// encoder always ends one properly), and Anthropic error bodies.
///
/// Upstream side: builds a valid Messages request from any canonical conversation (role alternation, tool
/// results first in a user turn, `max_tokens` always present, thinking rules) and decodes messages, streams
/// and errors.
public enum AnthropicMessagesCodec: ProtocolCodec {
    public static let wire = WireProtocol.anthropicMessages

    /// `max_tokens` is required by the Messages API. When the client's protocol left it out (OpenAI Chat,
    /// Responses and Gemini all make it optional) we send this, which every current Claude model allows; it is
    /// raised above the thinking budget when thinking is on.
    public static let defaultMaxTokens = 8192

    // MARK: - Client side: request

    /// Top-level fields we read. Anything else is dropped (listed in `dropped`), except the ones rejected below.
    private static let knownFields: Set<String> = [
        "model", "messages", "system", "max_tokens", "temperature", "top_p", "top_k", "stop_sequences", "stream",
        "tools", "tool_choice", "thinking", "metadata", "output_config", "output_format",
    ]

    public static func decodeRequest(_ body: JSONNode, context: ClientContext) throws(TranslationError) -> ChatRequest {
        guard body.isObject else { throw TranslationError(field: nil, "the request body must be a JSON object") }
        var r = ChatRequest(model: try Field.required(try Field.string(body["model"], "model"), "model"))
        for key in body.keys where !knownFields.contains(key) {
            if key == "mcp_servers", let a = body[key]?.array, !a.isEmpty {
                throw TranslationError(field: "mcp_servers", "MCP servers run on Anthropic's side; other providers do not have them")
            }
            r.dropped.noteDropped(key)
        }

        // System: a string or text blocks.
        if let s = body["system"], !s.isNull {
            if let text = s.string {
                r.system.append(text)
            } else {
                for text in try systemTexts(s, path: "system", dropped: &r.dropped) { r.system.append(text) }
            }
        }

        guard let messages = try Field.array(body["messages"], "messages") else { throw TranslationError(field: "messages", "is required") }
        for (i, m) in messages.enumerated() {
            let path = "messages[\(i)]"
            guard let m = try Field.object(m, path) else { throw TranslationError(field: path, "must be an object, not null") }
            let role = try Field.required(try Field.string(m["role"], "\(path).role"), "\(path).role")
            for key in m.keys where key != "role" && key != "content" { r.dropped.noteDropped("messages[].\(key)") }
            guard let content = m["content"], !content.isNull else { throw TranslationError(field: "\(path).content", "is required") }
            switch role {
            case "system":
                // Claude Code puts a system message inside `messages` (environment, deferred tools). Canonical
                // system text is one ordered list, so it joins the top-level system text after it.
                if let text = content.string { r.system.append(text) } else {
                    r.system += try systemTexts(content, path: "\(path).content", dropped: &r.dropped)
                }
            case "user", "assistant":
                let roleValue: Role = role == "user" ? .user : .assistant
                var blocks: [ContentBlock] = []
                if let text = content.string {
                    blocks = [.text(text)]
                } else {
                    guard let items = content.array else {
                        throw TranslationError(field: "\(path).content", "must be a string or an array of content blocks")
                    }
                    for (j, item) in items.enumerated() {
                        if let b = try decodeBlock(item, role: roleValue, path: "\(path).content[\(j)]", dropped: &r.dropped) {
                            blocks.append(b)
                        }
                    }
                }
                r.messages.append(Message(role: roleValue, content: blocks))
            default:
                throw TranslationError(field: "\(path).role", "must be \"user\", \"assistant\" or \"system\", not \"\(role)\"")
            }
        }

        r.maxOutputTokens = try Field.int(body["max_tokens"], "max_tokens")
        r.temperature = try Field.double(body["temperature"], "temperature")
        r.topP = try Field.double(body["top_p"], "top_p")
        r.topK = try Field.int(body["top_k"], "top_k")
        if let stops = try Field.array(body["stop_sequences"], "stop_sequences") {
            for (k, s) in stops.enumerated() {
                r.stopSequences.append(try Field.required(try Field.string(s, "stop_sequences[\(k)]"), "stop_sequences[\(k)]"))
            }
        }
        r.stream = try Field.bool(body["stream"], "stream") ?? false

        if let tools = try Field.array(body["tools"], "tools") {
            for (i, t) in tools.enumerated() { r.tools.append(try decodeTool(t, path: "tools[\(i)]", dropped: &r.dropped)) }
        }
        if let tc = try Field.object(body["tool_choice"], "tool_choice") {
            let type = try Field.required(try Field.string(tc["type"], "tool_choice.type"), "tool_choice.type")
            switch type {
            case "auto": r.toolChoice = .auto
            case "any": r.toolChoice = .required
            case "none": r.toolChoice = ToolChoice.none
            case "tool": r.toolChoice = .tool(try Field.required(try Field.string(tc["name"], "tool_choice.name"), "tool_choice.name"))
            default: throw TranslationError(field: "tool_choice.type", "must be auto, any, tool or none, not \"\(type)\"")
            }
            if try Field.bool(tc["disable_parallel_tool_use"], "tool_choice.disable_parallel_tool_use") == true {
                r.parallelToolCalls = false
            }
        }

        // Reasoning: `thinking` says whether and how much; `output_config.effort` says how hard (Claude Code
        // sends `thinking: adaptive` with `output_config.effort`).
        var effort: ReasoningEffort?
        var format: ResponseFormat?
        for key in ["output_config", "output_format"] {
            guard let oc = try Field.object(body[key], key) else { continue }
            let formatNode: JSONNode?
            if key == "output_config" {
                if let e = try Field.string(oc["effort"], "output_config.effort") { effort = try decodeEffort(e, field: "output_config.effort") }
                for k in oc.keys where k != "effort" && k != "format" { r.dropped.noteDropped("output_config.\(k)") }
                formatNode = try Field.object(oc["format"], "output_config.format")
            } else {
                formatNode = oc
            }
            if let f = formatNode {
                let fp = key == "output_config" ? "output_config.format" : "output_format"
                let type = try Field.string(f["type"], "\(fp).type")
                guard type == "json_schema" else { throw TranslationError(field: "\(fp).type", "must be \"json_schema\"") }
                let schema = try Field.required(try Field.object(f["schema"], "\(fp).schema"), "\(fp).schema")
                format = .jsonSchema(name: "response", schema: schema, strict: true)
            }
        }
        r.responseFormat = format
        if let th = try Field.object(body["thinking"], "thinking") {
            let type = try Field.required(try Field.string(th["type"], "thinking.type"), "thinking.type")
            let display = try Field.string(th["display"], "thinking.display")
            let include = display != "omitted"
            switch type {
            case "enabled":
                let budget = try Field.required(try Field.int(th["budget_tokens"], "thinking.budget_tokens"), "thinking.budget_tokens")
                r.reasoning = ReasoningConfig(enabled: true, effort: effort, budgetTokens: budget, includeThoughts: include)
            case "adaptive":
                r.reasoning = ReasoningConfig(enabled: true, effort: effort, includeThoughts: include)
            case "disabled":
                r.reasoning = ReasoningConfig(enabled: false, effort: effort, includeThoughts: false)
            default:
                throw TranslationError(field: "thinking.type", "must be enabled, adaptive or disabled, not \"\(type)\"")
            }
        } else if let effort {
            // Effort without thinking: how hard to work, but no readable thoughts asked for.
            r.reasoning = ReasoningConfig(enabled: true, effort: effort, includeThoughts: false)
        }

        if let md = try Field.object(body["metadata"], "metadata") {
            r.user = try Field.string(md["user_id"], "metadata.user_id")
            for k in md.keys where k != "user_id" { r.dropped.noteDropped("metadata.\(k)") }
        }
        return r
    }

    static func decodeEffort(_ e: String, field: String) throws(TranslationError) -> ReasoningEffort {
        switch e {
        case "low": return .low
        case "medium": return .medium
        case "high", "xhigh", "max": return .high
        default: throw TranslationError(field: field, "must be low, medium, high, xhigh or max, not \"\(e)\"")
        }
    }

    private static func systemTexts(_ node: JSONNode, path: String, dropped: inout [String]) throws(TranslationError) -> [String] {
        guard let items = node.array else { throw TranslationError(field: path, "must be a string or an array of text blocks") }
        var out: [String] = []
        for (i, b) in items.enumerated() {
            let p = "\(path)[\(i)]"
            guard let b = try Field.object(b, p) else { throw TranslationError(field: p, "must be a text block, not null") }
            let type = try Field.string(b["type"], "\(p).type")
            guard type == "text" else { throw TranslationError(field: "\(p).type", "must be \"text\" in system content") }
            out.append(try Field.required(try Field.string(b["text"], "\(p).text"), "\(p).text"))
            noteBlockExtras(b, known: ["type", "text"], dropped: &dropped)
        }
        return out
    }

    /// `cache_control` (prompt caching hints) and `citations` change nothing a client sees when the target
    /// caches on its own or has no citations; anything else unknown on a block is recorded too.
    private static func noteBlockExtras(_ b: JSONNode, known: Set<String>, dropped: inout [String]) {
        for k in b.keys where !known.contains(k) { dropped.noteDropped(k == "cache_control" ? "cache_control" : "content[].\(k)") }
    }

    private static let serverBlockTypes: Set<String> = [
        "server_tool_use", "web_search_tool_result", "web_fetch_tool_result", "code_execution_tool_result",
        "bash_code_execution_tool_result", "text_editor_code_execution_tool_result", "mcp_tool_use", "mcp_tool_result",
        "container_upload", "tool_search_tool_result",
    ]

    private static func decodeBlock(_ node: JSONNode, role: Role, path: String, dropped: inout [String]) throws(TranslationError) -> ContentBlock? {
        guard let b = try Field.object(node, path) else { throw TranslationError(field: path, "must be a content block, not null") }
        let type = try Field.required(try Field.string(b["type"], "\(path).type"), "\(path).type")
        func onlyIn(_ r: Role) throws(TranslationError) {
            guard role == r else { throw TranslationError(field: "\(path).type", "\"\(type)\" blocks belong in \(r.rawValue) messages") }
        }
        switch type {
        case "text":
            noteBlockExtras(b, known: ["type", "text"], dropped: &dropped)
            return .text(try Field.required(try Field.string(b["text"], "\(path).text"), "\(path).text"))
        case "image":
            noteBlockExtras(b, known: ["type", "source"], dropped: &dropped)
            return .image(try decodeSource(b["source"], path: "\(path).source", image: true))
        case "document":
            noteBlockExtras(b, known: ["type", "source", "title", "context"], dropped: &dropped)
            if b["context"] != nil { dropped.noteDropped("content[].context") }
            let title = try Field.string(b["title"], "\(path).title")
            return .document(try decodeSource(b["source"], path: "\(path).source", image: false), title: title)
        case "tool_use":
            try onlyIn(.assistant)
            noteBlockExtras(b, known: ["type", "id", "name", "input"], dropped: &dropped)
            let id = try Field.required(try Field.string(b["id"], "\(path).id"), "\(path).id")
            let name = try Field.required(try Field.string(b["name"], "\(path).name"), "\(path).name")
            let input = try Field.object(b["input"], "\(path).input") ?? .object([])
            return .toolCall(ToolCall(id: id, name: name, arguments: JSONWriter.string(input)))
        case "tool_result":
            try onlyIn(.user)
            noteBlockExtras(b, known: ["type", "tool_use_id", "content", "is_error"], dropped: &dropped)
            let id = try Field.required(try Field.string(b["tool_use_id"], "\(path).tool_use_id"), "\(path).tool_use_id")
            var content: [ContentBlock] = []
            if let c = b["content"], !c.isNull {
                if let s = c.string { content = [.text(s)] } else {
                    guard let items = c.array else { throw TranslationError(field: "\(path).content", "must be a string or an array of blocks") }
                    for (k, item) in items.enumerated() {
                        let ip = "\(path).content[\(k)]"
                        guard let inner = try decodeBlock(item, role: .user, path: ip, dropped: &dropped) else { continue }
                        switch inner {
                        case .text, .image, .document: content.append(inner)
                        default: throw TranslationError(field: "\(ip).type", "a tool result holds text, image and document blocks only")
                        }
                    }
                }
            }
            let isError = try Field.bool(b["is_error"], "\(path).is_error") ?? false
            return .toolResult(ToolResult(callID: id, content: content, isError: isError))
        case "thinking":
            try onlyIn(.assistant)
            noteBlockExtras(b, known: ["type", "thinking", "signature"], dropped: &dropped)
            let text = try Field.string(b["thinking"], "\(path).thinking") ?? ""
            let sig = try Field.string(b["signature"], "\(path).signature")
            return .reasoning(ReasoningBlock(text: text, signature: sig?.isEmpty == false ? sig : nil, family: .anthropic))
        case "redacted_thinking":
            try onlyIn(.assistant)
            let data = try Field.required(try Field.string(b["data"], "\(path).data"), "\(path).data")
            return .reasoning(ReasoningBlock(text: "", encrypted: data, redacted: true, family: .anthropic))
        default:
            if serverBlockTypes.contains(type) {
                throw TranslationError(field: "\(path).type", "\"\(type)\" belongs to an Anthropic server tool, which other providers do not have")
            }
            throw TranslationError(field: "\(path).type", "unsupported content block type \"\(type)\"")
        }
    }

    private static func decodeSource(_ node: JSONNode?, path: String, image: Bool) throws(TranslationError) -> MediaSource {
        guard let s = try Field.object(node, path) else { throw TranslationError(field: path, "is required") }
        let type = try Field.required(try Field.string(s["type"], "\(path).type"), "\(path).type")
        switch type {
        case "base64":
            let mt = try Field.required(try Field.string(s["media_type"], "\(path).media_type"), "\(path).media_type")
            let data = try Field.required(try Field.string(s["data"], "\(path).data"), "\(path).data")
            return .base64(mediaType: mt, data: data)
        case "url":
            let url = try Field.required(try Field.string(s["url"], "\(path).url"), "\(path).url")
            guard case .url = try MediaSource.fromURL(url, field: "\(path).url") else {
                throw TranslationError(field: "\(path).url", "must be an http(s) URL")
            }
            return .url(url, mediaType: nil)
        case "file":
            let id = try Field.required(try Field.string(s["file_id"], "\(path).file_id"), "\(path).file_id")
            return .fileReference(id: id, mediaType: nil, family: .anthropic)
        case "text" where !image:
            // A plain-text document: carried as text/plain base64 so it stays one document block.
            let data = try Field.required(try Field.string(s["data"], "\(path).data"), "\(path).data")
            return .base64(mediaType: "text/plain", data: TextBase64.encode(data))
        case "content" where !image:
            // A document made of text blocks (custom content): joined as one plain-text document.
            var texts: [String] = []
            if let c = s["content"]?.string { texts = [c] } else if let items = s["content"]?.array {
                for (k, item) in items.enumerated() {
                    guard item["type"]?.string == "text", let t = item["text"]?.string else {
                        throw TranslationError(field: "\(path).content[\(k)]", "only text blocks can be carried in a content document")
                    }
                    texts.append(t)
                }
            } else { throw TranslationError(field: "\(path).content", "is required") }
            return .base64(mediaType: "text/plain", data: TextBase64.encode(texts.joined(separator: "\n\n")))
        default:
            throw TranslationError(field: "\(path).type", "unsupported source type \"\(type)\"")
        }
    }

    /// Anthropic caches a prompt up to a block marked with `cache_control` (docs.claude.com/en/docs/build-with-
    /// claude/prompt-caching): at most 4 marks per request, none on a thinking block, tools before system before
    /// messages. The request's breakpoints: the client's where it placed them, or the proxy's for a client whose
    /// protocol caches on its own (`CacheBreakpoints.automatic`, set by the caller); the last win over 4.
    static func placeCacheBreakpoints(_ b: CacheBreakpoints, turnOf: [Int: Int], turns: inout [(role: Role, blocks: [JSONNode])],
                                      system: inout [JSONNode], tools: inout [JSONNode]) {
        func mark(_ p: CacheBreakpoints.Point) -> JSONNode {
            p.ttl.map { ["type": "ephemeral", "ttl": .string($0)] } ?? ["type": "ephemeral"]
        }
        var budget = 4
        // Later points first: a conversation's last turn matters most to the next request.
        var turnMarks: [(turn: Int, point: CacheBreakpoints.Point)] = []
        for (i, p) in b.messages.sorted(by: { $0.key > $1.key }) {
            guard let t = turnOf[i], !turnMarks.contains(where: { $0.turn == t }) else { continue }
            turnMarks.append((t, p))
        }
        for (t, p) in turnMarks where budget > 0 {
            guard let k = turns[t].blocks.lastIndex(where: { !["thinking", "redacted_thinking"].contains($0["type"]?.string ?? "") }) else { continue }
            turns[t].blocks[k].set("cache_control", mark(p))
            budget -= 1
        }
        if let p = b.system, budget > 0, !system.isEmpty { system[system.count - 1].set("cache_control", mark(p)); budget -= 1 }
        if let p = b.tools ?? (system.isEmpty ? b.system : nil), budget > 0, !tools.isEmpty {
            tools[tools.count - 1].set("cache_control", mark(p))
        }
    }

    private static func decodeTool(_ t: JSONNode, path: String, dropped: inout [String]) throws(TranslationError) -> ToolDefinition {
        guard let t = try Field.object(t, path) else { throw TranslationError(field: path, "must be an object, not null") }
        if let type = try Field.string(t["type"], "\(path).type"), type != "custom" {
            throw TranslationError(field: "\(path).type", "\"\(type)\" is an Anthropic server tool, which other providers do not have")
        }
        let name = try Field.required(try Field.string(t["name"], "\(path).name"), "\(path).name")
        let description = try Field.string(t["description"], "\(path).description")
        let schema = try Field.required(try Field.object(t["input_schema"], "\(path).input_schema"), "\(path).input_schema")
        let strict = try Field.bool(t["strict"], "\(path).strict")
        for k in t.keys where !["type", "name", "description", "input_schema", "strict"].contains(k) {
            // `defer_loading` (Claude Code's deferred tools) only matters with Anthropic's tool search: without it
            // the tool is simply always visible. `cache_control`, `input_examples`, `eager_input_streaming`: hints.
            dropped.noteDropped(k == "cache_control" ? "cache_control" : "tools[].\(k)")
        }
        return ToolDefinition(name: name, description: description, parameters: schema, strict: strict)
    }
}

extension AnthropicMessagesCodec {
    // MARK: - Upstream side: request

    public static func encodeRequest(_ request: ChatRequest) throws(TranslationError) -> JSONNode {
        var turns: [(role: Role, blocks: [JSONNode])] = []
        var turnOf: [Int: Int] = [:]   // canonical message → the turn its blocks went into
        for (i, m) in request.messages.enumerated() {
            var results: [JSONNode] = []
            var others: [JSONNode] = []
            for (j, b) in m.content.enumerated() {
                let path = "messages[\(i)].content[\(j)]"
                switch b {
                case .text(let t):
                    if !t.isEmpty { others.append(["type": "text", "text": .string(t)]) }   // empty text blocks are rejected
                case .image(let src): others.append(try encodeImage(src, path: path))
                case .document(let src, let title): others.append(try encodeDocument(src, title: title, path: path))
                case .toolCall(let c):
                    guard m.role == .assistant else { throw TranslationError(field: path, "a tool call must be in an assistant message") }
                    guard let input = ToolArguments.object(c.arguments) else {
                        throw TranslationError(field: "\(path).arguments", "tool call arguments are not a JSON object, which Anthropic requires")
                    }
                    others.append(["type": "tool_use", "id": .string(toolID(c.id)), "name": .string(c.name), "input": input])
                case .toolResult(let r):
                    guard m.role == .user else { throw TranslationError(field: path, "a tool result must be in a user message") }
                    results.append(try encodeToolResult(r, path: path))
                case .reasoning(let r):
                    guard m.role == .assistant else { continue }
                    // Thinking goes back only to Anthropic and only signed; other families' reasoning is dropped.
                    if let block = thinkingBlock(r, forClient: false) { others.append(block) }
                }
            }
            // Tool results must open the user turn that answers the tool calls.
            let blocks = results + others
            if blocks.isEmpty { continue }
            if let last = turns.last, last.role == m.role {
                turns[turns.count - 1].blocks += blocks
            } else {
                turns.append((m.role, blocks))
            }
            turnOf[i] = turns.count - 1
        }
        // After merging, a user turn's tool results still come first.
        for k in turns.indices where turns[k].role == .user {
            let b = turns[k].blocks
            turns[k].blocks = b.filter { $0["type"]?.string == "tool_result" } + b.filter { $0["type"]?.string != "tool_result" }
        }

        var system = request.system.filter { !$0.isEmpty }
        var outputConfig: JSONNode?
        switch request.responseFormat {
        case .jsonSchema(_, let schema, _):
            outputConfig = ["format": ["type": "json_schema", "schema": schema]]
        case .jsonObject:
            // Anthropic has no JSON-object mode without a schema: asked for in the system prompt instead.
            system.append("Respond with a single valid JSON object and nothing else.")
        case .text, nil: break
        }

        var tools: [JSONNode] = []
        for (i, t) in request.tools.enumerated() {
            guard isValidToolName(t.name) else {
                throw TranslationError(field: "tools[\(i)].name", "Anthropic tool names are 1-128 letters, digits, '_' or '-'")
            }
            tools.append(.make(("name", .string(t.name)), ("description", t.description.map { .string($0) }),
                               ("input_schema", t.parameters)))
        }
        var toolChoice: JSONNode?
        var forced = false
        if !tools.isEmpty {
            switch request.toolChoice {
            case .auto?: toolChoice = ["type": "auto"]
            case .none?: toolChoice = ["type": "none"]
            case .required?: toolChoice = ["type": "any"]; forced = true
            case .tool(let name)?: toolChoice = ["type": "tool", "name": .string(name)]; forced = true
            case nil: if request.parallelToolCalls == false { toolChoice = ["type": "auto"] }
            }
            if request.parallelToolCalls == false, toolChoice?["type"]?.string != "none" {
                toolChoice?.set("disable_parallel_tool_use", true)
            }
        }

        // Thinking. Anthropic's rules: budget ≥ 1024 and < max_tokens; no forced tool choice; in a tool loop the
        // last assistant turn must start with its (signed) thinking block — cross-family history has none, so
        // thinking is left off for that request rather than failing it.
        var maxTokens = request.maxOutputTokens ?? defaultMaxTokens
        var thinking: JSONNode?
        if let r = request.reasoning {
            if !r.enabled {
                thinking = ["type": "disabled"]
            } else {
                // Both numbers are the client's (Int.max, Int.min): the budget is held to a sane count first.
                var budget = min(max(1024, r.budgetTokens ?? (r.effort ?? .medium).budgetTokens), Int(Saturating.maxTokensPerRequest))
                if request.maxOutputTokens == nil { maxTokens = max(defaultMaxTokens, budget + 4096) }
                if budget >= maxTokens { budget = max(maxTokens, 1) - 1 }
                let lastAssistant = turns.last(where: { $0.role == .assistant })
                let loopWithoutThinking = lastAssistant.map { a in
                    a.blocks.contains { $0["type"]?.string == "tool_use" }
                        && !["thinking", "redacted_thinking"].contains(a.blocks.first?["type"]?.string ?? "")
                } ?? false
                if budget >= 1024, !forced, !loopWithoutThinking {
                    thinking = ["type": "enabled", "budget_tokens": .int(budget)]
                }
            }
        }
        let thinkingOn = thinking?["type"]?.string == "enabled"

        var systemBlocks: [JSONNode] = system.map { ["type": "text", "text": .string($0)] }
        placeCacheBreakpoints(request.cacheBreakpoints ?? CacheBreakpoints(), turnOf: turnOf, turns: &turns, system: &systemBlocks, tools: &tools)
        var out = JSONNode.make(("model", .string(request.model)), ("max_tokens", .int(maxTokens)))
        if !systemBlocks.isEmpty { out.set("system", .array(systemBlocks)) }
        out.set("messages", .array(turns.map { ["role": .string($0.role.rawValue), "content": .array($0.blocks)] }))
        if !tools.isEmpty { out.set("tools", .array(tools)) }
        out.set("tool_choice", toolChoice)
        out.set("thinking", thinking)
        // With thinking on, Anthropic takes no temperature or top_k and a top_p of 0.95 or more only. Newer
        // models also refuse temperature and top_p together: temperature wins.
        if !thinkingOn {
            out.set("temperature", request.temperature.map { .double($0) })
            out.set("top_k", request.topK.map { .int($0) })
        }
        if let p = request.topP, !(thinkingOn && p < 0.95), thinkingOn || request.temperature == nil {
            out.set("top_p", .double(p))
        }
        if !request.stopSequences.isEmpty { out.set("stop_sequences", .array(request.stopSequences.map { .string($0) })) }
        out.set("output_config", outputConfig)
        if let user = request.user { out.set("metadata", ["user_id": .string(user)]) }
        if request.stream { out.set("stream", true) }
        return out
    }

    static func isValidToolName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 128 && s.utf8.allSatisfy { isIDByte($0) }
    }

    private static func isIDByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }

    /// Anthropic tool ids must match `^[a-zA-Z0-9_-]+$`; ids from other providers are made to fit the same way
    /// in calls and results, so they still pair up.
    static func toolID(_ id: String) -> String {
        if !id.isEmpty, id.utf8.allSatisfy({ isIDByte($0) }) { return id }
        let mapped = String(decoding: id.utf8.map { isIDByte($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
        return mapped.isEmpty ? "toolu_" : mapped
    }

    static let imageTypes: Set<String> = ["image/jpeg", "image/png", "image/gif", "image/webp"]

    private static func encodeImage(_ src: MediaSource, path: String) throws(TranslationError) -> JSONNode {
        switch src {
        case .base64(let mt, let data):
            let t = mt == "image/jpg" ? "image/jpeg" : mt
            guard imageTypes.contains(t) else { throw TranslationError(field: path, "Anthropic takes JPEG, PNG, GIF and WebP images, not \(mt)") }
            return ["type": "image", "source": ["type": "base64", "media_type": .string(t), "data": .string(data)]]
        case .url(let u, _):
            return ["type": "image", "source": ["type": "url", "url": .string(u)]]
        case .fileReference(let id, _, let family):
            guard family == .anthropic else { throw TranslationError(field: path, "a \(family.rawValue) file reference cannot be sent to Anthropic") }
            return ["type": "image", "source": ["type": "file", "file_id": .string(id)]]
        }
    }

    private static func encodeDocument(_ src: MediaSource, title: String?, path: String) throws(TranslationError) -> JSONNode {
        let source: JSONNode
        switch src {
        case .base64(let mt, let data):
            if mt == "application/pdf" {
                source = ["type": "base64", "media_type": "application/pdf", "data": .string(data)]
            } else if mt.hasPrefix("text/"), let text = TextBase64.decodeText(data) {
                source = ["type": "text", "media_type": "text/plain", "data": .string(text)]
            } else if mt.hasPrefix("image/") {
                return try encodeImage(src, path: path)
            } else {
                throw TranslationError(field: path, "Anthropic documents are PDF or plain text, not \(mt)")
            }
        case .url(let u, _): source = ["type": "url", "url": .string(u)]
        case .fileReference(let id, _, let family):
            guard family == .anthropic else { throw TranslationError(field: path, "a \(family.rawValue) file reference cannot be sent to Anthropic") }
            source = ["type": "file", "file_id": .string(id)]
        }
        return .make(("type", "document"), ("source", source), ("title", title.map { .string($0) }))
    }

    private static func encodeToolResult(_ r: ToolResult, path: String) throws(TranslationError) -> JSONNode {
        var content: JSONNode?
        if r.content.count == 1, case .text(let t) = r.content[0] {
            content = .string(t)
        } else if !r.content.isEmpty {
            var items: [JSONNode] = []
            for (k, b) in r.content.enumerated() {
                switch b {
                case .text(let t): if !t.isEmpty { items.append(["type": "text", "text": .string(t)]) }
                case .image(let s): items.append(try encodeImage(s, path: "\(path).content[\(k)]"))
                case .document(let s, let title): items.append(try encodeDocument(s, title: title, path: "\(path).content[\(k)]"))
                default: throw TranslationError(field: "\(path).content[\(k)]", "a tool result holds text, images and documents only")
                }
            }
            content = .array(items)
        }
        return .make(("type", "tool_result"), ("tool_use_id", .string(toolID(r.callID))), ("content", content),
                     ("is_error", r.isError ? .bool(true) : nil))
    }
}
