import Foundation
import Testing
@testable import ProxyPoolTranslation

/// Fixture loading and stream helpers for the Responses and Gemini codec tests.
enum RGFixtures {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ path: String) -> [UInt8] {
        [UInt8](try! Data(contentsOf: dir.appendingPathComponent(path)))
    }

    static func json(_ path: String) -> JSONNode { try! JSONParser.parse(bytes(path)) }

    static func sse(_ path: String) -> [SSEEvent] { parseSSE(bytes(path)) }

    static func parseSSE(_ bytes: [UInt8]) -> [SSEEvent] {
        var p = SSEParser()
        var events = try! p.feed(bytes)
        if let e = p.finish() { events.append(e) }
        return events
    }

    static func decode(_ decoder: any StreamDecoder, _ events: [SSEEvent], finish: Bool = true) throws -> [StreamEvent] {
        var out: [StreamEvent] = []
        for e in events { out += try decoder.decode(e) }
        if finish { out += decoder.finish() }
        return out
    }

    static func encode(_ encoder: any StreamEncoder, _ events: [StreamEvent]) -> [UInt8] {
        var out: [UInt8] = []
        for e in events { encoder.encode(e, into: &out) }
        encoder.finish(into: &out)
        return out
    }

    /// The event types in order, and the parsed data of each.
    static func responsesEvents(_ bytes: [UInt8]) -> [(type: String, data: JSONNode)] {
        parseSSE(bytes).map { e in
            let d = try! JSONParser.parse(e.data)
            #expect(e.event == d["type"]?.string, "the SSE event name must match the data's type")
            return (d["type"]!.string!, d)
        }
    }

    /// Checks the canonical grammar: messageStart (blockStart blockDelta* blockStop)* messageDelta messageStop,
    /// or an error last; block indexes in order; deltas only for open blocks.
    static func checkGrammar(_ events: [StreamEvent]) {
        guard case .messageStart? = events.first else { Issue.record("no messageStart first"); return }
        var open: Set<Int> = []
        var next = 0
        var ended = false
        for (i, e) in events.enumerated().dropFirst() {
            #expect(!ended, "event after the end: \(e)")
            switch e {
            case .messageStart: Issue.record("second messageStart")
            case .blockStart(let idx, _): #expect(idx == next); next += 1; open.insert(idx)
            case .blockDelta(let idx, _): #expect(open.contains(idx), "delta for a closed block \(idx)")
            case .blockStop(let idx): #expect(open.remove(idx) != nil, "stop for a closed block \(idx)")
            case .messageDelta: #expect(open.isEmpty, "messageDelta with open blocks")
            case .messageStop: ended = true
            case .error: ended = true; #expect(i == events.count - 1)
            }
        }
        #expect(ended, "the stream did not end")
    }
}

