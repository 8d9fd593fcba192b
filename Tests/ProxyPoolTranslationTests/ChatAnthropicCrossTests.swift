import Testing
@testable import ProxyPoolTranslation

/// Anthropic Messages ⇄ OpenAI Chat, through the canonical model, checked against each receiving protocol's rules.
@Suite struct ChatAnthropicCrossTests {
    /// Anthropic's request rules: user first, roles alternate, every tool_use answered at the start of the next
    /// user turn, tool_result ids known, non-empty content.
    static func validateAnthropicRequest(_ j: JSONNode) -> [String] {
        var problems: [String] = []
        if j["max_tokens"]?.int == nil { problems.append("no max_tokens") }
        let msgs = j["messages"]?.array ?? []
        var pending: [String] = []
        for (i, m) in msgs.enumerated() {
            let role = m["role"]?.string ?? ""
            let blocks = m["content"]?.array ?? []
            if blocks.isEmpty && m["content"]?.string == nil { problems.append("messages[\(i)] empty") }
            if i == 0 && role != "user" { problems.append("first message is \(role)") }
            if i > 0 && msgs[i - 1]["role"]?.string == role { problems.append("messages[\(i)] repeats role \(role)") }
            if role == "user" {
                let results = blocks.prefix { $0["type"]?.string == "tool_result" }.compactMap { $0["tool_use_id"]?.string }
                if blocks.dropFirst(results.count).contains(where: { $0["type"]?.string == "tool_result" }) {
                    problems.append("messages[\(i)] tool_result after other content")
                }
                if Set(results) != Set(pending) { problems.append("messages[\(i)] answers \(results), calls were \(pending)") }
                pending = []
            } else {
                if !pending.isEmpty { problems.append("unanswered tool calls \(pending)") }
                pending = blocks.filter { $0["type"]?.string == "tool_use" }.compactMap { $0["id"]?.string }
                if blocks.contains(where: { $0["type"]?.string == "tool_result" }) { problems.append("tool_result in assistant turn") }
            }
        }
        return problems
    }

    /// OpenAI Chat's rules: every assistant tool call is answered by tool messages right after it, and a tool
    /// message answers a call of the assistant message before it.
    static func validateChatRequest(_ j: JSONNode) -> [String] {
        var problems: [String] = []
        let msgs = j["messages"]?.array ?? []
        var pending: Set<String> = []
        for (i, m) in msgs.enumerated() {
            let role = m["role"]?.string ?? ""
            if role == "tool" {
                guard let id = m["tool_call_id"]?.string, pending.remove(id) != nil else { problems.append("messages[\(i)] answers no call"); continue }
            } else {
                if !pending.isEmpty { problems.append("messages[\(i)]: calls \(pending) not answered") }
                pending = Set((m["tool_calls"]?.array ?? []).compactMap { $0["id"]?.string })
                if !["system", "user", "assistant"].contains(role) { problems.append("messages[\(i)] role \(role)") }
                if role != "assistant", m["content"] == nil { problems.append("messages[\(i)] without content") }
            }
        }
        if !pending.isEmpty { problems.append("calls \(pending) not answered at the end") }
        return problems
    }

    /// Anthropic's stream grammar as Claude Code needs it.
    static func validateAnthropicStream(_ events: [SSEEvent]) -> [String] {
        var problems: [String] = []
        let names = events.map { $0.event ?? "" }
        if names.first != "message_start" { problems.append("does not start with message_start") }
        if names.last != "message_stop" { problems.append("does not end with message_stop") }
        if !names.contains("message_delta") { problems.append("no message_delta") }
        var open: Int?
        var next = 0
        for e in events {
            let j = CodecFixtures.parse(e.data)
            if j["type"]?.string != e.event { problems.append("event \(e.event ?? "") has type \(j["type"]?.string ?? "")") }
            switch e.event {
            case "content_block_start":
                if open != nil { problems.append("block started while another is open") }
                if j["index"]?.int != next { problems.append("index \(j["index"]?.int ?? -1), expected \(next)") }
                open = next; next += 1
            case "content_block_delta": if j["index"]?.int != open { problems.append("delta for a block that is not open") }
            case "content_block_stop": if j["index"]?.int != open { problems.append("stop for a block that is not open") }; open = nil
            case "message_delta": if open != nil { problems.append("message_delta with an open block") }
            default: break
            }
        }
        return problems
    }

