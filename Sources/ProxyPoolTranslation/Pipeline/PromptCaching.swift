import ProxyPoolCore

/// Prompt caching across translation: what the target protocol needs to cache a request as well as the client's
/// own protocol would have. OpenAI caches by prefix and routes by `prompt_cache_key`
/// (platform.openai.com/docs/guides/prompt-caching); Anthropic caches only up to the blocks marked with
/// `cache_control`; Gemini 2.5 and later cache implicitly (its explicit `cachedContent` lives on Google's servers
/// and is refused in translation). The cached counts come back into each client's own usage fields in the codecs.
public enum PromptCaching {
    public static func prepare(_ r: inout ChatRequest, for wire: WireProtocol, session: String?) {
        switch wire {
        case .openAIChat, .openAIResponses:
            if r.promptCacheKey == nil { r.promptCacheKey = key(session: session, r) }
        case .anthropicMessages:
            if r.cacheBreakpoints == nil { r.cacheBreakpoints = .automatic(r) }
        case .gemini:
            break
        }
    }

    /// A key that stays the same across a conversation's turns: from the client's session id (Claude Code's
    /// `X-Claude-Code-Session-Id`, Codex's `session-id`) when it sent one, else from the conversation's opening
    /// (its system text and first user message), which every later turn repeats. A digest: bounded, and no
    /// conversation text leaves in it.
    static func key(session: String?, _ r: ChatRequest) -> String? {
        if let s = session, !s.isEmpty { return "pp-" + SHA256.hex(Array(("session\n" + s).utf8)).prefix(32) }
        guard let first = r.messages.first(where: { $0.role == .user }) else { return nil }
        var opening = "opening\n" + r.system.joined(separator: "\n") + "\n\u{0}"
        for b in first.content { if case .text(let t) = b { opening += t } }
        return "pp-" + SHA256.hex(Array(opening.utf8)).prefix(32)
    }
}
