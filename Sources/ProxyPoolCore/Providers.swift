/// The kinds of upstream a credential can point at: the names the store and the control plane use. What each
/// kind is (its endpoints, options, protocols, auth) is its `Provider` in ProxyPoolProviders.
public enum ProviderKind: String, Codable, CaseIterable, Sendable {
    case openai
    case anthropic
    case gemini
    case azureOpenAI = "azure-openai"
    case vertex
    case openAICompatible = "openai-compatible"
    case chatGPTAccount = "chatgpt-account"
    case claudeAccount = "claude-account"

    /// For proxypool's own tests of token sources only (`test-providers = yes`); not among `allCases`, so
    /// no listing, help text or tier table shows it.
    case testOAuth = "test-oauth"

    /// The kinds a user may choose from.
    public static let allCases: [ProviderKind] = [.openai, .anthropic, .gemini, .azureOpenAI, .vertex, .openAICompatible,
                                                  .chatGPTAccount, .claudeAccount]

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

public enum Validation {
    /// Names of credentials and apps: what fits in a journal field, a URL path and a shell word unquoted.
    public static func name(_ s: String, what: String) throws(RPCError) {
        guard !s.isEmpty, s.utf8.count <= 64 else { throw .invalidParams("\(what) must be 1 to 64 characters") }
        let ok = s.utf8.enumerated().allSatisfy { i, c in
            isAlnum(c) || (i > 0 && (c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")))
        }
        guard ok else {
            throw .invalidParams("\(what) '\(s)' may hold only letters, digits, '-', '_' and '.', and must start with a letter or digit")
        }
    }

    /// A model or alias name: what a client may put in a request's `model` field.
    public static func modelName(_ s: String, what: String = "model name") throws(RPCError) {
        guard !s.isEmpty, s.utf8.count <= 200, !s.contains(where: { $0 == " " || $0.isNewline || $0 == "\t" }) else {
            throw .invalidParams("\(what) '\(s)' must be 1 to 200 characters without spaces")
        }
    }

    /// An upstream base URL: http or https, a host, no credentials, no query or fragment.
    public static func baseURL(_ s: String) throws(RPCError) {
        let lower = s.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            throw .invalidParams("base URL '\(s)' must start with https:// or http://")
        }
        let rest = s.drop(while: { $0 != ":" }).dropFirst(3)
        let authority = rest.prefix(while: { $0 != "/" })
        guard !authority.isEmpty else { throw .invalidParams("base URL '\(s)' has no host") }
        guard !authority.contains("@") else {
            throw .invalidParams("base URL must not contain credentials; give the secret with --key-stdin, --key-file or --key-env")
        }
        guard !s.contains("?"), !s.contains("#") else { throw .invalidParams("base URL '\(s)' must not have a query or fragment") }
        guard s.utf8.count <= 2048, !s.contains(where: { $0 == " " || $0.asciiValue.map { $0 < 0x20 } ?? false }) else {
            throw .invalidParams("base URL '\(s)' contains spaces or control characters")
        }
    }

    public static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }
}

/// How a secret may be shown: its well-known prefix (which tells what kind of key it is) and its last 4 characters.
public enum Redaction {
    static let knownPrefixes = [
        "sk-ant-api03-", "sk-ant-oat01-", "sk-ant-ort01-", "sk-ant-", "sk-proj-", "sk-svcacct-", "sk-admin-",
        "sk-or-v1-", "sk-", "AIza", "gsk_", "xai-", "ppk_", "ya29.", "eyJ",
    ]

    public static func redact(_ secret: String) -> String {
        let trimmed = secret.trimming(" \n\r\t")
        guard trimmed.count >= 12 else { return "…" }
        let prefix = knownPrefixes.first(where: { trimmed.hasPrefix($0) }) ?? ""
        if trimmed.hasPrefix("{") { return googleKeyFile(trimmed) ?? "{json …\(trimmed.dropLast().suffix(4).filter(\.isLetterOrDigitASCII))}" }
        return prefix + "…" + String(trimmed.suffix(4))
    }

    /// A Google key file (Vertex AI) by what names it and nothing that proves it: a service account's client
    /// email and key id, or that it is an ADC login (its client id is gcloud's, its refresh token secret).
    static func googleKeyFile(_ json: String) -> String? {
        guard let j = try? JSON.decode(JSONValue.self, from: Array(json.utf8)) else { return nil }
        func shown(_ k: String) -> String { String((j[k]?.stringValue ?? "?").prefix(120).filter { !$0.isNewline }) }
        switch j["type"]?.stringValue {
        case "service_account": return "service account \(shown("client_email")) (key \(shown("private_key_id")))"
        case "authorized_user": return "authorized_user (ADC)"
        default: return nil
        }
    }
}

extension Character {
    var isLetterOrDigitASCII: Bool { asciiValue.map { Validation.isAlnum($0) } ?? false }
}

extension StringProtocol {
    /// Drop leading and trailing characters found in `set`, compared scalar by scalar ("\r\n" is one
    /// Character in Swift, so a Character set would miss a lone "\n").
    public func trimming(_ set: String) -> String {
        let chars = set.unicodeScalars
        var s = Substring(self).unicodeScalars[...]
        // Nothing to trim (the usual case, on every request): no scalar-by-scalar rebuild.
        guard let first = s.first, let last = s.last, chars.contains(first) || chars.contains(last) else { return String(self) }
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(String.UnicodeScalarView(s))
    }
}

extension ProviderKind {
    /// A subscription login (tokens from a sign-in, quota windows, rotation by them).
    public var isAccount: Bool { self == .chatGPTAccount || self == .claudeAccount }
}
