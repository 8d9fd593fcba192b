import Testing
@testable import ProxyPoolTranslation

private typealias A = AnthropicMessagesCodec
private func decodeFixture(_ name: String) throws -> ChatRequest {
    try A.decodeRequest(CodecFixtures.json("anthropic/\(name).request.json"), context: ClientContext())
}

@Suite struct AnthropicRequestDecodingTests {
    @Test func claudeCodeToolFollowupWithThinking() throws {
        let r = try decodeFixture("claude-code_tool-followup_with-thinking")
        #expect(r.model == "claude-opus-5-5")
        // 3 top-level system blocks, then the `role: system` message from inside `messages`.
        #expect(r.system.count == 4)
        #expect(r.system[0] == "x-anthropic-billing-header: cc_version=2.1.331.27c; cc_entrypoint=sdk-cli;")
        #expect(r.system[1] == "You are a Claude agent, built on Anthropic's Claude Agent SDK.")
        #expect(r.system[3].hasPrefix("# Environment\n"))
        #expect(r.messageRoles == [.user, .assistant, .user])
        #expect(r.messages[0].content.count == 2)
        #expect(r.messages[0].content[1] == .text("run echo ok"))
        #expect(r.messages[1].content.count == 2)
        #expect(r.messages[1].content[0] == .reasoning(ReasoningBlock(text: "Let me think about this.",
                                                                      signature: "fakesig559c7499e3224238ae210c0dc9877d7d", family: .anthropic)))
        guard case .toolCall(let call) = r.messages[1].content[1] else { Issue.record("no tool call"); return }
        #expect(call.id == "toolu_e98443ff534245d2b4c6edcc" && call.name == "Bash")
        #expect(CodecFixtures.parse(call.arguments) == ["command": "echo ok", "description": "Print ok"])
        #expect(r.messages[2].content == [.toolResult(ToolResult(callID: "toolu_e98443ff534245d2b4c6edcc", content: [.text("ok")]))])
        #expect(r.tools.count == 12)
        #expect(r.tools.map(\.name).contains("DeferredToolPlaceholder"))
        let bash = try #require(r.tools.first { $0.name == "Bash" })
        #expect(bash.parameters["required"] == ["command"])
        #expect(bash.description?.hasPrefix("Executes a bash command") == true)
        #expect(r.toolChoice == nil)
        #expect(r.reasoning == ReasoningConfig(enabled: true, effort: .medium, budgetTokens: nil, includeThoughts: false))
        #expect(r.maxOutputTokens == 128000)
        #expect(r.stream)
        #expect(r.user?.hasPrefix("{\"device_id\":\"e4aff869") == true)
        for d in ["cache_control", "context_management", "tools[].defer_loading", "messages[].output_config"] {
            #expect(r.dropped.contains(d), "\(d) should be listed as dropped")
        }
        #expect(r.dropped.filter { $0 == "cache_control" }.count == 1)
        #expect(!r.dropped.contains("output_config"))   // read for the effort
    }

    @Test func claudeCodeTextAndTUI() throws {
        let text = try decodeFixture("claude-code_text")
        #expect(text.messageRoles == [.user])
        #expect(text.system.count == 4)
        let tui = try decodeFixture("claude-code_interactive-tui_text")
        #expect(tui.reasoning?.includeThoughts == true)   // display: updates
        #expect(tui.dropped.contains("safeguards"))
        #expect(tui.tools.count == 13)
    }

    @Test func sdkCaptures() throws {
        let text = try decodeFixture("anthropic-sdk_text")
        #expect(text.system == ["You are brief."])
        #expect(text.messages == [Message(role: .user, content: [.text("say hi")])])
        #expect(text.maxOutputTokens == 256 && !text.stream && text.dropped.isEmpty && text.reasoning == nil)

        #expect(try decodeFixture("anthropic-sdk_stream").stream)

        let b64 = try decodeFixture("anthropic-sdk_image-base64")
        guard case .image(.base64(let mt, let data)) = b64.messages[0].content[0] else { Issue.record("no image"); return }
        #expect(mt == "image/png" && data.hasPrefix("iVBORw0KGgo"))
        #expect(b64.messages[0].content[1] == .text("what is in this image?"))

        let url = try decodeFixture("anthropic-sdk_image-url")
        #expect(url.messages[0].content[0] == .image(.url("https://example.com/cat.png", mediaType: nil)))

        let tool = try decodeFixture("anthropic-sdk_tool-followup")
        #expect(tool.messageRoles == [.user, .assistant, .user])
        #expect(tool.messages[1].content == [.toolCall(ToolCall(id: "toolu_b5cc9ae152e04ae79474cb6c", name: "get_weather",
                                                                arguments: #"{"location":"Paris"}"#))])
        #expect(tool.messages[2].content == [.toolResult(ToolResult(callID: "toolu_b5cc9ae152e04ae79474cb6c", content: [.text("sunny, 21C")]))])
        #expect(tool.tools == [ToolDefinition(name: "get_weather", description: "Weather for a city",
                                              parameters: ["type": "object", "properties": ["location": ["type": "string", "description": "City name"]],
                                                           "required": ["location"]])])

        // count_tokens bodies have no max_tokens: still decodable.
        let count = try decodeFixture("anthropic-sdk_count-tokens")
        #expect(count.maxOutputTokens == nil && count.messages.count == 1)
    }

    @Test func everyBlockKindAndOption() throws {
        let body: JSONNode = [
            "model": "m", "max_tokens": 100, "temperature": 0.5, "top_p": 0.9, "top_k": 40, "stop_sequences": ["END"],
            "system": [["type": "text", "text": "sys", "cache_control": ["type": "ephemeral"]]],
            "thinking": ["type": "enabled", "budget_tokens": 2000],
            "tool_choice": ["type": "tool", "name": "f", "disable_parallel_tool_use": true],
            "tools": [["type": "custom", "name": "f", "input_schema": ["type": "object"], "strict": true]],
            "output_config": ["format": ["type": "json_schema", "schema": ["type": "object"]]],
            "messages": [
                ["role": "user", "content": [
                    ["type": "document", "title": "Doc", "source": ["type": "base64", "media_type": "application/pdf", "data": "JVBERi0="]],
                    ["type": "document", "source": ["type": "text", "media_type": "text/plain", "data": "plain words"]],
                    ["type": "document", "source": ["type": "url", "url": "https://example.com/a.pdf"]],
                    ["type": "image", "source": ["type": "file", "file_id": "file_1"]],
                ]],
                ["role": "assistant", "content": [
                    ["type": "redacted_thinking", "data": "ENCRYPTED"],
                    ["type": "thinking", "thinking": "t", "signature": ""],
                    ["type": "tool_use", "id": "toolu_1", "name": "f", "input": ["a": 1]],
                ]],
                ["role": "user", "content": [
                    ["type": "tool_result", "tool_use_id": "toolu_1", "is_error": true, "content": [
                        ["type": "text", "text": "failed"],
                        ["type": "image", "source": ["type": "base64", "media_type": "image/png", "data": "AAAA"]],
                    ]],
                ]],
            ],
        ]
        let r = try A.decodeRequest(body, context: ClientContext())
        #expect(r.temperature == 0.5 && r.topP == 0.9 && r.topK == 40 && r.stopSequences == ["END"])
        #expect(r.system == ["sys"])
        #expect(r.reasoning == ReasoningConfig(enabled: true, budgetTokens: 2000))
        #expect(r.toolChoice == .tool("f") && r.parallelToolCalls == false)
        #expect(r.tools[0].strict == true)
        #expect(r.responseFormat == .jsonSchema(name: "response", schema: ["type": "object"], strict: true))
        #expect(r.messages[0].content == [
            .document(.base64(mediaType: "application/pdf", data: "JVBERi0="), title: "Doc"),
            .document(.base64(mediaType: "text/plain", data: TextBase64.encode("plain words")), title: nil),
            .document(.url("https://example.com/a.pdf", mediaType: nil), title: nil),
            .image(.fileReference(id: "file_1", mediaType: nil, family: .anthropic)),
        ])
        #expect(r.messages[1].content == [
            .reasoning(ReasoningBlock(text: "", encrypted: "ENCRYPTED", redacted: true, family: .anthropic)),
            .reasoning(ReasoningBlock(text: "t", signature: nil, family: .anthropic)),
            .toolCall(ToolCall(id: "toolu_1", name: "f", arguments: #"{"a":1}"#)),
        ])
        #expect(r.messages[2].content == [.toolResult(ToolResult(callID: "toolu_1", content: [.text("failed"), .image(.base64(mediaType: "image/png", data: "AAAA"))],
                                                                 isError: true))])
        #expect(r.dropped == ["cache_control"])
    }

    @Test(arguments: [
        ("disabled", nil, ReasoningConfig(enabled: false, includeThoughts: false)),
        ("adaptive", "low", ReasoningConfig(enabled: true, effort: .low)),
        ("adaptive", "max", ReasoningConfig(enabled: true, effort: .high)),
        ("adaptive", "xhigh", ReasoningConfig(enabled: true, effort: .high)),
    ] as [(String, String?, ReasoningConfig)])
    func thinkingTypes(_ type: String, _ effort: String?, _ expected: ReasoningConfig) throws {
        var body: JSONNode = ["model": "m", "messages": [], "thinking": ["type": .string(type)]]
        if let effort { body.set("output_config", ["effort": .string(effort)]) }
        #expect(try A.decodeRequest(body, context: ClientContext()).reasoning == expected)
    }

    @Test(arguments: [
        ("auto", ToolChoice.auto), ("any", .required), ("none", ToolChoice.none),
    ])
    func toolChoiceTable(_ type: String, _ expected: ToolChoice) throws {
        let r = try A.decodeRequest(["model": "m", "messages": [], "tool_choice": ["type": .string(type)]], context: ClientContext())
        #expect(r.toolChoice == expected && r.parallelToolCalls == nil)
    }

    @Test(arguments: [
        (#"{"messages":[]}"#, "model"),
        (#"{"model":"m"}"#, "messages"),
        (#"{"model":"m","messages":{}}"#, "messages"),
        (#"{"model":"m","messages":[{"role":"tool","content":"x"}]}"#, "messages[0].role"),
        (#"{"model":"m","messages":[{"role":"user"}]}"#, "messages[0].content"),
        (#"{"model":"m","messages":[{"role":"user","content":[{"type":"tool_use","id":"a","name":"b","input":{}}]}]}"#, "messages[0].content[0].type"),
        (#"{"model":"m","messages":[{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"a"}]}]}"#, "messages[0].content[0].type"),
        (#"{"model":"m","messages":[{"role":"assistant","content":[{"type":"server_tool_use","id":"a","name":"web_search","input":{}}]}]}"#, "messages[0].content[0].type"),
        (#"{"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"ftp","url":"x"}}]}]}"#, "messages[0].content[0].source.type"),
        (#"{"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"file:///etc/passwd"}}]}]}"#, "messages[0].content[0].source.url"),
        (#"{"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]}"#, "messages[0].content[0].text"),
        (#"{"model":"m","messages":[{"role":"user","content":[{"type":"video"}]}]}"#, "messages[0].content[0].type"),
        (#"{"model":"m","messages":[],"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":5}]}"#, "tools[0].type"),
        (#"{"model":"m","messages":[],"tools":[{"type":"bash_20250124","name":"bash"}]}"#, "tools[0].type"),
        (#"{"model":"m","messages":[],"tools":[{"name":"f"}]}"#, "tools[0].input_schema"),
        (#"{"model":"m","messages":[],"mcp_servers":[{"type":"url","url":"https://x","name":"x"}]}"#, "mcp_servers"),
        (#"{"model":"m","messages":[],"thinking":{"type":"sometimes"}}"#, "thinking.type"),
        (#"{"model":"m","messages":[],"thinking":{"type":"enabled"}}"#, "thinking.budget_tokens"),
        (#"{"model":"m","messages":[],"output_config":{"effort":"extreme"}}"#, "output_config.effort"),
        (#"{"model":"m","messages":[],"tool_choice":{"type":"some"}}"#, "tool_choice.type"),
        (#"{"model":"m","messages":[],"max_tokens":"many"}"#, "max_tokens"),
        (#"{"model":"m","messages":[],"system":[{"type":"image"}]}"#, "system[0].type"),
        (#"{"model":"m","messages":[],"stop_sequences":[1]}"#, "stop_sequences[0]"),
    ])
    func rejectsWithFieldName(_ body: String, _ field: String) throws {
        #expect {
            try A.decodeRequest(CodecFixtures.parse(body), context: ClientContext())
        } throws: { ($0 as? TranslationError)?.field == field }
    }

    @Test func unknownTopLevelFieldsAreDroppedNotFatal() throws {
        let r = try A.decodeRequest(["model": "m", "messages": [], "future_field": 1, "service_tier": "auto", "container": "c"],
                                    context: ClientContext())
        #expect(r.dropped == ["future_field", "service_tier", "container"])
    }
}

@Suite struct AnthropicRequestEncodingTests {
    private func encode(_ r: ChatRequest) throws -> JSONNode { try A.encodeRequest(r) }

    @Test func buildsAValidConversation() throws {
        let r = ChatRequest(
            model: "claude-sonnet-4-6", system: ["You are brief.", "", "Be kind."],
            messages: [
                Message(role: .user, content: [.text("weather?"), .text("")]),
                Message(role: .user, content: [.image(.base64(mediaType: "image/jpg", data: "AAAA"))]),
                Message(role: .assistant, content: [
                    .reasoning(ReasoningBlock(text: "hidden", encrypted: "gAAAA", itemID: "rs_1", family: .openai)),
                    .text("Checking."),
                    .toolCall(ToolCall(id: "call:1/x", name: "get_weather", arguments: "")),
                    .toolCall(ToolCall(id: "call_2", name: "get_weather", arguments: #"{"location":"Tokyo"}"#)),
                ]),
                Message(role: .user, content: [
                    .text("and now?"),
                    .toolResult(ToolResult(callID: "call:1/x", content: [.text("sunny")])),
                    .toolResult(ToolResult(callID: "call_2", content: [.text("rain"), .image(.url("https://x/y.png", mediaType: nil))], isError: true)),
                ]),
            ],
            temperature: 0.3, topP: 0.8, topK: 5, stopSequences: ["STOP"], user: "u-1")
        let j = try encode(r)
        #expect(j["model"] == "claude-sonnet-4-6")
        #expect(j["max_tokens"] == 8192)   // the documented default
        #expect(j["system"] == [["type": "text", "text": "You are brief."], ["type": "text", "text": "Be kind."]])
        let msgs = try #require(j["messages"]?.array)
        #expect(msgs.map { $0["role"]?.string } == ["user", "assistant", "user"])   // the two user turns merged
        #expect(msgs[0]["content"] == [["type": "text", "text": "weather?"],
                                       ["type": "image", "source": ["type": "base64", "media_type": "image/jpeg", "data": "AAAA"]]])
        // Reasoning of another family is dropped; ids are made to fit Anthropic's pattern, the same in the result.
        #expect(msgs[1]["content"] == [["type": "text", "text": "Checking."],
                                       ["type": "tool_use", "id": "call_1_x", "name": "get_weather", "input": .object([])],
                                       ["type": "tool_use", "id": "call_2", "name": "get_weather", "input": ["location": "Tokyo"]]])
        // Tool results first in the user turn.
        #expect(msgs[2]["content"] == [
            ["type": "tool_result", "tool_use_id": "call_1_x", "content": "sunny"],
            ["type": "tool_result", "tool_use_id": "call_2", "is_error": true,
             "content": [["type": "text", "text": "rain"], ["type": "image", "source": ["type": "url", "url": "https://x/y.png"]]]],
            ["type": "text", "text": "and now?"],
        ])
        #expect(j["temperature"] == 0.3 && j["top_k"] == 5)
        #expect(j["top_p"] == nil)   // newer models refuse temperature and top_p together: temperature wins
        #expect(j["stop_sequences"] == ["STOP"])
        #expect(j["metadata"] == ["user_id": "u-1"])
        #expect(j["thinking"] == nil && j["stream"] == nil && j["tools"] == nil && j["tool_choice"] == nil)
    }

    @Test func thinkingRules() throws {
        let tools = [ToolDefinition(name: "f", parameters: ["type": "object"])]
        var r = ChatRequest(model: "m", messages: [Message(role: .user, content: [.text("hi")])], tools: tools,
                            temperature: 0.2, topP: 0.97, topK: 3, reasoning: ReasoningConfig(effort: .high), stream: true)
        var j = try encode(r)
        #expect(j["thinking"] == ["type": "enabled", "budget_tokens": 24576])
        #expect(j["max_tokens"] == 28672)   // raised above the budget when the client gave none
        #expect(j["temperature"] == nil && j["top_k"] == nil && j["top_p"] == 0.97)
        #expect(j["stream"] == true)

        r.maxOutputTokens = 4000
        r.reasoning = ReasoningConfig(budgetTokens: 10000)
        j = try encode(r)
        #expect(j["thinking"] == ["type": "enabled", "budget_tokens": 3999] && j["max_tokens"] == 4000)

        r.maxOutputTokens = 900   // no room for the 1024 minimum: thinking left off
        #expect(try encode(r)["thinking"] == nil)

        r.maxOutputTokens = nil
        r.toolChoice = .required   // forced tool use and thinking do not mix
        j = try encode(r)
        #expect(j["thinking"] == nil && j["tool_choice"] == ["type": "any"])

        r.toolChoice = nil
        r.reasoning = ReasoningConfig(enabled: false)
        #expect(try encode(r)["thinking"] == ["type": "disabled"])

        // A tool loop whose assistant turn has no signed thinking (another family's history): thinking off.
        r.reasoning = ReasoningConfig(effort: .low)
        r.messages += [Message(role: .assistant, content: [.reasoning(ReasoningBlock(text: "x", family: .gemini)),
                                                          .toolCall(ToolCall(id: "c1", name: "f", arguments: "{}"))]),
                       Message(role: .user, content: [.toolResult(ToolResult(callID: "c1", content: [.text("ok")]))])]
        #expect(try encode(r)["thinking"] == nil)

        // The same loop from Anthropic, signed: the thinking block goes back first and thinking stays on.
        r.messages[1] = Message(role: .assistant, content: [.reasoning(ReasoningBlock(text: "x", signature: "sig", family: .anthropic)),
                                                           .toolCall(ToolCall(id: "c1", name: "f", arguments: "{}"))])
        j = try encode(r)
        #expect(j["thinking"] == ["type": "enabled", "budget_tokens": 2048])
        #expect(j["messages"]?[1]?["content"]?[0] == ["type": "thinking", "thinking": "x", "signature": "sig"])
    }

    @Test(arguments: [
        (ToolChoice.auto, true, #"{"type":"auto"}"#),
        (ToolChoice.auto, false, #"{"type":"auto","disable_parallel_tool_use":true}"#),
        (ToolChoice.none, false, #"{"type":"none"}"#),
        (ToolChoice.required, true, #"{"type":"any"}"#),
        (ToolChoice.tool("f"), false, #"{"type":"tool","name":"f","disable_parallel_tool_use":true}"#),
    ])
    func toolChoiceTable(_ choice: ToolChoice, _ parallel: Bool, _ expected: String) throws {
        let r = ChatRequest(model: "m", tools: [ToolDefinition(name: "f", description: "d", parameters: ["type": "object"])],
                            toolChoice: choice, parallelToolCalls: parallel)
        let j = try encode(r)
        #expect(j["tool_choice"] == CodecFixtures.parse(expected))
        #expect(j["tools"] == [["name": "f", "description": "d", "input_schema": ["type": "object"]]])
    }

    @Test func responseFormatsAndDocuments() throws {
        var r = ChatRequest(model: "m", system: ["s"], messages: [Message(role: .user, content: [
            .document(.base64(mediaType: "application/pdf", data: "JVBERi0="), title: "T"),
            .document(.base64(mediaType: "text/plain", data: TextBase64.encode("é words")), title: nil),
            .document(.url("https://x/a.pdf", mediaType: nil), title: nil),
        ])], responseFormat: .jsonSchema(name: "x", schema: ["type": "object"], strict: true))
        var j = try encode(r)
        #expect(j["output_config"] == ["format": ["type": "json_schema", "schema": ["type": "object"]]])
        #expect(j["messages"]?[0]?["content"] == [
            ["type": "document", "source": ["type": "base64", "media_type": "application/pdf", "data": "JVBERi0="], "title": "T"],
            ["type": "document", "source": ["type": "text", "media_type": "text/plain", "data": "é words"]],
            ["type": "document", "source": ["type": "url", "url": "https://x/a.pdf"]],
        ])
        r.responseFormat = .jsonObject
        j = try encode(r)
        #expect(j["output_config"] == nil)
        #expect(j["system"]?.array?.count == 2)
    }

    @Test(arguments: [
        ("image/png", "image/png"), ("image/jpeg", "image/jpeg"), ("image/jpg", "image/jpeg"), ("image/gif", "image/gif"),
        ("image/webp", "image/webp"),
    ])
    func imageMediaTypes(_ given: String, _ sent: String) throws {
        let r = ChatRequest(model: "m", messages: [Message(role: .user, content: [.image(.base64(mediaType: given, data: "AA=="))])])
        #expect(try encode(r)["messages"]?[0]?["content"]?[0]?["source"]?["media_type"] == .string(sent))
    }

    @Test(arguments: [
        (ChatRequest(model: "m", messages: [Message(role: .user, content: [.image(.base64(mediaType: "image/tiff", data: "AA"))])]), "messages[0].content[0]"),
        (ChatRequest(model: "m", messages: [Message(role: .user, content: [.image(.fileReference(id: "f", mediaType: nil, family: .openai))])]), "messages[0].content[0]"),
        (ChatRequest(model: "m", messages: [Message(role: .user, content: [.document(.base64(mediaType: "application/zip", data: "AA"), title: nil)])]), "messages[0].content[0]"),
        (ChatRequest(model: "m", messages: [Message(role: .assistant, content: [.toolCall(ToolCall(id: "a", name: "f", arguments: "[1"))])]), "messages[0].content[0].arguments"),
        (ChatRequest(model: "m", messages: [Message(role: .user, content: [.toolCall(ToolCall(id: "a", name: "f", arguments: "{}"))])]), "messages[0].content[0]"),
        (ChatRequest(model: "m", messages: [Message(role: .assistant, content: [.toolResult(ToolResult(callID: "a", content: []))])]), "messages[0].content[0]"),
        (ChatRequest(model: "m", tools: [ToolDefinition(name: "ns.tool", parameters: ["type": "object"])]), "tools[0].name"),
    ])
    func encodingErrorsNameTheField(_ r: ChatRequest, _ field: String) {
        #expect { try A.encodeRequest(r) } throws: { ($0 as? TranslationError)?.field == field }
    }
}

@Suite struct AnthropicResponseTests {
    @Test func decodesAMessage() throws {
        let r = try A.decodeResponse(CodecFixtures.json("anthropic/message-thinking-tool.json"))
        #expect(r.id == "msg_01Aq9w938a90dw8q" && r.model == "claude-sonnet-4-6")
        #expect(r.content == [
            .reasoning(ReasoningBlock(text: "I should check the weather tool.", signature: "WaUjzkypQ2mUEVM36O2TxuC06KN8xyfbJwyem2dw3URve", family: .anthropic)),
            .reasoning(ReasoningBlock(text: "", encrypted: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP", redacted: true, family: .anthropic)),
            .text("Let me look that up."),
            .toolCall(ToolCall(id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", arguments: #"{"location":"Paris","unit":"celsius"}"#)),
        ])
        #expect(r.stopReason == .toolUse)
        #expect(r.usage == Usage(input: 2150, output: 95, cachedInput: 2000, cacheCreation: 30))
        #expect(throws: TranslationError.self) { try A.decodeResponse(["type": "error"]) }
    }

    @Test func encodesAMessageAndRoundTrips() throws {
        let resp = ChatResponse(id: "chatcmpl-9", model: "gpt-4o", content: [
            .reasoning(ReasoningBlock(text: "think", family: nil)),
            .reasoning(ReasoningBlock(text: "", encrypted: "opaque", family: .openai)),   // not for Claude Code
            .text("Hi"),
            .toolCall(ToolCall(id: "call_1", name: "f", arguments: #"{"a":[1,2]}"#)),
            .toolCall(ToolCall(id: "call_2", name: "g", arguments: "")),
        ], stopReason: .toolUse, usage: Usage(input: 100, output: 20, cachedInput: 60, cacheCreation: 10, reasoning: 5))
        let j = A.encodeResponse(resp, for: ChatRequest(model: "claude-opus-5-5"))
        #expect(j["id"] == "msg_chatcmpl-9" && j["type"] == "message" && j["role"] == "assistant" && j["model"] == "gpt-4o")
        #expect(j["content"] == [
            ["type": "thinking", "thinking": "think", "signature": ""],
            ["type": "text", "text": "Hi"],
            ["type": "tool_use", "id": "call_1", "name": "f", "input": ["a": [1, 2]]],
            ["type": "tool_use", "id": "call_2", "name": "g", "input": .object([])],
        ])
        #expect(j["stop_reason"] == "tool_use" && j["stop_sequence"] == .null)
        #expect(j["usage"] == ["input_tokens": 30, "cache_creation_input_tokens": 10, "cache_read_input_tokens": 60, "output_tokens": 20])
        let back = try A.decodeResponse(j)
        #expect(back.usage == Usage(input: 100, output: 20, cachedInput: 60, cacheCreation: 10))
        #expect(back.content.count == 4 && back.stopReason == .toolUse)
    }

    @Test(arguments: StopReason.allCases)
    func stopReasonTable(_ s: StopReason) {
        let wire = A.stopReasonString(s)
        let expected: [StopReason: String] = [.endTurn: "end_turn", .maxTokens: "max_tokens", .toolUse: "tool_use",
                                              .stopSequence: "stop_sequence", .contentFilter: "refusal", .refusal: "refusal",
                                              .pauseTurn: "pause_turn", .error: "end_turn"]
        #expect(wire == expected[s])
        let back = A.stopReason(wire)
        #expect(back == s || (s == .contentFilter && back == .refusal) || (s == .error && back == .endTurn))
    }

    @Test func stopReasonsFromTheWire() {
        #expect(A.stopReason("model_context_window_exceeded") == .maxTokens)
        #expect(A.stopReason(nil) == .endTurn && A.stopReason("something_new") == .endTurn)
    }
}

@Suite struct AnthropicErrorTests {
    @Test(arguments: [
        (429, "rate_limit_error", ErrorInfo.Kind.rateLimited), (529, "overloaded_error", .overloaded), (401, "authentication_error", .authentication),
        (403, "permission_error", .permission), (404, "not_found_error", .notFound), (413, "request_too_large", .tooLarge),
        (400, "invalid_request_error", .invalidRequest), (500, "api_error", .server), (504, "timeout_error", .timeout),
    ])
    func statusAndTypeTable(_ status: Int, _ type: String, _ kind: ErrorInfo.Kind) {
        let body: JSONNode = ["type": "error", "error": ["type": .string(type), "message": "m"], "request_id": "req_1"]
        #expect(A.decodeError(status: status, body: body) == ErrorInfo(kind: kind, message: "m", status: status))
        // Without a body the status alone decides.
        #expect(A.decodeError(status: status, body: nil).kind == kind)
        #expect(A.encodeError(ErrorInfo(kind: kind, message: "m", status: status)) == ["type": "error", "error": ["type": .string(type), "message": "m"]])
    }

    @Test func oddBodies() {
        #expect(A.decodeError(status: 502, body: ["message": "bad gateway"]) == ErrorInfo(kind: .upstream, message: "bad gateway", status: 502))
        #expect(A.decodeError(status: 503, body: .string("x")).kind == .overloaded)
        #expect(A.decodeError(status: 402, body: ["type": "error", "error": ["type": "billing_error", "message": "pay"]]).kind == .permission)
        #expect(A.decodeError(status: 418, body: nil).message == "upstream error (HTTP 418)")
    }
}

@Suite struct AnthropicStreamTests {
    @Test func decodesThinkingTextAndToolStream() throws {
        let events = try CodecFixtures.decode(CodecFixtures.sse("anthropic/stream-thinking-text-tool.sse"), with: A.makeStreamDecoder())
        #expect(events == [
            .messageStart(id: "msg_01XFDUDYJgAACzvnptvVoYEL", model: "claude-sonnet-4-6",
                          usage: Usage(input: 9672, output: 2, cachedInput: 8000, cacheCreation: 1200)),
            .blockStart(index: 0, .reasoning(family: .anthropic, itemID: nil)),
            .blockDelta(index: 0, .reasoning("The user wants me to run ")),
            .blockDelta(index: 0, .reasoning("echo ok.")),
            .blockDelta(index: 0, .reasoningSignature("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds")),
            .blockStop(index: 0),
            .blockStart(index: 1, .text),
            .blockDelta(index: 1, .text("I'll run ")),
            .blockDelta(index: 1, .text("that now.")),
            .blockStop(index: 1),
            .blockStart(index: 2, .toolCall(id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "Bash", signature: nil)),
            .blockDelta(index: 2, .toolArguments("")),
            .blockDelta(index: 2, .toolArguments(#"{"command": "ec"#)),
            .blockDelta(index: 2, .toolArguments(#"ho ok", "description": "Print ok"}"#)),
            .blockStop(index: 2),
            .messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage(input: 9672, output: 89, cachedInput: 8000, cacheCreation: 1200)),
            .messageStop,
        ])
    }

    @Test func overloadedMidStreamIsAnError() throws {
        let events = try CodecFixtures.decode(CodecFixtures.sse("anthropic/stream-overloaded.sse"), with: A.makeStreamDecoder())
        #expect(events.count == 4)
        #expect(events.last == .error(ErrorInfo(kind: .overloaded, message: "Overloaded", status: 529)))
    }

    @Test func endingsTheUpstreamLeftOut() throws {
        let start = SSEEvent(event: "message_start", data: #"{"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":3,"output_tokens":0}}}"#)
        let block = SSEEvent(event: "content_block_start", data: #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"Hi"}}"#)
        let delta = SSEEvent(event: "message_delta", data: #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":4}}"#)
        // Cut off before message_delta: an error, never a silent success.
        var events = try CodecFixtures.decode([start, block], with: A.makeStreamDecoder())
        #expect(events.dropFirst().first == .blockStart(index: 0, .text))
        #expect(events[2] == .blockDelta(index: 0, .text("Hi")))   // text carried on the start block is not lost
        guard case .error(let e)? = events.last else { Issue.record("no error"); return }
        #expect(e.kind == .upstream && e.status == 502)
        // message_delta without message_stop (and without block stop): closed properly.
        events = try CodecFixtures.decode([start, block, delta], with: A.makeStreamDecoder())
        #expect(Array(events.suffix(3)) == [.blockStop(index: 0),
                                             .messageDelta(stopReason: .endTurn, stopSequence: nil, usage: Usage(input: 3, output: 4)),
                                             .messageStop])
        // Nothing at all.
        events = try CodecFixtures.decode([], with: A.makeStreamDecoder())
        #expect(events.count == 1)
        // Not JSON.
        #expect(throws: TranslationError.self) { try A.makeStreamDecoder().decode(SSEEvent(event: "ping", data: "{")) }
    }

    @Test func skipsBlockKindsItDoesNotKnowWithoutGaps() throws {
        let d = A.makeStreamDecoder()
        var out: [StreamEvent] = []
        for (name, data) in [
            ("message_start", #"{"type":"message_start","message":{"id":"m","model":"x","usage":{}}}"#),
            ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"s","name":"web_search"}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#),
            ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            ("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"R"}}"#),
            ("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
        ] { out += try d.decode(SSEEvent(event: name, data: data)) }
        #expect(Array(out.dropFirst()) == [
            .blockStart(index: 0, .encryptedReasoning(ReasoningBlock(text: "", encrypted: "R", redacted: true, family: .anthropic))),
            .blockStop(index: 0),
        ])
    }

    @Test func encodesTheEventSequenceClaudeCodeNeedsAndRoundTrips() throws {
        let canonical: [StreamEvent] = [
            .messageStart(id: "chatcmpl-1", model: "gpt-4o", usage: nil),
            .blockStart(index: 0, .reasoning(family: nil, itemID: nil)),
            .blockDelta(index: 0, .reasoning("hmm")),
            .blockDelta(index: 0, .reasoningEncrypted("opaque")),
            .blockStop(index: 0),
            .blockStart(index: 1, .encryptedReasoning(ReasoningBlock(text: "", encrypted: "x", family: .openai))),   // skipped
            .blockStop(index: 1),
            .blockStart(index: 2, .text),
            .blockDelta(index: 2, .text("Hello")),
            .blockStop(index: 2),
            .blockStart(index: 3, .toolCall(id: "call_9", name: "Bash", signature: nil)),
            .blockDelta(index: 3, .toolArguments(#"{"command":"#)),
            .blockDelta(index: 3, .toolArguments(#""ls"}"#)),
            .blockStop(index: 3),
            .messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage(input: 50, output: 7, cachedInput: 20)),
            .messageStop,
        ]
        let bytes = CodecFixtures.encode(canonical, with: A.makeStreamEncoder(for: ChatRequest(model: "claude-opus-5-5"), context: ClientContext()))
        let sse = CodecFixtures.sseEvents(bytes)
        #expect(sse.map { $0.event ?? "" } == ["message_start", "content_block_start", "content_block_delta", "content_block_stop",
                                               "content_block_start", "content_block_delta", "content_block_stop",
                                               "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                                               "message_delta", "message_stop"])
        let first = CodecFixtures.parse(sse[0].data)
        #expect(first["message"]?["id"] == "msg_chatcmpl-1")
        #expect(first["message"]?["usage"]?["input_tokens"] == 0)
        #expect(CodecFixtures.parse(sse[1].data)["content_block"] == ["type": "thinking", "thinking": "", "signature": ""])
        #expect(CodecFixtures.parse(sse[7].data) == ["type": "content_block_start", "index": 2,
                                                     "content_block": ["type": "tool_use", "id": "call_9", "name": "Bash", "input": .object([])]])
        #expect(CodecFixtures.parse(sse[8].data)["delta"] == ["type": "input_json_delta", "partial_json": #"{"command":"#])
        #expect(CodecFixtures.parse(sse[11].data) == ["type": "message_delta", "delta": ["stop_reason": "tool_use", "stop_sequence": nil],
                                                      "usage": ["input_tokens": 30, "cache_creation_input_tokens": 0,
                                                                "cache_read_input_tokens": 20, "output_tokens": 7]])
        // Our own decoder reads it back: same content, indexes renumbered without the skipped block.
        let back = try CodecFixtures.decode(sse, with: A.makeStreamDecoder())
        #expect(back.count == 13)
        #expect(back[1] == .blockStart(index: 0, .reasoning(family: .anthropic, itemID: nil)))
        #expect(back[4] == .blockStart(index: 1, .text))
        #expect(back[7] == .blockStart(index: 2, .toolCall(id: "call_9", name: "Bash", signature: nil)))
        #expect(back[11] == .messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage(input: 50, output: 7, cachedInput: 20)))
        #expect(back.last == .messageStop)
    }

    @Test func alwaysEndsTheStream() {
        let request = ChatRequest(model: "claude-opus-5-5")
        // Open blocks are closed before message_delta; a missing message_delta is supplied.
        var sse = CodecFixtures.sseEvents(CodecFixtures.encode([
            .blockStart(index: 0, .text), .blockDelta(index: 0, .text("x")), .messageStop,
        ], with: A.makeStreamEncoder(for: request, context: ClientContext())))
        #expect(sse.map { $0.event ?? "" } == ["message_start", "content_block_start", "content_block_delta", "content_block_stop",
                                               "message_delta", "message_stop"])
        // A stream that never ended becomes an error event (Claude Code retries instead of looping).
        sse = CodecFixtures.sseEvents(CodecFixtures.encode([
            .messageStart(id: "msg_1", model: "m", usage: nil), .blockStart(index: 0, .text),
        ], with: A.makeStreamEncoder(for: request, context: ClientContext())))
        #expect(sse.last?.event == "error")
        #expect(CodecFixtures.parse(sse.last!.data)["error"]?["type"] == "api_error")
        // An error event: the Anthropic error body, and nothing after it.
        sse = CodecFixtures.sseEvents(CodecFixtures.encode([
            .messageStart(id: "msg_1", model: "m", usage: nil),
            .error(ErrorInfo(kind: .rateLimited, message: "slow down", status: 429)),
            .messageStop,
        ], with: A.makeStreamEncoder(for: request, context: ClientContext())))
        #expect(sse.map { $0.event ?? "" } == ["message_start", "error"])
        #expect(CodecFixtures.parse(sse[1].data) == ["type": "error", "error": ["type": "rate_limit_error", "message": "slow down"]])
    }
}
