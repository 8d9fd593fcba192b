import ProxyPoolCore

// MARK: - Streams

/// OpenAI Chat chunks → canonical events. Text and reasoning open a block when they start and close it when
/// something else starts; each tool call index gets its own block (several may stream interleaved). The
/// `finish_reason` may arrive before the usage chunk, so the message end waits for usage, `[DONE]` or EOF.
final class OpenAIChatStreamDecoder: StreamDecoder {
    private var started = false
    private var next = 0
    private var textBlock: Int?
    private var reasoningBlock: Int?
    private var tools: [Int: Int] = [:]            // OpenAI tool_call index → canonical block index
    private var toolIDs: [String: Int] = [:]       // id → OpenAI index, for servers that omit `index`
    private var openTools: Set<Int> = []
    private var lastTool: Int?
    private var finishReason: String?
    private var usage: Usage?
    private var sawToolCall = false
    private var ended = false

    func decode(_ event: SSEEvent) throws(TranslationError) -> [StreamEvent] {
        if ended { return [] }
        let data = event.data.trimmingSpaces
        if data == "[DONE]" { return end() }
        let json: JSONNode
        do { json = try JSONParser.parse(String(data)) } catch {
            throw TranslationError(field: nil, "the upstream sent a chunk that is not JSON: \(error)")
        }
        if let e = json["error"], !e.isNull {
            ended = true
            let code = e["code"]?.string
            let kind = OpenAIChatCodec.errorKind(type: e["type"]?.string, code: code, status: 500)
            let status = kind == .rateLimited ? 429 : kind == .invalidRequest ? 400 : kind == .overloaded ? 503 : 500
            return [.error(ErrorInfo(kind: kind, message: e["message"]?.string ?? e.string ?? "upstream stream error", status: status))]
        }
        var out: [StreamEvent] = []
        if !started {
            started = true
            out.append(.messageStart(id: json["id"]?.string ?? IDs.make("chatcmpl-"), model: json["model"]?.string ?? "", usage: nil))
        }
        let chunkUsage = json["usage"].flatMap { $0.isNull ? nil : OpenAIChatCodec.decodeUsage($0) }
        if let chunkUsage { usage = chunkUsage }
        for choice in json["choices"]?.array ?? [] where (choice["index"]?.int ?? 0) == 0 {
            if let d = choice["delta"] {
                if let r = d["reasoning_content"]?.string ?? d["reasoning"]?.string, !r.isEmpty {
                    if let t = textBlock { out.append(.blockStop(index: t)); textBlock = nil }
                    if reasoningBlock == nil {
                        reasoningBlock = next; next += 1
                        out.append(.blockStart(index: reasoningBlock!, .reasoning(family: nil, itemID: nil)))
                    }
                    out.append(.blockDelta(index: reasoningBlock!, .reasoning(r)))
                }
                for key in ["content", "refusal"] {
                    guard let t = d[key]?.string, !t.isEmpty else { continue }
                    if let r = reasoningBlock { out.append(.blockStop(index: r)); reasoningBlock = nil }
                    if textBlock == nil {
                        textBlock = next; next += 1
                        out.append(.blockStart(index: textBlock!, .text))
                    }
                    out.append(.blockDelta(index: textBlock!, .text(t)))
                }
                for (k, tc) in (d["tool_calls"]?.array ?? []).enumerated() {
                    out += toolDelta(tc, position: k)
                }
            }
            if let f = choice["finish_reason"]?.string {
                finishReason = f
                out += closeAll()
            }
        }
        // Usage in the finish chunk itself (some servers) ends the message now; else a later usage chunk does.
        if finishReason != nil, chunkUsage != nil { out += end() }
        return out
    }

    private func toolDelta(_ tc: JSONNode, position: Int) -> [StreamEvent] {
        var out: [StreamEvent] = []
        let id = tc["id"]?.string
        let upIndex: Int
        if let i = tc["index"]?.int { upIndex = i } else if let id, let i = toolIDs[id] { upIndex = i } else if id == nil, let last = lastTool {
            upIndex = last
        } else { upIndex = Int(Saturating.add(Int64(tools.keys.max() ?? -1), Int64(1 + position))) }   // an index from upstream may be Int.max
        lastTool = upIndex
        let f = tc["function"]
        if tools[upIndex] == nil {
            if let t = textBlock { out.append(.blockStop(index: t)); textBlock = nil }
            if let r = reasoningBlock { out.append(.blockStop(index: r)); reasoningBlock = nil }
            let idx = next; next += 1
            tools[upIndex] = idx
            openTools.insert(idx)
            let callID = id ?? IDs.make("call_")
            toolIDs[callID] = upIndex
            sawToolCall = true
            out.append(.blockStart(index: idx, .toolCall(id: callID, name: f?["name"]?.string ?? "", signature: nil)))
        }
        if let idx = tools[upIndex], openTools.contains(idx), let a = f?["arguments"]?.string, !a.isEmpty {
            out.append(.blockDelta(index: idx, .toolArguments(a)))
        }
        return out
    }

    private func closeAll() -> [StreamEvent] {
        var out: [StreamEvent] = []
        if let r = reasoningBlock { out.append(.blockStop(index: r)); reasoningBlock = nil }
        if let t = textBlock { out.append(.blockStop(index: t)); textBlock = nil }
        for i in openTools.sorted() { out.append(.blockStop(index: i)) }
        openTools.removeAll()
        return out
    }