    @Test func claudeCodeToolLoopWithThinkingToAChatUpstream() throws {
        let body = CodecFixtures.json("anthropic/claude-code_tool-followup_with-thinking.request.json")
        let canonical = try AnthropicMessagesCodec.decodeRequest(body, context: ClientContext())
        var upstream = canonical
        upstream.model = "gpt-4.1"
        let j = try OpenAIChatCodec.encodeRequest(upstream)
        #expect(Self.validateChatRequest(j) == [])
        let msgs = try #require(j["messages"]?.array)
        #expect(msgs.map { $0["role"]?.string ?? "" } == ["system", "user", "assistant", "tool"])
        // The billing header stays as harmless system text; the mid-conversation system message is in it too.
        let system = try #require(msgs[0]["content"]?.string)
        #expect(system.hasPrefix("x-anthropic-billing-header:") && system.contains("# Environment"))
        // The thinking block cannot go to OpenAI Chat: the assistant turn is the call alone, id carried.
        #expect(msgs[2]["content"] == .null)
        #expect(msgs[2]["tool_calls"]?[0]?["id"] == "toolu_e98443ff534245d2b4c6edcc")
        #expect(CodecFixtures.parse(msgs[2]["tool_calls"]?[0]?["function"]?["arguments"]?.string ?? "") == ["command": "echo ok", "description": "Print ok"])
        #expect(msgs[3] == ["role": "tool", "tool_call_id": "toolu_e98443ff534245d2b4c6edcc", "content": "ok"])
        #expect(j["tools"]?.array?.count == 12)
        #expect(j["tools"]?[0]?["function"]?["parameters"]?["$schema"] != nil)   // schema kept as the client wrote it
        #expect(j["max_completion_tokens"] == 128000)
        #expect(j["reasoning_effort"] == nil)   // gpt-4.1 refuses it
        #expect(j["stream"] == true && j["stream_options"] == ["include_usage": true])
        // To a reasoning model the effort goes along.
        upstream.model = "o4-mini"
        #expect(try OpenAIChatCodec.encodeRequest(upstream)["reasoning_effort"] == "medium")
    }

    @Test func chatUpstreamStreamToAnAnthropicClient() throws {
        let events = try CodecFixtures.decode(CodecFixtures.sse("openai-chat/stream-text-parallel-tools.sse"), with: OpenAIChatCodec.makeStreamDecoder())
        let request = try AnthropicMessagesCodec.decodeRequest(CodecFixtures.json("anthropic/claude-code_tool-followup.request.json"),
                                                               context: ClientContext())
        let bytes = CodecFixtures.encode(events, with: AnthropicMessagesCodec.makeStreamEncoder(for: request, context: ClientContext()))
        let sse = CodecFixtures.sseEvents(bytes)
        // The upstream interleaved two calls' argument fragments; Anthropic blocks are one at a time: the encoder
        // holds the second call until the first one stops.
        #expect(Self.validateAnthropicStream(sse) == [])
        var args: [Int: String] = [:]
        var calls: [Int: (String, String)] = [:]
        var stop: String?
        for e in sse {
            let j = CodecFixtures.parse(e.data)
            if e.event == "content_block_start", j["content_block"]?["type"] == "tool_use" {
                calls[j["index"]!.int!] = (j["content_block"]!["id"]!.string!, j["content_block"]!["name"]!.string!)
            }
            if e.event == "content_block_delta", let p = j["delta"]?["partial_json"]?.string { args[j["index"]!.int!, default: ""] += p }
            if e.event == "message_delta" { stop = j["delta"]?["stop_reason"]?.string }
        }
        #expect(sse.first?.event == "message_start" && sse.last?.event == "message_stop")
        #expect(calls[1]! == ("call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather") && calls[2]! == ("call_ABCDEFGHIJKLMNOPQRSTUVWX", "get_weather"))
        #expect(CodecFixtures.parse(args[1]!) == ["location": "Paris"] && CodecFixtures.parse(args[2]!) == ["location": "Tokyo"])
        #expect(stop == "tool_use")
        let usage = CodecFixtures.parse(sse.first { $0.event == "message_delta" }!.data)["usage"]
        #expect(usage == ["input_tokens": 230, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1920, "output_tokens": 48])

        // A single streamed call (the common case) gives Claude Code the strict block-by-block grammar.
        let single = try CodecFixtures.decode(CodecFixtures.sse("openai-chat/stream-text-parallel-tools.sse").filter { !$0.data.contains("\"index\":1") },
                                              with: OpenAIChatCodec.makeStreamDecoder())
        let singleSSE = CodecFixtures.sseEvents(CodecFixtures.encode(single, with: AnthropicMessagesCodec.makeStreamEncoder(for: request, context: ClientContext())))
        #expect(Self.validateAnthropicStream(singleSSE) == [])
        // And what Claude Code sends back next turn decodes to the same ids.
        let back = try CodecFixtures.decode(singleSSE, with: AnthropicMessagesCodec.makeStreamDecoder())
        #expect(back.contains(.blockStart(index: 1, .toolCall(id: "call_DdmO9pD3xa9XTPNJ32zg2hcA", name: "get_weather", signature: nil))))
    }