@Suite struct OpenAIResponsesRequestDecodeTests {
    @Test func codexClassicFollowUpWithReasoning() throws {
        let req = try OpenAIResponsesCodec.decodeRequest(RGFixtures.json("openai-responses/codex-tool-followup-with-reasoning.request.json"), context: ClientContext())
        #expect(req.model == "gpt-5-codex")
        #expect(req.stream)
        // Two developer messages → system, in order; no `instructions` in Codex requests.
        #expect(req.system.count == 2)
        #expect(req.system[0].hasPrefix("You are a coding agent running in the Codex CLI"))
        #expect(req.system[1].contains("<skills_instructions>") && req.system[1].contains("<permissions instructions>"))
        // user (env context + prompt merged), assistant (reasoning + call), user (tool result)
        #expect(req.messages.map(\.role) == [.user, .assistant, .user])
        #expect(req.messages[0].content.count == 2)
        #expect(req.messages[0].content[1] == .text("run echo ok"))
        let a = req.messages[1].content
        #expect(a[0] == .reasoning(ReasoningBlock(text: "Let me think about this.", encrypted: "ZmFrZS1lbmNyeXB0ZWQtcmVhc29uaW5n",
                                                  itemID: "rs_f91712afb821417ab4d1c01b", family: .openai)))
        #expect(a[1] == .toolCall(ToolCall(id: "call_0ab92fb33421401084c0af57", name: "exec_command", arguments: #"{"cmd": "echo ok"}"#)))
        guard case .toolResult(let r) = req.messages[2].content[0] else { Issue.record("no tool result"); return }
        #expect(r.callID == "call_0ab92fb33421401084c0af57")
        #expect(r.name == "exec_command")
        #expect(r.isError == false)
        #expect(r.content == [.text("Chunk ID: 6e4c5f\nWall time: 0.0000 seconds\nProcess exited with code 0\nOriginal token count: 1\nOutput:\nok\n")])
        // Tools: 7 plain functions + 5 flattened from the multi_agent_v1 namespace; web_search dropped.
        #expect(req.tools.count == 12)
        #expect(req.tools[0].name == "exec_command" && req.tools[0].origin == nil && req.tools[0].strict == false)
        let spawn = try #require(req.tools.first { $0.name == "multi_agent_v1__spawn_agent" })
        #expect(spawn.origin == ToolOrigin(namespace: "multi_agent_v1", name: "spawn_agent"))
        #expect(req.toolChoice == .auto)
        #expect(req.parallelToolCalls == true)
        #expect(req.reasoning == ReasoningConfig(enabled: true, effort: nil, includeThoughts: true))
        for d in ["store", "include", "client_metadata", "tools[].web_search"] { #expect(req.dropped.contains(d), "\(d)") }
        // Codex's prompt_cache_key (its conversation id) is kept for the OpenAI targets, which cache by it.
        #expect(req.promptCacheKey != nil && !req.dropped.contains("prompt_cache_key"))
    }

    @Test func codexCodeModeReadsAdditionalToolsAndFreeformCalls() throws {
        let req = try OpenAIResponsesCodec.decodeRequest(RGFixtures.json("openai-responses/codex-code-mode-followup.request.json"), context: ClientContext())
        #expect(req.model == "gpt-6.1-sol")
        #expect(req.system.count == 4)
        // The `functions` namespace keeps plain names; others are prefixed.
        let exec = try #require(req.tools.first { $0.name == "exec" })
        #expect(exec.origin == ToolOrigin(namespace: nil, name: "exec", freeform: true))
        #expect(exec.parameters["required"] == ["input"])
        #expect(exec.parameters["properties"]?["input"]?["type"] == "string")
        #expect(exec.parameters["properties"]?["input"]?["description"]?.string?.contains("SOURCE: /[\\s\\S]+/") == true)
        #expect(req.tools.contains { $0.name == "wait" && $0.origin == nil })
        #expect(req.tools.contains { $0.name == "clock__sleep" && $0.origin == ToolOrigin(namespace: "clock", name: "sleep") })
        #expect(req.tools.contains { $0.name == "collaboration__spawn_agent" })
        #expect(req.tools.count == 4 + 1 + 6)
        #expect(req.parallelToolCalls == false)
        #expect(req.reasoning?.effort == .low)
        #expect(req.dropped.contains("reasoning.context") && req.dropped.contains("text.verbosity"))
        // custom_tool_call → canonical call with {"input": source}; its output (array of input_text) → result.
        let last = req.messages.suffix(2)
        guard case .toolCall(let c)? = last.first?.content.last, case .toolResult(let r)? = last.last?.content.first else {
            Issue.record("no freeform call / result"); return
        }
        #expect(c.id == "call_ebfc229a95174b6da2ffffba" && c.name == "exec")
        #expect(try JSONParser.parse(c.arguments)["input"]?.string == "const r = await tools.exec_command({cmd: \"echo ok\"});\ntext(r.output);")
        #expect(r.callID == c.id && r.name == "exec")
        #expect(r.content == [.text("Script completed\nWall time 0.1 seconds\nOutput:\n"), .text("ok\n")])
    }

    @Test func codexGpt55CustomApplyPatchAndDroppedToolSearch() throws {
        let req = try OpenAIResponsesCodec.decodeRequest(RGFixtures.json("openai-responses/codex-gpt-5.5-followup.request.json"), context: ClientContext())
        let patch = try #require(req.tools.first { $0.name == "apply_patch" })
        #expect(patch.origin?.freeform == true)
        #expect(req.dropped.contains("tools[].tool_search") && req.dropped.contains("tools[].web_search"))
        #expect(req.reasoning?.effort == .medium && req.reasoning?.includeThoughts == false)
        // internal_chat_message_metadata_passthrough on items is ignored, the call still decodes.
        #expect(req.messages.last?.role == .user)
    }

    @Test func codexTitleRequestJSONSchemaFormat() throws {
        let req = try OpenAIResponsesCodec.decodeRequest(RGFixtures.json("openai-responses/codex-tui-title.request.json"), context: ClientContext())
        guard case .jsonSchema(let name, let schema, let strict)? = req.responseFormat else { Issue.record("no schema"); return }
        #expect(name == "codex_output_schema" && strict == true)
        #expect(schema["required"] == ["title"])
        #expect(req.tools.isEmpty)
    }

    @Test func sdkShapes() throws {
        let text = try OpenAIResponsesCodec.decodeRequest(RGFixtures.json("openai-responses/sdk-text.request.json"), context: ClientContext())
        #expect(text.system == ["You are brief."])
        #expect(text.messages == [Message(role: .user, content: [.text("say hi")])])
        #expect(text.reasoning?.effort == .low && text.stream == false)

        let img = try OpenAIResponsesCodec.decodeRequest(RGFixtures.json("openai-responses/sdk-image-base64.request.json"), context: ClientContext())
        #expect(img.messages[0].content[1] == .image(.base64(mediaType: "image/png", data: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")))

        let tool = try OpenAIResponsesCodec.decodeRequest(RGFixtures.json("openai-responses/sdk-tool-followup.request.json"), context: ClientContext())
        #expect(tool.messages.count == 3)
        #expect(tool.messages[1].content == [.toolCall(ToolCall(id: "call_20600911947149c0853b25bd", name: "get_weather", arguments: #"{"location": "Paris"}"#))])
        #expect(tool.messages[2].content == [.toolResult(ToolResult(callID: "call_20600911947149c0853b25bd", name: "get_weather", content: [.text("sunny, 21C")]))])
        #expect(tool.tools == [ToolDefinition(name: "get_weather", description: "Weather for a city",
                                              parameters: ["type": "object", "properties": ["location": ["type": "string", "description": "City name"]], "required": ["location"]],
                                              strict: false)])
    }

    @Test func imagesFilesAndRefusals() throws {
        let body: JSONNode = ["model": "m", "input": [
            ["role": "user", "content": [
                ["type": "input_image", "image_url": "https://example.com/cat.png", "detail": "low"],
                ["type": "input_image", "file_id": "file-abc"],
                ["type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="],
                ["type": "input_file", "file_url": "https://example.com/b.pdf"],
            ]],
            ["role": "assistant", "content": [["type": "refusal", "refusal": "no"]]],
        ]]
        let req = try OpenAIResponsesCodec.decodeRequest(body, context: ClientContext())
        #expect(req.messages[0].content == [
            .image(.url("https://example.com/cat.png", mediaType: nil)),
            .image(.fileReference(id: "file-abc", mediaType: nil, family: .openai)),
            .document(.base64(mediaType: "application/pdf", data: "JVBERi0="), title: "a.pdf"),
            .document(.url("https://example.com/b.pdf", mediaType: nil), title: nil),
        ])
        #expect(req.messages[1].content == [.text("no")])
    }

    @Test func proxypoolEnvelopeRestoresAnthropicThinking() throws {
        let body: JSONNode = ["model": "m", "input": [
            ["type": "reasoning", "id": "rs_1", "summary": [["type": "summary_text", "text": "thinking"]], "encrypted_content": "proxypool:anthropic:SIG=="],
            ["type": "reasoning", "id": "rs_2", "summary": [], "encrypted_content": "proxypool:anthropic-redacted:DATA"],
        ]]
        let req = try OpenAIResponsesCodec.decodeRequest(body, context: ClientContext())
        #expect(req.messages[0].content == [
            .reasoning(ReasoningBlock(text: "thinking", signature: "SIG==", itemID: "rs_1", family: .anthropic)),
            .reasoning(ReasoningBlock(text: "", encrypted: "DATA", itemID: "rs_2", redacted: true, family: .anthropic)),
        ])
    }

    @Test(arguments: [
        (["model": "m", "input": "x", "previous_response_id": "resp_1"] as JSONNode, "previous_response_id"),
        (["model": "m", "input": "x", "conversation": "conv_1"] as JSONNode, "conversation"),
        (["model": "m", "input": "x", "prompt": ["id": "p"]] as JSONNode, "prompt"),
        (["model": "m", "input": "x", "background": true] as JSONNode, "background"),
        (["model": "m", "input": "x", "top_logprobs": 3] as JSONNode, "top_logprobs"),
        (["model": "m", "input": "x", "include": ["message.output_text.logprobs"]] as JSONNode, "include[0]"),
        (["input": "x"] as JSONNode, "model"),
        (["model": "m"] as JSONNode, "input"),
        (["model": 5, "input": "x"] as JSONNode, "model"),
        (["model": "m", "input": "x", "tools": [["type": "file_search", "vector_store_ids": ["vs"]]]] as JSONNode, "tools[0].type"),
        (["model": "m", "input": "x", "tools": [["type": "code_interpreter"]]] as JSONNode, "tools[0].type"),
        (["model": "m", "input": "x", "tools": [["type": "local_shell"]]] as JSONNode, "tools[0].type"),
        (["model": "m", "input": "x", "tools": [["type": "function"]]] as JSONNode, "tools[0].name"),
        (["model": "m", "input": "x", "tool_choice": ["type": "web_search"]] as JSONNode, "tool_choice.type"),
        (["model": "m", "input": "x", "tool_choice": "sometimes"] as JSONNode, "tool_choice"),
        (["model": "m", "input": "x", "reasoning": ["effort": "extreme"]] as JSONNode, "reasoning.effort"),
        (["model": "m", "input": "x", "text": ["format": ["type": "yaml"]]] as JSONNode, "text.format.type"),
        (["model": "m", "input": "x", "text": ["format": ["type": "json_schema", "name": "n"]]] as JSONNode, "text.format.schema"),
        (["model": "m", "input": [["type": "item_reference", "id": "msg_1"]]] as JSONNode, "input[0].type"),
        (["model": "m", "input": [["type": "compaction", "encrypted_content": "x"]]] as JSONNode, "input[0].type"),
        (["model": "m", "input": [["type": "local_shell_call", "call_id": "c"]]] as JSONNode, "input[0].type"),
        (["model": "m", "input": [["type": "function_call", "name": "f"]]] as JSONNode, "input[0].call_id"),
        (["model": "m", "input": [["role": "wizard", "content": "x"]]] as JSONNode, "input[0].role"),
        (["model": "m", "input": [["role": "developer", "content": [["type": "input_image", "image_url": "https://a/b.png"]]]]] as JSONNode, "input[0].content[0]"),
        (["model": "m", "input": [["role": "user", "content": [["type": "input_audio", "input_audio": [:]]]]]] as JSONNode, "input[0].content[0].type"),
        (["model": "m", "input": [["role": "user", "content": [["type": "input_image", "image_url": "ftp://x"]]]]] as JSONNode, "input[0].content[0].image_url"),
        (["model": "m", "input": "x", "max_output_tokens": "lots"] as JSONNode, "max_output_tokens"),
    ])
    func rejectsWhatCannotBeTranslated(_ body: JSONNode, _ field: String) {
        #expect { try OpenAIResponsesCodec.decodeRequest(body, context: ClientContext()) } throws: { e in
            (e as? TranslationError)?.field == field
        }
    }

    @Test(arguments: [
        ("auto" as JSONNode, ToolChoice.auto), ("none", .none), ("required", .required),
        (["type": "function", "name": "f"] as JSONNode, .tool("f")), (["type": "custom", "name": "exec"] as JSONNode, .tool("exec")),
        (["type": "function", "name": "spawn", "namespace": "ns"] as JSONNode, .tool("ns__spawn")),
    ] as [(JSONNode, ToolChoice)])
    func toolChoiceTable(_ wire: JSONNode, _ canonical: ToolChoice) throws {
        let req = try OpenAIResponsesCodec.decodeRequest(["model": "m", "input": "x", "tool_choice": wire], context: ClientContext())
        #expect(req.toolChoice == canonical)
    }

    @Test(arguments: [("none", false, nil), ("minimal", true, .minimal), ("low", true, .low), ("medium", true, .medium),
                      ("high", true, .high), ("xhigh", true, .high)] as [(String, Bool, ReasoningEffort?)])
    func effortTable(_ wire: String, _ enabled: Bool, _ effort: ReasoningEffort?) throws {
        let req = try OpenAIResponsesCodec.decodeRequest(["model": "m", "input": "x", "reasoning": ["effort": .string(wire)]], context: ClientContext())
        #expect(req.reasoning?.enabled == enabled && req.reasoning?.effort == effort)
    }

    @Test func unknownTopLevelFieldsAreDropped() throws {
        let req = try OpenAIResponsesCodec.decodeRequest(["model": "m", "input": "x", "future_field": 1, "service_tier": "flex"], context: ClientContext())
        #expect(req.dropped == ["future_field", "service_tier"])
    }
}

