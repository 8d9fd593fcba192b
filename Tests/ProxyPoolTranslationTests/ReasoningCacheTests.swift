import Testing
@testable import ProxyPoolTranslation

@Suite struct ReasoningCacheTests {
    /// A Chat client's second turn: the assistant's tool call as Chat keeps it (no signatures), then its result.
    static func chatFollowUp(callID: String, reasoningEffort: String? = nil) throws -> ChatRequest {
        var body: JSONNode = [
            "model": "m",
            "messages": [
                ["role": "user", "content": "weather in Paris?"],
                ["role": "assistant", "content": "Let me look.", "reasoning_content": "thinking as Chat shows it",
                 "tool_calls": [["id": .string(callID), "type": "function", "function": ["name": "get_weather", "arguments": "{\"location\":\"Paris\"}"]]]],
                ["role": "tool", "tool_call_id": .string(callID), "content": "sunny"],
            ],
            "tools": [["type": "function", "function": ["name": "get_weather", "parameters": ["type": "object"]]]],
        ]
        if let e = reasoningEffort { body.set("reasoning_effort", .string(e)) }
        return try OpenAIChatCodec.decodeRequest(body, context: ClientContext())
    }

    static let geminiAnswer: [ContentBlock] = [
        .reasoning(ReasoningBlock(text: "", signature: "TEXT_SIG", family: .gemini)),
        .text("Let me look."),
        .toolCall(ToolCall(id: "call_g1", name: "get_weather", arguments: "{}", signature: "CALL_SIG")),
        .toolCall(ToolCall(id: "call_g2", name: "get_weather", arguments: "{}")),
    ]

    static let anthropicAnswer: [ContentBlock] = [
        .reasoning(ReasoningBlock(text: "I should call the tool.", signature: "THINK_SIG", family: .anthropic)),
        .reasoning(ReasoningBlock(text: "", encrypted: "REDACTED", redacted: true, family: .anthropic)),
        .text("Let me look."),
        .toolCall(ToolCall(id: "toolu_1", name: "get_weather", arguments: "{}")),
    ]

