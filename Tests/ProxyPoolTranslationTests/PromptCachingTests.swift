import Testing
import ProxyPoolCore
@testable import ProxyPoolTranslation

/// Prompt caching across translation (issue 17): the key OpenAI caches by, the breakpoints Anthropic caches up
/// to, and the cached counts back in each client's usage fields.
@Suite struct PromptCachingTests {
    static func conversation() -> ChatRequest {
        ChatRequest(model: "m", system: ["sys"], messages: [
            Message(role: .user, content: [.text("first")]),
            Message(role: .assistant, content: [.reasoning(ReasoningBlock(text: "t", signature: "s", family: .anthropic)), .text("ok")]),
            Message(role: .user, content: [.text("second")]),
        ], tools: [ToolDefinition(name: "f", description: nil, parameters: ["type": "object"])])
    }

    @Test func openAITargetsGetAKeyStableAcrossTurns() throws {
        var a = Self.conversation(), b = Self.conversation()
        b.messages.append(Message(role: .assistant, content: [.text("more")]))
        PromptCaching.prepare(&a, for: .openAIResponses, session: nil)
        PromptCaching.prepare(&b, for: .openAIChat, session: nil)
        #expect(a.promptCacheKey != nil && a.promptCacheKey == b.promptCacheKey, "the opening decides, not the later turns")
        var s1 = Self.conversation(), s2 = Self.conversation()
        PromptCaching.prepare(&s1, for: .openAIChat, session: "sess-1")
        PromptCaching.prepare(&s2, for: .openAIChat, session: "sess-2")
        #expect(s1.promptCacheKey != s2.promptCacheKey && s1.promptCacheKey != a.promptCacheKey && !(s1.promptCacheKey ?? "").contains("sess"))
        var own = Self.conversation()
        own.promptCacheKey = "codex-conversation"
        PromptCaching.prepare(&own, for: .openAIChat, session: "sess-1")
        #expect(own.promptCacheKey == "codex-conversation", "the client's own key wins")
        #expect(try OpenAIChatCodec.encodeRequest(own)["prompt_cache_key"] == "codex-conversation")
        #expect(try OpenAIResponsesCodec.encodeRequest(s1)["prompt_cache_key"]?.string == s1.promptCacheKey)
        own.promptCacheKey = String(repeating: "k", count: 300)
        let long = try OpenAIChatCodec.encodeRequest(own)["prompt_cache_key"]?.string ?? ""
        #expect(long.count <= 64 && long == PromptCacheKey.bounded(own.promptCacheKey!), "bounded and stable")
        var g = Self.conversation()
        PromptCaching.prepare(&g, for: .gemini, session: "s")
        #expect(g.promptCacheKey == nil && g.cacheBreakpoints == nil, "Gemini caches implicitly")
    }

    @Test func anthropicTargetsGetBreakpointsAfterThePrefixAndTheLastTurn() throws {
        var r = Self.conversation()
        PromptCaching.prepare(&r, for: .anthropicMessages, session: nil)
        let j = try AnthropicMessagesCodec.encodeRequest(r)
        let eph: JSONNode = ["type": "ephemeral"]
        #expect(j["system"]?[0]?["cache_control"] == eph)
        #expect(j["tools"]?[0]?["cache_control"] == nil, "the system mark covers the tools before it")
        let msgs = j["messages"]?.array ?? []
        #expect(msgs.last?["content"]?.array?.last?["cache_control"] == eph)
        #expect(msgs.dropLast().allSatisfy { m in (m["content"]?.array ?? []).allSatisfy { $0["cache_control"] == nil } })
        // Without system text the tools carry the prefix's mark; a client's own breakpoints are kept, at most 4,
        // the latest first, never on a thinking block.
        var t = Self.conversation()
        t.system = []
        t.cacheBreakpoints = CacheBreakpoints(tools: .init(ttl: "1h"), messages: [0: .init(), 1: .init(), 2: .init(), 5: .init()])
        let k = try AnthropicMessagesCodec.encodeRequest(t)
        #expect(k["tools"]?[0]?["cache_control"] == ["type": "ephemeral", "ttl": "1h"])
        #expect(k["messages"]?[1]?["content"]?[0]?["cache_control"] == nil && k["messages"]?[1]?["content"]?[1]?["cache_control"] == eph)
        let marks = JSONWriter.string(k).components(separatedBy: "cache_control").count - 1
        #expect(marks == 4)
        // A request the caller gave no breakpoints to (a client encoding for itself) gets none.
        #expect(!JSONWriter.string(try AnthropicMessagesCodec.encodeRequest(Self.conversation())).contains("cache_control"))
    }