    /// The end of the message: `[DONE]`, the usage after `finish_reason`, or EOF after `finish_reason`.
    private func end() -> [StreamEvent] {
        if ended { return [] }
        guard started else {
            ended = true
            return [.error(ErrorInfo(kind: .upstream, message: "the upstream stream ended before it started", status: 502))]
        }
        ended = true
        var stop = OpenAIChatCodec.stopReason(finishReason)
        if stop == .endTurn, sawToolCall { stop = .toolUse }   // servers that say "stop" after tool calls
        return closeAll() + [.messageDelta(stopReason: stop, stopSequence: nil, usage: usage ?? Usage()), .messageStop]
    }

    func finish() -> [StreamEvent] {
        if ended { return [] }
        if finishReason != nil { return end() }
        ended = true
        return [.error(ErrorInfo(kind: .upstream, message: started ? "the upstream stream ended before the message was complete"
                                                                  : "the upstream stream ended before it started", status: 502))]
    }
}

private extension String {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\n" || f == "\r" || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\r" || l == "\t" { s = s.dropLast() }
        return s
    }
}

/// Canonical events → `chat.completion.chunk` lines, `[DONE]` at the end.
final class OpenAIChatStreamEncoder: StreamEncoder {
    private let model: String
    private let includeUsage: Bool
    private var id = IDs.make("chatcmpl-")
    private var responseModel: String
    private let created = Int(Timestamp.now())
    private var started = false
    private var toolIndex: [Int: Int] = [:]   // canonical block → index among tool calls
    private var argsSent: Set<Int> = []
    private var finished = false
    private var ended = false

    init(model: String, includeUsage: Bool) {
        self.model = model
        self.includeUsage = includeUsage
        self.responseModel = model
    }

    func encode(_ event: StreamEvent, into out: inout [UInt8]) {
        if ended { return }
        switch event {
        case .messageStart(let id, let model, _):
            guard !started else { return }
            self.id = OpenAIChatCodec.completionID(id)
            if !model.isEmpty { responseModel = model }
            ensureStarted(into: &out)
        case .blockStart(let index, let b):
            ensureStarted(into: &out)
            if case .toolCall(let callID, let name, _) = b {
                let k = toolIndex.count
                toolIndex[index] = k
                chunk(["tool_calls": [["index": .int(k), "id": .string(callID), "type": "function",
                                       "function": ["name": .string(name), "arguments": ""]]]], into: &out)
            }
        case .blockDelta(let index, let d):
            ensureStarted(into: &out)
            switch d {
            case .text(let t): if !t.isEmpty { chunk(["content": .string(t)], into: &out) }
            case .reasoning(let t): if !t.isEmpty { chunk(["reasoning_content": .string(t)], into: &out) }
            case .toolArguments(let a):
                guard let k = toolIndex[index], !a.isEmpty else { return }
                argsSent.insert(index)
                chunk(["tool_calls": [["index": .int(k), "function": ["arguments": .string(a)]]]], into: &out)
            case .reasoningSignature, .reasoningEncrypted: return   // nothing in Chat Completions carries them
            }
        case .blockStop(let index):
            // A call that streamed no arguments gets `{}` so the client can parse them.
            if let k = toolIndex[index], !argsSent.contains(index) {
                argsSent.insert(index)
                chunk(["tool_calls": [["index": .int(k), "function": ["arguments": "{}"]]]], into: &out)
            }
        case .messageDelta(let reason, _, let usage):
            ensureStarted(into: &out)
            guard !finished else { return }
            finished = true
            chunk(.object([]), finish: OpenAIChatCodec.finishReason(reason), into: &out)
            if includeUsage {
                SSEWriter.event(nil, .make(("id", .string(id)), ("object", "chat.completion.chunk"), ("created", .int(created)),
                                           ("model", .string(responseModel)), ("choices", .array([])),
                                           ("usage", OpenAIChatCodec.encodeUsage(usage))), into: &out)
            }
        case .messageStop:
            if !finished { encode(.messageDelta(stopReason: .endTurn, stopSequence: nil, usage: Usage()), into: &out) }
        case .error(let e):
            SSEWriter.event(nil, OpenAIChatCodec.encodeError(e), into: &out)
            ended = true
        }
    }

    func finish(into out: inout [UInt8]) {
        if ended { return }
        ended = true
        if finished {
            out.append(contentsOf: "data: [DONE]\n\n".utf8)
        } else {
            SSEWriter.event(nil, OpenAIChatCodec.encodeError(
                ErrorInfo(kind: .upstream, message: "the upstream stream ended before the message was complete", status: 502)), into: &out)
        }
    }

    private func ensureStarted(into out: inout [UInt8]) {
        guard !started else { return }
        started = true
        chunk(["role": "assistant", "content": ""], into: &out)
    }

    /// With `include_usage`, every chunk but the last carries `"usage": null`, as OpenAI documents it
    /// (platform.openai.com/docs/api-reference/chat/create, stream_options.include_usage).
    private func chunk(_ delta: JSONNode, finish: String? = nil, into out: inout [UInt8]) {
        let choice = JSONNode.make(("index", 0), ("delta", delta), ("logprobs", .null), ("finish_reason", finish.map { .string($0) } ?? .null))
        var c = JSONNode.make(("id", .string(id)), ("object", "chat.completion.chunk"), ("created", .int(created)),
                              ("model", .string(responseModel)), ("choices", .array([choice])))
        if includeUsage { c.set("usage", JSONNode.null) }
        SSEWriter.event(nil, c, into: &out)
    }
}
