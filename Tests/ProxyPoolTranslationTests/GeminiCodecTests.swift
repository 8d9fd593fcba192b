import Testing
@testable import ProxyPoolTranslation

@Suite struct GeminiRequestDecodeTests {
    static let ctx = ClientContext(pathModel: "gemini-2.5-flash", streamFromPath: false)

    @Test func genaiToolFollowUpWithStableIDs() throws {
        let body = RGFixtures.json("gemini/genai-tool-followup.request.json")
        let req = try GeminiCodec.decodeRequest(body, context: Self.ctx)
        #expect(req.model == "gemini-2.5-flash" && req.stream == false)
        #expect(req.messages.map(\.role) == [.user, .assistant, .user])
        guard case .toolCall(let call) = req.messages[1].content[0], case .toolResult(let result) = req.messages[2].content[0] else {
            Issue.record("no call/result"); return
        }
        #expect(call.name == "get_weather" && call.id == "gc_1_0_get_weather")
        #expect(try JSONParser.parse(call.arguments) == ["location": "Paris"])
        #expect(result == ToolResult(callID: call.id, name: "get_weather", content: [.text("sunny, 21C")]))
        // snake_case `parameters_json_schema` is read as JSON Schema.
        #expect(req.tools == [ToolDefinition(name: "get_weather", description: "Weather for a city",
                                             parameters: ["type": "object", "properties": ["location": ["type": "string", "description": "City name"]], "required": ["location"]])])
        // The same history gives the same ids on the next turn.
        let again = try GeminiCodec.decodeRequest(body, context: Self.ctx)
        #expect(again.messages == req.messages)
    }

    @Test func imagesInBothSpellings() throws {
        let b64 = try GeminiCodec.decodeRequest(RGFixtures.json("gemini/genai-image-base64.request.json"), context: Self.ctx)
        #expect(b64.messages[0].content == [
            .image(.base64(mediaType: "image/png", data: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")),
            .text("what is in this image?"),
        ])
        let url = try GeminiCodec.decodeRequest(RGFixtures.json("gemini/genai-image-url.request.json"), context: Self.ctx)
        #expect(url.messages[0].content[0] == .image(.url("https://example.com/cat.png", mediaType: "image/png")))
        let stream = try GeminiCodec.decodeRequest(RGFixtures.json("gemini/genai-stream.request.json"),
                                                  context: ClientContext(pathModel: "models/gemini-2.5-pro", streamFromPath: true))
        #expect(stream.stream && stream.model == "gemini-2.5-pro")
    }

    /// Gemini CLI answers an id-less call with a result carrying an id of its own making
    /// (google-gemini/gemini-cli packages/core/src/utils/generateContentResponseUtilities.ts): it answers the first
    /// id-less call of that name. A result whose id names a call that had one still pairs by id only.
    @Test func aResultsOwnIdAnswersTheIdlessCallOfItsName() throws {
        let body: JSONNode = ["contents": [
            ["role": "user", "parts": [["text": "run it"]]],
            ["role": "model", "parts": [["functionCall": ["name": "run_shell_command", "args": ["command": "echo 1"]]],
                                        ["functionCall": ["name": "read_file", "args": [:], "id": "rf-1"]]]],
            ["role": "user", "parts": [["functionResponse": ["id": "run_shell_command-1796310000000-4e5f6a7b8c9d0", "name": "run_shell_command",
                                                             "response": ["output": "1"]]],
                                       ["functionResponse": ["id": "rf-1", "name": "read_file", "response": ["output": "x"]]]]],
        ]]
        let req = try GeminiCodec.decodeRequest(body, context: Self.ctx)
        #expect(req.messages[2].content == [.toolResult(ToolResult(callID: "gc_1_0_run_shell_command", name: "run_shell_command", content: [.text("1")])),
                                            .toolResult(ToolResult(callID: "rf-1", name: "read_file", content: [.text("x")]))])
        // A call with an id of its own is not answered by a result with another id.
        let wrong: JSONNode = ["contents": [
            ["role": "model", "parts": [["functionCall": ["name": "read_file", "args": [:], "id": "rf-1"]]]],
            ["role": "user", "parts": [["functionResponse": ["id": "rf-2", "name": "read_file", "response": [:]]]]],
        ]]
        #expect(throws: TranslationError.self) { try GeminiCodec.decodeRequest(wrong, context: Self.ctx) }
    }

    @Test func fullRequestFields() throws {
        let body: JSONNode = [
            "systemInstruction": ["role": "user", "parts": [["text": "Be brief."], ["text": "Be kind."]]],
            "contents": [
                ["role": "user", "parts": [["text": "hi"], ["fileData": ["fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc", "mimeType": "application/pdf"]]]],
                ["role": "model", "parts": [
                    ["text": "thinking…", "thought": true, "thoughtSignature": "TS1"],
                    ["functionCall": ["name": "a", "args": ["x": 1]], "thoughtSignature": "CS1"],
                    ["functionCall": ["name": "a", "args": ["x": 2]]],
                    ["functionCall": ["name": "b", "args": [:]]],
                ]],
                ["role": "user", "parts": [
                    ["functionResponse": ["name": "b", "response": ["error": "failed"]]],
                    ["functionResponse": ["name": "a", "response": ["result": "one"]]],
                    ["functionResponse": ["name": "a", "response": ["temp": 21, "sky": "clear"]]],
                ]],
                ["role": "model", "parts": [["text": "done", "thoughtSignature": "TS2"]]],
            ],
            "tools": [["functionDeclarations": [["name": "a", "parameters": ["type": "OBJECT", "properties": ["x": ["type": "INTEGER", "nullable": true]]]],
                                                ["name": "b"]]]],
            "toolConfig": ["functionCallingConfig": ["mode": "ANY", "allowedFunctionNames": ["a"]]],
            "generationConfig": ["maxOutputTokens": 100, "temperature": 0.5, "topP": 0.9, "topK": 40, "stopSequences": ["END"],
                                 "responseMimeType": "application/json", "responseJsonSchema": ["type": "object"],
                                 "thinkingConfig": ["thinkingBudget": 4096, "includeThoughts": true], "seed": 7],
            "safetySettings": [["category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"]],
        ]
        let req = try GeminiCodec.decodeRequest(body, context: Self.ctx)
        #expect(req.system == ["Be brief.", "Be kind."])
        #expect(req.messages[0].content[1] == .document(.fileReference(id: "https://generativelanguage.googleapis.com/v1beta/files/abc", mediaType: "application/pdf", family: .gemini), title: nil))
        #expect(req.messages[1].content[0] == .reasoning(ReasoningBlock(text: "thinking…", signature: "TS1", family: .gemini)))
        #expect(req.messages[1].content[1] == .toolCall(ToolCall(id: "gc_1_0_a", name: "a", arguments: #"{"x":1}"#, signature: "CS1")))
        #expect(req.messages[1].content[2] == .toolCall(ToolCall(id: "gc_1_1_a", name: "a", arguments: #"{"x":2}"#)))
        // Responses matched by name and order, whatever order they come in.
        #expect(req.messages[2].content == [
            .toolResult(ToolResult(callID: "gc_1_2_b", name: "b", content: [.text("failed")], isError: true)),
            .toolResult(ToolResult(callID: "gc_1_0_a", name: "a", content: [.text("one")])),
            .toolResult(ToolResult(callID: "gc_1_1_a", name: "a", content: [.text(#"{"temp":21,"sky":"clear"}"#)])),
        ])
        #expect(req.messages[3].content == [.reasoning(ReasoningBlock(text: "", signature: "TS2", family: .gemini)), .text("done")])
        #expect(req.tools[0].parameters == ["type": "object", "properties": ["x": ["type": ["integer", "null"]]]])
        #expect(req.tools[1].parameters == ["type": "object", "properties": [:]])
        #expect(req.toolChoice == .tool("a"))
        #expect(req.maxOutputTokens == 100 && req.temperature == 0.5 && req.topP == 0.9 && req.topK == 40 && req.stopSequences == ["END"])
        #expect(req.responseFormat == .jsonSchema(name: "response", schema: ["type": "object"], strict: nil))
        #expect(req.reasoning == ReasoningConfig(enabled: true, effort: .medium, budgetTokens: 4096, includeThoughts: true))
        #expect(req.dropped.contains("safetySettings") && req.dropped.contains("generationConfig.seed"))
    }

    @Test(arguments: [("AUTO", [String](), ToolChoice.auto), ("NONE", [], .none), ("ANY", [], .required), ("ANY", ["a"], .tool("a")),
                      ("ANY", ["a", "b"], .required), ("VALIDATED", [], .auto)] as [(String, [String], ToolChoice)])
    func toolChoiceTable(_ mode: String, _ allowed: [String], _ expected: ToolChoice) throws {
        let body: JSONNode = ["contents": [["role": "user", "parts": [["text": "x"]]]],
                              "tools": [["function_declarations": [["name": "a"], ["name": "b"]]]],
                              "tool_config": ["function_calling_config": ["mode": .string(mode), "allowed_function_names": .array(allowed.map(JSONNode.string))]]]
        #expect(try GeminiCodec.decodeRequest(body, context: Self.ctx).toolChoice == expected)
    }

    @Test(arguments: [(0, false, nil), (-1, true, nil), (1024, true, .minimal), (30000, true, .high)] as [(Int, Bool, ReasoningEffort?)])
    func thinkingBudgetTable(_ budget: Int, _ enabled: Bool, _ effort: ReasoningEffort?) throws {
        let body: JSONNode = ["contents": [], "generationConfig": ["thinking_config": ["thinking_budget": .int(budget)]]]
        let r = try GeminiCodec.decodeRequest(body, context: Self.ctx).reasoning
        #expect(r?.enabled == enabled && r?.effort == effort)
    }

    static let errorCases: [(JSONNode, String)] = [
        (["contents": [], "cachedContent": "cachedContents/x"], "cachedContent"),
        (["contents": [["role": "user", "parts": [["text": "x"]]]], "tools": [["googleSearch": [:]]]], "tools[0].googleSearch"),
        (["contents": [["role": "user", "parts": [["text": "x"]]]], "tools": [["codeExecution": [:]]]], "tools[0].codeExecution"),
        (["contents": [], "generationConfig": ["candidateCount": 2]], "generationConfig.candidateCount"),
        (["contents": [], "generationConfig": ["responseLogprobs": true]], "generationConfig.responseLogprobs"),
        (["contents": [], "generationConfig": ["responseModalities": ["AUDIO"]]], "generationConfig.responseModalities"),
        (["contents": [], "generationConfig": ["responseMimeType": "text/x.enum"]], "generationConfig.responseMimeType"),
        (["contents": [], "generationConfig": ["thinkingConfig": ["thinkingLevel": "extreme"]]], "generationConfig.thinkingConfig.thinkingLevel"),
        (["contents": [["role": "user", "parts": [["functionResponse": ["name": "ghost", "response": [:]]]]]]], "contents[0].parts[0].functionResponse"),
        (["contents": [["role": "user", "parts": [["executableCode": ["code": "1"]]]]]], "contents[0].parts[0]"),
        (["contents": [["role": "robot", "parts": []]]], "contents[0].role"),
        (["contents": [["role": "user", "parts": [["inlineData": ["data": "AA"]]]]]], "contents[0].parts[0].inlineData.mimeType"),
        (["contents": [["role": "model", "parts": [["functionCall": ["name": "f", "args": "x"]]]]]], "contents[0].parts[0].functionCall.args"),
        (["contents": [], "toolConfig": ["functionCallingConfig": ["mode": "ANY", "allowedFunctionNames": ["a", "b"]]], "tools": [["functionDeclarations": [["name": "a"], ["name": "b"], ["name": "c"]]]]],
         "toolConfig.functionCallingConfig.allowedFunctionNames"),
    ]

    @Test(arguments: errorCases)
    func rejectsWhatCannotBeTranslated(_ body: JSONNode, _ field: String) {
        #expect { try GeminiCodec.decodeRequest(body, context: Self.ctx) } throws: { ($0 as? TranslationError)?.field == field }
    }

    @Test func modelIsRequired() {
        #expect { try GeminiCodec.decodeRequest(["contents": []], context: ClientContext()) } throws: { ($0 as? TranslationError)?.field == "model" }
    }
}

@Suite struct GeminiClientEncodeTests {
    @Test func responseBody() {
        var req = ChatRequest(model: "gemini-2.5-flash")
        req.reasoning = ReasoningConfig(includeThoughts: true)
        let resp = ChatResponse(id: "resp1", model: "claude-sonnet-4-6", content: [
            .reasoning(ReasoningBlock(text: "hmm", signature: "ANTHROPIC_SIG", family: .anthropic)),
            .reasoning(ReasoningBlock(text: "", signature: "GEM_SIG", family: .gemini)),
            .text("hello"),
            .toolCall(ToolCall(id: "toolu_1", name: "get_weather", arguments: #"{"location":"Paris"}"#, signature: "CALL_SIG")),
        ], stopReason: .toolUse, usage: Usage(input: 100, output: 40, cachedInput: 30, reasoning: 10))
        let n = GeminiCodec.encodeResponse(resp, for: req)
        let parts = n["candidates"]?[0]?["content"]?["parts"]?.array ?? []
        #expect(parts == [
            ["text": "hmm", "thought": true],
            ["text": "hello", "thoughtSignature": "GEM_SIG"],
            // The call's id goes along, so the client's next turn names the same call.
            ["functionCall": ["name": "get_weather", "args": ["location": "Paris"], "id": "toolu_1"], "thoughtSignature": "CALL_SIG"],
        ])
        #expect(n["candidates"]?[0]?["finishReason"] == "STOP" && n["candidates"]?[0]?["content"]?["role"] == "model")
        #expect(n["usageMetadata"] == ["promptTokenCount": 100, "candidatesTokenCount": 30, "totalTokenCount": 140,
                                       "cachedContentTokenCount": 30, "thoughtsTokenCount": 10])
        #expect(n["modelVersion"] == "claude-sonnet-4-6" && n["responseId"] == "resp1")
    }

    @Test(arguments: [(StopReason.endTurn, "STOP"), (.toolUse, "STOP"), (.stopSequence, "STOP"), (.maxTokens, "MAX_TOKENS"),
                      (.contentFilter, "SAFETY"), (.refusal, "STOP"), (.pauseTurn, "STOP"), (.error, "OTHER")] as [(StopReason, String)])
    func finishReasonTable(_ stop: StopReason, _ wire: String) {
        #expect(GeminiCodec.finishReason(stop) == wire)
    }

    @Test(arguments: [(ErrorInfo.Kind.invalidRequest, "INVALID_ARGUMENT"), (.authentication, "UNAUTHENTICATED"), (.permission, "PERMISSION_DENIED"),
                      (.notFound, "NOT_FOUND"), (.rateLimited, "RESOURCE_EXHAUSTED"), (.overloaded, "UNAVAILABLE"), (.server, "INTERNAL"),
                      (.timeout, "DEADLINE_EXCEEDED"), (.tooLarge, "INVALID_ARGUMENT")] as [(ErrorInfo.Kind, String)])
    func errorStatusTable(_ kind: ErrorInfo.Kind, _ status: String) {
        let body = GeminiCodec.encodeError(ErrorInfo(kind: kind, message: "m", status: 429))
        #expect(body == ["error": ["code": 429, "message": "m", "status": .string(status)]])
        // And back (upstream side), by status name.
        if kind != .tooLarge { #expect(GeminiCodec.decodeError(status: 400, body: body).kind == kind) }
    }

    static let events: [StreamEvent] = [
        .messageStart(id: "r1", model: "gpt-5.5", usage: nil),
        .blockStart(index: 0, .text), .blockDelta(index: 0, .text("Hel")), .blockDelta(index: 0, .text("lo")), .blockStop(index: 0),
        .blockStart(index: 1, .toolCall(id: "call_1", name: "get_weather", signature: nil)),
        .blockDelta(index: 1, .toolArguments(#"{"location":"#)), .blockDelta(index: 1, .toolArguments(#""Paris"}"#)), .blockStop(index: 1),
        .messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage(input: 10, output: 5)),
        .messageStop,
    ]

    @Test func sseStream() throws {
        let bytes = RGFixtures.encode(GeminiCodec.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext(geminiSSE: true)), Self.events)
        let chunks = RGFixtures.parseSSE(bytes).map { try! JSONParser.parse($0.data) }
        // As Gemini sends it: the call arrives with the finish reason and usage in the last chunk (code that reads
        // the last chunk's content finds it there), and no chunk holds an empty text part.
        try #require(chunks.count == 3)
        #expect(chunks[0]["candidates"]?[0]?["content"]?["parts"] == [["text": "Hel"]])
        #expect(chunks[1]["candidates"]?[0]?["content"]?["parts"] == [["text": "lo"]])
        #expect(chunks[2]["candidates"]?[0]?["content"]?["parts"] == [["functionCall": ["name": "get_weather", "args": ["location": "Paris"], "id": "call_1"]]])
        #expect(chunks[2]["candidates"]?[0]?["finishReason"] == "STOP")
        #expect(chunks[2]["usageMetadata"]?["totalTokenCount"] == 15)
        #expect(chunks.allSatisfy { $0["responseId"] == "r1" && $0["modelVersion"] == "gpt-5.5" })
        // Our own decoder reads it back to the same calls and text.
        let back = try RGFixtures.decode(GeminiCodec.makeStreamDecoder(), RGFixtures.parseSSE(bytes))
        RGFixtures.checkGrammar(back)
        #expect(back.contains(.blockDelta(index: 0, .text("Hel"))))
        #expect(back.contains { if case .blockStart(1, .toolCall(_, "get_weather", nil)) = $0 { return true }; return false })
        #expect(back.contains(.messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage(input: 10, output: 5))))
    }

    /// Gemini sends the last text together with finishReason and usageMetadata: no closing chunk of its own.
    @Test func aTextAnswerEndsWithItsLastTextAndNoEmptyPart() throws {
        let bytes = RGFixtures.encode(GeminiCodec.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext(geminiSSE: true)), [
            .messageStart(id: "r", model: "m", usage: nil), .blockStart(index: 0, .text), .blockDelta(index: 0, .text("Hi")),
            .blockDelta(index: 0, .text("")), .blockDelta(index: 0, .text(" you")), .blockStop(index: 0),
            .messageDelta(stopReason: .endTurn, stopSequence: nil, usage: Usage(input: 3, output: 1)), .messageStop])
        let chunks = RGFixtures.parseSSE(bytes).map { try! JSONParser.parse($0.data) }
        try #require(chunks.count == 2)
        #expect(chunks[0]["candidates"]?[0]?["content"]?["parts"] == [["text": "Hi"]] && chunks[0]["candidates"]?[0]?["finishReason"] == nil)
        #expect(chunks[1]["candidates"]?[0]?["finishReason"] == "STOP" && chunks[1]["usageMetadata"]?["promptTokenCount"] == 3)
        #expect(chunks[1]["candidates"]?[0]?["content"]?["parts"] == [["text": " you"]] && chunks[1]["candidates"]?[0]?["content"]?["role"] == "model")
        // An answer with nothing to say still ends with a content, without parts.
        let none = RGFixtures.parseSSE(RGFixtures.encode(GeminiCodec.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext(geminiSSE: true)), [
            .messageStart(id: "r", model: "m", usage: nil), .messageDelta(stopReason: .endTurn, stopSequence: nil, usage: Usage()), .messageStop,
        ])).map { try! JSONParser.parse($0.data) }
        #expect(none.count == 1 && none[0]["candidates"]?[0]?["content"] == ["role": "model"])
        for c in chunks {
            for p in c["candidates"]?[0]?["content"]?["parts"]?.array ?? [] { #expect(p["text"]?.string != "", "an empty text part: \(c)") }
        }
    }

    @Test func jsonArrayStreamIsOneValidArray() throws {
        let bytes = RGFixtures.encode(GeminiCodec.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext(geminiSSE: false)), Self.events)
        #expect(bytes.first == UInt8(ascii: "[") && bytes.last == UInt8(ascii: "]"))
        let arr = try JSONParser.parse(bytes).array ?? []
        try #require(arr.count == 3)
        #expect(arr[2]["candidates"]?[0]?["finishReason"] == "STOP" && arr[2]["candidates"]?[0]?["content"]?["parts"]?[0]?["functionCall"] != nil)
        let empty = RGFixtures.encode(GeminiCodec.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext(geminiSSE: false)), [])
        #expect(String(decoding: empty, as: UTF8.self) == "[]")
    }

    @Test func streamErrorChunk() throws {
        let bytes = RGFixtures.encode(GeminiCodec.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext(geminiSSE: false)), [
            .messageStart(id: "r", model: "m", usage: nil), .blockStart(index: 0, .text), .blockDelta(index: 0, .text("x")),
            .error(ErrorInfo(kind: .rateLimited, message: "slow", status: 429)),
        ])
        let arr = try JSONParser.parse(bytes).array ?? []
        #expect(arr.last == ["error": ["code": 429, "message": "slow", "status": "RESOURCE_EXHAUSTED"]])
    }

    @Test func thoughtsStreamOnlyWhenAskedAndSignaturesRideOnTheNextPart() throws {
        var req = ChatRequest(model: "m")
        req.reasoning = ReasoningConfig(includeThoughts: true)
        let events: [StreamEvent] = [
            .messageStart(id: "r", model: "m", usage: nil),
            .blockStart(index: 0, .reasoning(family: .gemini, itemID: nil)), .blockDelta(index: 0, .reasoning("think")),
            .blockDelta(index: 0, .reasoningSignature("SIG")), .blockStop(index: 0),
            .blockStart(index: 1, .text), .blockDelta(index: 1, .text("answer")), .blockStop(index: 1),
            .messageDelta(stopReason: .endTurn, stopSequence: nil, usage: Usage()), .messageStop,
        ]
        let with = RGFixtures.parseSSE(RGFixtures.encode(GeminiCodec.makeStreamEncoder(for: req, context: ClientContext()), events)).map { try! JSONParser.parse($0.data) }
        #expect(with[0]["candidates"]?[0]?["content"]?["parts"] == [["text": "think", "thought": true]])
        #expect(with[1]["candidates"]?[0]?["content"]?["parts"] == [["text": "answer", "thoughtSignature": "SIG"]])
        let without = RGFixtures.parseSSE(RGFixtures.encode(GeminiCodec.makeStreamEncoder(for: ChatRequest(model: "m"), context: ClientContext()), events))
        #expect(without.count == 1, "the answer goes with the finish reason, the signature on it")
    }
}

