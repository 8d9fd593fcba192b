import Testing
import ProxyPoolCore
@testable import ProxyPoolProviders

/// A pass-through request for a credential: its provider's URL and headers, with the auth it declares.
func target(_ endpoint: Endpoint, path: Substring, query: Substring?, credential c: CredentialRoute,
            clientHeaders: [(name: String, value: String)], lowerNames: [String]? = nil) -> (url: String, headers: [String]) {
    let p = Providers.of(c.provider)
    let t = p.target(endpoint: endpoint, path: path, query: query, credential: c, clientHeaders: clientHeaders, lowerNames: lowerNames)
    guard case .headers(let auth) = p.auth(c) else { return (t.url, t.headers) }
    return (t.url, t.headers + auth)
}

@Suite struct UpstreamTargetTests {
    let endpoint = Endpoint(family: .openai, kind: .chatCompletions)
    let client: [(name: String, value: String)] = [("Host", "127.0.0.1:8081"), ("Authorization", "Bearer ppk_client"), ("Content-Type", "application/json"),
                                                   ("Accept-Encoding", "gzip"), ("Connection", "keep-alive"), ("Content-Length", "10"),
                                                   ("User-Agent", "OpenAI/Python 3.57.0"), ("X-Proxypool-App", "x"), ("Cookie", "a=b")]

    func cred(_ p: ProviderKind, _ base: String?, _ options: [String: String] = [:]) -> CredentialRoute {
        CredentialRoute(name: "c", provider: p, secret: "sk-real-secret", baseURL: base, options: options, enabled: true, free: false)
    }

    @Test func openAIAndCompatible() {
        let (url, headers) = target(endpoint, path: "/v1/chat/completions", query: nil,
                                                  credential: cred(.openai, nil, ["organization": "org-1"]), clientHeaders: client)
        #expect(url == "https://api.openai.com/v1/chat/completions")
        #expect(headers.contains("Authorization: Bearer sk-real-secret") && headers.contains("OpenAI-Organization: org-1"))
        #expect(!headers.contains { $0.contains("ppk_client") }, "the client's key never travels on")
        #expect(headers.contains("Content-Type: application/json") && headers.contains("User-Agent: OpenAI/Python 3.57.0"))
        for dropped in ["Host", "Accept-Encoding", "Connection", "Content-Length", "X-Proxypool-App", "Cookie"] {
            #expect(!headers.contains { $0.hasPrefix(dropped + ":") }, "\(dropped) is not forwarded")
        }
        let local = target(endpoint, path: "/v1/chat/completions", query: nil, credential: cred(.openAICompatible, "http://127.0.0.1:11434/v1/"), clientHeaders: [])
        #expect(local.url == "http://127.0.0.1:11434/v1/chat/completions")
    }

    /// RFC 9110 §7.6.1: what a client's Connection header names is for its connection to us only.
    @Test func headersNamedInConnectionStayHere() {
        let clientHeaders: [(name: String, value: String)] = [("Connection", "keep-alive, X-Hop, , Anthropic-Version"), ("X-Hop", "secret"),
                                                              ("connection", "\tX-Other-Hop "), ("x-other-hop", "1"), ("X-Kept", "yes"),
                                                              ("Anthropic-Version", "2024-01-01")]
        for lower in [clientHeaders.map { $0.name.lowercased() }, nil] as [[String]?] {
            let r = target(Endpoint(family: .anthropic, kind: .messages), path: "/v1/messages", query: nil,
                                         credential: cred(.anthropic, nil), clientHeaders: clientHeaders, lowerNames: lower)
            #expect(r.headers.contains("X-Kept: yes"))
            #expect(!r.headers.contains { $0.lowercased().hasPrefix("x-hop:") || $0.lowercased().hasPrefix("x-other-hop:") }, "\(r.headers)")
            // A named anthropic-version is the client's hop only: ours goes instead.
            #expect(r.headers.filter { $0.lowercased().hasPrefix("anthropic-version:") } == ["anthropic-version: 2023-06-01"], "\(r.headers)")
        }
        #expect(HopByHop.namedInConnection(count: 1, lowerName: { _ in "connection" }, value: { _ in "close, Keep-Alive" }).isEmpty)
    }

