/// The three API families: a client speaks one (the proxy's own errors are written in it), a model name belongs
/// to one, a provider serves one, and signed reasoning comes from one. The protocols on the wire are
/// `WireProtocol`s; OpenAI's family has two of them (Chat Completions and Responses).
public enum Family: String, Sendable, Equatable, Hashable, CaseIterable {
    case openai, anthropic, gemini
}
