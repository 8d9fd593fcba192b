import ProxyPoolCore

// MARK: - Client stream: canonical events → Responses SSE

/// Writes the Responses event sequence as canonical events arrive: `response.created`, `response.in_progress`,
/// then per output item `output_item.added`, its content events and `output_item.done`, and a terminal
/// `response.completed` / `response.incomplete` / `response.failed` carrying the whole response object. The
/// output items are kept (the terminal event must repeat them); nothing is held back from the client.
final class ResponsesStreamEncoder: StreamEncoder {
    enum Kind { case text, function, freeform, reasoning }

    struct Item {
        var kind: Kind
        var outputIndex: Int
        var id: String
        var text = ""
        var call: ToolCall?
        var summaryOpen = false
        var summaries: [String] = []
        var encrypted: String?
        var signature: String?
        var family: Family?
        var redacted = false
    }

    let request: ChatRequest
    var response: OpenAIResponsesCodec.ResponseObject
    var seq = 0
    var started = false
    var finished = false
    var items: [Int: Item] = [:]
    var stop: StopReason = .endTurn

    init(request: ChatRequest) {
        self.request = request
        response = OpenAIResponsesCodec.ResponseObject(id: IDs.make("resp_"), model: request.model, request: request)
    }

    func emit(_ type: String, _ fields: [(String, JSONNode)], into out: inout [UInt8]) {
        var obj: [(key: String, value: JSONNode)] = [(key: "type", value: .string(type))]
        for f in fields { obj.append((key: f.0, value: f.1)) }
        obj.append((key: "sequence_number", value: .int(seq)))
        seq += 1
        SSEWriter.event(type, .object(obj), into: &out)
    }

    func start(into out: inout [UInt8]) {
        guard !started else { return }
        started = true
        emit("response.created", [("response", response.node())], into: &out)
        emit("response.in_progress", [("response", response.node())], into: &out)
    }

    func encode(_ event: StreamEvent, into out: inout [UInt8]) {
        guard !finished else { return }
        switch event {
        case .messageStart(_, let model, _):
            if !model.isEmpty { response.model = model }
            start(into: &out)
        case .blockStart(let index, let kind):
            start(into: &out)
            open(index, kind, into: &out)
        case .blockDelta(let index, let delta):
            start(into: &out)
            guard var item = items[index] else { return }
            let oi = JSONNode.int(item.outputIndex)
            switch delta {
            case .text(let t):
                guard item.kind == .text, !t.isEmpty else { return }   // OpenAI sends no empty delta
                item.text += t
                emit("response.output_text.delta", [("item_id", .string(item.id)), ("output_index", oi), ("content_index", 0),
                                                    ("delta", .string(t)), ("logprobs", [])], into: &out)
            case .toolArguments(let a):
                guard var call = item.call, !a.isEmpty else { return }
                call.arguments += a
                item.call = call
                if item.kind == .function {
                    emit("response.function_call_arguments.delta", [("item_id", .string(item.id)), ("output_index", oi),
                                                                    ("delta", .string(a))], into: &out)
                }
            case .reasoning(let t):
                guard item.kind == .reasoning, !t.isEmpty else { return }
                if !item.summaryOpen {
                    item.summaryOpen = true
                    item.summaries.append("")
                    emit("response.reasoning_summary_part.added", [("item_id", .string(item.id)), ("output_index", oi),
                                                                   ("summary_index", .int(item.summaries.count - 1)),
                                                                   ("part", ["type": "summary_text", "text": ""])], into: &out)
                }
                item.summaries[item.summaries.count - 1] += t
                emit("response.reasoning_summary_text.delta", [("item_id", .string(item.id)), ("output_index", oi),
                                                               ("summary_index", .int(item.summaries.count - 1)),
                                                               ("delta", .string(t))], into: &out)
            case .reasoningSignature(let s):
                item.signature = (item.signature ?? "") + s
            case .reasoningEncrypted(let e):
                item.encrypted = (item.encrypted ?? "") + e
            }
            items[index] = item
        case .blockStop(let index):
            close(index, into: &out)
        case .messageDelta(let reason, _, let usage):
            stop = reason
            response.usage = usage
        case .messageStop:
            start(into: &out)
            for index in items.keys.sorted() { close(index, into: &out) }
            response.setStop(stop)
            let name = response.status == "incomplete" ? "response.incomplete" : (response.status == "failed" ? "response.failed" : "response.completed")
            emit(name, [("response", response.node())], into: &out)
            finished = true
        case .error(let info):
            fail(info, into: &out)
        }
    }

