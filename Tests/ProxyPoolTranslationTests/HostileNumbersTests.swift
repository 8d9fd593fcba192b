import Testing
import ProxyPoolCore
@testable import ProxyPoolTranslation

/// Usage numbers an upstream may send (issue 12), in every protocol's shape: read clamped to 0…10^12 and never
/// trapping, whether the answer comes whole or as a stream, and whatever protocol the client speaks.
@Suite struct HostileUsageTests {
    let cap = Int(Saturating.maxTokensPerRequest)
    static let hostile = ["999999999999999999", "9223372036854775807", "99999999999999999999999999", "1e300", "-1", "-9223372036854775808", "1.5e3"]

    func body(_ wire: WireProtocol, _ n: String) -> [UInt8] {
        let json: String
        switch wire {
        case .openAIChat:
            json = #"{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":\#(n),"completion_tokens":\#(n),"total_tokens":\#(n),"prompt_tokens_details":{"cached_tokens":\#(n)},"completion_tokens_details":{"reasoning_tokens":\#(n)}}}"#
        case .openAIResponses:
            json = #"{"id":"r","object":"response","status":"completed","model":"m","output":[{"type":"message","id":"m1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"hi","annotations":[]}]}],"usage":{"input_tokens":\#(n),"output_tokens":\#(n),"total_tokens":\#(n),"input_tokens_details":{"cached_tokens":\#(n)},"output_tokens_details":{"reasoning_tokens":\#(n)}}}"#
        case .anthropicMessages:
            json = #"{"id":"msg","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":\#(n),"output_tokens":\#(n),"cache_read_input_tokens":\#(n),"cache_creation_input_tokens":\#(n)}}"#
        case .gemini:
            json = #"{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":\#(n),"candidatesTokenCount":\#(n),"thoughtsTokenCount":\#(n),"cachedContentTokenCount":\#(n),"toolUsePromptTokenCount":\#(n)}}"#
        }
        return Array(json.utf8)
    }

    /// The count each field should read as.
    func expected(_ n: String) -> Int {
        switch n {
        case "-1", "-9223372036854775808": return 0
        case "1.5e3": return 1500
        default: return cap
        }
    }

    @Test(arguments: hostile)
    func wholeAnswersInEveryProtocol(n: String) throws {
        let request = ChatRequest(model: "m", messages: [Message(role: .user, content: [.text("hi")])])
        for upstream in WireProtocol.allCases {
            for client in WireProtocol.allCases {
                let t = try Translator.translateResponse(body(upstream, n), from: upstream, to: client, request: request)
                let u = t.response.usage
                let e = expected(n)
                // Anthropic's input is fresh + cache reads + cache writes; Gemini's adds tool-use prompts, its output thoughts.
                let inputParts = upstream == .anthropicMessages ? 3 : (upstream == .gemini ? 2 : 1)
                #expect(u.input == inputParts * e && u.cachedInput == e, "\(upstream) → \(client), \(n): \(u)")
                #expect(u.output == (upstream == .gemini ? 2 * e : e) && u.reasoning == (upstream == .anthropicMessages ? 0 : e), "\(upstream) → \(client), \(n): \(u)")
                let out = try JSONParser.parse(t.body)
                #expect(out.isObject, "\(upstream) → \(client): an answer, not a trap")
            }
        }
    }

