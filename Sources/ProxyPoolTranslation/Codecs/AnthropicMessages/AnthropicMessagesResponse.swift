import ProxyPoolCore

extension AnthropicMessagesCodec {
    // MARK: - Client side: responses

    static func stopReasonString(_ s: StopReason) -> String {
        switch s {
        case .endTurn, .error: return "end_turn"
        case .maxTokens: return "max_tokens"
        case .toolUse: return "tool_use"
        case .stopSequence: return "stop_sequence"
        case .pauseTurn: return "pause_turn"
        case .refusal, .contentFilter: return "refusal"
        }
    }

    static func stopReason(_ s: String?) -> StopReason {
        switch s {
        case "max_tokens", "model_context_window_exceeded": return .maxTokens
        case "tool_use": return .toolUse
        case "stop_sequence": return .stopSequence
        case "pause_turn": return .pauseTurn
        case "refusal": return .refusal
        default: return .endTurn
        }
    }

    /// Anthropic's `input_tokens` excludes cache reads and writes; ours includes them.
    static func encodeUsage(_ u: Usage) -> JSONNode {
        .make(("input_tokens", .int(max(0, u.input - u.cachedInput - u.cacheCreation))),
              ("cache_creation_input_tokens", .int(u.cacheCreation)),
              ("cache_read_input_tokens", .int(u.cachedInput)),
              ("output_tokens", .int(u.output)))
    }

    static func messageID(_ id: String) -> String { id.hasPrefix("msg_") ? id : "msg_" + (id.isEmpty ? IDs.make("") : id) }

    public static func encodeResponse(_ response: ChatResponse, for request: ChatRequest) -> JSONNode {
        var blocks: [JSONNode] = []
        for b in response.content {
            switch b {
            case .text(let t): blocks.append(["type": "text", "text": .string(t)])
            case .reasoning(let r):
                if let block = thinkingBlock(r, forClient: true) { blocks.append(block) }
            case .toolCall(let c):
                // A model that produced arguments that are not a JSON object: the client gets `{}` and its
                // tool validation reports the missing arguments to the model, which retries.
                blocks.append(["type": "tool_use", "id": .string(c.id), "name": .string(c.name),
                               "input": ToolArguments.object(c.arguments) ?? .object([])])
            case .image, .document, .toolResult:
                continue   // not assistant output in Anthropic's format
            }
        }
        return .make(("id", .string(messageID(response.id))), ("type", "message"), ("role", "assistant"),
                     ("model", .string(response.model.isEmpty ? request.model : response.model)),
                     ("content", .array(blocks)),
                     ("stop_reason", .string(stopReasonString(response.stopReason))),
                     ("stop_sequence", response.stopSequence.map { .string($0) } ?? .null),
                     ("usage", encodeUsage(response.usage)))
    }

    /// A reasoning block as Anthropic content. To the client: readable thinking from any family (its signature
    /// only when it is Anthropic's), redacted thinking from Anthropic; encrypted payloads of other families are
    /// left out (Claude Code could not use them). To Anthropic upstream: only Anthropic blocks with a signature
    /// or redacted data — the API rejects anything else.
    static func thinkingBlock(_ r: ReasoningBlock, forClient: Bool) -> JSONNode? {
        if r.redacted || (r.text.isEmpty && r.signature == nil && r.encrypted != nil) {
            guard r.family == .anthropic, let data = r.encrypted else { return nil }
            return ["type": "redacted_thinking", "data": .string(data)]
        }
        let sig = r.family == .anthropic ? r.signature : nil
        if !forClient, sig == nil { return nil }
        if forClient, r.text.isEmpty, sig == nil { return nil }
        return ["type": "thinking", "thinking": .string(r.text), "signature": .string(sig ?? "")]
    }

    public static func makeStreamEncoder(for request: ChatRequest, context: ClientContext) -> any StreamEncoder {
        AnthropicStreamEncoder(model: request.model)
    }
}

extension AnthropicMessagesCodec {
    // MARK: - Upstream side: responses

    static func decodeUsage(_ u: JSONNode?) -> Usage {
        guard let u else { return Usage() }
        let read = u["cache_read_input_tokens"]?.tokenCount ?? 0
        let created = u["cache_creation_input_tokens"]?.tokenCount ?? 0
        return Usage(input: (u["input_tokens"]?.tokenCount ?? 0) + read + created, output: u["output_tokens"]?.tokenCount ?? 0,
                     cachedInput: read, cacheCreation: created)
    }

    public static func decodeResponse(_ body: JSONNode) throws(TranslationError) -> ChatResponse {
        guard body["type"]?.string == "message" else {
            throw TranslationError(field: "type", "the upstream answer is not an Anthropic message")
        }
        var content: [ContentBlock] = []
        for (i, b) in (body["content"]?.array ?? []).enumerated() {
            switch b["type"]?.string {
            case "text": content.append(.text(b["text"]?.string ?? ""))
            case "thinking":
                let sig = b["signature"]?.string
                content.append(.reasoning(ReasoningBlock(text: b["thinking"]?.string ?? "", signature: sig?.isEmpty == false ? sig : nil,
                                                         family: .anthropic)))
            case "redacted_thinking":
                content.append(.reasoning(ReasoningBlock(text: "", encrypted: b["data"]?.string, redacted: true, family: .anthropic)))
            case "tool_use":
                guard let id = b["id"]?.string, let name = b["name"]?.string else {
                    throw TranslationError(field: "content[\(i)]", "a tool_use block without id or name")
                }
                content.append(.toolCall(ToolCall(id: id, name: name, arguments: JSONWriter.string(b["input"] ?? .object([])))))
            default:
                continue   // server-tool blocks: we never send server tools, so they are not expected
            }
        }
        return ChatResponse(id: body["id"]?.string ?? IDs.make("msg_"), model: body["model"]?.string ?? "", content: content,
                            stopReason: stopReason(body["stop_reason"]?.string), stopSequence: body["stop_sequence"]?.string,
                            usage: decodeUsage(body["usage"]))
    }

    public static func makeStreamDecoder() -> any StreamDecoder { AnthropicStreamDecoder() }
}
