import ProxyPoolCore
import ProxyPoolControl

/// `tiers`, `tier set|reset`: the model serving each tier; `classify`, `tier rule …`: how a model name gets
/// its tier. Two lists, because `--help` shows the aliases between them.
enum TierCommands {
    static let models: [Verb] = [
        Verb(["tiers"], summary: "Show the model serving each tier, per provider",
             phrase: "list tiers") { try list($0) },
        Verb(["tier", "set"], summary: "Set the model that serves a tier for a provider, or for one credential",
             arguments: [ArgumentSpec("PROVIDER", .optional, help: "Provider kind (omit with --credential)"),
                         ArgumentSpec("TIER", help: "One of: \(Tier.names)"), ArgumentSpec("MODEL", help: "Model name")],
             options: [OptionSpec("credential", value: "NAME", help: "Set it for this credential only (wins over its provider's)")],
             phrase: "set tier") { try set($0, reset: false) },
        Verb(["tier", "reset"], summary: "Go back to the default model for a tier",
             arguments: [ArgumentSpec("PROVIDER", .optional, help: "Provider kind (omit with --credential)"),
                         ArgumentSpec("TIER", help: "One of: \(Tier.names)")],
             options: [OptionSpec("credential", value: "NAME", help: "Drop this credential's own model (its provider's applies)")],
             phrase: "reset tier") { try set($0, reset: true) },
    ]

    static let rules: [Verb] = [
        Verb(["classify"], summary: "Print the tier of a model name and the rule that decided it",
             arguments: [ArgumentSpec("MODEL", help: "Model name, for example claude-haiku-4-5 or openai/gpt-4o-mini")],
             phrase: "classify model") { ctx in
            let r = try ctx.call(RPC.TierClassify.self, .init(model: ctx.invocation.value("MODEL")!))
            ctx.json ? Output.json(r) : Output.out("\(r.model): \(r.tier.rawValue) (\(r.rule))\n")
        },
        Verb(["tier", "rule", "add"], summary: "Classify model names by your own rule (tried before the built-in ones)",
             arguments: [ArgumentSpec("PATTERN", help: "A word of the name (codex), or a prefix ending in '*' (my-model-*)"),
                         ArgumentSpec("TIER", help: "One of: \(Tier.names)")],
             phrase: "add tier rule") { ctx in
            let inv = ctx.invocation
            let r = try ctx.call(RPC.TierRuleAdd.self, .init(pattern: inv.value("PATTERN")!, tier: inv.value("TIER")!))
            ctx.json ? Output.json(r) : Output.out("Added tier rule \(r.id): '\(r.pattern)' → \(r.tier.rawValue)\n")
        },
        Verb(["tier", "rule", "list"], summary: "List your tier rules and the built-in ones",
             phrase: "list tier rules") { ctx in
            let rules = try ctx.call(RPC.TierRuleList.self)
            if ctx.json { Output.json(rules); return }
            Output.out(Output.table(["ID", "RULE", "TIER"], rules.map { [String($0.id), $0.pattern, $0.tier.rawValue] }
                + TierClassifier.builtinRules.map { ["built-in", $0.match, $0.tier.rawValue] }
                + TierClassifier.generations.map { ["built-in", $0.match, "one tier down per generation"] }))
            Output.out("The first matching rule decides; a numbered generation of gpt, claude, gemini or grok that no rule matches"
                       + " is flagship, any other name standard; then, unless your rule decided, older generations step down.\n")
        },
        Verb(["tier", "rule", "remove"], summary: "Remove one of your tier rules",
             arguments: [ArgumentSpec("ID", help: "Rule id from 'tier rule list'")],
             phrase: "remove tier rule") { ctx in
            guard let id = Int64(ctx.invocation.value("ID")!) else { throw Ctl.usage("ID must be a number from 'tier rule list'") }
            let r = try ctx.call(RPC.TierRuleRemove.self, .init(id: id))
            ctx.json ? Output.json(r) : Output.out("Removed tier rule \(id).\n")
        },
    ]

    static func list(_ ctx: Ctl.Context) throws {
        let entries = try ctx.call(RPC.TierList.self)
        if ctx.json { Output.json(entries); return }
        let rows = ProviderKind.allCases.map { kind in
            [kind.rawValue] + Tier.allCases.map { tier in
                let e = entries.first { $0.provider == kind && $0.tier == tier }
                return (e?.model ?? "-") + (e?.source == .user ? " *" : "")
            }
        }
        Output.out(Output.table(["PROVIDER"] + Tier.allCases.map { $0.rawValue.uppercased() }, rows))
        Output.out("* set by you; the rest are built-in defaults. Change one with: proxypoolctl tier set PROVIDER TIER MODEL\n")
        let own = Dictionary(grouping: entries.filter { $0.credential != nil }, by: { $0.credential! })
        if !own.isEmpty {
            Output.out("\nCredentials with their own tier models (they win over their provider's):\n")
            Output.out(Output.table(["CREDENTIAL"] + Tier.allCases.map { $0.rawValue.uppercased() }, own.keys.sorted().map { c in
                [c] + Tier.allCases.map { t in own[c]!.first { $0.tier == t }?.model ?? "-" }
            }))
        }
    }

    static func set(_ ctx: Ctl.Context, reset: Bool) throws {
        let inv = ctx.invocation
        let model = reset ? nil : inv.value("MODEL")
        let provider = inv.value("PROVIDER"), credential = inv.value("credential")
        guard (provider == nil) != (credential == nil) else {
            throw Ctl.usage(provider == nil ? "give a PROVIDER, or --credential NAME" : "give a PROVIDER or --credential NAME, not both")
        }
        let e = try ctx.call(RPC.TierSet.self, .init(provider: provider, credential: credential, tier: inv.value("TIER")!, model: model))
        let who = e.credential.map { "credential \($0)" } ?? e.provider.rawValue
        ctx.json ? Output.json(e) : Output.out("\(who) \(e.tier.rawValue) → \(e.model ?? "(none)")\(e.source == .builtin ? " (default)" : "")\n")
    }
}