    @Test func memosFromAGeminiAnswer() {
        let m = ReasoningCache.memos(from: Self.geminiAnswer, family: .gemini, credential: "g")
        // The second parallel call has no signature of its own and nothing before it: nothing to keep.
        #expect(m.map(\.id) == ["call_g1"])
        #expect(m[0].memo == .init(family: .gemini, credential: "g", callSignature: "CALL_SIG",
                                   reasoning: [ReasoningBlock(text: "", signature: "TEXT_SIG", family: .gemini)]))
        // Another family's reasoning is not the upstream's, and OpenAI answers are never kept.
        #expect(ReasoningCache.memos(from: Self.anthropicAnswer, family: .gemini, credential: "g").isEmpty)
        #expect(ReasoningCache.memos(from: Self.geminiAnswer, family: .openai, credential: "g").isEmpty)
    }

    @Test func geminiSignatureRestoredInsteadOfTheSentinel() throws {
        var cache = ReasoningCache()
        cache.remember(Self.geminiAnswer, family: .gemini, credential: "g", now: 0)
        var req = try Self.chatFollowUp(callID: "call_g1")
        req.model = "gemini-3-flash-preview"
        // Without the cache, Gemini 3 gets Google's placeholder.
        let before = try GeminiCodec.encodeRequest(req)
        #expect(before["contents"]?[1]?["parts"]?[1]?["thoughtSignature"]?.string == ReasoningCache.geminiSentinel)

        #expect(cache.restore(into: &req, family: .gemini, credential: "g", now: 1000) == 1)
        let parts = try GeminiCodec.encodeRequest(req)["contents"]?[1]?["parts"]?.array ?? []
        let call = parts.first { $0["functionCall"] != nil }
        #expect(call?["thoughtSignature"]?.string == "CALL_SIG")
        #expect(!JSONWriter.string(.array(parts)).contains(ReasoningCache.geminiSentinel))
    }

    @Test func anthropicThinkingRestoredFirstAndThinkingStaysOn() throws {
        var cache = ReasoningCache()
        cache.remember(Self.anthropicAnswer, family: .anthropic, credential: "a", now: 0)
        var req = try Self.chatFollowUp(callID: "toolu_1", reasoningEffort: "low")
        req.model = "claude-sonnet-4-6"
        // Without the cache: the tool loop has no thinking block, so thinking is left off for the turn.
        #expect(try AnthropicMessagesCodec.encodeRequest(req)["thinking"]?["type"]?.string != "enabled")

        #expect(cache.restore(into: &req, family: .anthropic, credential: "a", now: 1000) == 1)
        let body = try AnthropicMessagesCodec.encodeRequest(req)
        #expect(body["thinking"]?["type"]?.string == "enabled")
        let blocks = body["messages"]?[1]?["content"]?.array ?? []
        #expect(blocks.map { $0["type"]?.string ?? "" } == ["thinking", "redacted_thinking", "text", "tool_use"])
        #expect(blocks[0]["signature"]?.string == "THINK_SIG" && blocks[0]["thinking"]?.string == "I should call the tool.")
        #expect(blocks[1]["data"]?.string == "REDACTED")
    }

    @Test func onlyTheSameFamilyAndCredentialAndOnlyWhatIsMissing() throws {
        var cache = ReasoningCache()
        cache.remember(Self.geminiAnswer, family: .gemini, credential: "g", now: 0)
        cache.remember(Self.anthropicAnswer, family: .anthropic, credential: "a", now: 0)
        let original = try Self.chatFollowUp(callID: "call_g1")
        var req = original
        #expect(cache.restore(into: &req, family: .anthropic, credential: "a", now: 1) == 0)
        #expect(cache.restore(into: &req, family: .gemini, credential: "other", now: 1) == 0)
        #expect(cache.restore(into: &req, family: .openai, credential: "g", now: 1) == 0)
        #expect(req == original)

        // The client carried its own signature (e.g. a Responses client): it is kept as it is.
        var own = original
        if case .toolCall(var c) = own.messages[1].content[2] {
            c.signature = "CLIENT_SIG"
            own.messages[1].content[2] = .toolCall(c)
            own.messages[1].content.insert(.reasoning(ReasoningBlock(text: "", signature: "CLIENT_TEXT_SIG", family: .gemini)), at: 0)
        } else { Issue.record("layout changed: \(own.messages[1].content)") }
        let carried = own
        #expect(cache.restore(into: &own, family: .gemini, credential: "g", now: 1) == 0)
        #expect(own == carried)
    }

    @Test func streamCollectorRebuildsReasoningAndCalls() {
        var c = StreamReasoningCollector()
        let events: [StreamEvent] = [
            .messageStart(id: "m", model: "claude", usage: nil),
            .blockStart(index: 0, .reasoning(family: .anthropic, itemID: nil)),
            .blockDelta(index: 0, .reasoning("I should ")),
            .blockDelta(index: 0, .reasoning("call the tool.")),
            .blockDelta(index: 0, .reasoningSignature("THINK_SIG")),
            .blockStop(index: 0),
            .blockStart(index: 1, .encryptedReasoning(ReasoningBlock(text: "", encrypted: "REDACTED", redacted: true, family: .anthropic))),
            .blockStop(index: 1),
            .blockStart(index: 2, .text),
            .blockDelta(index: 2, .text("Let me look.")),
            .blockStop(index: 2),
            .blockStart(index: 3, .toolCall(id: "toolu_1", name: "get_weather", signature: nil)),
            .blockDelta(index: 3, .toolArguments("{}")),
            .blockStop(index: 3),
            .messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage()),
            .messageStop,
        ]
        for e in events { c.consume(e) }
        #expect(c.content == Self.anthropicAnswer.filter { if case .text = $0 { return false }; return true }
                    .map { if case .toolCall(var t) = $0 { t.arguments = ""; return .toolCall(t) }; return $0 })
        #expect(ReasoningCache.memos(from: c.content, family: .anthropic, credential: "a").first?.memo.reasoning.count == 2)

        // A Gemini stream: the signature rides on the call's start.
        var g = StreamReasoningCollector()
        g.consume(.blockStart(index: 0, .toolCall(id: "call_g1", name: "get_weather", signature: "CALL_SIG")))
        #expect(ReasoningCache.memos(from: g.content, family: .gemini, credential: "g").first?.memo.callSignature == "CALL_SIG")
    }

    @Test func streamTranscoderCollectsWhenAsked() throws {
        let t = StreamTranscoder(from: .gemini, to: .openAIChat, request: ChatRequest(model: "gemini-3-flash-preview", stream: true),
                                 context: ClientContext())
        t.collector = StreamReasoningCollector()
        var out: [UInt8] = []
        let event = #"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"location":"Paris"}},"thoughtSignature":"CALL_SIG"}]},"finishReason":"STOP"}]}"#
        t.feed(Array("data: \(event)\r\n\r\n".utf8), into: &out)
        t.finish(into: &out)
        let memos = ReasoningCache.memos(from: t.collector?.content ?? [], family: .gemini, credential: "g")
        #expect(memos.count == 1 && memos.first?.memo.callSignature == "CALL_SIG")
        // The client's stream names the same call id the cache is keyed by.
        #expect(String(decoding: out, as: UTF8.self).contains(memos.first?.id ?? "-"))
    }

    @Test func boundsEvictOldestFirstAndExpire() {
        let memo = ReasoningCache.Memo(family: .gemini, credential: "g", callSignature: String(repeating: "s", count: 100))
        var byCount = ReasoningCache(maxEntries: 3, maxBytes: 1 << 20, ttlMillis: 1000)
        for i in 0..<5 { byCount.insert("c\(i)", memo, now: Int64(i)) }
        #expect(byCount.count == 3)
        #expect(byCount.memo("c0", now: 5) == nil && byCount.memo("c1", now: 5) == nil && byCount.memo("c4", now: 5) != nil)
        // Inserting an id again refreshes it: it is no longer the oldest.
        byCount.insert("c2", memo, now: 6)
        byCount.insert("c5", memo, now: 7)
        #expect(byCount.memo("c2", now: 8) != nil && byCount.memo("c3", now: 8) == nil)

        var byBytes = ReasoningCache(maxEntries: 100, maxBytes: 700, ttlMillis: 1000)
        for i in 0..<10 { byBytes.insert("c\(i)", memo, now: 0) }
        #expect(byBytes.count < 10 && byBytes.totalBytes <= 700 && byBytes.memo("c9", now: 0) != nil)
        // One entry over the whole budget is never kept.
        byBytes.insert("huge", .init(family: .gemini, credential: "g", callSignature: String(repeating: "x", count: 1000)), now: 0)
        #expect(byBytes.memo("huge", now: 0) == nil)

        // Entries older than the TTL are neither used nor kept.
        var ttl = ReasoningCache(maxEntries: 10, maxBytes: 1 << 20, ttlMillis: 1000)
        ttl.insert("old", memo, now: 0)
        #expect(ttl.memo("old", now: 999) != nil && ttl.memo("old", now: 1000) == nil)
        ttl.insert("new", memo, now: 1500)
        #expect(ttl.count == 1)
    }
}
