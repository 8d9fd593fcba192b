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
