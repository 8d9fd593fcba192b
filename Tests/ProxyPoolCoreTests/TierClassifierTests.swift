import Testing
@testable import ProxyPoolCore

/// Real model names, current and historical, with the tier a user would expect. "name tier" per line.
let realModels = """
gpt-4o standard
gpt-4o-2024-08-06 standard
gpt-4o-2024-05-13 standard
chatgpt-4o-latest standard
gpt-4o-mini fast
gpt-4o-mini-2024-07-18 fast
gpt-4-turbo standard
gpt-4-turbo-2024-04-09 standard
gpt-4-0613 standard
gpt-4 standard
gpt-4-32k standard
gpt-3.5-turbo fast
gpt-3.5-turbo-0125 fast
gpt-4.1 standard
gpt-4.1-mini fast
gpt-4.1-nano fast
gpt-4.5-preview standard
gpt-4.5-preview-2025-02-27 standard
gpt-5 flagship
gpt-5-2025-08-07 flagship
gpt-5-mini fast
gpt-5-nano fast
gpt-5-pro flagship
gpt-5-codex flagship
gpt-5.1 flagship
gpt-5.1-codex flagship
gpt-5.1-codex-mini fast
gpt-5-thinking reasoning
codex-mini-latest fast
o1 reasoning
o1-preview reasoning
o1-mini reasoning
o1-pro reasoning
o3 reasoning
o3-mini reasoning
o3-pro reasoning
o3-deep-research reasoning
o4-mini reasoning
o4-mini-2025-04-16 reasoning
openai/gpt-4o standard
openai/gpt-oss-120b standard
openai/gpt-oss-20b standard
gpt-oss-20b standard
claude-3-opus-20240229 standard
claude-3-sonnet-20240229 fast
claude-3-haiku-20240307 fast
claude-3-5-sonnet-20240620 fast
claude-3-5-sonnet-20241022 fast
claude-3-5-sonnet-latest fast
claude-3-5-haiku-20241022 fast
claude-3-5-haiku-latest fast
claude-3-7-sonnet-20250219 fast
claude-3-7-sonnet-latest fast
claude-sonnet-4-20250514 standard
claude-opus-4-20250514 flagship
claude-opus-4-1-20250805 flagship
claude-sonnet-4-5 standard
claude-sonnet-4-5-20250929 standard
claude-haiku-4-5 fast
claude-haiku-4-5-20251001 fast
claude-opus-4-5 flagship
claude-sonnet-4-6 standard
claude-opus-5-5 flagship
claude-2.1 fast
claude-2.0 fast
claude-instant-1.2 fast
anthropic/claude-3.5-sonnet fast
anthropic/claude-3-opus standard
claude-3-5-sonnet-v2@20241022 fast
claude-3-7-sonnet-thinking reasoning
gemini-1.0-pro standard
gemini-1.5-pro standard
gemini-1.5-pro-002 standard
gemini-1.5-flash fast
gemini-1.5-flash-8b fast
gemini-1.5-flash-002 fast
gemini-2.0-flash fast
gemini-2.0-flash-001 fast
gemini-2.0-flash-lite fast
gemini-2.0-flash-exp fast
gemini-2.0-flash-thinking-exp-01-21 reasoning
gemini-2.0-pro-exp-02-05 flagship
gemini-2.5-pro flagship
gemini-2.5-pro-preview-05-06 flagship
gemini-2.5-flash fast
gemini-2.5-flash-preview-04-17 fast
gemini-2.5-flash-lite fast
gemini-2.5-flash-lite-preview-06-17 fast
models/gemini-2.5-flash fast
google/gemini-2.5-pro flagship
gemini-exp-1206 standard
gemini-ultra flagship
gemma-2-9b-it fast
gemma-3-27b-it fast
gemma3:4b fast
llama-3.1-8b-instant fast
llama-3.1-70b-versatile standard
llama-3.3-70b-versatile standard
llama-3.1-405b flagship
meta-llama/llama-3.1-405b-instruct flagship
meta-llama/Llama-3.2-3B-Instruct fast
meta-llama/llama-3.2-1b-instruct fast
llama3.1:8b fast
llama3:70b standard
llama-4-scout-17b-16e-instruct standard
llama-4-maverick-17b-128e-instruct standard
mistral-large-latest flagship
mistral-large-2411 flagship
mistral-medium-latest standard
mistral-small-latest fast
mistral-small-3.1-24b-instruct fast
ministral-8b-latest fast
ministral-3b-latest fast
open-mistral-7b fast
open-mixtral-8x7b standard
open-mixtral-8x22b standard
mixtral-8x7b-32768 standard
codestral-latest standard
codestral-2501 standard
devstral-small-2505 fast
pixtral-large-latest flagship
magistral-medium-2506 reasoning
deepseek-chat standard
deepseek-reasoner reasoning
deepseek-coder standard
deepseek-v3 standard
deepseek-ai/DeepSeek-V3-0324 standard
deepseek-r1 reasoning
deepseek/deepseek-r1:free reasoning
deepseek-r1-distill-llama-70b reasoning
deepseek-r1-distill-qwen-7b reasoning
qwen-max flagship
qwen-plus standard
qwen-turbo standard
qwen2.5-72b-instruct standard
qwen2.5-coder-32b-instruct standard
qwen2.5-coder:7b fast
Qwen/Qwen2.5-7B-Instruct fast
qwen3-235b-a22b flagship
qwen3-32b standard
qwen3-coder standard
qwen/qwen3-coder:free standard
qwq-32b reasoning
qwq-32b-preview reasoning
grok-2 fast
grok-2-1212 fast
grok-beta standard
grok-3 standard
grok-3-mini fast
grok-3-mini-fast fast
grok-4 flagship
grok-4-0709 flagship
command-r standard
command-r-plus standard
command-a-03-2025 standard
phi-3-mini-128k-instruct fast
phi-4 fast
microsoft/phi-4 fast
kimi-k2-instruct standard
moonshotai/kimi-k2:free standard
glm-4.5 standard
glm-4.5-air standard
yi-large flagship
nova-pro flagship
nova-lite fast
nova-micro standard
text-embedding-3-small fast
gpt-5.2 flagship
gpt-5.5 flagship
gpt-5.5-pro flagship
gpt-5.1-codex-max flagship
gpt-5-codex-mini fast
gpt-5.4-mini fast
gpt-6.1-sol flagship
chatgpt-5-latest flagship
claude-fable-5 flagship
claude-fable-5-1 flagship
claude-opus-5 flagship
claude-sonnet-5 standard
claude-opus-4-6 flagship
claude-haiku-5 fast
gemini-3-pro-preview flagship
gemini-3-flash-preview fast
gemini-3-flash-lite fast
gemini-2.5-flash-thinking reasoning
grok-4.1 flagship
grok-4-fast fast
grok-code-fast-1 fast
grok-3-latest standard
kimi-k2-thinking reasoning
qwen3-max flagship
deepseek-v3.2 standard
deepseek-r2 reasoning
deepseek-ai/DeepSeek-R1-0528 reasoning
"""