    /// The in-place tokenizer: any ASCII case of close/keep-alive is left out, spaces and tabs around a token
    /// and empty tokens are skipped, the other tokens come back lower-cased in order, over several headers.
    @Test func connectionTokensMixedCaseWhitespaceAndSeveral() {
        let values = [" CLOSE ,\tkEeP-aLiVe\t, X-Foo ,,X-BAR", ",, ,\t", "keep-alive", "Keep-Alive-X, clos, close-, Upgrade",
                      "te\t,  ", "x-\u{e9}t\u{c9}"]
        let names = ["connection", "connection", "content-type", "connection", "connection", "connection"]
        let named = HopByHop.namedInConnection(count: values.count, lowerName: { names[$0] }, value: { values[$0] })
        #expect(named == ["x-foo", "x-bar", "keep-alive-x", "clos", "close-", "upgrade", "te", "x-\u{e9}t\u{c9}"], "\(named)")
        // One value at a time (the upstream answer's look) gives the same tokens.
        let one = values.indices.filter { names[$0] == "connection" }.flatMap { HopByHop.named(inConnection: values[$0]) }
        #expect(one == named)
        #expect(HopByHop.named(inConnection: "keep-alive").isEmpty && HopByHop.named(inConnection: "Close").isEmpty)
    }

    @Test func headerNameSetFindsExactlyItsMembers() {
        let names = ["te", "host", "expect", "cookie", "origin", "connection", "keep-alive", "x-proxypool-app"]
        let set = HeaderNameSet(names)
        for n in names { #expect(set.contains(n), "\(n)") }
        // Same lengths, other names; other lengths; case matters (names are given lower-cased); empty; longer than all.
        for n in ["tx", "hose", "accept", "user-agent", "content-type", "Host", "", "x-proxypool-appx", String(repeating: "a", count: 200)] {
            #expect(!set.contains(n), "\(n)")
        }
        #expect(!HeaderNameSet([]).contains("") && !HeaderNameSet([]).contains("host"))
    }

    @Test func azureBothForms() {
        let dep = target(endpoint, path: "/v1/chat/completions", query: nil,
                                       credential: cred(.azureOpenAI, "https://r.openai.azure.com", ["deployment": "gpt4o", "api-version": "2024-10-21"]), clientHeaders: [])
        #expect(dep.url == "https://r.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21")
        #expect(dep.headers.contains("api-key: sk-real-secret") && !dep.headers.contains { $0.hasPrefix("Authorization") })
        let v1 = target(Endpoint(family: .openai, kind: .responses), path: "/v1/responses", query: nil,
                                      credential: cred(.azureOpenAI, "https://r.openai.azure.com/openai/v1"), clientHeaders: [])
        #expect(v1.url == "https://r.openai.azure.com/openai/v1/responses")
    }

    @Test func anthropicAndGemini() {
        let a = target(Endpoint(family: .anthropic, kind: .messages), path: "/v1/messages", query: "beta=true",
                                     credential: cred(.anthropic, nil), clientHeaders: [("x-api-key", "ppk_c"), ("anthropic-beta", "claude-code-20250219")])
        #expect(a.url == "https://api.anthropic.com/v1/messages?beta=true")
        #expect(a.headers.contains("x-api-key: sk-real-secret") && a.headers.contains("anthropic-beta: claude-code-20250219"))
        #expect(a.headers.contains("anthropic-version: 2023-06-01") && !a.headers.contains("x-api-key: ppk_c"))
        // The client's own version goes as it is, once, found by its lower-cased name or without one.
        for lower in [["anthropic-version"], nil] as [[String]?] {
            let own = target(Endpoint(family: .anthropic, kind: .messages), path: "/v1/messages", query: nil,
                                           credential: cred(.anthropic, nil), clientHeaders: [("Anthropic-Version", "2024-01-01")], lowerNames: lower)
            #expect(own.headers.filter { $0.lowercased().hasPrefix("anthropic-version:") } == ["Anthropic-Version: 2024-01-01"])
        }
        let g = target(Endpoint(family: .gemini, kind: .streamGenerateContent), path: "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
                                     query: "alt=sse&key=ppk_c", credential: cred(.gemini, nil), clientHeaders: [])
        #expect(g.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse")
        #expect(g.headers.contains("x-goog-api-key: sk-real-secret"))
    }
}

@Suite struct SecretTests {
    @Test func secretsMustBeOneWordForKeys() throws {
        try Providers.validateSecret("sk-abc", provider: Providers.of(.openai))
        #expect(throws: RPCError.self) { try Providers.validateSecret("sk abc", provider: Providers.of(.openai)) }
        #expect(throws: RPCError.self) { try Providers.validateSecret("", provider: Providers.of(.openai)) }
        // A JSON key file spans lines.
        try Providers.validateSecret("{\n \"type\": \"authorized_user\", \"client_id\": \"i\",\n \"client_secret\": \"s\", \"refresh_token\": \"r\"\n}",
                                     provider: Providers.of(.vertex))
    }
}
