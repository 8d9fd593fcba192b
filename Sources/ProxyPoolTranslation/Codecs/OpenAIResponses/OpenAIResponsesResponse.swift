#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension OpenAIResponsesCodec {
    // MARK: - Client side: response

    public static func encodeResponse(_ response: ChatResponse, for request: ChatRequest) -> JSONNode {
        var items: [JSONNode] = []
        var lastWasText = false
        for block in response.content {
            switch block {
            case .text(let t):
                if lastWasText {
                    var msg = items.removeLast()
                    var content = msg["content"]?.array ?? []
                    content.append(outputText(t))
                    msg.set("content", .array(content))
                    items.append(msg)
                } else {
                    items.append(messageItem(id: IDs.make("msg_"), texts: [t], status: "completed"))
                }
                lastWasText = true
                continue
            case .reasoning(let r):
                items.append(reasoningItem(id: r.itemID ?? IDs.make("rs_"), summary: r.text.isEmpty ? [] : [r.text],
                                           encrypted: Envelope.encode(r)))
            case .toolCall(let c):
                items.append(callItem(c, tools: request.tools, status: "completed"))
            case .image, .document, .toolResult:
                break
            }
            lastWasText = false
        }
        var r = ResponseObject(id: IDs.make("resp_"), model: response.model, request: request)
        r.output = items
        r.usage = response.usage
        r.setStop(response.stopReason)
        return r.node()
    }

    static func outputText(_ t: String) -> JSONNode {
        ["type": "output_text", "text": .string(t), "annotations": [], "logprobs": []]
    }

    static func messageItem(id: String, texts: [String], status: String) -> JSONNode {
        ["id": .string(id), "type": "message", "status": .string(status), "role": "assistant",
         "content": .array(texts.map(outputText))]
    }

    static func reasoningItem(id: String, summary: [String], encrypted: String?) -> JSONNode {
        var item: JSONNode = ["id": .string(id), "type": "reasoning",
                              "summary": .array(summary.map { ["type": "summary_text", "text": .string($0)] })]
        if let encrypted { item.set("encrypted_content", .string(encrypted)) }
        return item
    }

    /// The client's form of a call: `function_call`, or `custom_tool_call` for a freeform tool; with the
    /// tool's own name and namespace.
    static func callItem(_ c: ToolCall, tools: [ToolDefinition], status: String, itemID: String? = nil) -> JSONNode {
        let origin = tools.first(where: { $0.name == c.name })?.origin
        let name = origin?.name ?? c.name
        if origin?.freeform == true {
            var item: JSONNode = ["id": .string(itemID ?? IDs.make("ctc_")), "type": "custom_tool_call", "status": .string(status),
                                  "call_id": .string(c.id), "name": .string(name), "input": .string(freeformInput(c.arguments))]
            if let ns = origin?.namespace { item.set("namespace", .string(ns)) }
            return item
        }
        var item: JSONNode = ["id": .string(itemID ?? IDs.make("fc_")), "type": "function_call", "status": .string(status),
                              "arguments": .string(c.arguments), "call_id": .string(c.id), "name": .string(name)]
        if let ns = origin?.namespace { item.set("namespace", .string(ns)) }
        return item
    }

    /// The `input` string of a freeform call's canonical `{"input": "..."}` arguments. A model that wrote
    /// something else is passed through as is, so the client shows what it got.
    static func freeformInput(_ arguments: String) -> String {
        if let v = try? JSONParser.parse(arguments), let s = v["input"]?.string { return s }
        return arguments
    }

    /// The `response` object, as `response.created`, `response.completed` and non-streamed answers carry it.
    struct ResponseObject {
        var id: String
        var model: String
        var createdAt: Int = Int(time(nil))
        var status = "in_progress"
        var incompleteReason: String?
        var error: ErrorInfo?
        var output: [JSONNode] = []
        var usage: Usage?
        let effort: String?
        let summary: String?
        let parallel: Bool
        let toolChoice: JSONNode
        let maxOutputTokens: Int?
        let temperature: Double?
        let topP: Double?

        init(id: String, model: String, request: ChatRequest) {
            self.id = id; self.model = model
            effort = request.reasoning?.effort?.rawValue
            summary = request.reasoning?.includeThoughts == true ? "auto" : nil
            parallel = request.parallelToolCalls ?? true
            switch request.toolChoice {
            case .none?: toolChoice = "none"
            case .required?: toolChoice = "required"
            case .tool(let n)?: toolChoice = ["type": "function", "name": .string(n)]
            default: toolChoice = "auto"
            }
            maxOutputTokens = request.maxOutputTokens
            temperature = request.temperature
            topP = request.topP
        }

        mutating func setStop(_ reason: StopReason) {
            switch reason {
            case .maxTokens: status = "incomplete"; incompleteReason = "max_output_tokens"
            case .contentFilter: status = "incomplete"; incompleteReason = "content_filter"
            case .error: status = "failed"
            default: status = "completed"
            }
        }

        func node() -> JSONNode {
            var u: JSONNode = .null
            if let usage {
                u = ["input_tokens": .int(usage.input), "input_tokens_details": ["cached_tokens": .int(usage.cachedInput)],
                     "output_tokens": .int(usage.output), "output_tokens_details": ["reasoning_tokens": .int(usage.reasoning)],
                     "total_tokens": .int(usage.input + usage.output)]
            }
            var err: JSONNode = .null
            if let error { err = ["code": .string(OpenAIResponsesCodec.errorCode(error.kind)), "message": .string(error.message)] }
            return [
                "id": .string(id), "object": "response", "created_at": .int(createdAt), "status": .string(status),
                "background": false, "error": err,
                "incomplete_details": incompleteReason.map { ["reason": .string($0)] } ?? .null,
                "instructions": .null, "max_output_tokens": maxOutputTokens.map(JSONNode.int) ?? .null,
                "model": .string(model), "output": .array(output.filter { !$0.isNull }), "parallel_tool_calls": .bool(parallel),
                "previous_response_id": .null,
                "reasoning": ["effort": effort.map(JSONNode.string) ?? .null, "summary": summary.map(JSONNode.string) ?? .null],
                "store": false, "temperature": .double(temperature ?? 1), "text": ["format": ["type": "text"]],
                "tool_choice": toolChoice, "tools": [], "top_p": .double(topP ?? 1), "truncation": "disabled",
                "usage": u, "metadata": [:],
            ]
        }
    }

    public static func makeStreamEncoder(for request: ChatRequest, context: ClientContext) -> any StreamEncoder {
        ResponsesStreamEncoder(request: request)
    }
}

