import ProxyPoolCore

extension OpenAIChatCodec {
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
         "prompt_tokens_details": ["cached_tokens": .int(u.cachedInput), "audio_tokens": 0],
         "completion_tokens_details": ["reasoning_tokens": .int(u.reasoning), "audio_tokens": 0, "accepted_prediction_tokens": 0,
                                       "rejected_prediction_tokens": 0]]
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
}

extension OpenAIChatCodec {
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
}