@Suite struct OpenAIResponsesClientEncodeTests {
    static let codexRequest: ChatRequest = {
        var r = ChatRequest(model: "gpt-5-codex", stream: true)
        r.tools = [
            ToolDefinition(name: "exec_command", parameters: ["type": "object"]),
            ToolDefinition(name: "exec", parameters: ["type": "object"], origin: ToolOrigin(name: "exec", freeform: true)),
            ToolDefinition(name: "multi_agent_v1__spawn_agent", parameters: ["type": "object"],
                           origin: ToolOrigin(namespace: "multi_agent_v1", name: "spawn_agent")),
        ]
        r.reasoning = ReasoningConfig(effort: .medium, includeThoughts: true)
        return r
    }()

    @Test func responseObjectWithAllItemKinds() {
        let resp = ChatResponse(id: "x", model: "claude-sonnet-4-6", content: [
            .reasoning(ReasoningBlock(text: "hmm", signature: "SIG", family: .anthropic)),
            .text("a"), .text("b"),
            .toolCall(ToolCall(id: "toolu_1", name: "exec_command", arguments: #"{"cmd":"ls"}"#)),
            .toolCall(ToolCall(id: "toolu_2", name: "exec", arguments: #"{"input":"text('hi')"}"#)),
            .toolCall(ToolCall(id: "toolu_3", name: "multi_agent_v1__spawn_agent", arguments: "{}")),
        ], stopReason: .toolUse, usage: Usage(input: 100, output: 50, cachedInput: 60, reasoning: 20))
        let n = OpenAIResponsesCodec.encodeResponse(resp, for: Self.codexRequest)
        #expect(n["object"] == "response" && n["status"] == "completed" && n["model"] == "claude-sonnet-4-6")
        #expect(n["id"]?.string?.hasPrefix("resp_") == true)
        let out = n["output"]!.array!
        #expect(out.count == 5)
        #expect(out[0]["type"] == "reasoning" && out[0]["summary"]?[0]?["text"] == "hmm")
        #expect(out[0]["encrypted_content"] == "proxypool:anthropic:SIG")
        #expect(out[1]["type"] == "message" && out[1]["content"]?.array?.count == 2 && out[1]["content"]?[1]?["text"] == "b")
        #expect(out[2]["type"] == "function_call" && out[2]["call_id"] == "toolu_1" && out[2]["arguments"] == #"{"cmd":"ls"}"#)
        #expect(out[2]["namespace"] == nil)
        #expect(out[3]["type"] == "custom_tool_call" && out[3]["name"] == "exec" && out[3]["input"] == "text('hi')")
        #expect(out[4]["name"] == "spawn_agent" && out[4]["namespace"] == "multi_agent_v1")
        #expect(n["usage"] == ["input_tokens": 100, "input_tokens_details": ["cached_tokens": 60], "output_tokens": 50,
                               "output_tokens_details": ["reasoning_tokens": 20], "total_tokens": 150])
        #expect(n["reasoning"]?["effort"] == "medium")
    }

    @Test(arguments: [(StopReason.endTurn, "completed", nil), (.toolUse, "completed", nil), (.stopSequence, "completed", nil),
                      (.refusal, "completed", nil), (.pauseTurn, "completed", nil),
                      (.maxTokens, "incomplete", "max_output_tokens"), (.contentFilter, "incomplete", "content_filter"),
                      (.error, "failed", nil)] as [(StopReason, String, String?)])
    func stopReasonTable(_ stop: StopReason, _ status: String, _ reason: String?) {
        let n = OpenAIResponsesCodec.encodeResponse(ChatResponse(id: "x", model: "m", content: [.text("t")], stopReason: stop), for: ChatRequest(model: "m"))
        #expect(n["status"]?.string == status)
        #expect(n["incomplete_details"]?["reason"]?.string == reason)
    }

    /// The event sequence the openai SDK's stream helper and Codex need, with a reasoning summary, text,
    /// a function call with streamed arguments and a freeform call.
    @Test func streamEventSequence() throws {
        let enc = OpenAIResponsesCodec.makeStreamEncoder(for: Self.codexRequest, context: ClientContext())
        let bytes = RGFixtures.encode(enc, [
            .messageStart(id: "msg_up", model: "claude-sonnet-4-6", usage: nil),
            .blockStart(index: 0, .reasoning(family: .anthropic, itemID: nil)),
            .blockDelta(index: 0, .reasoning("Let me ")), .blockDelta(index: 0, .reasoning("check.")),
            .blockDelta(index: 0, .reasoningSignature("SIG")),
            .blockStop(index: 0),
            .blockStart(index: 1, .text), .blockDelta(index: 1, .text("Run")), .blockDelta(index: 1, .text("ning.")), .blockStop(index: 1),
            .blockStart(index: 2, .toolCall(id: "toolu_1", name: "exec_command", signature: nil)),
            .blockDelta(index: 2, .toolArguments(#"{"cmd":"#)), .blockDelta(index: 2, .toolArguments(#""ls"}"#)),
            .blockStop(index: 2),
            .blockStart(index: 3, .toolCall(id: "toolu_2", name: "exec", signature: nil)),
            .blockDelta(index: 3, .toolArguments(#"{"input":"text(\"hi\")"}"#)),
            .blockStop(index: 3),
            .messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage(input: 10, output: 5)),
            .messageStop,
        ])
        let events = RGFixtures.responsesEvents(bytes)
        #expect(events.map(\.type) == [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta", "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
            "response.function_call_arguments.done", "response.output_item.done",
            "response.output_item.added", "response.custom_tool_call_input.delta", "response.custom_tool_call_input.done",
            "response.output_item.done",
            "response.completed",
        ])
        #expect(events.map { $0.data["sequence_number"]?.int } == Array(0..<events.count).map(Optional.some))
        #expect(events[0].data["response"]?["status"] == "in_progress")
        let textDelta = events[11].data
        #expect(textDelta["output_index"] == 1 && textDelta["content_index"] == 0 && textDelta["delta"] == "Run")
        #expect(textDelta["item_id"] == events[9].data["item"]?["id"])
        #expect(events[13].data["text"] == "Running.")
        #expect(events[19].data["arguments"] == #"{"cmd":"ls"}"# && events[19].data["name"] == "exec_command")
        #expect(events[23].data["input"] == #"text("hi")"#)
        let doneCall = events[24].data["item"]!
        #expect(doneCall["type"] == "custom_tool_call" && doneCall["call_id"] == "toolu_2" && doneCall["input"] == #"text("hi")"#)
        let completed = events.last!.data["response"]!
        #expect(completed["status"] == "completed" && completed["model"] == "claude-sonnet-4-6")
        let output = completed["output"]!.array!
        #expect(output.map { $0["type"]!.string! } == ["reasoning", "message", "function_call", "custom_tool_call"])
        #expect(output[0]["encrypted_content"] == "proxypool:anthropic:SIG" && output[0]["summary"]?[0]?["text"] == "Let me check.")
        #expect(output[1]["content"]?[0]?["text"] == "Running.")
        #expect(completed["usage"]?["total_tokens"] == 15)
        #expect(completed["id"] == events[0].data["response"]?["id"])
    }

    @Test func streamMaxTokensIsIncomplete() {
        let enc = OpenAIResponsesCodec.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext())
        let events = RGFixtures.responsesEvents(RGFixtures.encode(enc, [
            .messageStart(id: "a", model: "m", usage: nil), .blockStart(index: 0, .text), .blockDelta(index: 0, .text("x")),
            .blockStop(index: 0), .messageDelta(stopReason: .maxTokens, stopSequence: nil, usage: Usage()), .messageStop,
        ]))
        #expect(events.last?.type == "response.incomplete")
        #expect(events.last?.data["response"]?["incomplete_details"]?["reason"] == "max_output_tokens")
    }

    // The OpenAI vocabulary's codes (ErrorVocabulary.swift); where it has none (a plain 400 or 500, `null` in the
    // HTTP body, as OpenAI sends them) a failed response names the type, since `ResponseError.code` is required.
    @Test(arguments: [(ErrorInfo.Kind.rateLimited, "rate_limit_exceeded"), (.overloaded, "server_is_overloaded"), (.server, "server_error"),
                      (.contextTooLong, "context_length_exceeded"), (.tooLarge, "request_too_large"),
                      (.invalidRequest, "invalid_request_error"), (.authentication, "invalid_api_key"),
                      (.permission, "permission_denied"), (.notFound, "not_found"), (.timeout, "timeout")] as [(ErrorInfo.Kind, String)])
    func streamErrorIsResponseFailedWithCodexCodes(_ kind: ErrorInfo.Kind, _ code: String) {
        let enc = OpenAIResponsesCodec.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext())
        let events = RGFixtures.responsesEvents(RGFixtures.encode(enc, [
            .messageStart(id: "a", model: "m", usage: nil), .blockStart(index: 0, .text), .blockDelta(index: 0, .text("x")),
            .error(ErrorInfo(kind: kind, message: "Rate limit reached. Please try again in 1.2s.", status: 429)),
        ]))
        #expect(events.last?.type == "response.failed")
        #expect(events.last?.data["response"]?["error"]?["code"]?.string == code)
        #expect(events.last?.data["response"]?["status"] == "failed")
        // And the error body for HTTP errors.
        let body = OpenAIResponsesCodec.encodeError(ErrorInfo(kind: kind, message: "m", status: 400))
        let bodyCode: String? = kind == .invalidRequest || kind == .server ? nil : code
        #expect(body["error"]?["code"]?.string == bodyCode && body["error"]?["message"] == "m")
    }

    @Test func streamThatNeverEndsFailsInsteadOfHanging() {
        let enc = OpenAIResponsesCodec.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext())
        let events = RGFixtures.responsesEvents(RGFixtures.encode(enc, [.messageStart(id: "a", model: "m", usage: nil)]))
        #expect(events.map(\.type) == ["response.created", "response.in_progress", "response.failed"])
    }