    @Test func openAIClientToolFollowupToAnAnthropicUpstream() throws {
        let canonical = try OpenAIChatCodec.decodeRequest(CodecFixtures.json("openai-chat/openai-sdk_chat_tool-followup.request.json"), context: ClientContext())
        var upstream = canonical
        upstream.model = "claude-sonnet-4-6"
        let j = try AnthropicMessagesCodec.encodeRequest(upstream)
        #expect(Self.validateAnthropicRequest(j) == [])
        #expect(j["max_tokens"] == 8192)
        #expect(j["messages"]?[1]?["content"] == [["type": "tool_use", "id": "call_2c72c63fdef149bcb50219b7", "name": "get_weather",
                                                    "input": ["location": "Paris"]]])
        #expect(j["messages"]?[2]?["content"] == [["type": "tool_result", "tool_use_id": "call_2c72c63fdef149bcb50219b7", "content": "sunny, 21C"]])
        #expect(j["tools"] == [["name": "get_weather", "description": "Weather for a city",
                                "input_schema": ["type": "object", "properties": ["location": ["type": "string", "description": "City name"]],
                                                 "required": ["location"]]]])
        // Messy histories are made valid: a system message in the middle, two tool messages then a user message.
        let messy = try OpenAIChatCodec.decodeRequest(CodecFixtures.parse(#"""
            {"model":"gpt-4o","messages":[
              {"role":"user","content":"go"},
              {"role":"assistant","content":"Sure.","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}},
                                                                  {"id":"b","type":"function","function":{"name":"f","arguments":""}}]},
              {"role":"tool","tool_call_id":"a","content":"1"},
              {"role":"tool","tool_call_id":"b","content":"2"},
              {"role":"system","content":"be brief"},
              {"role":"user","content":"and?"}]}
            """#), context: ClientContext())
        let mj = try AnthropicMessagesCodec.encodeRequest(messy)
        #expect(Self.validateAnthropicRequest(mj) == [])
        #expect(mj["system"] == [["type": "text", "text": "be brief"]])
        #expect(mj["messages"]?.array?.count == 3)
        #expect(mj["messages"]?[2]?["content"]?.array?.map { $0["type"]?.string ?? "" } == ["tool_result", "tool_result", "text"])
    }

    @Test func anthropicUpstreamStreamToAnOpenAIClient() throws {
        let events = try CodecFixtures.decode(CodecFixtures.sse("anthropic/stream-thinking-text-tool.sse"), with: AnthropicMessagesCodec.makeStreamDecoder())
        let request = try OpenAIChatCodec.decodeRequest(CodecFixtures.json("openai-chat/openai-sdk_chat_stream.request.json"), context: ClientContext())
        let sse = CodecFixtures.sseEvents(CodecFixtures.encode(events, with: OpenAIChatCodec.makeStreamEncoder(for: request, context: ClientContext())))
        #expect(sse.last?.data == "[DONE]")
        let chunks = sse.dropLast().map { CodecFixtures.parse($0.data) }
        #expect(chunks[0]["choices"]?[0]?["delta"]?["role"] == "assistant")
        var content = "", reasoning = "", args = ""
        var callID: String?
        var finish: String?
        for c in chunks {
            let d = c["choices"]?[0]?["delta"]
            content += d?["content"]?.string ?? ""
            reasoning += d?["reasoning_content"]?.string ?? ""
            if let tc = d?["tool_calls"]?[0] {
                #expect(tc["index"] == 0)
                if let id = tc["id"]?.string { callID = id }
                args += tc["function"]?["arguments"]?.string ?? ""
            }
            if let f = c["choices"]?[0]?["finish_reason"]?.string { finish = f }
        }
        #expect(content == "I'll run that now." && reasoning == "The user wants me to run echo ok.")
        #expect(callID == "toolu_01T1x1fJ34qAmk2tNTrN7Up6")
        #expect(CodecFixtures.parse(args) == ["command": "echo ok", "description": "Print ok"])
        #expect(finish == "tool_calls")
        // The usage chunk the client asked for: OpenAI's convention, cached tokens inside prompt_tokens.
        #expect(chunks.last?["usage"]?["prompt_tokens"] == 9672 && chunks.last?["usage"]?["prompt_tokens_details"]?["cached_tokens"] == 8000)

        // The client's next turn (what the openai SDK would send) goes back to Anthropic valid, ids matched.
        let next = try OpenAIChatCodec.decodeRequest(CodecFixtures.parse(#"""
            {"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"run echo ok"},
             {"role":"assistant","content":"I'll run that now.","reasoning_content":"The user wants me to run echo ok.",
              "tool_calls":[{"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","type":"function","function":{"name":"Bash","arguments":"{\"command\": \"echo ok\"}"}}]},
             {"role":"tool","tool_call_id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","content":"ok"}],
             "tools":[{"type":"function","function":{"name":"Bash","parameters":{"type":"object"}}}],"reasoning_effort":"low"}
            """#), context: ClientContext())
        let nj = try AnthropicMessagesCodec.encodeRequest(next)
        #expect(Self.validateAnthropicRequest(nj) == [])
        // The unsigned reasoning text cannot go back to Anthropic, so thinking is left off for this tool loop.
        #expect(nj["thinking"] == nil)
        #expect(nj["messages"]?[1]?["content"]?.array?.map { $0["type"]?.string ?? "" } == ["text", "tool_use"])
    }

    @Test func nonStreamingBothWays() throws {
        // Anthropic upstream message → OpenAI client completion.
        let resp = try AnthropicMessagesCodec.decodeResponse(CodecFixtures.json("anthropic/message-thinking-tool.json"))
        let chat = OpenAIChatCodec.encodeResponse(resp, for: ChatRequest(model: "gpt-4o"))
        #expect(chat["choices"]?[0]?["finish_reason"] == "tool_calls")
        #expect(chat["choices"]?[0]?["message"]?["tool_calls"]?[0]?["id"] == "toolu_01A09q90qw90lq917835lq9")
        #expect(chat["usage"]?["prompt_tokens"] == 2150 && chat["usage"]?["prompt_tokens_details"]?["cached_tokens"] == 2000)
        // OpenAI upstream completion → Anthropic client message.
        let oresp = try OpenAIChatCodec.decodeResponse(CodecFixtures.json("openai-chat/completion-tool-calls.json"))
        let msg = AnthropicMessagesCodec.encodeResponse(oresp, for: ChatRequest(model: "claude-opus-5-5"))
        #expect(msg["stop_reason"] == "tool_use")
        #expect(msg["content"] == [["type": "tool_use", "id": "call_abc123", "name": "get_weather", "input": ["location": "Paris"]],
                                   ["type": "tool_use", "id": "call_def456", "name": "get_time", "input": .object([])]])
        #expect(msg["usage"] == ["input_tokens": 18, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 64, "output_tokens": 17])
    }

    // The causes both protocols can say (the vocabulary's others, which Anthropic folds into these, are checked in
    // ErrorVocabularyTests.everyCauseRoundTrips).
    @Test(arguments: [ErrorInfo.Kind.invalidRequest, .authentication, .permission, .notFound, .tooLarge, .rateLimited, .overloaded, .server, .timeout])
    func errorsKeepTheirKindAcrossProtocols(_ kind: ErrorInfo.Kind) {
        // An upstream error in one protocol, answered in the other's format, read back by a client of that format.
        let statusFor: [ErrorInfo.Kind: Int] = [.invalidRequest: 400, .authentication: 401, .permission: 403, .notFound: 404, .tooLarge: 413,
                                                .rateLimited: 429, .overloaded: 529, .server: 500, .timeout: 504]
        let status = statusFor[kind]!
        let fromAnthropic = AnthropicMessagesCodec.decodeError(status: status, body: AnthropicMessagesCodec.encodeError(ErrorInfo(kind: kind, message: "m", status: status)))
        #expect(fromAnthropic.kind == kind)
        #expect(OpenAIChatCodec.decodeError(status: status, body: OpenAIChatCodec.encodeError(fromAnthropic)).kind == kind)
    }
}