    func fail(_ info: ErrorInfo, into out: inout [UInt8]) {
        start(into: &out)
        response.status = "failed"
        response.error = info
        emit("response.failed", [("response", response.node())], into: &out)
        finished = true
    }

    func open(_ index: Int, _ kind: BlockStart, into out: inout [UInt8]) {
        let oi = response.output.count + items.count
        switch kind {
        case .text:
            let item = Item(kind: .text, outputIndex: oi, id: IDs.make("msg_"))
            items[index] = item
            emit("response.output_item.added", [("output_index", .int(oi)),
                                                ("item", OpenAIResponsesCodec.messageItem(id: item.id, texts: [], status: "in_progress"))], into: &out)
            emit("response.content_part.added", [("item_id", .string(item.id)), ("output_index", .int(oi)), ("content_index", 0),
                                                 ("part", OpenAIResponsesCodec.outputText(""))], into: &out)
        case .toolCall(let id, let name, _):
            let freeform = request.tools.first(where: { $0.name == name })?.origin?.freeform == true
            let call = ToolCall(id: id, name: name, arguments: "")
            let item = Item(kind: freeform ? .freeform : .function, outputIndex: oi, id: IDs.make(freeform ? "ctc_" : "fc_"), call: call)
            items[index] = item
            var added = OpenAIResponsesCodec.callItem(call, tools: request.tools, status: "in_progress", itemID: item.id)
            if freeform { added.set("input", "") }
            emit("response.output_item.added", [("output_index", .int(oi)), ("item", added)], into: &out)
        case .reasoning(let family, let itemID):
            let item = Item(kind: .reasoning, outputIndex: oi, id: itemID ?? IDs.make("rs_"), family: family)
            items[index] = item
            emit("response.output_item.added", [("output_index", .int(oi)),
                                                ("item", OpenAIResponsesCodec.reasoningItem(id: item.id, summary: [], encrypted: nil))], into: &out)
        case .encryptedReasoning(let block):
            var item = Item(kind: .reasoning, outputIndex: oi, id: block.itemID ?? IDs.make("rs_"), family: block.family)
            if !block.text.isEmpty { item.summaries = [block.text] }
            item.encrypted = block.encrypted; item.signature = block.signature; item.redacted = block.redacted
            items[index] = item
            emit("response.output_item.added", [("output_index", .int(oi)),
                                                ("item", OpenAIResponsesCodec.reasoningItem(id: item.id, summary: [], encrypted: nil))], into: &out)
        }
    }

    func close(_ index: Int, into out: inout [UInt8]) {
        guard let item = items.removeValue(forKey: index) else { return }
        let oi = JSONNode.int(item.outputIndex)
        let id = JSONNode.string(item.id)
        let done: JSONNode
        switch item.kind {
        case .text:
            emit("response.output_text.done", [("item_id", id), ("output_index", oi), ("content_index", 0),
                                               ("text", .string(item.text)), ("logprobs", [])], into: &out)
            emit("response.content_part.done", [("item_id", id), ("output_index", oi), ("content_index", 0),
                                                ("part", OpenAIResponsesCodec.outputText(item.text))], into: &out)
            done = OpenAIResponsesCodec.messageItem(id: item.id, texts: [item.text], status: "completed")
        case .function:
            var call = item.call!
            if call.arguments.isEmpty { call.arguments = "{}" }
            let name = request.tools.first(where: { $0.name == call.name })?.origin?.name ?? call.name
            emit("response.function_call_arguments.done", [("item_id", id), ("output_index", oi), ("name", .string(name)),
                                                            ("arguments", .string(call.arguments))], into: &out)
            done = OpenAIResponsesCodec.callItem(call, tools: request.tools, status: "completed", itemID: item.id)
        case .freeform:
            let call = item.call!
            let input = OpenAIResponsesCodec.freeformInput(call.arguments)
            if !input.isEmpty {
                emit("response.custom_tool_call_input.delta", [("item_id", id), ("output_index", oi), ("delta", .string(input))], into: &out)
            }
            emit("response.custom_tool_call_input.done", [("item_id", id), ("output_index", oi), ("input", .string(input))], into: &out)
            done = OpenAIResponsesCodec.callItem(call, tools: request.tools, status: "completed", itemID: item.id)
        case .reasoning:
            if item.summaryOpen, let last = item.summaries.last {
                let si = JSONNode.int(item.summaries.count - 1)
                emit("response.reasoning_summary_text.done", [("item_id", id), ("output_index", oi), ("summary_index", si),
                                                              ("text", .string(last))], into: &out)
                emit("response.reasoning_summary_part.done", [("item_id", id), ("output_index", oi), ("summary_index", si),
                                                              ("part", ["type": "summary_text", "text": .string(last)])], into: &out)
            }
            let block = ReasoningBlock(text: item.summaries.joined(separator: "\n\n"), signature: item.signature, encrypted: item.encrypted,
                                       itemID: item.id, redacted: item.redacted, family: item.family)
            done = OpenAIResponsesCodec.reasoningItem(id: item.id, summary: item.summaries.filter { !$0.isEmpty },
                                                      encrypted: Envelope.encode(block))
        }
        emit("response.output_item.done", [("output_index", oi), ("item", done)], into: &out)
        // Output indexes are assigned at `added` time; keep the array in that order.
        while response.output.count <= item.outputIndex { response.output.append(.null) }
        response.output[item.outputIndex] = done
    }

