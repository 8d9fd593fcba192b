/// The four wire protocols: what a client speaks, what a provider speaks, and what the translation module
/// translates between. Two of them (Chat Completions and Responses) are OpenAI's: one `Family`, two wires.
public enum WireProtocol: String, Sendable, Equatable, CaseIterable {
    case openAIChat = "openai-chat"
    case openAIResponses = "openai-responses"
    case anthropicMessages = "anthropic-messages"
    case gemini = "gemini"

    public var family: Family {
        switch self {
        case .openAIChat, .openAIResponses: return .openai
        case .anthropicMessages: return .anthropic
        case .gemini: return .gemini
        }
    }

    /// The protocol a client endpoint speaks; nil for endpoints that are not a conversation turn (model lists,
    /// token counts, Codex's compaction).
    public init?(endpoint: Endpoint.Kind) {
        switch endpoint {
        case .chatCompletions: self = .openAIChat
        case .responses: self = .openAIResponses
        case .messages: self = .anthropicMessages
        case .generateContent, .streamGenerateContent: self = .gemini
        case .models, .countTokens, .geminiCountTokens, .responsesCompact, .embedContent, .batchEmbedContents, .accountUsage: return nil
        }
    }
}