    @Test func errorBeforeAnythingStillStartsTheResponse() {
        let enc = OpenAIResponsesCodec.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext())
        let events = RGFixtures.responsesEvents(RGFixtures.encode(enc, [.error(ErrorInfo(kind: .overloaded, message: "busy", status: 503))]))
        #expect(events.map(\.type) == ["response.created", "response.in_progress", "response.failed"])
    }
}

@Suite struct OpenAIResponsesUpstreamTests {
    @Test func encodeRequestFromCanonical() throws {
        var r = ChatRequest(model: "gpt-5.5", system: ["Be brief.", "Use tools."], stream: true)
        r.messages = [
            Message(role: .user, content: [.text("look"), .image(.base64(mediaType: "image/png", data: "AAAA")),
                                           .image(.url("https://e.com/x.png", mediaType: nil))]),
            Message(role: .assistant, content: [
                .reasoning(ReasoningBlock(text: "sum", encrypted: "ENC", itemID: "rs_1", family: .openai)),
                .reasoning(ReasoningBlock(text: "claude thinking", signature: "S", family: .anthropic)),
                .text("ok"),
                .toolCall(ToolCall(id: "call_1", name: "get", arguments: #"{"a":1}"#)),
            ]),
            Message(role: .user, content: [.toolResult(ToolResult(callID: "call_1", content: [.text("r1"), .text("r2")])),
                                           .toolResult(ToolResult(callID: "call_1", content: [.text("see"), .image(.base64(mediaType: "image/jpeg", data: "BBBB"))]))]),
        ]
        r.tools = [ToolDefinition(name: "get", description: "d", parameters: ["type": "object"])]
        r.toolChoice = .tool("get")
        r.maxOutputTokens = 100
        r.reasoning = ReasoningConfig(budgetTokens: 9000, includeThoughts: true)
        r.responseFormat = .jsonSchema(name: "n", schema: ["type": "object"], strict: true)
        let b = try OpenAIResponsesCodec.encodeRequest(r)
        #expect(b["instructions"] == "Be brief.\n\nUse tools.")
        let input = b["input"]!.array!
        #expect(input.map { $0["type"]!.string! } == ["message", "reasoning", "message", "function_call", "function_call_output", "function_call_output"])
        #expect(input[0]["content"] == [["type": "input_text", "text": "look"],
                                        ["type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "auto"],
                                        ["type": "input_image", "image_url": "https://e.com/x.png", "detail": "auto"]])
        #expect(input[1] == ["type": "reasoning", "id": "rs_1", "summary": [["type": "summary_text", "text": "sum"]], "encrypted_content": "ENC"])
        #expect(input[2]["role"] == "assistant" && input[2]["content"]?[0]?["type"] == "output_text")
        #expect(input[3] == ["type": "function_call", "call_id": "call_1", "name": "get", "arguments": #"{"a":1}"#])
        #expect(input[4]["output"] == "r1\nr2")
        #expect(input[5]["output"]?[1]?["type"] == "input_image")
        #expect(b["tool_choice"] == ["type": "function", "name": "get"])
        #expect(b["tools"]?[0] == ["type": "function", "name": "get", "description": "d", "parameters": ["type": "object"], "strict": false])
        #expect(b["reasoning"] == ["effort": "medium", "summary": "auto"])
        #expect(b["text"]?["format"] == ["type": "json_schema", "name": "n", "schema": ["type": "object"], "strict": true])
        #expect(b["store"] == false && b["include"] == ["reasoning.encrypted_content"] && b["stream"] == true)
        #expect(b["max_output_tokens"] == 100)
    }

    @Test func encodeRequestRefusals() {
        var r = ChatRequest(model: "m", stopSequences: ["END"])
        #expect { try OpenAIResponsesCodec.encodeRequest(r) } throws: { ($0 as? TranslationError)?.field == "stop" }
        r.stopSequences = []
        r.messages = [Message(role: .user, content: [.image(.fileReference(id: "files/x", mediaType: nil, family: .gemini))])]
        #expect { try OpenAIResponsesCodec.encodeRequest(r) } throws: { ($0 as? TranslationError)?.field == "messages[0].content[0]" }
    }

    @Test func decodeFullStream() throws {
        let events = try RGFixtures.decode(OpenAIResponsesCodec.makeStreamDecoder(), RGFixtures.sse("openai-responses/upstream-reasoning-text-call.sse"))
        RGFixtures.checkGrammar(events)
        #expect(events == [
            .messageStart(id: "resp_68f1c2d3e4b5a6978899aabbccddeeff", model: "gpt-5.5-2026-10-01", usage: nil),
            .blockStart(index: 0, .reasoning(family: .openai, itemID: "rs_0a1b2c3d4e5f")),
            .blockDelta(index: 0, .reasoning("**Running the command**\n\nThe user wants ")),
            .blockDelta(index: 0, .reasoning("me to run `echo ok`.")),
            .blockDelta(index: 0, .reasoningEncrypted("gAAAAABo8cLTenc-reasoning-payload==")),
            .blockStop(index: 0),
            .blockStart(index: 1, .text), .blockDelta(index: 1, .text("I'll run ")), .blockDelta(index: 1, .text("it now.")), .blockStop(index: 1),
            .blockStart(index: 2, .toolCall(id: "call_AbC123", name: "exec_command", signature: nil)),
            .blockDelta(index: 2, .toolArguments(#"{"cmd":"#)), .blockDelta(index: 2, .toolArguments(#""echo ok","#)),
            .blockDelta(index: 2, .toolArguments(#""workdir":"/tmp"}"#)),
            .blockStop(index: 2),
            .messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage(input: 5120, output: 180, cachedInput: 4096, reasoning: 128)),
            .messageStop,
        ])
    }

    @Test func decodeStreamWhereOnlyDoneEventsCarryTheContent() throws {
        let lines: [JSONNode] = [
            ["type": "response.created", "response": ["id": "resp_1", "model": "m", "status": "in_progress"]],
            ["type": "response.output_item.added", "output_index": 0, "item": ["id": "fc_1", "type": "function_call", "call_id": "c1", "name": "f", "arguments": ""]],
            ["type": "response.function_call_arguments.done", "item_id": "fc_1", "output_index": 0, "arguments": #"{"x":1}"#],
            ["type": "response.output_item.done", "output_index": 0, "item": ["id": "fc_1", "type": "function_call", "call_id": "c1", "name": "f", "arguments": #"{"x":1}"#]],
            ["type": "response.output_item.done", "output_index": 1, "item": ["id": "fc_2", "type": "function_call", "call_id": "c2", "name": "g", "arguments": #"{"y":2}"#]],
            ["type": "response.output_item.done", "output_index": 2, "item": ["id": "msg_1", "type": "message", "content": [["type": "output_text", "text": "whole"]]]],
            ["type": "response.output_item.done", "output_index": 3, "item": ["id": "ctc_1", "type": "custom_tool_call", "call_id": "c3", "name": "exec", "input": "a\"b"]],
            ["type": "response.completed", "response": ["id": "resp_1", "status": "completed", "usage": ["input_tokens": 3, "output_tokens": 4]]],
        ]
        let events = try RGFixtures.decode(OpenAIResponsesCodec.makeStreamDecoder(), lines.map { SSEEvent(data: JSONWriter.string($0)) })
        RGFixtures.checkGrammar(events)
        #expect(events.contains(.blockDelta(index: 0, .toolArguments(#"{"x":1}"#))))
        #expect(events.filter { if case .blockDelta(0, _) = $0 { return true }; return false }.count == 1, "arguments must not repeat")
        #expect(events.contains(.blockStart(index: 1, .toolCall(id: "c2", name: "g", signature: nil))))
        #expect(events.contains(.blockDelta(index: 1, .toolArguments(#"{"y":2}"#))))
        #expect(events.contains(.blockDelta(index: 2, .text("whole"))))
        let freeform = events.compactMap { e -> String? in if case .blockDelta(3, .toolArguments(let a)) = e { return a }; return nil }.joined()
        #expect(try JSONParser.parse(freeform) == ["input": "a\"b"])
        #expect(events.contains(.messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage(input: 3, output: 4))))
    }

    @Test func decodeStreamTerminals() throws {
        func run(_ lines: [JSONNode], finish: Bool = true) throws -> [StreamEvent] {
            try RGFixtures.decode(OpenAIResponsesCodec.makeStreamDecoder(), lines.map { SSEEvent(data: JSONWriter.string($0)) }, finish: finish)
        }
        let created: JSONNode = ["type": "response.created", "response": ["id": "r", "model": "m"]]
        let incomplete = try run([created, ["type": "response.incomplete", "response": ["status": "incomplete", "incomplete_details": ["reason": "max_output_tokens"]]]])
        #expect(incomplete.contains(.messageDelta(stopReason: .maxTokens, stopSequence: nil, usage: Usage())))
        let failed = try run([created, ["type": "response.failed", "response": ["status": "failed", "error": ["code": "rate_limit_exceeded", "message": "slow down"]]]])
        #expect(failed.last == .error(ErrorInfo(kind: .rateLimited, message: "slow down", status: 429)))
        let err = try run([created, ["type": "error", "code": "server_error", "message": "boom"]])
        #expect(err.last == .error(ErrorInfo(kind: .server, message: "boom", status: 500)))
        let cut = try run([created, ["type": "response.output_text.delta", "item_id": "m", "output_index": 0, "content_index": 0, "delta": "x"]])
        RGFixtures.checkGrammar(cut)
        guard case .error(let info)? = cut.last else { Issue.record("a cut stream must end in an error"); return }
        #expect(info.kind == .upstream)
        #expect(throws: TranslationError.self) { try OpenAIResponsesCodec.makeStreamDecoder().decode(SSEEvent(data: "{not json")) }
    }

    @Test func decodeNonStreamedResponse() throws {
        let r = try OpenAIResponsesCodec.decodeResponse(RGFixtures.json("openai-responses/upstream-reasoning-text-call.response.json"))
        #expect(r.id == "resp_68f1c2d3e4b5a6978899aabbccddeeff" && r.stopReason == .toolUse)
        #expect(r.content == [
            .reasoning(ReasoningBlock(text: "**Running the command**\n\nThe user wants me to run `echo ok`.", encrypted: "gAAAAABo8cLTenc-reasoning-payload==",
                                      itemID: "rs_0a1b2c3d4e5f", family: .openai)),
            .text("I'll run it now."),
            .toolCall(ToolCall(id: "call_AbC123", name: "exec_command", arguments: #"{"cmd":"echo ok","workdir":"/tmp"}"#)),
        ])
        #expect(r.usage == Usage(input: 5120, output: 180, cachedInput: 4096, reasoning: 128))
    }

    static func err(_ type: String, _ code: String?) -> JSONNode {
        ["error": ["message": "m", "type": .string(type), "code": code.map(JSONNode.string) ?? .null]]
    }
    static let errorCases: [(Int, JSONNode, ErrorInfo.Kind)] = [
        (429, err("requests", "rate_limit_exceeded"), .rateLimited),
        (429, err("insufficient_quota", "insufficient_quota"), .rateLimited),
        (400, err("invalid_request_error", "context_length_exceeded"), .contextTooLong),
        (401, err("invalid_request_error", "invalid_api_key"), .authentication),
        (403, err("permission_denied", nil), .permission),
        (404, err("invalid_request_error", nil), .notFound),
        (400, err("invalid_request_error", nil), .invalidRequest),
        (500, err("server_error", nil), .server),
        (503, err("server_error", "service_unavailable"), .overloaded),
        (504, .null, .timeout),
    ]

    @Test(arguments: errorCases)
    func decodeErrorTable(_ status: Int, _ body: JSONNode, _ kind: ErrorInfo.Kind) {
        let e = OpenAIResponsesCodec.decodeError(status: status, body: body.isNull ? nil : body)
        #expect(e.kind == kind && e.status == status)
        if !body.isNull { #expect(e.message == "m") }
    }

    /// Upstream stream → canonical → client stream through the same codec: the client sees the same items.
    @Test func roundTripThroughCanonical() throws {
        let canonical = try RGFixtures.decode(OpenAIResponsesCodec.makeStreamDecoder(), RGFixtures.sse("openai-responses/upstream-reasoning-text-call.sse"))
        let enc = OpenAIResponsesCodec.makeStreamEncoder(for: ChatRequest(model: "gpt-5.5"), context: ClientContext())
        let bytes = RGFixtures.encode(enc, canonical)
        let again = try RGFixtures.decode(OpenAIResponsesCodec.makeStreamDecoder(), RGFixtures.parseSSE(bytes))
        // Same blocks and content (ids of our own making aside).
        #expect(again.dropFirst() == canonical.dropFirst())
    }
}