@Suite struct GeminiUpstreamTests {
    @Test func encodeRequestAlternationAndSignatures() throws {
        var r = ChatRequest(model: "gemini-3-pro-preview", system: ["sys"])
        r.messages = [
            Message(role: .user, content: [.text("a")]),
            Message(role: .user, content: [.text("b"), .image(.base64(mediaType: "image/png", data: "AAAA"))]),
            Message(role: .assistant, content: [
                .reasoning(ReasoningBlock(text: "claude", signature: "X", family: .anthropic)),
                .text("calling"),
                .toolCall(ToolCall(id: "toolu_1", name: "get", arguments: #"{"q":1}"#)),
                .toolCall(ToolCall(id: "toolu_2", name: "9lives", arguments: "{}")),
            ]),
            Message(role: .user, content: [
                .toolResult(ToolResult(callID: "toolu_1", content: [.text("r1")])),
                .toolResult(ToolResult(callID: "toolu_2", content: [.text("bad")], isError: true)),
                .text("go on"),
            ]),
            Message(role: .assistant, content: [
                .reasoning(ReasoningBlock(text: "", signature: "TS", family: .gemini)),
                .text("x"),
                .toolCall(ToolCall(id: "gc_1", name: "get", arguments: "{}", signature: "CS")),
            ]),
        ]
        r.tools = [ToolDefinition(name: "get", description: "d", parameters: ["type": "object", "properties": ["q": ["type": "integer"]], "additionalProperties": false, "$schema": "x"]),
                   ToolDefinition(name: "9lives", parameters: ["type": "object", "properties": [:]])]
        r.toolChoice = .tool("9lives")
        r.maxOutputTokens = 50; r.topK = 3; r.stopSequences = ["Z"]
        r.reasoning = ReasoningConfig(effort: .low, includeThoughts: true)
        let b = try GeminiCodec.encodeRequest(r)
        #expect(b["systemInstruction"] == ["parts": [["text": "sys"]]])
        let contents = b["contents"]!.array!
        #expect(contents.map { $0["role"]!.string! } == ["user", "model", "user", "model"])
        #expect(contents[0]["parts"] == [["text": "a"], ["text": "b"], ["inlineData": ["mimeType": "image/png", "data": "AAAA"]]])
        #expect(contents[1]["parts"] == [
            ["text": "calling"],
            ["functionCall": ["name": "get", "args": ["q": 1]], "thoughtSignature": "skip_thought_signature_validator"],
            ["functionCall": ["name": "_.9lives", "args": [:]]],
        ])
        #expect(contents[2]["parts"] == [
            ["functionResponse": ["name": "get", "response": ["output": "r1"]]],
            ["functionResponse": ["name": "_.9lives", "response": ["error": "bad"]]],
            ["text": "go on"],
        ])
        #expect(contents[3]["parts"] == [["text": "x", "thoughtSignature": "TS"],
                                         ["functionCall": ["name": "get", "args": [:]], "thoughtSignature": "CS"]])
        let decls = b["tools"]?[0]?["functionDeclarations"]?.array ?? []
        #expect(decls[0] == ["name": "get", "description": "d", "parameters": ["type": "object", "properties": ["q": ["type": "integer"]]]])
        #expect(decls[1] == ["name": "_.9lives"])
        #expect(b["toolConfig"] == ["functionCallingConfig": ["mode": "ANY", "allowedFunctionNames": ["_.9lives"]]])
        #expect(b["generationConfig"] == ["maxOutputTokens": 50, "topK": 3, "stopSequences": ["Z"],
                                          "thinkingConfig": ["thinkingBudget": 2048, "includeThoughts": true]])
        // Gemini 2.x gets no sentinel signature.
        r.model = "gemini-2.5-flash"
        let old = try GeminiCodec.encodeRequest(r)
        #expect(old["contents"]?[1]?["parts"]?[1]?["thoughtSignature"] == nil)
    }

    @Test(arguments: [(ToolChoice.auto, "AUTO"), (.none, "NONE"), (.required, "ANY")] as [(ToolChoice, String)])
    func toolChoiceEncodeTable(_ c: ToolChoice, _ mode: String) throws {
        var r = ChatRequest(model: "gemini-2.5-flash"); r.toolChoice = c
        #expect(try GeminiCodec.encodeRequest(r)["toolConfig"]?["functionCallingConfig"]?["mode"]?.string == mode)
    }

    @Test func encodeRequestRefusals() {
        var r = ChatRequest(model: "gemini-2.5-flash")
        r.messages = [Message(role: .user, content: [.image(.url("https://e.com/a.png", mediaType: nil))])]
        #expect { try GeminiCodec.encodeRequest(r) } throws: { ($0 as? TranslationError)?.field == "messages[0].content[0]" }
        r.messages = [Message(role: .user, content: [.image(.fileReference(id: "file-1", mediaType: nil, family: .openai))])]
        #expect { try GeminiCodec.encodeRequest(r) } throws: { ($0 as? TranslationError)?.field == "messages[0].content[0]" }
        r.messages = [Message(role: .user, content: [.toolResult(ToolResult(callID: "nope", content: []))])]
        #expect { try GeminiCodec.encodeRequest(r) } throws: { ($0 as? TranslationError)?.field == "messages[0].content[0]" }
        r.messages = []
        r.tools = [ToolDefinition(name: String(repeating: "a", count: 65), parameters: ["type": "object"])]
        #expect { try GeminiCodec.encodeRequest(r) } throws: { ($0 as? TranslationError)?.field == "tools[0].name" }
        r.tools = [ToolDefinition(name: "ok", parameters: ["type": "object", "properties": ["n": ["$ref": "#/$defs/Node"]],
                                                            "$defs": ["Node": ["type": "object", "properties": ["next": ["$ref": "#/$defs/Node"]]]]])]
        #expect { try GeminiCodec.encodeRequest(r) } throws: { ($0 as? TranslationError)?.field == "tools[0].parameters" }
        r.tools = [ToolDefinition(name: "ok", parameters: ["type": "object", "properties": ["n": ["$ref": "https://x/schema"]]])]
        #expect { try GeminiCodec.encodeRequest(r) } throws: { ($0 as? TranslationError)?.field == "tools[0].parameters" }
    }

    @Test func decodeStreamWithThoughtsTextAndSignedCall() throws {
        let events = try RGFixtures.decode(GeminiCodec.makeStreamDecoder(), RGFixtures.sse("gemini/upstream-thought-text-call.sse"))
        RGFixtures.checkGrammar(events)
        #expect(events.count == 13)
        #expect(events[0] == .messageStart(id: "x9QkaeLrN4Wz1dkP2bK2wQ4", model: "gemini-3-pro-preview", usage: nil))
        #expect(Array(events[1...7]) == [
            .blockStart(index: 0, .reasoning(family: .gemini, itemID: nil)),
            .blockDelta(index: 0, .reasoning("**Checking the weather**\n\nI need the ")),
            .blockDelta(index: 0, .reasoning("weather tool for Paris.")),
            .blockStop(index: 0),
            .blockStart(index: 1, .text), .blockDelta(index: 1, .text("Let me look that up.")), .blockStop(index: 1),
        ])
        guard case .blockStart(2, .toolCall(let id, "get_weather", "CiQBcsjafE2mQ3uVbFJ1tW9pSi0xZz0=")) = events[8] else {
            Issue.record("no signed call: \(events[8])"); return
        }
        #expect(id.hasPrefix("call_"))
        #expect(events[9] == .blockDelta(index: 2, .toolArguments(#"{"location":"Paris","unit":"celsius"}"#)))
        #expect(events[10] == .blockStop(index: 2))
        #expect(events[11] == .messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage(input: 812, output: 89, cachedInput: 512, reasoning: 58)))
        #expect(events[12] == .messageStop)
    }

    @Test func decodeStreamEdgeCases() throws {
        func run(_ chunks: [JSONNode]) throws -> [StreamEvent] {
            try RGFixtures.decode(GeminiCodec.makeStreamDecoder(), chunks.map { SSEEvent(data: JSONWriter.string($0)) })
        }
        // No finishReason: an error, not a silent success.
        let cut = try run([["candidates": [["content": ["role": "model", "parts": [["text": "par"]]]]]]])
        RGFixtures.checkGrammar(cut)
        guard case .error? = cut.last else { Issue.record("expected an error"); return }
        // A signature on an empty trailing text part closes the thought run; MAX_TOKENS; renamed function.
        let e = try run([
            ["candidates": [["content": ["role": "model", "parts": [["text": "t", "thought": true]]]]]],
            ["candidates": [["content": ["role": "model", "parts": [["text": "", "thoughtSignature": "S"], ["functionCall": ["name": "_.9lives", "args": [:]]]]], "finishReason": "MAX_TOKENS"]]],
        ])
        RGFixtures.checkGrammar(e)
        #expect(e.contains(.blockDelta(index: 0, .reasoningSignature("S"))))
        #expect(e.contains { if case .blockStart(_, .toolCall(_, "9lives", nil)) = $0 { return true }; return false })
        #expect(e.contains(.messageDelta(stopReason: .maxTokens, stopSequence: nil, usage: Usage())))
        // An error chunk.
        let err = try run([["error": ["code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"]]])
        #expect(err == [.error(ErrorInfo(kind: .rateLimited, message: "quota", status: 429))])
        // Blocked prompt.
        let blocked = try run([["promptFeedback": ["blockReason": "SAFETY"], "usageMetadata": ["promptTokenCount": 3]]])
        RGFixtures.checkGrammar(blocked)
        #expect(blocked.contains(.messageDelta(stopReason: .contentFilter, stopSequence: nil, usage: Usage(input: 3))))
    }

    @Test(arguments: [("STOP", false, StopReason.endTurn), ("STOP", true, .toolUse), ("MAX_TOKENS", false, .maxTokens), ("SAFETY", false, .contentFilter),
                      ("RECITATION", false, .contentFilter), ("PROHIBITED_CONTENT", false, .contentFilter), ("MALFORMED_FUNCTION_CALL", false, .error),
                      ("OTHER", false, .endTurn), ("FINISH_REASON_UNSPECIFIED", false, .endTurn)] as [(String, Bool, StopReason)])
    func stopReasonTable(_ wire: String, _ call: Bool, _ stop: StopReason) {
        #expect(GeminiCodec.stopReason(wire, hasCall: call) == stop)
    }

    @Test func decodeNonStreamed() throws {
        let body: JSONNode = ["candidates": [["content": ["role": "model", "parts": [
            ["text": "plan", "thought": true], ["text": "hi", "thoughtSignature": "S"], ["functionCall": ["name": "f", "args": ["a": 1], "id": "fc_1"], "thoughtSignature": "C"]]],
            "finishReason": "STOP", "index": 0]],
            "usageMetadata": ["promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 2, "totalTokenCount": 17],
            "modelVersion": "gemini-2.5-flash", "responseId": "abc"]
        let r = try GeminiCodec.decodeResponse(body)
        #expect(r.id == "abc" && r.model == "gemini-2.5-flash" && r.stopReason == .toolUse)
        #expect(r.content.count == 4)
        #expect(r.content[0] == .reasoning(ReasoningBlock(text: "plan", family: .gemini)))
        #expect(r.content[1] == .reasoning(ReasoningBlock(text: "", signature: "S", family: .gemini)))
        #expect(r.content[2] == .text("hi"))
        guard case .toolCall(let c) = r.content[3] else { Issue.record("no call"); return }
        #expect(c.id == "fc_1" && c.name == "f" && c.arguments == #"{"a":1}"# && c.signature == "C")
        #expect(r.usage == Usage(input: 10, output: 7, reasoning: 2))
        // And the Gemini client gets the same parts back.
        var req = ChatRequest(model: "m"); req.reasoning = ReasoningConfig(includeThoughts: true)
        let parts = GeminiCodec.encodeResponse(r, for: req)["candidates"]?[0]?["content"]?["parts"]
        #expect(parts == body["candidates"]?[0]?["content"]?["parts"])
    }

    @Test func decodeErrorBodies() {
        let e = GeminiCodec.decodeError(status: 429, body: ["error": ["code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"]])
        #expect(e == ErrorInfo(kind: .rateLimited, message: "Resource has been exhausted", status: 429))
        let arr = GeminiCodec.decodeError(status: 503, body: [["error": ["code": 503, "message": "overloaded", "status": "UNAVAILABLE"]]])
        #expect(arr.kind == .overloaded && arr.message == "overloaded")
        #expect(GeminiCodec.decodeError(status: 500, body: nil).kind == .server)
        #expect(GeminiCodec.decodeError(status: 404, body: nil).kind == .notFound)
    }
}

