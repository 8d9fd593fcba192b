/// The four tiers a model name is classified into; each provider maps a tier to one of its models
/// (its built-in defaults: `Provider.tierDefault`).
public enum Tier: String, Codable, CaseIterable, Sendable {
    case flagship, standard, fast, reasoning

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
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
