import Testing
@testable import ProxyPoolTranslation

private typealias O = OpenAIChatCodec
private func decodeFixture(_ name: String) throws -> ChatRequest {
    try O.decodeRequest(CodecFixtures.json("openai-chat/\(name).request.json"), context: ClientContext())
}

@Suite struct OpenAIChatRequestDecodingTests {
    @Test func sdkCaptures() throws {
        let stream = try decodeFixture("openai-sdk_chat_stream")
        #expect(stream.model == "gpt-4o-mini" && stream.stream && stream.streamUsage)
        #expect(stream.messages == [Message(role: .user, content: [.text("say hi")])])
        #expect(stream.dropped == ["stream_options"])

        let b64 = try decodeFixture("openai-sdk_chat_image-base64")
        #expect(b64.messages[0].content[0] == .text("what is in this image?"))
        guard case .image(.base64(let mt, let data)) = b64.messages[0].content[1] else { Issue.record("no image"); return }
        #expect(mt == "image/png" && data.hasPrefix("iVBORw0KGgo") && !data.hasPrefix("data:"))
        #expect(b64.dropped == ["image_url.detail"])

        let url = try decodeFixture("openai-sdk_chat_image-url")
        #expect(url.messages[0].content[1] == .image(.url("https://example.com/cat.png", mediaType: nil)))

        let tool = try decodeFixture("openai-sdk_chat_tool-followup")
        #expect(tool.messageRoles == [.user, .assistant, .user])
        #expect(tool.messages[1].content == [.toolCall(ToolCall(id: "call_2c72c63fdef149bcb50219b7", name: "get_weather",
                                                                arguments: "{\"location\": \"Paris\"}"))])
        #expect(tool.messages[2].content == [.toolResult(ToolResult(callID: "call_2c72c63fdef149bcb50219b7", content: [.text("sunny, 21C")]))])
        #expect(tool.tools.map(\.name) == ["get_weather"])
        #expect(tool.tools[0].parameters["required"] == ["location"])
    }

    @Test func rolesOptionsAndOrder() throws {
        let body: JSONNode = [
            "model": "gpt-5", "max_completion_tokens": 500, "max_tokens": 100, "temperature": 0.2, "top_p": 0.5, "stop": "END",
            "reasoning_effort": "low", "parallel_tool_calls": false, "tool_choice": ["type": "function", "function": ["name": "f"]],
            "response_format": ["type": "json_schema", "json_schema": ["name": "out", "schema": ["type": "object"], "strict": true]],
            "user": "u1", "store": false, "metadata": ["a": "b"], "seed": 7,
            "tools": [["type": "function", "function": ["name": "f", "strict": true]]],
            "messages": [
                ["role": "developer", "content": "dev rules"],
                ["role": "system", "content": [["type": "text", "text": "sys part"]]],
                ["role": "user", "content": "q", "name": "alice"],
                ["role": "assistant", "content": nil, "reasoning_content": "think first",
                 "tool_calls": [["id": "c1", "type": "function", "function": ["name": "f", "arguments": "{}"]],
                                ["id": "c2", "type": "function", "function": ["name": "f", "arguments": #"{"x":1}"#]]]],
                ["role": "tool", "tool_call_id": "c1", "content": "r1"],
                ["role": "tool", "tool_call_id": "c2", "content": [["type": "text", "text": "r2"]]],
                ["role": "system", "content": "late system"],
                ["role": "user", "content": [["type": "file", "file": ["filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="]],
                                             ["type": "file", "file": ["file_id": "file-1"]]]],
                ["role": "assistant", "content": [["type": "text", "text": "A"], ["type": "refusal", "refusal": "no"]]],
            ],
        ]
        let r = try O.decodeRequest(body, context: ClientContext())
        #expect(r.system == ["dev rules", "sys part", "late system"])
        #expect(r.messageRoles == [.user, .assistant, .user, .user, .assistant])
        #expect(r.messages[1].content == [.reasoning(ReasoningBlock(text: "think first")),
                                          .toolCall(ToolCall(id: "c1", name: "f", arguments: "{}")),
                                          .toolCall(ToolCall(id: "c2", name: "f", arguments: #"{"x":1}"#))])
        // Consecutive tool messages become one user turn of results.
        #expect(r.messages[2].content == [.toolResult(ToolResult(callID: "c1", content: [.text("r1")])),
                                          .toolResult(ToolResult(callID: "c2", content: [.text("r2")]))])
        #expect(r.messages[3].content == [.document(.base64(mediaType: "application/pdf", data: "JVBERi0="), title: "a.pdf"),
                                          .document(.fileReference(id: "file-1", mediaType: nil, family: .openai), title: nil)])
        #expect(r.messages[4].content == [.text("A"), .text("no")])
        #expect(r.maxOutputTokens == 500 && r.temperature == 0.2 && r.topP == 0.5 && r.stopSequences == ["END"])
        #expect(r.reasoning == ReasoningConfig(effort: .low))
        #expect(r.toolChoice == .tool("f") && r.parallelToolCalls == false)
        #expect(r.tools == [ToolDefinition(name: "f", parameters: ["type": "object", "properties": .object([])], strict: true)])
        #expect(r.responseFormat == .jsonSchema(name: "out", schema: ["type": "object"], strict: true))
        #expect(r.user == "u1" && !r.stream)
        #expect(r.dropped == ["store", "metadata", "seed", "messages[].name"])
    }

    @Test func legacyFunctions() throws {
        let body: JSONNode = [
            "model": "gpt-4", "functions": [["name": "get_time", "parameters": ["type": "object"]]], "function_call": ["name": "get_time"],
            "messages": [
                ["role": "user", "content": "time?"],
                ["role": "assistant", "content": nil, "function_call": ["name": "get_time", "arguments": "{}"]],
                ["role": "function", "name": "get_time", "content": "12:00"],
            ],
        ]
        let r = try O.decodeRequest(body, context: ClientContext())
        #expect(r.tools.map(\.name) == ["get_time"] && r.toolChoice == .tool("get_time"))
        guard case .toolCall(let call) = r.messages[1].content[0] else { Issue.record("no call"); return }
        #expect(r.messages[2].content == [.toolResult(ToolResult(callID: call.id, name: "get_time", content: [.text("12:00")]))])
    }

    @Test(arguments: [
        ("auto", ToolChoice.auto), ("none", ToolChoice.none), ("required", .required),
    ])
    func toolChoiceTable(_ s: String, _ expected: ToolChoice) throws {
        #expect(try O.decodeRequest(["model": "m", "messages": [], "tool_choice": .string(s)], context: ClientContext()).toolChoice == expected)
    }

    @Test(arguments: [
        ("none", ReasoningConfig(enabled: false, includeThoughts: false)), ("minimal", ReasoningConfig(effort: .minimal)),
        ("low", ReasoningConfig(effort: .low)), ("medium", ReasoningConfig(effort: .medium)), ("high", ReasoningConfig(effort: .high)),
        ("xhigh", ReasoningConfig(effort: .high)),
    ])
    func reasoningEffortTable(_ s: String, _ expected: ReasoningConfig) throws {
        #expect(try O.decodeRequest(["model": "m", "messages": [], "reasoning_effort": .string(s)], context: ClientContext()).reasoning == expected)
    }

    @Test func responseFormats() throws {
        #expect(try O.decodeRequest(["model": "m", "messages": [], "response_format": ["type": "text"]], context: ClientContext()).responseFormat == .text)
        #expect(try O.decodeRequest(["model": "m", "messages": [], "response_format": ["type": "json_object"]], context: ClientContext()).responseFormat == .jsonObject)
    }

    @Test(arguments: [
        (#"{"messages":[]}"#, "model"),
        (#"{"model":"m"}"#, "messages"),
        (#"{"model":"m","messages":[],"n":2}"#, "n"),
        (#"{"model":"m","messages":[],"logprobs":true}"#, "logprobs"),
        (#"{"model":"m","messages":[],"top_logprobs":3}"#, "top_logprobs"),
        (#"{"model":"m","messages":[],"audio":{"voice":"alloy","format":"wav"}}"#, "audio"),
        (#"{"model":"m","messages":[],"modalities":["text","audio"]}"#, "modalities"),
        (#"{"model":"m","messages":[],"logit_bias":{"50256":-100}}"#, "logit_bias"),
        (#"{"model":"m","messages":[],"web_search_options":{}}"#, "web_search_options"),
        (#"{"model":"m","messages":[],"tools":[{"type":"custom","custom":{"name":"x"}}]}"#, "tools[0].type"),
        (#"{"model":"m","messages":[],"tools":[{"type":"function"}]}"#, "tools[0].function"),
        (#"{"model":"m","messages":[],"tool_choice":"sometimes"}"#, "tool_choice"),
        (#"{"model":"m","messages":[],"tool_choice":{"type":"allowed_tools"}}"#, "tool_choice.type"),
        (#"{"model":"m","messages":[],"reasoning_effort":"max"}"#, "reasoning_effort"),
        (#"{"model":"m","messages":[],"response_format":{"type":"yaml"}}"#, "response_format.type"),
        (#"{"model":"m","messages":[],"stop":5}"#, "stop"),
        (#"{"model":"m","messages":[{"role":"critic","content":"x"}]}"#, "messages[0].role"),
        (#"{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA","format":"wav"}}]}]}"#, "messages[0].content[0].type"),
        (#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]}"#, "messages[0].content[0].image_url.url"),
        (#"{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"AAAA","filename":"a.bin"}}]}]}"#, "messages[0].content[0].file.file_data"),
        (#"{"model":"m","messages":[{"role":"system","content":[{"type":"image_url"}]}]}"#, "messages[0].content[0].type"),
        (#"{"model":"m","messages":[{"role":"tool","content":"x"}]}"#, "messages[0].tool_call_id"),
        (#"{"model":"m","messages":[{"role":"assistant","audio":{"id":"a"}}]}"#, "messages[0].audio"),
        (#"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"custom","custom":{}}]}]}"#, "messages[0].tool_calls[0].type"),
        (#"{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}"#, "messages[0].name"),
        (#"{"model":"m","messages":[],"temperature":"hot"}"#, "temperature"),
    ])
    func rejectsWithFieldName(_ body: String, _ field: String) {
        #expect {
            try O.decodeRequest(CodecFixtures.parse(body), context: ClientContext())
        } throws: { ($0 as? TranslationError)?.field == field }
    }
}

@Suite struct OpenAIChatRequestEncodingTests {
    @Test func buildsMessagesForAChatUpstream() throws {
        let r = ChatRequest(
            model: "gpt-4o", system: ["one", "two"],
            messages: [
                Message(role: .user, content: [.text("hi"), .image(.base64(mediaType: "image/png", data: "AAAA")),
                                               .image(.url("https://x/c.png", mediaType: nil))]),
                Message(role: .assistant, content: [.reasoning(ReasoningBlock(text: "secret", signature: "s", family: .anthropic)),
                                                    .text("Let me "), .text("check."),
                                                    .toolCall(ToolCall(id: "toolu_1", name: "f", arguments: "")),
                                                    .toolCall(ToolCall(id: "toolu_2", name: "f", arguments: #"{"a":1}"#))]),
                Message(role: .user, content: [.toolResult(ToolResult(callID: "toolu_1", content: [.text("ok")])),
                                               .toolResult(ToolResult(callID: "toolu_2", content: [.text("bad"), .image(.base64(mediaType: "image/png", data: "BB"))],
                                                                      isError: true)),
                                               .text("continue")]),
            ],
            tools: [ToolDefinition(name: "f", description: "d", parameters: ["type": "object"])], toolChoice: .required,
            parallelToolCalls: false, maxOutputTokens: 300, temperature: 0.1, topP: 0.9, topK: 4, stopSequences: ["x"],
            reasoning: ReasoningConfig(budgetTokens: 3000), responseFormat: .jsonObject, stream: true, user: "u")
        let j = try O.encodeRequest(r)
        #expect(j["messages"] == [
            ["role": "system", "content": "one\n\ntwo"],
            ["role": "user", "content": [["type": "text", "text": "hi"],
                                         ["type": "image_url", "image_url": ["url": "data:image/png;base64,AAAA"]],
                                         ["type": "image_url", "image_url": ["url": "https://x/c.png"]]]],
            ["role": "assistant", "content": "Let me check.",
             "tool_calls": [["id": "toolu_1", "type": "function", "function": ["name": "f", "arguments": "{}"]],
                            ["id": "toolu_2", "type": "function", "function": ["name": "f", "arguments": #"{"a":1}"#]]]],
            ["role": "tool", "tool_call_id": "toolu_1", "content": "ok"],
            ["role": "tool", "tool_call_id": "toolu_2", "content": "Error: bad"],
            ["role": "user", "content": [["type": "text", "text": "Attachments returned by tool call toolu_2:"],
                                         ["type": "image_url", "image_url": ["url": "data:image/png;base64,BB"]],
                                         ["type": "text", "text": "continue"]]],
        ])
        #expect(j["tools"] == [["type": "function", "function": ["name": "f", "description": "d", "parameters": ["type": "object"]]]])
        #expect(j["tool_choice"] == "required" && j["parallel_tool_calls"] == false)
        #expect(j["max_completion_tokens"] == 300 && j["max_tokens"] == nil)
        #expect(j["temperature"] == 0.1 && j["top_p"] == 0.9 && j["top_k"] == nil && j["stop"] == ["x"])
        #expect(j["reasoning_effort"] == nil)   // gpt-4o refuses it
        #expect(j["response_format"] == ["type": "json_object"])
        #expect(j["user"] == "u" && j["stream"] == true && j["stream_options"] == ["include_usage": true])
    }

    @Test func modelDependentFields() throws {
        var r = ChatRequest(model: "deepseek-reasoner", messages: [Message(role: .user, content: [.text("x")])], maxOutputTokens: 10,
                            reasoning: ReasoningConfig(budgetTokens: 20000))
        var j = try O.encodeRequest(r)
        #expect(j["max_tokens"] == 10 && j["max_completion_tokens"] == nil)
        #expect(j["reasoning_effort"] == "high")
        #expect(j["stream_options"] == nil && j["tools"] == nil && j["parallel_tool_calls"] == nil)
        r.model = "o3-mini"
        r.reasoning = ReasoningConfig(effort: .minimal)
        j = try O.encodeRequest(r)
        #expect(j["max_completion_tokens"] == 10 && j["reasoning_effort"] == "minimal")
        r.reasoning = ReasoningConfig(enabled: false)
        #expect(try O.encodeRequest(r)["reasoning_effort"] == nil)
        r.parallelToolCalls = true   // without tools OpenAI refuses parallel_tool_calls
        #expect(try O.encodeRequest(r)["parallel_tool_calls"] == nil)
    }

    @Test(arguments: [
        (ToolChoice.auto, #""auto""#), (ToolChoice.none, #""none""#), (ToolChoice.required, #""required""#),
        (ToolChoice.tool("f"), #"{"type":"function","function":{"name":"f"}}"#),
    ])
    func toolChoiceTable(_ c: ToolChoice, _ expected: String) throws {
        let r = ChatRequest(model: "m", tools: [ToolDefinition(name: "f", parameters: ["type": "object"])], toolChoice: c)
        #expect(try O.encodeRequest(r)["tool_choice"] == CodecFixtures.parse(expected))
    }

    @Test func documentsAndSchemas() throws {
        let r = ChatRequest(model: "m", messages: [Message(role: .user, content: [
            .document(.base64(mediaType: "application/pdf", data: "JVBERi0="), title: "r.pdf"),
            .document(.base64(mediaType: "text/plain", data: TextBase64.encode("notes")), title: "n.txt"),
            .document(.fileReference(id: "file-9", mediaType: nil, family: .openai), title: nil),
        ])], responseFormat: .jsonSchema(name: "s", schema: ["type": "object"], strict: nil))
        let j = try O.encodeRequest(r)
        #expect(j["messages"]?[0]?["content"] == [
            ["type": "file", "file": ["filename": "r.pdf", "file_data": "data:application/pdf;base64,JVBERi0="]],
            ["type": "text", "text": "n.txt\n\nnotes"],
            ["type": "file", "file": ["file_id": "file-9"]],
        ])
        #expect(j["response_format"] == ["type": "json_schema", "json_schema": ["name": "s", "schema": ["type": "object"]]])
    }

    @Test(arguments: [
        (ChatRequest(model: "m", messages: [Message(role: .user, content: [.document(.url("https://x/a.pdf", mediaType: nil), title: nil)])]), "messages[0].content[0]"),
        (ChatRequest(model: "m", messages: [Message(role: .user, content: [.image(.fileReference(id: "f", mediaType: nil, family: .gemini))])]), "messages[0].content[0]"),
        (ChatRequest(model: "m", messages: [Message(role: .assistant, content: [.image(.url("https://x", mediaType: nil))])]), "messages[0].content[0]"),
        (ChatRequest(model: "m", messages: [Message(role: .user, content: [.toolCall(ToolCall(id: "a", name: "f", arguments: "{}"))])]), "messages[0].content[0]"),
    ])
    func encodingErrorsNameTheField(_ r: ChatRequest, _ field: String) {
        #expect { try O.encodeRequest(r) } throws: { ($0 as? TranslationError)?.field == field }
    }
}

@Suite struct OpenAIChatResponseTests {
    @Test func decodesACompletionWithToolCalls() throws {
        let r = try O.decodeResponse(CodecFixtures.json("openai-chat/completion-tool-calls.json"))
        #expect(r.id == "chatcmpl-AbC123" && r.model == "gpt-4o-2024-08-06")
        #expect(r.content == [.toolCall(ToolCall(id: "call_abc123", name: "get_weather", arguments: "{\"location\": \"Paris\"}")),
                              .toolCall(ToolCall(id: "call_def456", name: "get_time", arguments: ""))])
        #expect(r.stopReason == .toolUse)
        #expect(r.usage == Usage(input: 82, output: 17, cachedInput: 64))
        #expect(throws: TranslationError.self) { try O.decodeResponse(["choices": []]) }
    }

    @Test func decodesReasoningAndRefusal() throws {
        let r = try O.decodeResponse(["id": "x", "model": "deepseek-reasoner", "choices": [["index": 0, "finish_reason": "stop",
            "message": ["role": "assistant", "content": "Hi", "reasoning_content": "think"]]],
            "usage": ["prompt_tokens": 5, "completion_tokens": 9, "prompt_cache_hit_tokens": 3, "completion_tokens_details": ["reasoning_tokens": 6]]])
        #expect(r.content == [.reasoning(ReasoningBlock(text: "think")), .text("Hi")])
        #expect(r.usage == Usage(input: 5, output: 9, cachedInput: 3, reasoning: 6))
        let refusal = try O.decodeResponse(["choices": [["finish_reason": "stop", "message": ["content": nil, "refusal": "I can't."]]]])
        #expect(refusal.stopReason == .refusal && refusal.content == [.text("I can't.")])
    }

    @Test func encodesACompletion() throws {
        let resp = ChatResponse(id: "msg_1", model: "claude-sonnet-4-6", content: [
            .reasoning(ReasoningBlock(text: "hmm", signature: "sig", family: .anthropic)), .text("Sure"),
            .toolCall(ToolCall(id: "toolu_1", name: "f", arguments: #"{"a":1}"#)),
        ], stopReason: .toolUse, usage: Usage(input: 100, output: 30, cachedInput: 40, reasoning: 12))
        let j = O.encodeResponse(resp, for: ChatRequest(model: "gpt-4o"))
        #expect(j["id"] == "chatcmpl-msg_1" && j["object"] == "chat.completion" && j["model"] == "claude-sonnet-4-6")
        #expect((j["created"]?.int ?? 0) > 1_700_000_000)
        #expect(j["choices"] == [["index": 0, "logprobs": nil, "finish_reason": "tool_calls",
                                  "message": ["role": "assistant", "content": "Sure", "refusal": nil, "reasoning_content": "hmm",
                                              "tool_calls": [["id": "toolu_1", "type": "function", "function": ["name": "f", "arguments": #"{"a":1}"#]]]]]])
        #expect(j["usage"] == ["prompt_tokens": 100, "completion_tokens": 30, "total_tokens": 130,
                               "prompt_tokens_details": ["cached_tokens": 40, "audio_tokens": 0],
                               "completion_tokens_details": ["reasoning_tokens": 12, "audio_tokens": 0, "accepted_prediction_tokens": 0,
                                                             "rejected_prediction_tokens": 0]])
        let back = try O.decodeResponse(j)
        #expect(back.usage == resp.usage && back.stopReason == .toolUse && back.content.count == 3)
        // Only tool calls: content is null.
        let calls = O.encodeResponse(ChatResponse(id: "x", model: "m", content: [.toolCall(ToolCall(id: "c", name: "f", arguments: ""))],
                                                  stopReason: .toolUse), for: ChatRequest(model: "m"))
        #expect(calls["choices"]?[0]?["message"]?["content"] == .null)
        #expect(calls["choices"]?[0]?["message"]?["tool_calls"]?[0]?["function"]?["arguments"] == "{}")
    }

    @Test(arguments: StopReason.allCases)
    func finishReasonTable(_ s: StopReason) {
        let expected: [StopReason: String] = [.endTurn: "stop", .maxTokens: "length", .toolUse: "tool_calls", .stopSequence: "stop",
                                              .contentFilter: "content_filter", .refusal: "content_filter", .pauseTurn: "stop", .error: "stop"]
        #expect(O.finishReason(s) == expected[s])
    }

    @Test(arguments: [("stop", StopReason.endTurn), ("length", .maxTokens), ("tool_calls", .toolUse), ("function_call", .toolUse),
                      ("content_filter", .contentFilter), ("insufficient_system_resource", .endTurn)])
    func finishReasonFromTheWire(_ s: String, _ expected: StopReason) {
        #expect(O.stopReason(s) == expected)
    }
}

@Suite struct OpenAIChatErrorTests {
    @Test(arguments: [
        // OpenAI's own types (ErrorVocabulary.swift): every client error is invalid_request_error, a rate limit `requests`.
        (400, ErrorInfo.Kind.invalidRequest, "invalid_request_error"), (401, .authentication, "invalid_request_error"),
        (403, .permission, "invalid_request_error"), (404, .notFound, "invalid_request_error"), (413, .tooLarge, "invalid_request_error"),
        (429, .rateLimited, "requests"), (500, .server, "server_error"), (503, .overloaded, "server_error"),
        (504, .timeout, "server_error"),
    ])
    func statusTable(_ status: Int, _ kind: ErrorInfo.Kind, _ type: String) throws {
        let body: JSONNode = ["error": ["message": "m", "type": .string(type), "param": nil, "code": nil]]
        #expect(O.decodeError(status: status, body: body) == ErrorInfo(kind: kind, message: "m", status: status))
        let encoded = O.encodeError(ErrorInfo(kind: kind, message: "m", status: status))
        #expect(encoded["error"]?["type"] == .string(type) && encoded["error"]?["message"] == "m")
        #expect(O.decodeError(status: status, body: encoded).kind == kind)
    }

    @Test func codesAndOddBodies() {
        #expect(O.decodeError(status: 429, body: ["error": ["message": "q", "type": "insufficient_quota", "code": "insufficient_quota"]]).kind == .rateLimited)
        #expect(O.decodeError(status: 400, body: ["error": ["message": "long", "type": "invalid_request_error", "code": "context_length_exceeded"]]).kind == .contextTooLong)
        #expect(O.decodeError(status: 429, body: [["error": ["code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"]]])
                == ErrorInfo(kind: .rateLimited, message: "Resource exhausted", status: 429))
        #expect(O.decodeError(status: 502, body: ["error": "Bad gateway"]) == ErrorInfo(kind: .upstream, message: "Bad gateway", status: 502))
        #expect(O.decodeError(status: 500, body: nil).message == "upstream error (HTTP 500)")
    }
}

@Suite struct OpenAIChatStreamTests {
    @Test func decodesTextAndInterleavedParallelToolCalls() throws {
        let events = try CodecFixtures.decode(CodecFixtures.sse("openai-chat/stream-text-parallel-tools.sse"), with: O.makeStreamDecoder())
        #expect(events == [
            .messageStart(id: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", model: "gpt-4o-2024-08-06", usage: nil),
            .blockStart(index: 0, .text),
            .blockDelta(index: 0, .text("Checking both")),
            .blockDelta(index: 0, .text(" cities.")),
            .blockStop(index: 0),
            .blockStart(index: 1, .toolCall(id: "call_DdmO9pD3xa9XTPNJ32zg2hcA", name: "get_weather", signature: nil)),
            .blockDelta(index: 1, .toolArguments("{\"location\": \"Par")),
            .blockStart(index: 2, .toolCall(id: "call_ABCDEFGHIJKLMNOPQRSTUVWX", name: "get_weather", signature: nil)),
            .blockDelta(index: 1, .toolArguments("is\"}")),
            .blockDelta(index: 2, .toolArguments("{\"location\": \"Tokyo\"}")),
            .blockStop(index: 1),
            .blockStop(index: 2),
            // finish_reason came first; the message ends when the usage chunk arrives.
            .messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage(input: 2150, output: 48, cachedInput: 1920)),
            .messageStop,
        ])
    }

    @Test func decodesReasoningContentStream() throws {
        let events = try CodecFixtures.decode(CodecFixtures.sse("openai-chat/stream-reasoning-deepseek.sse"), with: O.makeStreamDecoder())
        #expect(events == [
            .messageStart(id: "0f7c7b9e-6c1f-4f0e-9d35-3b8e1c2a7f10", model: "deepseek-reasoner", usage: nil),
            .blockStart(index: 0, .reasoning(family: nil, itemID: nil)),
            .blockDelta(index: 0, .reasoning("Greeting, ")),
            .blockDelta(index: 0, .reasoning("answer briefly.")),
            .blockStop(index: 0),
            .blockStart(index: 1, .text),
            .blockDelta(index: 1, .text("Hi")),
            .blockDelta(index: 1, .text("!")),
            .blockStop(index: 1),
            .messageDelta(stopReason: .endTurn, stopSequence: nil, usage: Usage(input: 12, output: 30, reasoning: 25)),
            .messageStop,
        ])
    }

    @Test func endingsAndOddChunks() throws {
        let chunk = { (delta: String, finish: String?) in
            SSEEvent(data: #"{"id":"c1","model":"m","choices":[{"index":0,"delta":"# + delta + #","finish_reason":"# + (finish.map { "\"\($0)\"" } ?? "null") + "}]}")
        }
        // EOF after finish_reason without usage or [DONE]: complete, zero usage.
        var ev = try CodecFixtures.decode([chunk(#"{"content":"a"}"#, "length")], with: O.makeStreamDecoder())
        #expect(Array(ev.suffix(2)) == [.messageDelta(stopReason: .maxTokens, stopSequence: nil, usage: Usage()), .messageStop])
        // EOF without finish_reason or [DONE]: an error.
        ev = try CodecFixtures.decode([chunk(#"{"content":"a"}"#, nil)], with: O.makeStreamDecoder())
        guard case .error(let e)? = ev.last else { Issue.record("no error"); return }
        #expect(e.status == 502)
        // [DONE] without finish_reason after a tool call: tool use, blocks closed. Tool call without index (some servers).
        ev = try CodecFixtures.decode([chunk(#"{"tool_calls":[{"id":"t1","function":{"name":"f","arguments":"{}"}}]}"#, nil), SSEEvent(data: "[DONE]")],
                                      with: O.makeStreamDecoder())
        #expect(Array(ev.dropFirst()) == [.blockStart(index: 0, .toolCall(id: "t1", name: "f", signature: nil)),
                                          .blockDelta(index: 0, .toolArguments("{}")), .blockStop(index: 0),
                                          .messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage()), .messageStop])
        // An error chunk mid-stream.
        ev = try CodecFixtures.decode([chunk(#"{"content":"a"}"#, nil),
                                       SSEEvent(data: #"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#)],
                                      with: O.makeStreamDecoder())
        #expect(ev.last == .error(ErrorInfo(kind: .rateLimited, message: "Rate limit reached", status: 429)))
        #expect(throws: TranslationError.self) { try O.makeStreamDecoder().decode(SSEEvent(data: "{oops")) }
    }

    @Test func encodesChunksWithToolIndexesAmongCalls() throws {
        let canonical: [StreamEvent] = [
            .messageStart(id: "msg_01", model: "claude-sonnet-4-6", usage: Usage(input: 10)),
            .blockStart(index: 0, .reasoning(family: .anthropic, itemID: nil)),
            .blockDelta(index: 0, .reasoning("think")),
            .blockDelta(index: 0, .reasoningSignature("sig")),
            .blockStop(index: 0),
            .blockStart(index: 1, .text),
            .blockDelta(index: 1, .text("Hi")),
            .blockStop(index: 1),
            .blockStart(index: 2, .toolCall(id: "toolu_a", name: "f", signature: nil)),
            .blockDelta(index: 2, .toolArguments(#"{"x":"#)),
            .blockDelta(index: 2, .toolArguments("1}")),
            .blockStop(index: 2),
            .blockStart(index: 3, .toolCall(id: "toolu_b", name: "g", signature: nil)),
            .blockStop(index: 3),
            .messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage(input: 10, output: 5, cachedInput: 2)),
            .messageStop,
        ]
        let bytes = CodecFixtures.encode(canonical, with: O.makeStreamEncoder(for: ChatRequest(model: "gpt-4o", streamUsage: true), context: ClientContext()))
        let sse = CodecFixtures.sseEvents(bytes)
        #expect(String(decoding: bytes.suffix(14), as: UTF8.self) == "data: [DONE]\n\n")
        let chunks = sse.dropLast().map { CodecFixtures.parse($0.data) }
        #expect(chunks.allSatisfy { $0["id"] == "chatcmpl-msg_01" && $0["object"] == "chat.completion.chunk" && $0["model"] == "claude-sonnet-4-6" })
        let deltas = chunks.map { $0["choices"]?[0]?["delta"] }
        #expect(deltas[0] == ["role": "assistant", "content": ""])
        #expect(deltas[1] == ["reasoning_content": "think"])
        #expect(deltas[2] == ["content": "Hi"])
        #expect(deltas[3] == ["tool_calls": [["index": 0, "id": "toolu_a", "type": "function", "function": ["name": "f", "arguments": ""]]]])
        #expect(deltas[4] == ["tool_calls": [["index": 0, "function": ["arguments": #"{"x":"#]]]])
        #expect(deltas[5] == ["tool_calls": [["index": 0, "function": ["arguments": "1}"]]]])
        #expect(deltas[6] == ["tool_calls": [["index": 1, "id": "toolu_b", "type": "function", "function": ["name": "g", "arguments": ""]]]])
        #expect(deltas[7] == ["tool_calls": [["index": 1, "function": ["arguments": "{}"]]]])   // a call without arguments
        #expect(deltas[8] == .object([]) && chunks[8]["choices"]?[0]?["finish_reason"] == "tool_calls")
        #expect(chunks[9]["choices"] == [] && chunks[9]["usage"]?["prompt_tokens_details"]?["cached_tokens"] == 2)
        #expect(chunks.dropLast().allSatisfy { $0["usage"] == .null }, "with include_usage every other chunk has usage: null")
        #expect(chunks.count == 10)
        // Round trip through our own decoder.
        let back = try CodecFixtures.decode(sse, with: O.makeStreamDecoder())
        #expect(back.last == .messageStop)
        #expect(back.contains(.blockStart(index: 2, .toolCall(id: "toolu_a", name: "f", signature: nil))))
        #expect(back.contains(.messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage(input: 10, output: 5, cachedInput: 2))))
    }

    @Test func noUsageChunkUnlessAskedAndErrorsEndTheStream() {
        var sse = CodecFixtures.sseEvents(CodecFixtures.encode([
            .messageStart(id: "chatcmpl-x", model: "m", usage: nil), .blockStart(index: 0, .text), .blockDelta(index: 0, .text("a")),
            .blockStop(index: 0), .messageDelta(stopReason: .endTurn, stopSequence: nil, usage: Usage(input: 1, output: 1)), .messageStop,
        ], with: O.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext())))
        #expect(sse.count == 4 && sse.last?.data == "[DONE]")
        #expect(CodecFixtures.parse(sse[2].data)["choices"]?[0]?["finish_reason"] == "stop")
        // An error mid-stream: an error object, then nothing (no [DONE]).
        sse = CodecFixtures.sseEvents(CodecFixtures.encode([
            .messageStart(id: "chatcmpl-x", model: "m", usage: nil), .error(ErrorInfo(kind: .overloaded, message: "busy", status: 529)),
            .messageStop,
        ], with: O.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext())))
        #expect(sse.count == 2)
        #expect(CodecFixtures.parse(sse[1].data) == ["error": ["message": "busy", "type": "server_error", "param": nil, "code": "server_is_overloaded"]])
        // Events that never ended: an error, not [DONE].
        sse = CodecFixtures.sseEvents(CodecFixtures.encode([.blockStart(index: 0, .text)],
                                                           with: O.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext())))
        #expect(sse.last.map { CodecFixtures.parse($0.data)["error"] != nil } == true)
    }
}
