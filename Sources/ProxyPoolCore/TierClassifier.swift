/// Which tier a model name belongs to, from its name alone, so that models released after this code still land
/// sensibly. The name is normalised (lower case; provider prefixes like `openai/`, `models/`, `@version`, dates
/// and `-latest`/`-preview`/`:free` dropped) and split into words on `-`, `_`, `.`, `:` and spaces; rules then
/// look at whole words, so `mini` never matches inside `gemini`. First matching rule wins: the user's, then these.
public struct TierRule: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// The name has this word (`mini`, `opus`).
        case word
        /// The normalised name starts with this text (`claude-3-opus`).
        case prefix
        /// The first word is `o` followed by digits: OpenAI's o-series (`o1`, `o3`, `o9`).
        case oSeries = "o-series"
        /// A parameter-count word (`8b`, `405b`) within a range, in billions.
        case size
    }
    public var kind: Kind
    public var value: String
    public var tier: Tier
    /// For `size`: inclusive bounds in billions of parameters.
    public var minB: Double?
    public var maxB: Double?

    public init(_ kind: Kind, _ value: String, _ tier: Tier, minB: Double? = nil, maxB: Double? = nil) {
        // A prefix is compared with the normalised name, whose words are joined by '-': normalise it alike.
        self.kind = kind; self.tier = tier; self.minB = minB; self.maxB = maxB
        self.value = kind == .prefix ? String(value.lowercased().map { ".:_ /".contains($0) ? "-" : $0 }) : value.lowercased()
    }

    /// What the rule looks for ("word 'mini'").
    public var match: String {
        switch kind {
        case .word: return "word '\(value)'"
        case .prefix: return "prefix '\(value)'"
        case .oSeries: return "OpenAI o-series"
        case .size: return "size" + (minB.map { " ≥\(Int($0))B" } ?? "") + (maxB.map { " ≤\(Int($0))B" } ?? "")
        }
    }

    public var description: String { "\(match) → \(tier.rawValue)" }

    func matches(_ n: TierClassifier.Normalized) -> Bool {
        switch kind {
        case .word: return n.words.contains(value)
        case .prefix: return n.name.hasPrefix(value)
        case .oSeries:
            guard let f = n.words.first, f.count >= 2, f.first == "o" else { return false }
            return f.dropFirst().allSatisfy(\.isNumber)
        case .size:
            return n.sizesB.contains { s in (minB.map { s >= $0 } ?? true) && (maxB.map { s <= $0 } ?? true) }
        }
    }
}

public enum TierClassifier {
    public struct Normalized: Sendable, Equatable {
        public var name: String
        public var words: [String]
        /// Parameter counts named in the model (`70b` → 70, `1.5b` → 1.5, `8x7b` → 56).
        public var sizesB: [Double]
    }

    public struct Result: Sendable, Equatable {
        public var tier: Tier
        /// The rule that decided, or why none did.
        public var rule: String
        public var normalized: String
    }

    /// Built-in rules, in order: reasoning before fast (an `o4-mini` or a `…-flash-thinking` is a reasoning model),
    /// fast before flagship (`gemini-pro-lite` would be a lite model). A name none of them matches is flagship when
    /// it is a numbered generation of a vendor family without a size word (`gpt-5`, `gpt-5.5-codex`, `grok-4`:
    /// each vendor's full-size model), else standard; then older generations step down (`generations`).
    public static let builtinRules: [TierRule] = [
        TierRule(.oSeries, "o", .reasoning),
        TierRule(.word, "thinking", .reasoning),
        TierRule(.word, "reasoner", .reasoning),
        TierRule(.word, "reasoning", .reasoning),
        TierRule(.prefix, "deepseek-r", .reasoning),        // deepseek-r1, deepseek-r2, … and their distills
        TierRule(.word, "r1", .reasoning),
        TierRule(.word, "r2", .reasoning),
        TierRule(.word, "qwq", .reasoning),
        TierRule(.word, "magistral", .reasoning),
        TierRule(.word, "mini", .fast),
        TierRule(.word, "nano", .fast),
        TierRule(.word, "haiku", .fast),
        TierRule(.word, "flash", .fast),
        TierRule(.word, "lite", .fast),
        TierRule(.word, "small", .fast),
        TierRule(.word, "tiny", .fast),
        TierRule(.word, "instant", .fast),
        TierRule(.word, "fast", .fast),                     // grok-4-fast, grok-code-fast-1
        TierRule(.word, "ministral", .fast),
        TierRule(.word, "gemma", .fast),
        TierRule(.word, "phi", .fast),
        TierRule(.size, "", .fast, maxB: 14),
        TierRule(.word, "fable", .flagship),                // Anthropic's top family, above opus
        TierRule(.word, "opus", .flagship),
        TierRule(.word, "pro", .flagship),
        TierRule(.word, "ultra", .flagship),
        TierRule(.word, "large", .flagship),
        TierRule(.word, "max", .flagship),
        TierRule(.size, "", .flagship, minB: 200),
        TierRule(.word, "sonnet", .standard),               // so that claude-3-sonnet is not a bare (flagship) generation
    ]

