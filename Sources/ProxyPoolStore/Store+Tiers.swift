import Glibc
internal import CSQLite
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolProviders
import ProxyPoolSystem

// Tiers, model aliases and the tier rules that classify models.
extension Store {
    public func tiers() throws(RPCError) -> [TierEntry] {
        try locked { () throws(RPCError) in
            var user: [String: String] = [:]
            for (p, t, m) in try db.query("SELECT provider, tier, model FROM tier_models", [], { st in
                (st.text(0) ?? "", st.text(1) ?? "", st.text(2) ?? "")
            }) { user["\(p)/\(t)"] = m }
            let providers = ProviderKind.allCases.flatMap { kind in
                Tier.allCases.map { tier in
                    if let m = user["\(kind.rawValue)/\(tier.rawValue)"] {
                        return TierEntry(provider: kind, tier: tier, model: m, source: .user)
                    }
                    return TierEntry(provider: kind, tier: tier, model: Providers.of(kind).tierDefault(tier), source: .builtin)
                }
            }
            let credentials = try db.query("""
                SELECT c.name, c.provider, t.tier, t.model FROM credential_tiers t JOIN credentials c ON c.id = t.credential_id
                ORDER BY c.name, t.tier
                """) { st in
                TierEntry(provider: ProviderKind(rawValue: st.text(1) ?? "") ?? .openAICompatible, tier: Tier(rawValue: st.text(2) ?? "") ?? .standard,
                          model: st.text(3), source: .user, credential: st.text(0))
            }
            return providers + credentials
        }
    }

    public func setTier(_ p: RPC.TierSet.Params) throws(RPCError) -> TierEntry {
        guard let tier = Tier(rawValue: p.tier) else { throw .invalidParams("unknown tier '\(p.tier)'; one of: \(Tier.names)") }
        if let m = p.model { try Validation.modelName(m) }
        switch (p.provider, p.credential) {
        case (nil, let name?):
            return try transaction { () throws(RPCError) -> TierEntry in
                guard let (id, provider) = try db.query("SELECT id, provider FROM credentials WHERE name = ?", [.text(name)], { st in
                    (st.int(0) ?? 0, ProviderKind(rawValue: st.text(1) ?? "") ?? .openAICompatible)
                }).first else { throw .notFound("no credential named '\(name)'") }
                if let m = p.model {
                    try db.run("INSERT INTO credential_tiers(credential_id, tier, model) VALUES (?, ?, ?) ON CONFLICT(credential_id, tier) DO UPDATE SET model = excluded.model",
                               [.int(id), .text(tier.rawValue), .text(m)])
                    return TierEntry(provider: provider, tier: tier, model: m, source: .user, credential: name)
                }
                try db.run("DELETE FROM credential_tiers WHERE credential_id = ? AND tier = ?", [.int(id), .text(tier.rawValue)])
                // Back to its provider's model.
                let m = try db.query("SELECT model FROM tier_models WHERE provider = ? AND tier = ?", [.text(provider.rawValue), .text(tier.rawValue)]) { st in
                    st.text(0)
                }.first ?? Providers.of(provider).tierDefault(tier)
                return TierEntry(provider: provider, tier: tier, model: m, source: .builtin, credential: name)
            }
        case (let providerName?, nil):
            guard let kind = ProviderKind(rawValue: providerName) else {
                throw .invalidParams("unknown provider '\(providerName)'; one of: \(ProviderKind.names)")
            }
            try transaction { () throws(RPCError) in
                if let m = p.model {
                    try db.run("INSERT INTO tier_models(provider, tier, model) VALUES (?, ?, ?) ON CONFLICT(provider, tier) DO UPDATE SET model = excluded.model",
                               [.text(kind.rawValue), .text(tier.rawValue), .text(m)])
                } else {
                    try db.run("DELETE FROM tier_models WHERE provider = ? AND tier = ?", [.text(kind.rawValue), .text(tier.rawValue)])
                }
            }
            return try tiers().first { $0.provider == kind && $0.tier == tier && $0.credential == nil }!
        default:
            throw .invalidParams("give either a provider or a credential, not both")
        }
    }

    // MARK: Aliases

    public func aliases() throws(RPCError) -> [AliasInfo] {
        try locked { () throws(RPCError) in
            try db.query("SELECT name, model FROM aliases ORDER BY name") { st in AliasInfo(name: st.text(0) ?? "", model: st.text(1) ?? "") }
        }
    }

    public func setAlias(_ a: AliasInfo) throws(RPCError) -> AliasInfo {
        try Validation.modelName(a.name, what: "alias name")
        try Validation.modelName(a.model)
        guard a.name != a.model else { throw .invalidParams("an alias cannot point at itself") }
        try transaction { () throws(RPCError) in
            try db.run("INSERT INTO aliases(name, model) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET model = excluded.model",
                       [.text(a.name), .text(a.model)])
        }
        return a
    }

    public func removeAlias(_ name: String) throws(RPCError) {
        try transaction { () throws(RPCError) in
            try db.run("DELETE FROM aliases WHERE name = ?", [.text(name)])
            guard db.changes == 1 else { throw .notFound("no alias named '\(name)'; 'proxypoolctl alias list' shows them") }
        }
    }

    // MARK: Tier rules

    public func tierRules() throws(RPCError) -> [TierRuleInfo] {
        try locked { () throws(RPCError) in
            try db.query("SELECT id, kind, value, tier FROM tier_rules ORDER BY id") { st in
                TierRuleInfo(id: st.int(0) ?? 0, pattern: (st.text(1) == "prefix" ? (st.text(2) ?? "") + "*" : st.text(2) ?? ""),
                             tier: Tier(rawValue: st.text(3) ?? "") ?? .standard)
            }
        }
    }

    /// PATTERN: a word of the model name (`codex`), or a prefix ending in `*` (`my-model-*`).
    public func addTierRule(pattern: String, tier: String) throws(RPCError) -> TierRuleInfo {
        guard let t = Tier(rawValue: tier) else { throw .invalidParams("unknown tier '\(tier)'; one of: \(Tier.names)") }
        let isPrefix = pattern.hasSuffix("*")
        let value = isPrefix ? String(pattern.dropLast()) : pattern
        guard !value.isEmpty, value.utf8.count <= 100, !value.contains(where: { $0 == "*" || $0 == " " }) else {
            throw .invalidParams("pattern must be a word, or a prefix ending in '*' (for example 'codex' or 'my-model-*')")
        }
        return try transaction { () throws(RPCError) -> TierRuleInfo in
            try db.run("INSERT INTO tier_rules(kind, value, tier) VALUES (?, ?, ?)",
                       [.text(isPrefix ? "prefix" : "word"), .text(value.lowercased()), .text(t.rawValue)])
            return TierRuleInfo(id: db.lastInsertRowID, pattern: pattern.lowercased(), tier: t)
        }
    }

    public func removeTierRule(_ id: Int64) throws(RPCError) {
        try transaction { () throws(RPCError) in
            try db.run("DELETE FROM tier_rules WHERE id = ?", [.int(id)])
            guard db.changes == 1 else { throw .notFound("no tier rule with id \(id); 'proxypoolctl tier rule list' shows them") }
        }
    }
}