    func finish(into out: inout [UInt8]) {
        guard !finished else { return }
        fail(ErrorInfo(kind: .upstream, message: "the upstream stream ended before the response was complete", status: 502), into: &out)
    }
}

// MARK: - Upstream stream: Responses SSE → canonical events

/// Reads an upstream Responses stream. Canonical blocks are opened per content part (text), per function or
/// custom call and per reasoning item; arguments that only arrive in `...arguments.done` or in
/// `output_item.done` are emitted then. Terminal events: `response.completed`, `response.incomplete`,
/// `response.failed`, `error`.
final class ResponsesStreamDecoder: StreamDecoder {
    enum Kind { case text, call, freeform, reasoning }
    struct Open {
        var kind: Kind
        var index: Int
        var gotDelta = false
        var summaryIndex = -1
    }

    var started = false
    var done = false
    var nextIndex = 0
    /// Open canonical blocks by item id (text blocks by "itemID#contentIndex").
    var open: [String: Open] = [:]
    var order: [String] = []
    var sawToolCall = false
    var refusal = false
    var responseID = ""
    var model = ""

    func decode(_ event: SSEEvent) throws(TranslationError) -> [StreamEvent] {
        guard !done else { return [] }
        guard let data = try? JSONParser.parse(event.data) else {
            if event.data == "[DONE]" { return [] }
            throw TranslationError(field: nil, "the upstream sent an event that is not JSON")
        }
        let type = data["type"]?.string ?? event.event ?? ""
        var out: [StreamEvent] = []
        switch type {
        case "response.created", "response.in_progress":
            ensureStarted(data["response"], &out)
        case "response.output_item.added":
            ensureStarted(nil, &out)
            let item = data["item"] ?? [:]
            let id = item["id"]?.string ?? "item\(data["output_index"]?.int ?? 0)"
            switch item["type"]?.string {
            case "function_call":
                openBlock(id, .call, .toolCall(id: item["call_id"]?.string ?? id, name: item["name"]?.string ?? "", signature: nil), &out)
                sawToolCall = true
            case "custom_tool_call":
                openBlock(id, .freeform, .toolCall(id: item["call_id"]?.string ?? id, name: item["name"]?.string ?? "", signature: nil), &out)
                out.append(.blockDelta(index: open[id]!.index, .toolArguments("{\"input\":\"")))
                sawToolCall = true
            case "reasoning":
                openBlock(id, .reasoning, .reasoning(family: .openai, itemID: item["id"]?.string), &out)
            default:
                break
            }
        case "response.content_part.added":
            ensureStarted(nil, &out)
            let key = textKey(data)
            if open[key] == nil { openBlock(key, .text, .text, &out) }
        case "response.output_text.delta", "response.refusal.delta":
            ensureStarted(nil, &out)
            if type == "response.refusal.delta" { refusal = true }
            let key = textKey(data)
            if open[key] == nil { openBlock(key, .text, .text, &out) }
            if let d = data["delta"]?.string, !d.isEmpty {
                open[key]!.gotDelta = true
                out.append(.blockDelta(index: open[key]!.index, .text(d)))
            }
        case "response.output_text.done", "response.refusal.done", "response.content_part.done":
            let key = textKey(data)
            if var o = open[key] {
                let full = data["text"]?.string ?? data["refusal"]?.string ?? data["part"]?["text"]?.string
                if !o.gotDelta, let full, !full.isEmpty { out.append(.blockDelta(index: o.index, .text(full))); o.gotDelta = true; open[key] = o }
                closeBlock(key, &out)
            }
        case "response.function_call_arguments.delta":
            if let id = data["item_id"]?.string, var o = open[id], let d = data["delta"]?.string, !d.isEmpty {
                o.gotDelta = true; open[id] = o
                out.append(.blockDelta(index: o.index, .toolArguments(d)))
            }
        case "response.function_call_arguments.done":
            if let id = data["item_id"]?.string, var o = open[id], !o.gotDelta, let a = data["arguments"]?.string, !a.isEmpty {
                o.gotDelta = true; open[id] = o
                out.append(.blockDelta(index: o.index, .toolArguments(a)))
            }
        case "response.custom_tool_call_input.delta":
            if let id = data["item_id"]?.string, var o = open[id], let d = data["delta"]?.string, !d.isEmpty {
                o.gotDelta = true; open[id] = o
                out.append(.blockDelta(index: o.index, .toolArguments(jsonEscaped(d))))
            }
        case "response.custom_tool_call_input.done":
            if let id = data["item_id"]?.string, var o = open[id], !o.gotDelta, let a = data["input"]?.string, !a.isEmpty {
                o.gotDelta = true; open[id] = o
                out.append(.blockDelta(index: o.index, .toolArguments(jsonEscaped(a))))
            }
        case "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
            ensureStarted(nil, &out)
            guard let id = data["item_id"]?.string else { break }
            if open[id] == nil { openBlock(id, .reasoning, .reasoning(family: .openai, itemID: id), &out) }
            var o = open[id]!
            let si = data["summary_index"]?.int ?? data["content_index"]?.int ?? 0
            if si != o.summaryIndex {
                if o.summaryIndex >= 0 { out.append(.blockDelta(index: o.index, .reasoning("\n\n"))) }
                o.summaryIndex = si
            }
            if type != "response.reasoning_summary_part.added", let d = data["delta"]?.string, !d.isEmpty {
                o.gotDelta = true
                out.append(.blockDelta(index: o.index, .reasoning(d)))
            }
            open[id] = o
        case "response.output_item.done":
            ensureStarted(nil, &out)
            itemDone(data["item"] ?? [:], outputIndex: data["output_index"]?.int ?? 0, &out)
        case "response.completed", "response.incomplete":
            ensureStarted(data["response"], &out)
            let r = data["response"] ?? [:]
            for key in order { closeBlock(key, &out) }
            let stop = OpenAIResponsesCodec.stopReason(status: r["status"]?.string ?? (type == "response.incomplete" ? "incomplete" : "completed"),
                                                       incompleteReason: r["incomplete_details"]?["reason"]?.string,
                                                       hasToolCall: sawToolCall, refusal: refusal)
            out.append(.messageDelta(stopReason: stop, stopSequence: nil, usage: OpenAIResponsesCodec.decodeUsage(r["usage"])))
            out.append(.messageStop)
            done = true
        case "response.failed":
            let e = data["response"]?["error"]
            let code = e?["code"]?.string ?? ""
            let kind = OpenAIResponsesCodec.errorKind(status: 500, code: code)
            out.append(.error(ErrorInfo(kind: kind, message: e?["message"]?.string ?? "the upstream response failed",
                                        status: kind.status(for: .openai))))
            done = true
        case "error":
            let e = data["error"]?.isObject == true ? data["error"]! : data
            let code = e["code"]?.string ?? e["type"]?.string ?? ""
            let kind = OpenAIResponsesCodec.errorKind(status: 500, code: code)
            out.append(.error(ErrorInfo(kind: kind, message: e["message"]?.string ?? "upstream stream error",
                                        status: kind.status(for: .openai))))
            done = true
        default:
            break
        }
        return out
    }