    /// A vendor family whose names carry a generation number (`gpt-4o` is 4, `claude-3-5-sonnet` 3,
    /// `claude-sonnet-4-5` 4). `current` is the generation of the built-in tier defaults (`gpt-5.1`,
    /// `claude-*-4-5`, `gemini-2.5-*`, `grok-4`); that one and any later one keep their tier, and each generation
    /// before it steps one tier down (flagship → standard → fast), since asking for an old model by name asks for
    /// what it was worth against today's. Reasoning models keep their tier.
    public struct Generation: Sendable, Equatable {
        public var family: String
        public var current: Int
        public var aliases: [String]
        /// For `tier rule list`: "gpt before 5".
        public var match: String { "\(([family] + aliases).joined(separator: "/")) before generation \(current)" }
    }

    public static let generations: [Generation] = [
        Generation(family: "gpt", current: 5, aliases: ["chatgpt"]),
        Generation(family: "claude", current: 4, aliases: []),
        Generation(family: "gemini", current: 2, aliases: []),
        Generation(family: "grok", current: 4, aliases: []),
    ]

    /// The family and generation number a name carries: the first word after the family name that starts with
    /// digits and is not a size (`120b`), or digits right after the family name (`gpt5`).
    static func generation(of n: Normalized) -> (Generation, Int)? {
        guard let first = n.words.first else { return nil }
        for g in generations {
            for name in [g.family] + g.aliases where first.hasPrefix(name) {
                let rest = first.dropFirst(name.count)
                if rest.isEmpty {
                    for w in n.words.dropFirst() {
                        let isSize = w.hasSuffix("b") && w.dropLast().allSatisfy { $0.isNumber || $0 == "x" }
                        if !isSize, let d = leadingNumber(w) { return (g, d) }
                    }
                    return nil
                }
                if let d = leadingNumber(String(rest)), rest.allSatisfy(\.isNumber) || rest.last == "o" { return (g, d) }
            }
        }
        return nil
    }

    static func leadingNumber(_ w: String) -> Int? {
        let digits = w.prefix { $0.isASCII && $0.isNumber }
        return digits.isEmpty || digits.count > 4 ? nil : Int(digits)
    }

    static func stepDown(_ t: Tier, by steps: Int) -> Tier {
        var t = t
        for _ in 0..<min(steps, 2) { t = t == .flagship ? .standard : (t == .standard ? .fast : t) }
        return t
    }

    public static func normalize(_ model: String) -> Normalized {
        var s = model.lowercased().trimming(" ")
        if let slash = s.lastIndex(of: "/") { s = String(s[s.index(after: slash)...]) }      // openai/gpt-4o, models/x
        if let at = s.firstIndex(of: "@") { s = String(s[..<at]) }                           // vertex: claude-3-5@20240620
        // ':' starts a tag (`:free`, `:latest`, Ollama's `:8b`): its words count, a size among them.
        var words = s.split(whereSeparator: { "-_. :".contains($0) }).map(String.init)
        // Dates and release markers never change a tier.
        words.removeAll { w in
            ["latest", "preview", "exp", "experimental", "beta", "alpha", "chat", "instruct", "it", "hf", "versatile", "free"].contains(w)
                || (w.count >= 4 && w.allSatisfy(\.isNumber))                                   // 20241022, 2024, 0613
        }
        var sizes: [Double] = []
        for w in words where w.hasSuffix("b") {
            let body = w.dropLast()
            if let x = body.firstIndex(of: "x"), let n = Double(body[..<x]), let each = Double(body[body.index(after: x)...]) { sizes.append(n * each) }
            else if let n = Double(body) { sizes.append(n) }
        }
        return Normalized(name: words.joined(separator: "-"), words: words, sizesB: sizes)
    }

    public static func classify(_ model: String, userRules: [TierRule] = []) -> Result {
        let n = normalize(model)
        for (i, r) in userRules.enumerated() where r.matches(n) {
            return Result(tier: r.tier, rule: "user rule \(i + 1): \(r.description)", normalized: n.name)
        }
        let gen = generation(of: n)
        var tier: Tier, rule: String
        if let r = builtinRules.first(where: { $0.matches(n) }) {
            (tier, rule) = (r.tier, "built-in: \(r.description)")
        } else if let (g, d) = gen {
            (tier, rule) = (.flagship, "built-in: \(g.family) \(d) without a size word → flagship")
        } else {
            return Result(tier: .standard, rule: "built-in: no rule matched → standard", normalized: n.name)
        }
        if let (g, d) = gen, d < g.current, tier != .reasoning, tier != .fast {
            let behind = g.current - d
            let stepped = stepDown(tier, by: behind)
            rule += "; \(g.family) \(d) is \(behind == 1 ? "one generation" : "\(behind) generations") before \(g.family) \(g.current)"
                + " → \(stepped.rawValue)"
            tier = stepped
        }
        return Result(tier: tier, rule: rule, normalized: n.name)
    }
}
