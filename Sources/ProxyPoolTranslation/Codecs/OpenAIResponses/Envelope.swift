/// Provider payloads that must reach the next turn through a Responses client, which only echoes OpenAI's
/// own fields. An Anthropic thinking signature (or redacted thinking) travels in the reasoning item's
/// `encrypted_content` behind a `proxypool:` prefix — OpenAI's own encrypted content never starts like that —
/// and is restored as the original family's reasoning on the way back in, so Claude still gets its signed
/// thinking before a tool call.
enum Envelope {
    static let prefix = "proxypool:"

    static func encode(_ r: ReasoningBlock) -> String? {
        switch r.family {
        case .openai?: return r.encrypted
        case .anthropic?:
            if r.redacted, let data = r.encrypted { return prefix + "anthropic-redacted:" + data }
            if let sig = r.signature { return prefix + "anthropic:" + sig }
            return nil
        case .gemini?:
            if let sig = r.signature { return prefix + "gemini:" + sig }
            return nil
        case nil: return nil
        }
    }

    static func decodeReasoning(text: String, encrypted: String?, itemID: String?) -> ReasoningBlock {
        guard let encrypted, encrypted.hasPrefix(prefix) else {
            return ReasoningBlock(text: text, encrypted: encrypted, itemID: itemID, family: .openai)
        }
        let rest = encrypted.dropFirst(prefix.count)
        if rest.hasPrefix("anthropic-redacted:") {
            return ReasoningBlock(text: "", encrypted: String(rest.dropFirst("anthropic-redacted:".count)), itemID: itemID,
                                  redacted: true, family: .anthropic)
        }
        if rest.hasPrefix("anthropic:") {
            return ReasoningBlock(text: text, signature: String(rest.dropFirst("anthropic:".count)), itemID: itemID, family: .anthropic)
        }
        if rest.hasPrefix("gemini:") {
            return ReasoningBlock(text: text, signature: String(rest.dropFirst("gemini:".count)), itemID: itemID, family: .gemini)
        }
        return ReasoningBlock(text: text, itemID: itemID)
    }
}
