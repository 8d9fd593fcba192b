import Testing
@testable import ProxyPoolTranslation

/// Codex (Responses) ⇄ Gemini, both ways, through the canonical model.
@Suite struct ResponsesGeminiCrossTests {
    /// A Codex tool follow-up with reasoning, re-encoded for Gemini: developer messages → systemInstruction,
    /// strict alternation, the OpenAI-encrypted reasoning dropped (another family cannot read it), the call
    /// and its output paired by name, and every tool schema in Gemini's subset.
    @Test func codexFollowUpToGeminiRequest() throws {
        var req = try OpenAIResponsesCodec.decodeRequest(RGFixtures.json("openai-responses/codex-tool-followup-with-reasoning.request.json"), context: ClientContext())
        req.model = "gemini-2.5-pro"
        let body = try GeminiCodec.encodeRequest(req)
        #expect(body["systemInstruction"]?["parts"]?.array?.count == 2)
        let contents = body["contents"]!.array!
        #expect(contents.map { $0["role"]!.string! } == ["user", "model", "user"])
        #expect(contents[0]["parts"]?.array?.count == 2)
        #expect(contents[1]["parts"] == [["functionCall": ["name": "exec_command", "args": ["cmd": "echo ok"]]]])
        #expect(contents[2]["parts"]?[0]?["functionResponse"]?["name"] == "exec_command")
        #expect(contents[2]["parts"]?[0]?["functionResponse"]?["response"]?["output"]?.string?.hasSuffix("Output:\nok\n") == true)
        let decls = body["tools"]?[0]?["functionDeclarations"]?.array ?? []
        #expect(decls.count == 12)
        #expect(decls.contains { $0["name"] == "multi_agent_v1__spawn_agent" })
        #expect(body["generationConfig"]?["thinkingConfig"]?["includeThoughts"] == true)
        #expect(!JSONWriter.string(body).contains("additionalProperties"))
    }

    /// Code mode: the freeform `exec` call in the history goes to Gemini as a function call with its
    /// `input` string, and to Gemini 3 with the documented sentinel signature (no Gemini signature exists).
    @Test func codexCodeModeToGemini3() throws {
        var req = try OpenAIResponsesCodec.decodeRequest(RGFixtures.json("openai-responses/codex-code-mode-followup.request.json"), context: ClientContext())
        req.model = "gemini-3-pro-preview"
        let body = try GeminiCodec.encodeRequest(req)
        let contents = body["contents"]!.array!
        let model = contents[contents.count - 2]
        #expect(model["role"] == "model")
        #expect(model["parts"]?[0]?["functionCall"]?["name"] == "exec")
        #expect(model["parts"]?[0]?["functionCall"]?["args"]?["input"]?.string?.hasPrefix("const r = await tools.exec_command") == true)
        #expect(model["parts"]?[0]?["thoughtSignature"] == "skip_thought_signature_validator")
        #expect(contents.last?["parts"]?[0]?["functionResponse"]?["response"]?["output"] == "Script completed\nWall time 0.1 seconds\nOutput:\n\nok\n")
    }