    func ensureStarted(_ response: JSONNode?, _ out: inout [StreamEvent]) {
        if let response {
            if let id = response["id"]?.string { responseID = id }
            if let m = response["model"]?.string { model = m }
        }
        guard !started else { return }
        started = true
        if responseID.isEmpty { responseID = IDs.make("resp_") }
        out.append(.messageStart(id: responseID, model: model, usage: nil))
    }

    func textKey(_ data: JSONNode) -> String {
        "\(data["item_id"]?.string ?? "item\(data["output_index"]?.int ?? 0)")#\(data["content_index"]?.int ?? 0)"
    }

    func openBlock(_ key: String, _ kind: Kind, _ start: BlockStart, _ out: inout [StreamEvent]) {
        // Blocks do not interleave (tool calls aside): a new non-call block closes open text/reasoning.
        if kind != .call && kind != .freeform {
            for k in order where open[k]?.kind == .text || open[k]?.kind == .reasoning { closeBlock(k, &out) }
        }
        open[key] = Open(kind: kind, index: nextIndex)
        order.append(key)
        out.append(.blockStart(index: nextIndex, start))
        nextIndex += 1
    }

    func closeBlock(_ key: String, _ out: inout [StreamEvent]) {
        guard let o = open.removeValue(forKey: key) else { return }
        order.removeAll { $0 == key }
        closedKeys.insert(key)
        if o.kind == .freeform { out.append(.blockDelta(index: o.index, .toolArguments("\"}"))) }
        if o.kind == .call && !o.gotDelta { out.append(.blockDelta(index: o.index, .toolArguments("{}"))) }
        out.append(.blockStop(index: o.index))
    }