@Suite struct GeminiSchemaTests {
    /// Every Claude Code tool schema becomes one Gemini accepts: no `$schema`, no `additionalProperties`,
    /// and nothing outside the supported keyword set, at any depth.
    @Test func claudeCodeToolSchemas() throws {
        let tools = RGFixtures.json("gemini/claude-code-tools.json").array ?? []
        #expect(tools.count == 12)
        for t in tools {
            let s = try GeminiSchema.sanitize(t["input_schema"]!, field: "x")
            checkSubset(s, path: t["name"]!.string!)
        }
        let bash = tools.first { $0["name"] == "Bash" }!
        let s = try GeminiSchema.sanitize(bash["input_schema"]!, field: "x")
        #expect(s["properties"]?["command"]?["type"] == "string")
        #expect(s["required"]?.array?.contains("command") == true)
    }

    /// The same for every tool Codex offers (classic and code mode, freeform wrappers included).
    @Test func codexToolSchemas() throws {
        for f in ["openai-responses/codex-tool-followup-with-reasoning.request.json", "openai-responses/codex-code-mode-followup.request.json",
                  "openai-responses/codex-gpt-5.5-followup.request.json"] {
            let req = try OpenAIResponsesCodec.decodeRequest(RGFixtures.json(f), context: ClientContext())
            for t in req.tools { checkSubset(try GeminiSchema.sanitize(t.parameters, field: "x"), path: t.name) }
            let body = try GeminiCodec.encodeRequest(ChatRequest(model: "gemini-2.5-pro", tools: req.tools))
            #expect(body["tools"]?[0]?["functionDeclarations"]?.array?.count == req.tools.count)
        }
    }

