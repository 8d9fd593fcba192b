import Testing
@testable import ProxyPoolCore

@Suite struct ModelMappingTests {
    let anthropicTiers: [Tier: String] = [.flagship: "claude-opus-4-5", .standard: "claude-sonnet-4-5", .fast: "claude-haiku-4-5",
                                          .reasoning: "claude-opus-4-5"]
    let openaiTiers: [Tier: String] = [.flagship: "gpt-5.1", .standard: "gpt-5.1", .fast: "gpt-5-mini", .reasoning: "gpt-5.1-codex"]
    /// Gemini's built-in tier models (`GeminiProvider.tierDefault`).
    let geminiTiers: [Tier: String] = [.flagship: "gemini-2.5-pro", .standard: "gemini-2.5-flash", .fast: "gemini-2.5-flash-lite",
                                       .reasoning: "gemini-2.5-pro"]

    @Test(arguments: [
        ("claude-sonnet-4-5-20250929", Family.anthropic), ("claude-3-haiku-20240307", .anthropic), ("anthropic/claude-opus-4", .anthropic),
        ("gpt-4o", .openai), ("gpt-5-codex", .openai), ("o3-mini", .openai), ("o1", .openai), ("chatgpt-4o-latest", .openai),
        ("codex-mini-latest", .openai), ("openai/gpt-4.1", .openai), ("gemini-2.5-flash-lite", .gemini), ("models/gemini-1.5-pro", .gemini),
    ])
    func familyFromName(_ name: String, _ family: Family) {
        #expect(ModelMapping.family(of: name) == family)
    }

    @Test(arguments: ["llama-3.1-8b-instant", "qwen2.5-coder:32b", "deepseek-chat", "mistral-large-latest", "gemma-3-27b-it", "omni-moderation", "", "o"])
    func openWeightAndUnknownNamesHaveNoFamily(_ name: String) {
        #expect(ModelMapping.family(of: name) == nil)
    }

    @Test func sameFamilyPassesUnchanged() {
        let d = ModelMapping.map("claude-sonnet-4-5", provider: .anthropic, providerFamily: .anthropic, aliases: [:], userRules: [], tierModel: { anthropicTiers[$0] })
        #expect(d.model == "claude-sonnet-4-5" && !d.changed && d.reason.contains("same family"))
        let o = ModelMapping.map("gpt-4o-mini", provider: .azureOpenAI, providerFamily: .openai, aliases: [:], userRules: [], tierModel: { _ in "my-deployment" })
        #expect(o.model == "gpt-4o-mini" && !o.changed)
    }

    @Test(arguments: [
        ("claude-haiku-4-5-20251001", "gpt-5-mini", Tier.fast), ("claude-opus-4-1", "gpt-5.1", .flagship),
        ("claude-sonnet-4-5", "gpt-5.1", .standard), ("claude-3-7-sonnet-thinking", "gpt-5.1-codex", .reasoning),
    ])
    func crossFamilyMapsByTier(_ requested: String, _ expected: String, _ tier: Tier) {
        let d = ModelMapping.map(requested, provider: .openai, providerFamily: .openai, aliases: [:], userRules: [], tierModel: { openaiTiers[$0] })
        #expect(d.model == expected && d.tier == tier && d.changed)
    }

    @Test func gptToAnthropicAndGemini() {
        // gpt-5-codex is OpenAI's flagship generation; gpt-4o one generation older.
        #expect(ModelMapping.map("gpt-5-codex", provider: .anthropic, providerFamily: .anthropic, aliases: [:], userRules: [], tierModel: { anthropicTiers[$0] }).model == "claude-opus-4-5")
        #expect(ModelMapping.map("gpt-4o", provider: .anthropic, providerFamily: .anthropic, aliases: [:], userRules: [], tierModel: { anthropicTiers[$0] }).model == "claude-sonnet-4-5")
        #expect(ModelMapping.map("o3", provider: .anthropic, providerFamily: .anthropic, aliases: [:], userRules: [], tierModel: { anthropicTiers[$0] }).model == "claude-opus-4-5")
        let g = ModelMapping.map("claude-haiku-4-5", provider: .gemini, providerFamily: .gemini, aliases: [:], userRules: [],
                                 tierModel: { geminiTiers[$0] })
        #expect(g.model == "gemini-2.5-flash-lite")
    }

