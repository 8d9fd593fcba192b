/// The four tiers a model name is classified into; each provider maps a tier to one of its models.
public enum Tier: String, Codable, CaseIterable, Sendable {
    case flagship, standard, fast, reasoning

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

public enum TierDefaults {
    /// Built-in tier maps, used until the user sets a model with `proxypoolctl tier set`.
    /// Kinds that have no fixed catalogue (Azure deployments, OpenAI-compatible servers) have none: the user names them.
    public static func model(provider: ProviderKind, tier: Tier) -> String? {
        switch (provider, tier) {
        case (.openai, .flagship), (.chatGPTAccount, .flagship): return "gpt-5.1"
        case (.openai, .standard), (.chatGPTAccount, .standard): return "gpt-5.1"
        case (.openai, .fast), (.chatGPTAccount, .fast): return "gpt-5-mini"
        case (.openai, .reasoning), (.chatGPTAccount, .reasoning): return "gpt-5.1-codex"
        case (.anthropic, .flagship), (.claudeAccount, .flagship): return "claude-opus-4-5"
        case (.anthropic, .standard), (.claudeAccount, .standard): return "claude-sonnet-4-5"
        case (.anthropic, .fast), (.claudeAccount, .fast): return "claude-haiku-4-5"
        case (.anthropic, .reasoning), (.claudeAccount, .reasoning): return "claude-opus-4-5"
        case (.gemini, .flagship), (.vertex, .flagship): return "gemini-2.5-pro"
        case (.gemini, .standard), (.vertex, .standard): return "gemini-2.5-flash"
        case (.gemini, .fast), (.vertex, .fast): return "gemini-2.5-flash-lite"
        case (.gemini, .reasoning), (.vertex, .reasoning): return "gemini-2.5-pro"
        case (.azureOpenAI, _), (.openAICompatible, _): return nil
        }
    }
}

/// Daemon-wide switches kept in the store. Names are the wire and CLI names.
public enum SettingKey: String, Codable, CaseIterable, Sendable {
    case freeModels = "free_models"
    case fallbackToPool = "fallback_to_pool"
    case requireAccessKey = "require_access_key"

    public var defaultValue: Bool {
        switch self {
        case .freeModels: return false      // opt-in: coding tools send code, and free endpoints are third parties
        case .fallbackToPool: return true
        case .requireAccessKey: return true
        }
    }
}