    func checkSubset(_ s: JSONNode, path: String) {
        for f in s.fields ?? [] {
            #expect(GeminiSchema.kept.contains(f.key), "\(path): keyword \(f.key) left in")
            switch f.key {
            case "properties": for p in f.value.fields ?? [] { checkSubset(p.value, path: "\(path).\(p.key)") }
            case "items": checkSubset(f.value, path: "\(path)[]")
            case "anyOf": for b in f.value.array ?? [] { checkSubset(b, path: "\(path)|") }
            case "type": #expect(f.value.string != nil, "\(path): type must be one string")
            case "enum": #expect(f.value.array?.allSatisfy { $0.string != nil } == true, "\(path): enum must be strings")
            default: break
            }
        }
    }

    @Test(arguments: [
        (["type": ["string", "null"]] as JSONNode, ["type": "string", "nullable": true] as JSONNode),
        (["anyOf": [["type": "integer"], ["type": "null"]], "description": "n"], ["type": "integer", "nullable": true, "description": "n"]),
        (["oneOf": [["type": "string"], ["type": "integer"]]], ["anyOf": [["type": "string"], ["type": "integer"]]]),
        (["type": ["string", "integer"]], ["anyOf": [["type": "string"], ["type": "integer"]]]),
        (["const": "fixed"], ["enum": ["fixed"], "type": "string"]),
        (["type": "integer", "enum": [1, 2]], ["type": "integer", "description": "Allowed values: 1, 2."]),
        (["type": "string", "format": "uri"], ["type": "string", "description": "Format: uri."]),
        (["type": "string", "format": "date-time"], ["type": "string", "format": "date-time"]),
        (["type": "number", "exclusiveMinimum": 0], ["type": "number", "minimum": 0]),
        (["type": "object", "properties": ["a": ["type": "string"]], "required": ["a", "ghost"], "additionalProperties": false, "$schema": "x"],
         ["type": "object", "properties": ["a": ["type": "string"]], "required": ["a"]]),
        (["allOf": [["type": "object", "properties": ["a": ["type": "string"]], "required": ["a"]],
                    ["properties": ["b": ["type": "integer"]], "required": ["b"]]]],
         ["type": "object", "properties": ["a": ["type": "string"], "b": ["type": "integer"]], "required": ["a", "b"]]),
        (["type": "object", "properties": ["p": ["$ref": "#/$defs/P"]], "$defs": ["P": ["type": "object", "properties": ["x": ["type": "string"]]]]],
         ["type": "object", "properties": ["p": ["type": "object", "properties": ["x": ["type": "string"]]]]]),
        (["type": "array", "items": ["type": "string", "default": "a"], "uniqueItems": true], ["type": "array", "items": ["type": "string"]]),
    ] as [(JSONNode, JSONNode)])
    func rewriteTable(_ input: JSONNode, _ expected: JSONNode) throws {
        #expect(try GeminiSchema.sanitize(input, field: "f") == expected)
    }
}
