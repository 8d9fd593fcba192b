import Foundation
import Glibc
import Testing

/// Requests translated between protocols by the running daemon, against the fake upstream (issue 5). The
/// codecs have their own fixture tests; these check the daemon's part: choosing the upstream protocol,
/// streaming the re-encoded events, errors in the client's format, token estimates.
@Suite struct TranslationTests {
    func messages(_ s: ProxySetup, _ body: String, app: String = "tool") throws -> HTTPResult {
        try http(port: s.port, "POST", "/v1/messages?beta=true", headers: [("x-api-key", s.key), ("anthropic-version", "2023-06-01"),
                                                                           ("Content-Type", "application/json"), ("X-Proxypool-App", app)], body: body)
    }

    func chat(_ s: ProxySetup, _ body: String, app: String = "tool") throws -> HTTPResult {
        try http(port: s.port, "POST", "/v1/chat/completions", headers: [("Authorization", "Bearer \(s.key)"), ("Content-Type", "application/json"),
                                                                         ("X-Proxypool-App", app)], body: body)
    }

    func events(_ body: String) -> [(event: String?, data: [String: Any])] {
        body.components(separatedBy: "\n\n").compactMap { block in
            var name: String?
            var data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data += line.dropFirst(6) }
            }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else { return nil }
            return (name, obj)
        }
    }

    @Test func anthropicClientThroughAnOpenAIChatUpstream() throws {
        let s = try ProxySetup(credentials: [("oc", "openai-compatible", "fake-ok~oc")], assign: ["tool": ["oc"]])
        #expect(s.daemon.ctl(["tier", "set", "openai-compatible", "standard", "local-model"]).status == 0)
        usleep(150_000)
        let plain = try messages(s, #"{"model":"claude-sonnet-4-5","max_tokens":100,"system":"be brief","messages":[{"role":"user","content":"hello FAKE-TEXT-ONLY"}]}"#)
        let j = try JSONSerialization.jsonObject(with: Data(plain.content.utf8)) as! [String: Any]
        #expect(plain.status == 200 && j["type"] as? String == "message" && j["stop_reason"] as? String == "end_turn")
        #expect(((j["content"] as? [[String: Any]])?.first?["text"] as? String)?.contains("FAKE-UPSTREAM-OK model=local-model") == true)
        let up = try #require(try s.fake.requests().last)
        #expect(up["path"] as? String == "/v1/chat/completions")
        let upBody = try #require(up["body"] as? [String: Any])
        #expect(upBody["model"] as? String == "local-model")
        #expect(((upBody["messages"] as? [[String: Any]])?.first)?["role"] as? String == "system", "the system prompt became a system message")

        // Streamed tool call: Anthropic's event grammar, the call's arguments as input_json_delta.
        let tools = #"[{"name":"Bash","description":"run","input_schema":{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}}]"#
        let st = try messages(s, #"{"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"tools":\#(tools),"messages":[{"role":"user","content":"run it"}]}"#)
        #expect(st.status == 200 && st.header("content-type")?.hasPrefix("text/event-stream") == true)
        let ev = events(st.content)
        #expect(ev.map { $0.event ?? "" } == ["message_start", "content_block_start"] + Array(repeating: "content_block_delta", count: ev.count - 5)
                + ["content_block_stop", "message_delta", "message_stop"])
        let start = ev[1].data["content_block"] as? [String: Any]
        #expect(start?["type"] as? String == "tool_use" && start?["name"] as? String == "Bash")
        let args = ev.compactMap { ($0.data["delta"] as? [String: Any])?["partial_json"] as? String }.joined()
        #expect(((try? JSONSerialization.jsonObject(with: Data(args.utf8))) as? [String: Any])?["command"] as? String == "echo FAKE-TOOL-RAN")
        #expect((ev[ev.count - 2].data["delta"] as? [String: Any])?["stop_reason"] as? String == "tool_use")

        // The tool result goes back as OpenAI tool messages; the answer is text.
        let id = start?["id"] as? String ?? ""
        let follow = try messages(s, #"{"model":"claude-sonnet-4-5","max_tokens":100,"tools":\#(tools),"messages":[{"role":"user","content":"run it"},{"role":"assistant","content":[{"type":"tool_use","id":"\#(id)","name":"Bash","input":{"command":"echo FAKE-TOOL-RAN"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"\#(id)","content":"FAKE-TOOL-RAN"}]}]}"#)
        #expect(follow.status == 200 && follow.content.contains(#""stop_reason":"end_turn""#))
        let sent = try #require(try s.fake.requests().last?["body"] as? [String: Any])
        let msgs = sent["messages"] as? [[String: Any]] ?? []
        #expect(msgs.contains { $0["role"] as? String == "tool" && $0["tool_call_id"] as? String == id })
        usleep(1_500_000)
        #expect(s.daemon.log.contains("translated=anthropic-messages>openai-chat status=200"))
        let usage = s.daemon.ctl(["usage", "--by", "credential", "--json"]).stdout
        #expect(!usage.contains(#""inputTokens" : 0"#), "usage read from translated answers")
    }

    @Test func openAIChatClientThroughAnAnthropicUpstreamStreams() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok~a")], assign: ["tool": ["a"]])
        let r = try chat(s, #"{"model":"gpt-5.1","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"brief"},{"role":"user","content":"hi FAKE-TEXT-ONLY"}]}"#)
        #expect(r.status == 200)
        #expect(r.content.hasSuffix("data: [DONE]\n\n"))
        let chunks = events(r.content)
        #expect(chunks.allSatisfy { $0.data["object"] as? String == "chat.completion.chunk" })
        let text = chunks.compactMap { (($0.data["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }.joined()
        #expect(text.contains("FAKE-UPSTREAM-OK model=claude-opus-4-5"), "gpt-5.1 is OpenAI's flagship generation: Anthropic's flagship model")
        #expect(chunks.last?.data["usage"] != nil, "usage chunk, as include_usage asked")
        let up = try #require(try s.fake.requests().last)
        #expect(up["path"] as? String == "/v1/messages")
        #expect((up["body"] as? [String: Any])?["max_tokens"] != nil, "Anthropic requires max_tokens")
    }

    @Test func upstreamErrorsAreSaidInTheClientsFormat() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-403~a")], assign: ["tool": ["a"]])
        let r = try chat(s, #"{"model":"gpt-5.1","messages":[{"role":"user","content":"hi"}]}"#)
        #expect(r.status == 403)
        let j = try JSONSerialization.jsonObject(with: Data(r.content.utf8)) as? [String: Any]
        #expect((j?["error"] as? [String: Any])?["message"] != nil, "OpenAI's error shape: \(r.body)")
        #expect(!r.body.contains(#""type":"error""#), "not Anthropic's")
        // A request that cannot be translated is a 400 naming the field, in the client's format.
        let s2 = try ProxySetup(credentials: [("a", "anthropic", "fake-ok")], assign: ["tool": ["a"]])
        let bad = try chat(s2, #"{"model":"gpt-5.1","n":3,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(bad.status == 400 && bad.body.contains("n") && bad.body.contains("invalid_request"), Comment(rawValue: bad.body))
        #expect(try s2.fake.requests().isEmpty, "nothing was sent upstream")
    }

    /// A translated error carries the upstream's Retry-After only when it is a short delay or an HTTP date, and
    /// not when the upstream's Connection header names it (hop-by-hop).
    @Test(arguments: [("fake-403-retry-after-30", "30"), ("fake-403-retry-after-huge", nil), ("fake-403-retry-after-hop", nil)] as [(String, String?)])
    func translatedErrorsCarryOnlyASaneRetryAfter(key: String, want: String?) throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", key)], assign: ["tool": ["a"]])
        let r = try chat(s, #"{"model":"gpt-5.1","messages":[{"role":"user","content":"hi"}]}"#)
        #expect(r.status == 403 && !r.body.contains(#""type":"error""#), Comment(rawValue: r.body))
        #expect(r.header("retry-after") == want, "\(key): \(r.header("retry-after") ?? "none")")
    }

    @Test func maxOutputTokensCapsWhatATranslatedRequestAsksFor() throws {
        let s = try ProxySetup(credentials: [], assign: [:])
        let add = s.daemon.ctl(["credential", "add", "small", "--provider", "openai-compatible", "--base-url", s.fake.url + "/v1",
                                "--max-output-tokens", "4096", "--key-stdin"], stdin: "fake-ok")
        #expect(add.status == 0, Comment(rawValue: add.stderr))
        _ = s.daemon.ctl(["assign", "tool", "small"])
        _ = s.daemon.ctl(["tier", "set", "openai-compatible", "standard", "local-model"])
        usleep(150_000)
        for (asked, sent) in [(128_000, 4096), (1000, 1000)] {
            let r = try messages(s, #"{"model":"claude-sonnet-4-5","max_tokens":\#(asked),"messages":[{"role":"user","content":"hi FAKE-TEXT-ONLY"}]}"#)
            #expect(r.status == 200, Comment(rawValue: r.content))
            let body = try #require(try s.fake.requests().last?["body"] as? [String: Any])
            #expect((body["max_tokens"] ?? body["max_completion_tokens"]) as? Int == sent)
        }
    }

    @Test func midStreamResetEndsTheTranslatedStreamWithTheClientsErrorEvent() throws {
        let s = try ProxySetup(credentials: [("oc", "openai-compatible", "fake-reset-midstream")], assign: ["tool": ["oc"]])
        let r = try messages(s, #"{"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hello FAKE-TEXT-ONLY"}]}"#)
        let ev = events(r.content)
        #expect(ev.first?.event == "message_start")
        #expect(ev.last?.event == "error", "Claude Code retries on an error event; it loops on a stream without an end")
    }

    @Test func countTokensWithoutAnAnthropicCredentialIsAnEstimate() throws {
        let s = try ProxySetup(credentials: [("o", "openai", "fake-ok")], assign: ["tool": ["o"]])
        let body = #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"\#(String(repeating: "word ", count: 400))"}]}"#
        let r = try http(port: s.port, "POST", "/v1/messages/count_tokens", headers: [("x-api-key", s.key), ("anthropic-version", "2023-06-01"),
                                                                                       ("X-Proxypool-App", "tool")], body: body)
        let n = (try JSONSerialization.jsonObject(with: Data(r.content.utf8)) as? [String: Any])?["input_tokens"] as? Int ?? 0
        #expect(r.status == 200 && r.header("x-proxypool-estimate") == "true")
        #expect(n > 400 && n < 700, "2000 bytes of text ≈ 500 tokens, got \(n)")
        #expect(try s.fake.requests().isEmpty)
    }

    @Test func imageURLsForGeminiAreFetchedOnlyWhenPrivateAddressesAreAllowed() throws {
        // The fake upstream serves a PNG too; it is on loopback, like a rebinding attack's target.
        let fake = try FakeUpstream()
        let url = fake.url + "/__image.png"
        let png = try http(port: fake.port, "GET", "/__image.png", headers: [("Host", "127.0.0.1")])
        #expect(png.status == 200 && png.header("content-type") == "image/png" && png.bodyBytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let body = #"{"model":"claude-sonnet-4-5","max_tokens":50,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"\#(url)"}},{"type":"text","text":"what is it? FAKE-TEXT-ONLY"}]}]}"#

        // By default the SSRF guard refuses a loopback address: a 400 naming the URL, in Anthropic's format.
        let s = try ProxySetup(credentials: [("g", "gemini", "fake-ok")], assign: ["tool": ["g"]], fake: fake)
        let refused = try messages(s, body)
        #expect(refused.status == 400 && refused.content.contains(url) && refused.content.contains(#""type":"error""#), Comment(rawValue: refused.content))
        #expect(try s.fake.requests().isEmpty, "nothing was sent upstream")

        // fetch-private-urls = yes: the image goes upstream inline, with its media type.
        let dir = makeTempDir("conf")
        try "fetch-private-urls = yes\n".write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
        let s2 = try ProxySetup(args: ["--config", dir + "/p.conf"], credentials: [("g", "gemini", "fake-ok")], assign: ["tool": ["g"]])
        let ok = try messages(s2, body)
        #expect(ok.status == 200, Comment(rawValue: ok.content))
        let up = try #require(try s2.fake.requests().last)
        let parts = (((up["body"] as? [String: Any])?["contents"] as? [[String: Any]])?.first?["parts"] as? [[String: Any]]) ?? []
        let inline = parts.first?["inlineData"] as? [String: Any]
        #expect(inline?["mimeType"] as? String == "image/png")
        #expect(inline?["data"] as? String == Data(png.bodyBytes).base64EncodedString())
    }

    /// The assistant turn of a Chat follow-up: the call as the client got it, then its result.
    func chatToolFollowUp(model: String, prompt: String, callID: String, stream: Bool, extra: String = "") -> String {
        let tools = #"[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]"#
        return #"{"model":"\#(model)","stream":\#(stream),\#(extra)"tools":\#(tools),"messages":[{"role":"user","content":"\#(prompt)"},"#
            + #"{"role":"assistant","content":null,"tool_calls":[{"id":"\#(callID)","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"FAKE\"}"}}]},"#
            + #"{"role":"tool","tool_call_id":"\#(callID)","content":"sunny FAKE-TOOL-RAN"}]}"#
    }

    func firstCallID(_ r: HTTPResult) -> String? {
        if let j = try? JSONSerialization.jsonObject(with: Data(r.content.utf8)) as? [String: Any] {
            let m = (j["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
            return (m?["tool_calls"] as? [[String: Any]])?.first?["id"] as? String
        }
        return events(r.content).lazy.compactMap {
            ((($0.data["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first?["id"] as? String
        }.first
    }

    /// Issue 5: a Chat client cannot carry Gemini's thought signature; the daemon keeps it by call id and puts it
    /// back on the next turn, so Gemini 3 gets its own signature, not Google's placeholder.
    @Test func geminiThoughtSignatureComesBackForAChatClient() throws {
        let s = try ProxySetup(credentials: [("g", "gemini", "fake-ok~g")], assign: ["tool": ["g"]])
        for stream in [false, true] {
            let tools = #"[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]"#
            let first = try chat(s, #"{"model":"gemini-3-flash-preview","stream":\#(stream),"tools":\#(tools),"messages":[{"role":"user","content":"weather?"}]}"#)
            #expect(first.status == 200, Comment(rawValue: first.content))
            let id = try #require(firstCallID(first), Comment(rawValue: first.content))
            #expect(!first.content.contains("thoughtSignature"), "Chat has no slot for it")

            let second = try chat(s, chatToolFollowUp(model: "gemini-3-flash-preview", prompt: "weather?", callID: id, stream: stream))
            #expect(second.status == 200, Comment(rawValue: second.content))
            let recs = try s.fake.requests()
            let turn2 = try #require(recs.last)
            let sig = signatureOfCall(turn2)
            #expect(sig != nil && sig != "skip_thought_signature_validator", "the signature the fake issued, not the placeholder: \(sig ?? "none")")
            // The fake's signatures say so in base64 ("fake-thought-signature-…"); it checks they are ones it issued.
            #expect(sig?.hasPrefix("ZmFrZS10aG91Z2h0LXNpZ25hdHVyZS") == true)
            #expect((turn2["violations"] as? [Any])?.isEmpty == true, "\(turn2["violations"] ?? "")")
        }
        usleep(500_000)
        #expect(!s.daemon.log.contains("ZmFrZS10aG91Z2h0LXNpZ25hdHVyZS"), "payloads are never logged")
    }

    /// The same for Anthropic thinking: the thinking block (with its signature) opens the tool-loop turn again,
    /// so thinking stays on for it.
    @Test func anthropicThinkingComesBackForAChatClient() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok~a")], assign: ["tool": ["a"]])
        for stream in [false, true] {
            let tools = #"[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]"#
            let prompt = "weather? FAKE-REASONING"
            let first = try chat(s, #"{"model":"claude-sonnet-4-5","stream":\#(stream),"reasoning_effort":"low","tools":\#(tools),"messages":[{"role":"user","content":"\#(prompt)"}]}"#)
            #expect(first.status == 200, Comment(rawValue: first.content))
            let id = try #require(firstCallID(first), Comment(rawValue: first.content))
            #expect(first.content.contains("FAKE-THOUGHT"), "the fake answered with thinking")

            let second = try chat(s, chatToolFollowUp(model: "claude-sonnet-4-5", prompt: prompt, callID: id, stream: stream,
                                                      extra: #""reasoning_effort":"low","#))
            #expect(second.status == 200, Comment(rawValue: second.content))
            let turn2 = try #require(try s.fake.requests().last)
            let body = turn2["body"] as? [String: Any] ?? [:]
            #expect((body["thinking"] as? [String: Any])?["type"] as? String == "enabled", "thinking stays on in the tool loop")
            let assistant = (body["messages"] as? [[String: Any]])?.first { $0["role"] as? String == "assistant" }
            let blocks = assistant?["content"] as? [[String: Any]] ?? []
            #expect(blocks.first?["type"] as? String == "thinking")
            #expect((blocks.first?["signature"] as? String)?.hasPrefix("fakesig_") == true)
            #expect((turn2["violations"] as? [Any])?.isEmpty == true, "\(turn2["violations"] ?? "")")
        }
    }

    func signatureOfCall(_ rec: [String: Any]) -> String? {
        let contents = (rec["body"] as? [String: Any])?["contents"] as? [[String: Any]] ?? []
        for c in contents where c["role"] as? String == "model" {
            for p in c["parts"] as? [[String: Any]] ?? [] where p["functionCall"] != nil { return p["thoughtSignature"] as? String }
        }
        return nil
    }
}
