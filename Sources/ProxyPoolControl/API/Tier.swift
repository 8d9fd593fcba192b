import ProxyPoolCore

// Tier models and tier rules: `tier.*`, `tier-rule.*`.

public struct TierEntry: Codable, Sendable, Equatable {
    public enum Source: String, Codable, Sendable { case builtin, user }
    public var provider: ProviderKind
    public var tier: Tier
    public var model: String?
    public var source: Source
    /// Set for a credential's own tier model, which wins over its provider's.
    public var credential: String?
    public init(provider: ProviderKind, tier: Tier, model: String?, source: Source, credential: String? = nil) {
        self.provider = provider; self.tier = tier; self.model = model; self.source = source; self.credential = credential
    }
}

public struct TierRuleInfo: Codable, Sendable, Equatable {
    public var id: Int64
    /// A word, or a prefix ending in `*`.
    public var pattern: String
    public var tier: Tier
    public init(id: Int64, pattern: String, tier: Tier) { self.id = id; self.pattern = pattern; self.tier = tier }

    public var rule: TierRule {
        pattern.hasSuffix("*") ? TierRule(.prefix, String(pattern.dropLast()), tier) : TierRule(.word, pattern, tier)
    }
}

extension RPC {
    public enum TierList: RPCMethod {
        public static let name = "tier.list"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = [TierEntry]
    }

    public enum TierSet: RPCMethod {
        public static let name = "tier.set"; public static let mutates = true
        /// Exactly one of `provider` (a provider kind's map) and `credential` (one credential's own map).
        public struct Params: Codable, Sendable {
            public var provider: String?
            public var credential: String?
            public var tier: String
            /// The model, or null to go back to the default (the built-in one, or for a credential its provider's).
            public var model: String?
            public init(provider: String? = nil, credential: String? = nil, tier: String, model: String?) {
                self.provider = provider; self.credential = credential; self.tier = tier; self.model = model
            }
        }
        public typealias Result = TierEntry
    }

    public enum TierClassify: RPCMethod {
        public static let name = "tier.classify"; public static let mutates = false
        public struct Params: Codable, Sendable {
            public var model: String
            public init(model: String) { self.model = model }
        }
        public struct Result: Codable, Sendable, Equatable {
            public var model: String
            public var normalized: String
            public var tier: Tier
            /// The rule that decided.
            public var rule: String
            public init(model: String, normalized: String, tier: Tier, rule: String) {
                self.model = model; self.normalized = normalized; self.tier = tier; self.rule = rule
            }
        }
    }

    public enum TierRuleList: RPCMethod {
        public static let name = "tier-rule.list"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = [TierRuleInfo]
    }

    public enum TierRuleAdd: RPCMethod {
        public static let name = "tier-rule.add"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var pattern: String
            public var tier: String
            public init(pattern: String, tier: String) { self.pattern = pattern; self.tier = tier }
        }
        public typealias Result = TierRuleInfo
    }

    public enum TierRuleRemove: RPCMethod {
        public static let name = "tier-rule.remove"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var id: Int64
            public init(id: Int64) { self.id = id }
        }
        public typealias Result = Empty
    }
}
