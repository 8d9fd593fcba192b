import Testing
import ProxyPoolCore
@testable import ProxyPoolTranslation

/// What the real clients' requests must become for another protocol's upstream, found by running Claude Code
/// and Codex through the daemon (Tests/e2e/test_cross_clients.py); the fixtures are their captured requests.
@Suite struct RealClientCrossTests {
    static func claudeCode(_ name: String) throws -> ChatRequest {
        try AnthropicMessagesCodec.decodeRequest(CodecFixtures.json("anthropic/\(name).request.json"), context: ClientContext())
    }

    /// Claude Code's `metadata.user_id` is a JSON object of ~150 characters; OpenAI refuses an end-user id
    /// longer than 64. It goes as its SHA-256, the same for every turn of the same user.
    @Test(arguments: ["claude-code_text", "claude-code_tool-followup_with-thinking"])
    func claudeCodeUserIDFitsOpenAI(_ fixture: String) throws {
        let r = try Self.claudeCode(fixture)
        let userID = try #require(r.user)
        #expect(userID.count > EndUserID.openAIMaxLength)
        let expected = SHA256.hex(Array(userID.utf8))
        let responses = try OpenAIResponsesCodec.encodeRequest(r)
        #expect(responses["safety_identifier"]?.string == expected)
        #expect(responses["user"] == nil)
        let chat = try OpenAIChatCodec.encodeRequest(r)
        #expect(chat["user"]?.string == expected)
        #expect(expected.count == EndUserID.openAIMaxLength)
    }

    @Test func shortEndUserIDsPassUnchanged() throws {
        var r = try Self.claudeCode("claude-code_text")
        r.user = "user_123456"
        #expect(try OpenAIResponsesCodec.encodeRequest(r)["safety_identifier"]?.string == "user_123456")
        #expect(try OpenAIChatCodec.encodeRequest(r)["user"]?.string == "user_123456")
        r.user = String(repeating: "é", count: 64)   // characters, not bytes, count
        #expect(try OpenAIResponsesCodec.encodeRequest(r)["safety_identifier"]?.string == r.user)
    }
}

/// Claude Code's budgets for a Gemini upstream: its Haiku turn (thinking enabled, budget 31 999, max_tokens
/// 32 000) mapped to the fast tier, and its default turn (max_tokens 128 000) to the flagship.
@Suite struct GeminiLimitsTests {
    static func haikuTurn(model: String) throws -> JSONNode {
        var r = try RealClientCrossTests.claudeCode("claude-code_text")
        r.reasoning = ReasoningConfig(enabled: true, effort: nil, budgetTokens: 31999, includeThoughts: false)
        r.maxOutputTokens = 32000
        r.model = model
        return try GeminiCodec.encodeRequest(r)
    }

    @Test(arguments: [("gemini-2.5-flash-lite", 24576), ("gemini-2.5-flash", 24576), ("gemini-2.5-pro", 31999),
                      ("models/gemini-2.5-flash", 24576), ("gemini-3-flash-preview", 31999)])
    func thinkingBudgetWithinTheModelsRange(_ model: String, _ budget: Int) throws {
        let g = try Self.haikuTurn(model: model)["generationConfig"]
        #expect(g?["thinkingConfig"]?["thinkingBudget"]?.int == budget)
        #expect(g?["maxOutputTokens"]?.int == 32000)
    }

    @Test func claudeCodesDefaultOutputLimitFitsGemini25() throws {
        var r = try RealClientCrossTests.claudeCode("claude-code_tool-followup_with-thinking")
        #expect(r.maxOutputTokens == 128000)
        r.model = "gemini-2.5-pro"
        #expect(try GeminiCodec.encodeRequest(r)["generationConfig"]?["maxOutputTokens"]?.int == 65536)
        r.model = "gemini-3-pro-preview"   // no documented limit here: passed as asked
        #expect(try GeminiCodec.encodeRequest(r)["generationConfig"]?["maxOutputTokens"]?.int == 128000)
    }

    @Test(arguments: [("gemini-2.5-pro", 128), ("gemini-2.5-flash", 0), ("gemini-2.5-flash-lite", 0), ("gemini-3-pro-preview", 0)])
    func thinkingOffWhereTheModelAllowsIt(_ model: String, _ budget: Int) throws {
        var r = ChatRequest(model: model)
        r.messages = [Message(role: .user, content: [.text("hi")])]
        r.reasoning = ReasoningConfig(enabled: false, effort: nil, budgetTokens: nil, includeThoughts: false)
        #expect(try GeminiCodec.encodeRequest(r)["generationConfig"]?["thinkingConfig"]?["thinkingBudget"]?.int == budget)
    }

    @Test func smallBudgetsAreRaisedToTheModelsMinimum() {
        #expect(GeminiModelLimits(model: "gemini-2.5-flash-lite").thinkingBudget(100) == 512)
        #expect(GeminiModelLimits(model: "gemini-2.5-pro").thinkingBudget(64) == 128)
        #expect(GeminiModelLimits(model: "gemini-2.5-pro").thinkingBudget(-1) == -1)   // dynamic
    }
}