    @Test(arguments: hostile)
    func streamedUsageInEveryProtocol(n: String) throws {
        let e = expected(n)
        let streams: [(WireProtocol, String, Int)] = [
            (.openAIChat, #"data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}"# + "\n\n"
                + #"data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n"
                + #"data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[],"usage":{"prompt_tokens":\#(n),"completion_tokens":\#(n),"total_tokens":\#(n)}}"# + "\n\n"
                + "data: [DONE]\n\n", e),
            (.anthropicMessages, "event: message_start\n" + #"data: {"type":"message_start","message":{"id":"msg","type":"message","role":"assistant","model":"m","content":[],"usage":{"input_tokens":\#(n),"output_tokens":1,"cache_read_input_tokens":\#(n)}}}"# + "\n\n"
                + "event: content_block_start\n" + #"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"# + "\n\n"
                + "event: content_block_delta\n" + #"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"# + "\n\n"
                + "event: content_block_stop\n" + #"data: {"type":"content_block_stop","index":0}"# + "\n\n"
                + "event: message_delta\n" + #"data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":\#(n),"output_tokens":\#(n)}}"# + "\n\n"
                + "event: message_stop\n" + #"data: {"type":"message_stop"}"# + "\n\n", 2 * e),
            (.gemini, #"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]}}],"usageMetadata":{"promptTokenCount":\#(n)}}"# + "\r\n\r\n"
                + #"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"!"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":\#(n),"candidatesTokenCount":\#(n),"toolUsePromptTokenCount":\#(n)}}"# + "\r\n\r\n", 2 * e),
            (.openAIResponses, "event: response.created\n" + #"data: {"type":"response.created","response":{"id":"r","object":"response","status":"in_progress","model":"m","output":[]}}"# + "\n\n"
                + "event: response.output_text.delta\n" + #"data: {"type":"response.output_text.delta","item_id":"m1","output_index":0,"content_index":0,"delta":"hi"}"# + "\n\n"
                + "event: response.completed\n" + #"data: {"type":"response.completed","response":{"id":"r","object":"response","status":"completed","model":"m","output":[{"type":"message","id":"m1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"hi","annotations":[]}]}],"usage":{"input_tokens":\#(n),"output_tokens":\#(n),"total_tokens":\#(n)}}}"# + "\n\n", e),
        ]
        for (upstream, sse, input) in streams {
            for client in WireProtocol.allCases {
                let t = StreamTranscoder(from: upstream, to: client, request: ChatRequest(model: "m", stream: true, streamUsage: true), context: ClientContext())
                var out: [UInt8] = []
                t.feed(Array(sse.utf8), into: &out)
                t.finish(into: &out)
                #expect(t.usage.input == input && (0...cap).contains(t.usage.output), "\(upstream) → \(client), \(n): \(t.usage)")
                #expect(!out.isEmpty)
            }
        }
    }

    /// A Chat stream's tool call at index Int.max, then one without an index: the next index saturates.
    @Test func aToolIndexOfIntMaxDoesNotOverflow() {
        let sse = #"data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":9223372036854775807,"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":null}]}"# + "\n\n"
            + #"data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"id":"call_2","type":"function","function":{"name":"g","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"# + "\n\n"
            + "data: [DONE]\n\n"
        let t = StreamTranscoder(from: .openAIChat, to: .anthropicMessages, request: ChatRequest(model: "m", stream: true), context: ClientContext())
        var out: [UInt8] = []
        t.feed(Array(sse.utf8), into: &out)
        t.finish(into: &out)
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.contains(#""name":"f""#) && text.contains("message_stop"), Comment(rawValue: text))
    }
}

/// Numbers a client sends that the codecs compute with: a thinking budget of Int.max, max_tokens of Int.min.
@Suite struct HostileRequestNumbersTests {
    @Test func thinkingBudgetAndMaxTokensAtTheBounds() throws {
        for (budget, maxOut) in [(Int.max, nil), (Int.max, Int.min), (Int.min, Int.min), (5000, Int.min), (Int.max, Int.max)] as [(Int, Int?)] {
            let r = ChatRequest(model: "claude-sonnet-4-5", messages: [Message(role: .user, content: [.text("hi")])], maxOutputTokens: maxOut,
                                reasoning: ReasoningConfig(enabled: true, budgetTokens: budget))
            let j = try JSONParser.parse(try Translator.encodeRequest(r, to: .anthropicMessages))
            let maxTokens = try #require(j["max_tokens"]?.int)
            if let b = j["thinking"]?["budget_tokens"]?.int {
                #expect(b >= 1024 && b < maxTokens && b <= Int(Saturating.maxTokensPerRequest), "budget \(budget), max \(String(describing: maxOut)): \(b) < \(maxTokens)")
            }
            if maxOut == nil { #expect(maxTokens == Int(Saturating.maxTokensPerRequest) + 4096, "a budget of Int.max is held to 10^12") }
        }
    }
}
