import ProxyPoolCore

/// The provider of each kind, and the checks every credential passes before it is stored.
public enum Providers {
    public static func of(_ kind: ProviderKind) -> any Provider {
        switch kind {
        case .openai: return OpenAIProvider()
        case .azureOpenAI: return AzureOpenAIProvider()
        case .openAICompatible: return OpenAICompatibleProvider()
        case .anthropic: return AnthropicProvider()
        case .gemini: return GeminiProvider()
        case .vertex: return VertexProvider()
        case .chatGPTAccount: return ChatGPTAccountProvider()
        case .claudeAccount: return ClaudeAccountProvider()
        case .testOAuth: return TestOAuthProvider()
        }
    }

    /// `test-providers = yes` (proxypoold.conf): the test-only kinds are served. Set once by the daemon at
    /// start, before any other thread runs, and only read after.
    nonisolated(unsafe) public static var testProvidersEnabled = false

    /// A credential as `credential add` gives it: the secret (trimmed by the caller), base URL and options
    /// checked against its kind.
    public static func validate(kind: ProviderKind, secret: String, baseURL: String?, options: [String: String]) throws(RPCError) {
        let p = of(kind)
        try validateSecret(secret, provider: p)
        if let url = baseURL { try Validation.baseURL(url) }
        if p.requiresBaseURL && baseURL == nil {
            throw .invalidParams("a credential of kind \(kind.rawValue) needs --base-url (its endpoint has no public default)")
        }
        for key in options.keys.sorted() where !p.allowedOptions.contains(key) {
            throw .invalidParams("option '\(key)' does not apply to \(kind.rawValue); it takes: \(p.allowedOptions.joined(separator: ", "))")
        }
        // Option values end up in request headers and URLs: one line, no control characters (found here rather
        // than as a failed request later).
        for (key, value) in options.sorted(by: { $0.key < $1.key })
        where value.utf8.count > 2048 || value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0.properties.isWhitespace && $0 != " " }) {
            throw .invalidParams("option '\(key)' must be one line of at most 2048 characters, without control characters")
        }
        if let api = options["api"], !OpenAIWires.apiOptionValues.contains(api) {
            throw .invalidParams("option 'api' must be chat or responses, not '\(api)'")
        }
        if let cap = options["max-output-tokens"], !(Int(cap).map { (1...10_000_000).contains($0) } ?? false) {
            throw .invalidParams("option 'max-output-tokens' must be a whole number from 1 to 10000000, not '\(cap)'")
        }
        for key in p.requiredOptions where (options[key] ?? "").isEmpty {
            throw .invalidParams("a credential of kind \(kind.rawValue) needs --\(key)")
        }
        try p.validate(baseURL: baseURL, options: options)
    }

    /// A secret as received: non-empty, within a sane size, and one word for kinds whose secret is a key.
    public static func validateSecret(_ s: String, provider p: any Provider) throws(RPCError) {
        guard !s.isEmpty else { throw .invalidParams("the secret is empty") }
        guard s.utf8.count <= 16 * 1024 else { throw .invalidParams("the secret is longer than 16 KiB") }
        if p.secretIsOneWord {
            guard !s.contains(where: { $0.isNewline || $0 == " " || $0 == "\t" }) else {
                throw .invalidParams("the secret contains whitespace or several lines; a key for \(p.kind.rawValue) is one word")
            }
        }
        try p.validate(secret: s)
    }
}

public extension ProviderKind {
    /// The family whose pool a credential of this kind is in; nil for kinds this release does not serve.
    var servedFamily: Family? {
        let p = Providers.of(self)
        return p.isServed ? p.family : nil
    }
}