    func itemDone(_ item: JSONNode, outputIndex: Int, _ out: inout [StreamEvent]) {
        let id = item["id"]?.string ?? "item\(outputIndex)"
        switch item["type"]?.string {
        case "message":
            // Text parts never announced by content events arrive whole here.
            let parts = item["content"]?.array ?? []
            for (ci, part) in parts.enumerated() {
                let key = "\(id)#\(ci)"
                let text = part["text"]?.string ?? part["refusal"]?.string ?? ""
                if part["type"]?.string == "refusal" { refusal = true }
                if var o = open[key] {
                    if !o.gotDelta, !text.isEmpty { out.append(.blockDelta(index: o.index, .text(text))); o.gotDelta = true; open[key] = o }
                    closeBlock(key, &out)
                } else if !closedKeys.contains(key), !text.isEmpty {
                    openBlock(key, .text, .text, &out)
                    out.append(.blockDelta(index: open[key]!.index, .text(text)))
                    closeBlock(key, &out)
                }
            }
            for key in order where key.hasPrefix(id + "#") { closeBlock(key, &out) }
        case "function_call", "custom_tool_call":
            let freeform = item["type"]?.string == "custom_tool_call"
            if open[id] == nil {
                sawToolCall = true
                openBlock(id, freeform ? .freeform : .call,
                          .toolCall(id: item["call_id"]?.string ?? id, name: item["name"]?.string ?? "", signature: nil), &out)
                if freeform { out.append(.blockDelta(index: open[id]!.index, .toolArguments("{\"input\":\""))) }
            }
            var o = open[id]!
            if !o.gotDelta {
                if freeform, let s = item["input"]?.string, !s.isEmpty { out.append(.blockDelta(index: o.index, .toolArguments(jsonEscaped(s)))) }
                if !freeform, let s = item["arguments"]?.string, !s.isEmpty { out.append(.blockDelta(index: o.index, .toolArguments(s))) ; o.gotDelta = true }
                open[id] = o
            }
            closeBlock(id, &out)
        case "reasoning":
            if open[id] == nil {
                openBlock(id, .reasoning, .reasoning(family: .openai, itemID: item["id"]?.string), &out)
            }
            let o = open[id]!
            if !o.gotDelta {
                let text = OpenAIResponsesCodec.reasoningText(item)
                if !text.isEmpty { out.append(.blockDelta(index: o.index, .reasoning(text))) }
            }
            if let enc = item["encrypted_content"]?.string, !enc.isEmpty { out.append(.blockDelta(index: o.index, .reasoningEncrypted(enc))) }
            closeBlock(id, &out)
        default:
            break
        }
    }

    /// Blocks already closed (so `output_item.done` does not repeat text that content events delivered).
    var closedKeys: Set<String> = []

    /// A string's JSON-escaped body (no quotes), for streaming a freeform input as `{"input":"..."}` fragments.
    func jsonEscaped(_ s: String) -> String {
        let w = JSONWriter.string(.string(s))
        return String(w.dropFirst().dropLast())
    }

    func finish() -> [StreamEvent] {
        guard !done else { return [] }
        done = true
        var out: [StreamEvent] = []
        ensureStarted(nil, &out)
        for key in order { closeBlock(key, &out) }
        out.append(.error(ErrorInfo(kind: .upstream, message: "the upstream stream ended before response.completed", status: 502)))
        return out
    }
}