    @Test func chatContentPartsCarryCacheControl() throws {
        let body = CodecFixtures.parse(#"""
        {"model":"claude-sonnet-4-5","messages":[
          {"role":"system","content":[{"type":"text","text":"long rules","cache_control":{"type":"ephemeral","ttl":"1h"}}]},
          {"role":"user","content":[{"type":"text","text":"big file","cache_control":{"type":"ephemeral"}}]},
          {"role":"assistant","content":"seen"},
          {"role":"user","content":"question"}]}
        """#)
        let r = try OpenAIChatCodec.decodeRequest(body, context: ClientContext())
        #expect(r.cacheBreakpoints == CacheBreakpoints(system: .init(ttl: "1h"), messages: [0: .init()]))
        var sent = r
        PromptCaching.prepare(&sent, for: .anthropicMessages, session: nil)
        #expect(sent.cacheBreakpoints == r.cacheBreakpoints, "the client's breakpoints, not the proxy's")
        let j = try AnthropicMessagesCodec.encodeRequest(sent)
        #expect(j["system"]?[0]?["cache_control"] == ["type": "ephemeral", "ttl": "1h"])
        #expect(j["messages"]?[0]?["content"]?[0]?["cache_control"] == ["type": "ephemeral"] && j["messages"]?[2]?["content"]?[0]?["cache_control"] == nil)
        let bad = CodecFixtures.parse(#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x","cache_control":{"type":"forever"}}]}]}"#)
        #expect(throws: TranslationError.self) { try OpenAIChatCodec.decodeRequest(bad, context: ClientContext()) }
    }

    /// Cached input tokens read by each upstream decoder come back in each client's own field.
    @Test func cachedTokensRoundTripEveryDirection() throws {
        let usage = Usage(input: 2006, output: 300, cachedInput: 1920)
        let resp = ChatResponse(id: "r", model: "m", content: [.text("hi")], stopReason: .endTurn, usage: usage)
        let req = ChatRequest(model: "m")
        let chat = OpenAIChatCodec.encodeResponse(resp, for: req)
        #expect(chat["usage"]?["prompt_tokens_details"]?["cached_tokens"] == 1920 && chat["usage"]?["prompt_tokens"] == 2006)
        let responses = OpenAIResponsesCodec.encodeResponse(resp, for: req)
        #expect(responses["usage"]?["input_tokens_details"]?["cached_tokens"] == 1920)
        let anthropic = AnthropicMessagesCodec.encodeResponse(resp, for: req)
        #expect(anthropic["usage"]?["cache_read_input_tokens"] == 1920 && anthropic["usage"]?["input_tokens"] == 86)
        let gemini = GeminiCodec.encodeResponse(resp, for: req)
        #expect(gemini["usageMetadata"]?["cachedContentTokenCount"] == 1920 && gemini["usageMetadata"]?["promptTokenCount"] == 2006)
        // And back: each decoder reads its protocol's field into the same count.
        #expect(try OpenAIChatCodec.decodeResponse(chat).usage.cachedInput == 1920)
        #expect(try OpenAIResponsesCodec.decodeResponse(responses).usage.cachedInput == 1920)
        #expect(try AnthropicMessagesCodec.decodeResponse(anthropic).usage == usage)
        #expect(try GeminiCodec.decodeResponse(gemini).usage.cachedInput == 1920)
    }
}
