extension GeminiCodec {
    // MARK: - Client side: response

    public static func encodeResponse(_ response: ChatResponse, for request: ChatRequest) -> JSONNode {
        let parts = responseParts(response.content, includeThoughts: request.reasoning?.includeThoughts == true)
        let candidate: JSONNode = ["content": ["role": "model", "parts": .array(parts)],
                                   "finishReason": .string(finishReason(response.stopReason)), "index": 0]
        return ["candidates": [candidate], "usageMetadata": usageMetadata(response.usage),
                "modelVersion": .string(response.model), "responseId": .string(response.id)]
    }

    static func responseParts(_ content: [ContentBlock], includeThoughts: Bool) -> [JSONNode] {
        var parts: [JSONNode] = []
        var pendingSignature: String?
        for b in content {
            var part: JSONNode
            switch b {
            case .text(let t): part = ["text": .string(t)]
            // The call's id goes along (Gemini's optional `functionCall.id`), so the client's next turn names the
            // same call and the daemon finds what it kept for it.
            case .toolCall(let c): part = ["functionCall": ["name": .string(c.name), "args": argsObject(c.arguments), "id": .string(c.id)]]
                if let s = c.signature { part.set("thoughtSignature", .string(s)) }
            case .reasoning(let r):
                let sig = r.family == .gemini ? r.signature : nil
                if includeThoughts, !r.text.isEmpty {
                    part = ["text": .string(r.text), "thought": true]
                    if let sig { part.set("thoughtSignature", .string(sig)) }
                } else {
                    if let sig { pendingSignature = sig }
                    continue
                }
            default: continue
            }
            if let s = pendingSignature, part["thoughtSignature"] == nil { part.set("thoughtSignature", .string(s)) }
            pendingSignature = nil
            parts.append(part)
        }
        if let s = pendingSignature { parts.append(["text": "", "thoughtSignature": .string(s)]) }
        return parts
    }

    static func argsObject(_ arguments: String) -> JSONNode {
        if let v = try? JSONParser.parse(arguments), v.isObject { return v }
        return [:]
    }

    static func finishReason(_ r: StopReason) -> String {
        switch r {
        case .endTurn, .toolUse, .stopSequence, .pauseTurn, .refusal: return "STOP"
        case .maxTokens: return "MAX_TOKENS"
        case .contentFilter: return "SAFETY"
        case .error: return "OTHER"
        }
    }

    static func usageMetadata(_ u: Usage) -> JSONNode {
        var n: JSONNode = ["promptTokenCount": .int(u.input), "candidatesTokenCount": .int(max(0, u.output - u.reasoning)),
                           "totalTokenCount": .int(u.input + u.output)]
        if u.cachedInput > 0 { n.set("cachedContentTokenCount", .int(u.cachedInput)) }
        if u.reasoning > 0 { n.set("thoughtsTokenCount", .int(u.reasoning)) }
        return n
    }

    public static func makeStreamEncoder(for request: ChatRequest, context: ClientContext) -> any StreamEncoder {
        GeminiStreamEncoder(sse: context.geminiSSE, includeThoughts: request.reasoning?.includeThoughts == true)
    }
}

extension GeminiCodec {
    // MARK: - Upstream side: response

    public static func decodeResponse(_ body: JSONNode) throws(TranslationError) -> ChatResponse {
        guard body.isObject else { throw TranslationError(field: nil, "the upstream answer is not a JSON object") }
        let cand = body["candidates"]?[0]
        var content: [ContentBlock] = []
        for p in cand?["content"]?["parts"]?.array ?? [] {
            content.append(contentsOf: partBlocks(p))
        }
        let hasCall = content.contains { if case .toolCall = $0 { return true }; return false }
        var stop = stopReason(cand?["finishReason"]?.string, hasCall: hasCall)
        if cand == nil, body["promptFeedback"]?["blockReason"] != nil { stop = .contentFilter }
        return ChatResponse(id: body["responseId"]?.string ?? IDs.make("gen_"), model: body["modelVersion"]?.string ?? "",
                            content: content, stopReason: stop, usage: decodeUsage(body["usageMetadata"]))
    }

    static func partBlocks(_ p: JSONNode) -> [ContentBlock] {
        let sig = get(p, "thoughtSignature")?.string
        if let fc = get(p, "functionCall") {
            return [.toolCall(ToolCall(id: fc["id"]?.string ?? IDs.make("call_"), name: originalName(fc["name"]?.string ?? ""),
                                       arguments: JSONWriter.string(fc["args"] ?? [:]), signature: sig))]
        }
        if let t = p["text"]?.string {
            if p["thought"]?.bool == true { return [.reasoning(ReasoningBlock(text: t, signature: sig, family: .gemini))] }
            var out: [ContentBlock] = []
            if let sig { out.append(.reasoning(ReasoningBlock(text: "", signature: sig, family: .gemini))) }
            if !t.isEmpty { out.append(.text(t)) }
            return out
        }
        if let sig { return [.reasoning(ReasoningBlock(text: "", signature: sig, family: .gemini))] }
        return []
    }

    static func stopReason(_ finish: String?, hasCall: Bool) -> StopReason {
        switch finish {
        case "MAX_TOKENS": return .maxTokens
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE": return .contentFilter
        case "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL": return .error
        default: return hasCall ? .toolUse : .endTurn
        }
    }

    static func decodeUsage(_ u: JSONNode?) -> Usage {
        guard let u, u.isObject else { return Usage() }
        let thoughts = get(u, "thoughtsTokenCount")?.tokenCount ?? 0
        let prompt = (get(u, "promptTokenCount")?.tokenCount ?? 0) + (get(u, "toolUsePromptTokenCount")?.tokenCount ?? 0)
        return Usage(input: prompt, output: (get(u, "candidatesTokenCount")?.tokenCount ?? 0) + thoughts,
                     cachedInput: get(u, "cachedContentTokenCount")?.tokenCount ?? 0, reasoning: thoughts)
    }

    public static func makeStreamDecoder() -> any StreamDecoder { GeminiStreamDecoder() }
}
