import Foundation
import Testing

/// A client that does not stream, served by a ChatGPT account: the Codex backend streams only (the fake, like
/// the real one, answers stream:false with 400), so the request goes up streamed and the answer comes back as one
/// JSON document in the client's protocol, a usage limit inside that stream failing over first.
@Suite(.serialized) struct AccountCollectedStreamTests {
    @Test func nonStreamedRequestsGoUpStreamedAndComeBackWhole() throws {
        let s = try AccountSetup()
        let login = try s.fake.mint("chatgpt", "wes", expiresIn: 5 * 86400)
        #expect(s.importLogin("codex", "wes", from: login.path).status == 0)
        try s.fake.control(#"{"empty_completed_output": true}"#)
        let key = s.key(), port = try s.daemon.proxyPort

        // A Responses client (same protocol: the body passes, with stream set).
        let r = try http(port: port, "POST", "/v1/responses", headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                         body: #"{"model":"gpt-5.1","input":"hello","stream":false,"store":false}"#)
        #expect(r.status == 200 && r.header("content-type") == "application/json", Comment(rawValue: r.body + s.daemon.log))
        let j = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any]
        let output = j?["output"] as? [[String: Any]] ?? []
        let text = (output.first?["content"] as? [[String: Any]])?.first?["text"] as? String
        #expect(j?["object"] as? String == "response" && text == "hi from chatgpt wes", "output filled from the stream's items: \(r.body)")
        let sent = try s.fake.backendRequests().last
        let sentBody = try JSONSerialization.jsonObject(with: Data((sent?.body ?? "").utf8)) as? [String: Any]
        #expect(sentBody?["stream"] as? Bool == true && sentBody?["store"] as? Bool == false && sentBody?["input"] as? String == "hello")

        // An Anthropic client (translated): one Messages answer.
        let m = try http(port: port, "POST", "/v1/messages", headers: [("x-api-key", key), ("anthropic-version", "2023-06-01"), ("Content-Type", "application/json")],
                         body: #"{"model":"gpt-5.1","max_tokens":64,"messages":[{"role":"user","content":"hello"}]}"#)
        #expect(m.status == 200 && m.body.contains(#""type":"message""#) && m.body.contains("hi from chatgpt wes"), Comment(rawValue: m.body))
        #expect(try s.fake.backendRequests().allSatisfy { $0.body.contains(#""stream":true"#) }, "never stream:false upstream")
    }

    @Test func aUsageLimitInsideTheCollectedStreamFailsOver() throws {
        let s = try AccountSetup()
        for n in ["xa", "xb"] {
            let login = try s.fake.mint("chatgpt", n, expiresIn: 5 * 86400)
            #expect(s.importLogin("codex", n, from: login.path).status == 0)
        }
        try s.fake.control(#"{"usage_limit": {"xa": "stream"}}"#)
        let r = try s.chat(s.key())
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "xb" && r.body.contains("hi from chatgpt xb"), Comment(rawValue: r.body + s.daemon.log))
        #expect(!r.body.contains("usage_limit") && s.daemon.ctl(["status"]).stdout.contains("usage limit reached"))
    }
}
