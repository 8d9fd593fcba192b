/// Which model a credential is asked for. A model of the credential's own family passes unchanged; a model
/// of another family (a Claude name sent to an OpenAI credential) is replaced by the model the user set for
/// its tier on that provider; an alias wins over both.
public enum ModelMapping {
    /// The family a model name belongs to, from its name; nil for open-weight and unknown names (they are
    /// served by OpenAI-compatible servers under their own names, so they pass unchanged).
    public static func family(of model: String) -> Family? {
        let n = TierClassifier.normalize(model)
        guard let first = n.words.first else { return nil }
        switch first {
        case "claude": return .anthropic
        case "gemini", "learnlm": return .gemini
        case "gpt", "chatgpt", "codex", "davinci", "babbage", "computer": return .openai
        default:
            // OpenAI's o-series: o1, o3, o4 … (`o3-mini`, `o9`).
            if first.count >= 2, first.first == "o", first.dropFirst().allSatisfy(\.isNumber) { return .openai }
            if first.hasPrefix("gpt") { return .openai }   // gpt4o, gpt5 written without a dash
            return nil
        }
    }

    public struct Decision: Sendable, Equatable {
        /// The model name sent upstream.
        public var model: String
        /// The requested model's tier, when a tier decided.
        public var tier: Tier?
        /// Why, for the journal and `proxypoolctl classify`: "same family", "alias", "fast tier on anthropic".
        public var reason: String
        public var changed: Bool
    }

    /// - Parameters:
    ///   - providerFamily: the family of models the provider serves under their own names (`Provider.modelFamily`;
    ///     nil for servers that host whatever they host).
    ///   - tierModel: the model configured for a tier on this credential (its own override, else its provider's).
    public static func map(_ requested: String, provider: ProviderKind, providerFamily: Family?, aliases: [String: String], userRules: [TierRule],
                           tierModel: (Tier) -> String?) -> Decision {
        if let target = aliases[requested] {
            return Decision(model: target, tier: nil, reason: "alias \(requested) → \(target)", changed: target != requested)
        }
        let modelFamily = family(of: requested)
        guard let mf = modelFamily else {
            return Decision(model: requested, tier: nil, reason: "not a known vendor's model name: passed unchanged", changed: false)
        }
        if mf == providerFamily {
            return Decision(model: requested, tier: nil, reason: "same family (\(mf.rawValue)): passed unchanged", changed: false)
        }
        let c = TierClassifier.classify(requested, userRules: userRules)
        guard let target = tierModel(c.tier) else {
            return Decision(model: requested, tier: c.tier,
                            reason: "\(c.tier.rawValue) tier has no model on \(provider.rawValue) (set one with 'proxypoolctl tier set'): passed unchanged",
                            changed: false)
        }
        return Decision(model: target, tier: c.tier, reason: "\(mf.rawValue) model, \(c.tier.rawValue) tier on \(provider.rawValue) → \(target)",
                        changed: target != requested)
    }
}