/// Names nobody has shipped yet: the rules must still place them.
let futureModels = """
claude-sonnet-7-20300101 standard
claude-opus-9 flagship
claude-haiku-8-latest fast
gpt-7 flagship
gpt-7-mini fast
gpt-9.5-nano fast
gpt-8-pro flagship
o9 reasoning
o12-mini reasoning
gemini-5-flash-lite fast
gemini-6-pro-preview-2031-01-01 flagship
gemini-5-flash-thinking reasoning
grok-9-mini fast
deepseek-v9 standard
deepseek-r3 reasoning
llama-7-2000b flagship
qwen5-3b fast
mistral-large-5 flagship
some-new-lab-model standard
"""

func table(_ text: String) -> [(String, Tier)] {
    text.split(separator: "\n").map { line in
        let p = line.split(separator: " ")
        return (String(p[0]), Tier(rawValue: String(p[1]))!)
    }
}

@Suite struct TierClassifierTests {
    @Test func realModelNames() {
        let rows = table(realModels)
        #expect(rows.count >= 150)
        var wrong: [String] = []
        for (name, tier) in rows {
            let r = TierClassifier.classify(name)
            if r.tier != tier { wrong.append("\(name): \(r.tier.rawValue) (\(r.rule)), expected \(tier.rawValue)") }
        }
        #expect(wrong.isEmpty, "\(wrong.count) wrong:\n\(wrong.joined(separator: "\n"))")
    }