extension OpenAIResponsesCodec {
    // MARK: - Upstream side: response

    public static func decodeResponse(_ body: JSONNode) throws(TranslationError) -> ChatResponse {
        guard body.isObject else { throw TranslationError(field: nil, "the upstream answer is not a JSON object") }
        let id = body["id"]?.string ?? IDs.make("resp_")
        let model = body["model"]?.string ?? ""
        var content: [ContentBlock] = []
        var refusal = false
        for item in body["output"]?.array ?? [] {
            switch item["type"]?.string {
            case "message":
                for part in item["content"]?.array ?? [] {
                    if let t = part["text"]?.string, part["type"]?.string == "output_text" { content.append(.text(t)) }
                    if let t = part["refusal"]?.string { content.append(.text(t)); refusal = true }
                }
            case "reasoning":
                content.append(.reasoning(ReasoningBlock(text: reasoningText(item), encrypted: item["encrypted_content"]?.string,
                                                         itemID: item["id"]?.string, family: .openai)))
            case "function_call":
                content.append(.toolCall(ToolCall(id: item["call_id"]?.string ?? item["id"]?.string ?? IDs.make("call_"),
                                                  name: item["name"]?.string ?? "", arguments: nonEmpty(item["arguments"]?.string))))
            case "custom_tool_call":
                content.append(.toolCall(ToolCall(id: item["call_id"]?.string ?? item["id"]?.string ?? IDs.make("call_"),
                                                  name: item["name"]?.string ?? "",
                                                  arguments: JSONWriter.string(["input": .string(item["input"]?.string ?? "")]))))
            default:
                continue
            }
        }
        let hasCall = content.contains { if case .toolCall = $0 { return true }; return false }
        let stop = stopReason(status: body["status"]?.string, incompleteReason: body["incomplete_details"]?["reason"]?.string,
                              hasToolCall: hasCall, refusal: refusal)
        return ChatResponse(id: id, model: model, content: content, stopReason: stop, usage: decodeUsage(body["usage"]))
    }

    static func nonEmpty(_ s: String?) -> String { (s ?? "").isEmpty ? "{}" : s! }

    static func reasoningText(_ item: JSONNode) -> String {
        var texts = (item["summary"]?.array ?? []).compactMap { $0["text"]?.string }
        if texts.isEmpty { texts = (item["content"]?.array ?? []).compactMap { $0["text"]?.string } }
        return texts.joined(separator: "\n\n")
    }

    static func stopReason(status: String?, incompleteReason: String?, hasToolCall: Bool, refusal: Bool) -> StopReason {
        switch status {
        case "incomplete":
            return incompleteReason == "content_filter" ? .contentFilter : .maxTokens
        case "failed", "cancelled":
            return .error
        default:
            if hasToolCall { return .toolUse }
            return refusal ? .refusal : .endTurn
        }
    }

    static func decodeUsage(_ u: JSONNode?) -> Usage {
        guard let u, u.isObject else { return Usage() }
        return Usage(input: u["input_tokens"]?.tokenCount ?? 0, output: u["output_tokens"]?.tokenCount ?? 0,
                     cachedInput: u["input_tokens_details"]?["cached_tokens"]?.tokenCount ?? 0,
                     reasoning: u["output_tokens_details"]?["reasoning_tokens"]?.tokenCount ?? 0)
    }

    public static func makeStreamDecoder() -> any StreamDecoder { ResponsesStreamDecoder() }
}