    @Test func aliasWinsOverFamilyAndTier() {
        let d = ModelMapping.map("claude-sonnet-4-5", provider: .anthropic, providerFamily: .anthropic, aliases: ["claude-sonnet-4-5": "claude-opus-4-5"], userRules: [],
                                 tierModel: { anthropicTiers[$0] })
        #expect(d.model == "claude-opus-4-5" && d.changed && d.reason.hasPrefix("alias"))
    }

    @Test func userRuleDecidesTheTier() {
        let rules = [TierRule(.word, "sonnet", .fast)]
        let d = ModelMapping.map("claude-sonnet-4-5", provider: .openai, providerFamily: .openai, aliases: [:], userRules: rules, tierModel: { openaiTiers[$0] })
        #expect(d.model == "gpt-5-mini" && d.tier == .fast)
    }

    @Test func noTierModelLeavesTheNameAndSaysHowToFixIt() {
        let d = ModelMapping.map("claude-haiku-4-5", provider: .openAICompatible, providerFamily: nil, aliases: [:], userRules: [], tierModel: { _ in nil })
        #expect(d.model == "claude-haiku-4-5" && !d.changed && d.reason.contains("proxypoolctl tier set"))
        let local = ModelMapping.map("claude-haiku-4-5", provider: .openAICompatible, providerFamily: nil, aliases: [:], userRules: [], tierModel: { $0 == .fast ? "qwen3:8b" : nil })
        #expect(local.model == "qwen3:8b" && local.changed)
        let own = ModelMapping.map("qwen3:8b", provider: .openAICompatible, providerFamily: nil, aliases: [:], userRules: [], tierModel: { _ in "other" })
        #expect(own.model == "qwen3:8b" && !own.changed)
    }
}

@Suite struct TranslationRoutingTests {
    @Test func secondaryPoolComesAfterTheClientsOwnProtocolEachRotated() {
        let all: (String) -> Bool = { _ in true }
        #expect(Routing.candidates(chain: ["x"], pool: ["a", "b"], secondaryPool: ["c", "d"], usable: all, fallbackToPool: true,
                                   rotation: 1, affinity: nil) == ["x", "b", "a", "d", "c"])
        // The conversation's credential first, even when it needs translation.
        #expect(Routing.candidates(chain: [], pool: ["a", "b"], secondaryPool: ["c", "d"], usable: all, fallbackToPool: true,
                                   rotation: 0, affinity: "d") == ["d", "a", "b", "c"])
        #expect(Routing.candidates(chain: ["c"], pool: ["a"], secondaryPool: ["c", "d"], usable: all, fallbackToPool: false,
                                   rotation: 0, affinity: nil) == ["c"])
    }
}

@Suite struct MediaHelpersTests {
    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")])
    func base64MatchesRFC4648Vectors(_ input: String, _ output: String) {
        #expect(Base64.encode(Array(input.utf8)) == output)
    }

    @Test func base64OfAllByteValues() {
        let s = Base64.encode((0...255).map { UInt8($0) })
        #expect(s.hasPrefix("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g") && s.hasSuffix("+/w==") && s.count == 344)
    }

    @Test func mediaTypeFromHeaderOrMagic() {
        #expect(MediaType.fromHeader("image/PNG; charset=binary") == "image/png")
        #expect(MediaType.fromHeader("text/html") == nil && MediaType.fromHeader(nil) == nil)
        #expect(MediaType.sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == "image/png")
        #expect(MediaType.sniff([0xFF, 0xD8, 0xFF, 0xE0]) == "image/jpeg")
        #expect(MediaType.sniff(Array("GIF89a..".utf8)) == "image/gif")
        #expect(MediaType.sniff(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)) == "image/webp")
        #expect(MediaType.sniff(Array("%PDF-1.7".utf8)) == "application/pdf")
        #expect(MediaType.sniff(Array("<html>".utf8)) == nil)
    }
}