    /// A Gemini stream with thoughts, text and a signed function call, shown to Codex: the full Responses
    /// sequence, the call as a `function_call` item, and the Gemini signature kept in the reasoning item's
    /// `encrypted_content` so that Codex echoes it and the next Gemini request carries it again.
    @Test func geminiStreamToCodexAndBack() throws {
        let canonical = try RGFixtures.decode(GeminiCodec.makeStreamDecoder(), RGFixtures.sse("gemini/upstream-thought-text-call.sse"))
        var client = ChatRequest(model: "gpt-5-codex", stream: true)
        client.tools = [ToolDefinition(name: "get_weather", parameters: ["type": "object"])]
        client.reasoning = ReasoningConfig(includeThoughts: true)
        let bytes = RGFixtures.encode(OpenAIResponsesCodec.makeStreamEncoder(for: client, context: ClientContext()), canonical)
        let events = RGFixtures.responsesEvents(bytes)
        let types = events.map(\.type)
        #expect(types.first == "response.created" && types[1] == "response.in_progress" && types.last == "response.completed")
        // Codex needs output_item.done for every item, and content events only inside added/done pairs.
        #expect(types.filter { $0 == "response.output_item.added" }.count == 3)
        #expect(types.filter { $0 == "response.output_item.done" }.count == 3)
        #expect(types.contains("response.reasoning_summary_text.delta") && types.contains("response.function_call_arguments.done"))
        if let added = types.firstIndex(of: "response.content_part.added"), let delta = types.firstIndex(of: "response.output_text.delta") {
            #expect(added < delta)
        } else { Issue.record("no text part") }
        let completed = events.last!.data["response"]!
        #expect(completed["usage"] == ["input_tokens": 812, "input_tokens_details": ["cached_tokens": 512], "output_tokens": 89,
                                       "output_tokens_details": ["reasoning_tokens": 58], "total_tokens": 901])
        let output = completed["output"]!.array!
        #expect(output.map { $0["type"]!.string! } == ["reasoning", "message", "function_call"])
        #expect(output[2]["name"] == "get_weather" && output[2]["arguments"] == #"{"location":"Paris","unit":"celsius"}"#)

        // Codex's next request echoes those items; the call's Gemini signature is on the function call itself,
        // which Codex does not echo — but thoughts without a signature are dropped and the call goes back
        // unsigned, so the encoder supplies the sentinel for Gemini 3.
        let callID = output[2]["call_id"]!.string!
        var items = output
        items.append(["type": "function_call_output", "call_id": .string(callID), "output": "18C, cloudy"])
        let next: JSONNode = ["model": "gpt-5-codex", "input": .array([["role": "user", "content": "weather in Paris?"]] + items),
                              "tools": [["type": "function", "name": "get_weather", "parameters": ["type": "object", "properties": ["location": ["type": "string"]]]]]]
        var req = try OpenAIResponsesCodec.decodeRequest(next, context: ClientContext())
        req.model = "gemini-3-pro-preview"
        let body = try GeminiCodec.encodeRequest(req)
        let contents = body["contents"]!.array!
        #expect(contents.map { $0["role"]!.string! } == ["user", "model", "user"])
        let parts = contents[1]["parts"]!.array!
        #expect(parts.contains { $0["functionCall"]?["name"] == "get_weather" && $0["thoughtSignature"] != nil })
        #expect(contents[2]["parts"]?[0] == ["functionResponse": ["name": "get_weather", "response": ["output": "18C, cloudy"]]])
    }

    /// The reverse: an upstream Responses stream (reasoning, text, streamed call) shown to a Gemini client,
    /// then the genai SDK's follow-up (which has no ids) decoded and sent back to the Responses upstream with
    /// the call and its output paired.
    @Test func responsesStreamToGeminiClientAndBack() throws {
        let canonical = try RGFixtures.decode(OpenAIResponsesCodec.makeStreamDecoder(), RGFixtures.sse("openai-responses/upstream-reasoning-text-call.sse"))
        let bytes = RGFixtures.encode(GeminiCodec.makeStreamEncoder(for: ChatRequest(model: "gemini-2.5-flash"), context: ClientContext(geminiSSE: true)), canonical)
        let chunks = RGFixtures.parseSSE(bytes).map { try! JSONParser.parse($0.data) }
        let parts = chunks.flatMap { $0["candidates"]?[0]?["content"]?["parts"]?.array ?? [] }
        // Thoughts were not asked for: only the text and the whole call.
        #expect(parts.compactMap { $0["text"]?.string }.joined() == "I'll run it now.")
        let call = try #require(parts.first { $0["functionCall"] != nil })
        #expect(call["functionCall"] == ["name": "exec_command", "args": ["cmd": "echo ok", "workdir": "/tmp"], "id": "call_AbC123"])
        #expect(chunks.last?["candidates"]?[0]?["finishReason"] == "STOP")
        #expect(chunks.last?["usageMetadata"] == ["promptTokenCount": 5120, "candidatesTokenCount": 52, "totalTokenCount": 5300,
                                                  "cachedContentTokenCount": 4096, "thoughtsTokenCount": 128])

        let followUp: JSONNode = ["contents": [
            ["role": "user", "parts": [["text": "run echo ok"]]],
            ["role": "model", "parts": [["text": "I'll run it now."], call]],
            ["role": "user", "parts": [["functionResponse": ["name": "exec_command", "response": ["output": "ok\n"]]]]],
        ], "tools": [["functionDeclarations": [["name": "exec_command", "parametersJsonSchema": ["type": "object", "properties": ["cmd": ["type": "string"]]]]]]]]
        var req = try GeminiCodec.decodeRequest(followUp, context: ClientContext(pathModel: "gemini-2.5-flash", streamFromPath: true))
        req.model = "gpt-5.5"
        let body = try OpenAIResponsesCodec.encodeRequest(req)
        let input = body["input"]!.array!
        #expect(input.map { $0["type"]!.string! } == ["message", "message", "function_call", "function_call_output"])
        #expect(input[2]["call_id"] == input[3]["call_id"])
        #expect(input[2]["arguments"] == #"{"cmd":"echo ok","workdir":"/tmp"}"#)
        #expect(input[3]["output"] == "ok\n")
        #expect(body["stream"] == true && body["store"] == false)
    }

    /// Claude-style signed thinking reaching Codex survives the round trip through `encrypted_content`.
    @Test func anthropicThinkingSurvivesCodex() throws {
        let n = OpenAIResponsesCodec.encodeResponse(ChatResponse(id: "m", model: "claude", content: [
            .reasoning(ReasoningBlock(text: "t", signature: "SIG", family: .anthropic)),
            .toolCall(ToolCall(id: "toolu_1", name: "f", arguments: "{}")),
        ], stopReason: .toolUse), for: ChatRequest(model: "gpt-5-codex"))
        var items = n["output"]!.array!
        items.append(["type": "function_call_output", "call_id": "toolu_1", "output": "done"])
        let req = try OpenAIResponsesCodec.decodeRequest(["model": "gpt-5-codex", "input": .array(items)], context: ClientContext())
        #expect(req.messages[0].content[0] == .reasoning(ReasoningBlock(text: "t", signature: "SIG", itemID: items[0]["id"]!.string!, family: .anthropic)))
        // Sent to Gemini, Anthropic's thinking is dropped.
        var g = req; g.model = "gemini-2.5-flash"
        #expect(try GeminiCodec.encodeRequest(g)["contents"]?[0]?["parts"] == [["functionCall": ["name": "f", "args": [:]]]])
    }
}