    @Test func futureModelNames() {
        var wrong: [String] = []
        for (name, tier) in table(futureModels) where TierClassifier.classify(name).tier != tier {
            wrong.append("\(name): \(TierClassifier.classify(name).tier.rawValue) (\(TierClassifier.classify(name).rule)), expected \(tier.rawValue)")
        }
        #expect(wrong.isEmpty, "\(wrong.joined(separator: "\n"))")
    }

    @Test func datesVersionsAndPrefixesNeverChangeTheTier() {
        for (base, variants) in [
            ("claude-3-5-haiku", ["claude-3-5-haiku-20241022", "claude-3-5-haiku-latest", "anthropic/claude-3-5-haiku", "claude-3-5-haiku@20241022"]),
            ("gpt-4o", ["gpt-4o-2024-11-20", "openai/gpt-4o", "gpt-4o:free", "gpt-4o-preview"]),
            ("gemini-2.5-pro", ["models/gemini-2.5-pro", "gemini-2.5-pro-preview-06-05", "gemini-2.5-pro-exp-03-25"]),
        ] {
            let t = TierClassifier.classify(base).tier
            for v in variants { #expect(TierClassifier.classify(v).tier == t, "\(v)") }
        }
    }

    @Test func wordsAreWholeWords() {
        #expect(TierClassifier.normalize("gemini-2.0-flash").words == ["gemini", "2", "0", "flash"])
        #expect(TierClassifier.classify("gemini-2.5-foo").tier != .fast, "'gemini' contains 'mini' but is not the word mini")
        #expect(TierClassifier.classify("prometheus-7").tier == .standard, "'pro' inside a word is not the word pro")
    }

    @Test func userRulesComeFirstAndSayWhichDecided() {
        let rules = [TierRule(.word, "codex", .reasoning), TierRule(.prefix, "my-", .fast)]
        let r = TierClassifier.classify("gpt-5.1-codex", userRules: rules)
        #expect(r.tier == .reasoning && r.rule == "user rule 1: word 'codex' → reasoning")
        #expect(TierClassifier.classify("my-pro-model", userRules: rules).tier == .fast, "a user rule beats the built-in 'pro'")
        #expect(TierClassifier.classify("gpt-5.1-codex").rule == "built-in: gpt 5 without a size word → flagship")
        #expect(TierClassifier.classify("some-new-lab-model").rule == "built-in: no rule matched → standard")
        #expect(TierClassifier.classify("claude-fable-5").rule == "built-in: word 'fable' → flagship")
        #expect(TierClassifier.classify("claude-3-opus-20240229").rule
                == "built-in: word 'opus' → flagship; claude 3 is one generation before claude 4 → standard")
        #expect(TierClassifier.classify("gpt-3.5-turbo").rule
                == "built-in: gpt 3 without a size word → flagship; gpt 3 is 2 generations before gpt 5 → fast")
        #expect(TierClassifier.classify("o3-mini").rule == "built-in: OpenAI o-series → reasoning", "reasoning never steps down")
        // A user rule is the user's word: no generation step after it.
        #expect(TierClassifier.classify("claude-3-opus", userRules: [TierRule(.word, "opus", .flagship)]).tier == .flagship)
        #expect(TierClassifier.classify("claude-haiku-4-5").rule == "built-in: word 'haiku' → fast")
    }

    @Test func generationsAreReadFromTheRightWord() {
        #expect(TierClassifier.generation(of: TierClassifier.normalize("gpt-oss-120b")) == nil, "a size is not a generation")
        #expect(TierClassifier.generation(of: TierClassifier.normalize("gpt4o"))?.1 == 4)
        #expect(TierClassifier.generation(of: TierClassifier.normalize("claude-sonnet-4-5-20250929"))?.1 == 4)
        #expect(TierClassifier.generation(of: TierClassifier.normalize("claude-3-5-haiku"))?.1 == 3)
        #expect(TierClassifier.generation(of: TierClassifier.normalize("grokky-3")) == nil)
    }

    @Test func sizes() {
        #expect(TierClassifier.normalize("mixtral-8x7b").sizesB == [56])
        #expect(TierClassifier.normalize("qwen2.5-1.5b").sizesB == [5] || TierClassifier.normalize("qwen2.5-1.5b").sizesB.contains(5),
                "dots split words, so 1.5b reads as 5b: still fast")
        #expect(TierClassifier.classify("qwen2.5-1.5b").tier == .fast)
    }
}
