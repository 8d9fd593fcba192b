import Foundation
import Glibc
import Testing

/// Gemini CLI in gateway mode (GOOGLE_GEMINI_BASE_URL; google-gemini/gemini-cli packages/core/src/core/
/// contentGenerator.ts) and other Gemini clients: the four verbs under /v1beta, /v1 and no version, the key in
/// x-goog-api-key (empty when the proxy needs none) or Authorization: Bearer, embeddings only from a Gemini
/// credential, through the running daemon against the fake upstream.
@Suite struct GeminiGatewayTests {
    let body = #"{"contents":[{"role":"user","parts":[{"text":"hi FAKE-TEXT-ONLY"}]}]}"#
    let embed = #"{"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a"}]}},{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"bb"}]}}]}"#

    func post(_ s: ProxySetup, _ path: String, _ body: String, app: String, auth: (String, String)? = nil,
              ua: String = "GeminiCLI/0.41.2/gemini-2.5-pro (linux; x64; terminal)") throws -> HTTPResult {
        try http(port: s.port, "POST", path, headers: [auth ?? ("x-goog-api-key", s.key), ("X-Proxypool-App", app), ("User-Agent", ua),
                                                       ("Content-Type", "application/json")], body: body)
    }

    func lastPath(_ s: ProxySetup) throws -> String { try #require(try s.fake.requests().last)["path"] as? String ?? "" }

    @Test func everyPrefixEveryVerbAndEmbeddingsOnlyFromGemini() throws {
        let s = try ProxySetup(credentials: [("g", "gemini", "fake-ok~g"), ("o", "openai", "fake-ok~o")],
                               assign: ["with-g": ["g"], "only-o": ["o"]])
        #expect(s.daemon.ctl(["fallback", "off"]).status == 0)
        usleep(150_000)
        for (prefix, upstream) in [("/v1beta", "/v1beta"), ("/v1", "/v1"), ("", "/v1beta")] {
            let g = try post(s, "\(prefix)/models/gemini-2.5-flash:generateContent", body, app: "with-g")
            #expect(g.status == 200 && g.body.contains("FAKE-UPSTREAM-OK"), "\(prefix): \(g.body)")
            #expect(try lastPath(s) == "\(upstream)/models/gemini-2.5-flash:generateContent", "\(prefix)")
            let st = try post(s, "\(prefix)/models/gemini-2.5-flash:streamGenerateContent?alt=sse", body, app: "with-g",
                              auth: ("Authorization", "Bearer \(s.key)"))
            #expect(st.status == 200 && st.content.hasPrefix("data: ") && st.content.contains("finishReason"), "\(prefix): \(st.content)")
            let ct = try post(s, "\(prefix)/models/gemini-2.5-flash:countTokens", body, app: "with-g")
            #expect(ct.status == 200 && ct.body.contains("totalTokens"), "\(prefix)")
            let e = try post(s, "\(prefix)/models/gemini-embedding-001:batchEmbedContents", embed, app: "with-g")
            let j = try JSONSerialization.jsonObject(with: Data(e.body.utf8)) as? [String: Any]
            #expect(e.status == 200 && (j?["embeddings"] as? [Any])?.count == 2, "\(prefix): \(e.body)")
            #expect(try lastPath(s) == "\(upstream)/models/gemini-embedding-001:batchEmbedContents")
            let one = try post(s, "\(prefix)/models/gemini-embedding-001:embedContent", #"{"content":{"parts":[{"text":"a"}]}}"#, app: "with-g")
            #expect(one.status == 200 && one.body.contains(#""embedding""#), "\(prefix): \(one.body)")
            // Translated: the same client onto an OpenAI credential.
            let t = try post(s, "\(prefix)/models/gemini-2.5-flash:streamGenerateContent?alt=sse", body, app: "only-o")
            #expect(t.status == 200 && t.content.contains("FAKE-UPSTREA") && t.content.contains(#""finishReason":"STOP""#), "\(prefix): \(t.content)")
            #expect(try lastPath(s) == "/v1/responses")
            // Embeddings have no translation: a 400 in Gemini's own error shape that says what is missing.
            let no = try post(s, "\(prefix)/models/gemini-embedding-001:batchEmbedContents", embed, app: "only-o")
            let err = (try JSONSerialization.jsonObject(with: Data(no.body.utf8)) as? [String: Any])?["error"] as? [String: Any]
            #expect(no.status == 400 && err?["status"] as? String == "INVALID_ARGUMENT" && err?["code"] as? Int == 400, "\(no.body)")
            #expect((err?["message"] as? String ?? "").contains("needs a gemini credential"), "\(no.body)")
        }
    }

    @Test func anEmptyKeyWhenNoneIsNeededAndTheAppFromTheUserAgent() throws {
        let s = try ProxySetup(credentials: [("g", "gemini", "fake-ok~g")], assign: ["gemini-cli": ["g"]])
        // Gemini CLI in gateway mode with no GEMINI_API_KEY sends x-goog-api-key with an empty value.
        let refused = try http(port: s.port, "POST", "/v1beta/models/gemini-2.5-pro:generateContent",
                               headers: [("x-goog-api-key", ""), ("User-Agent", "GeminiCLI/0.41.2/gemini-2.5-pro (linux; x64; terminal)")], body: body)
        #expect(refused.status == 401 && refused.body.contains("UNAUTHENTICATED") && refused.body.contains("no access key given"), "\(refused.body)")
        #expect(s.daemon.ctl(["require-key", "off"]).status == 0)
        usleep(150_000)
        let r = try http(port: s.port, "POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
                         headers: [("x-goog-api-key", ""), ("User-Agent", "GeminiCLI/0.41.2/gemini-2.5-pro (linux; x64; terminal)"),
                                   ("Content-Type", "application/json")], body: body)
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "g", "\(r.body)")
        #expect(try #require(try s.fake.requests().last)["key"] as? String == "fake-ok~g", "the credential's key goes upstream, not the empty one")
        usleep(1_500_000)
        #expect(s.daemon.log.contains("app=gemini-cli credential=g"), "\(s.daemon.log)")
    }
}
