import ProxyPoolCore

// MARK: - Streams

/// Anthropic SSE → canonical events. Upstream block indexes are remapped so that skipped blocks (server-tool
/// blocks we never asked for) leave no gap.
final class AnthropicStreamDecoder: StreamDecoder {
    private var indexMap: [Int: Int] = [:]
    private var open: Set<Int> = []
    private var nextIndex = 0
    private var started = false
    private var usage = Usage()
    private var sawDelta = false
    private var done = false

    func decode(_ event: SSEEvent) throws(TranslationError) -> [StreamEvent] {
        if done { return [] }
        let json: JSONNode
        do { json = try JSONParser.parse(event.data) } catch {
            throw TranslationError(field: nil, "the upstream sent an event that is not JSON: \(error)")
        }
        let type = json["type"]?.string ?? event.event ?? ""
        // Keep the canonical order the encoders rely on (messageStart, blocks, one messageDelta, messageStop) even
        // when an upstream breaks it (found by the stream fuzz target: a block before message_start went out
        // to the client before its message).
        let inMessage: Set<String> = ["content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]
        if type == "message_start" && started { return [] }
        if !started && inMessage.contains(type) { throw TranslationError(field: nil, "the upstream sent \(type) before message_start") }
        if sawDelta && type == "content_block_start" {
            throw TranslationError(field: nil, "the upstream sent content_block_start after message_delta")
        }
        var out: [StreamEvent] = []
        switch type {
        case "ping": break
        case "message_start":
            let m = json["message"]
            usage = AnthropicMessagesCodec.decodeUsage(m?["usage"])
            started = true
            out.append(.messageStart(id: m?["id"]?.string ?? IDs.make("msg_"), model: m?["model"]?.string ?? "", usage: usage))
        case "content_block_start":
            guard let up = json["index"]?.int, let b = json["content_block"] else { break }
            let start: BlockStart
            var initial: BlockDelta?
            switch b["type"]?.string {
            case "text":
                start = .text
                if let t = b["text"]?.string, !t.isEmpty { initial = .text(t) }
            case "thinking":
                start = .reasoning(family: .anthropic, itemID: nil)
                if let t = b["thinking"]?.string, !t.isEmpty { initial = .reasoning(t) }
            case "redacted_thinking":
                start = .encryptedReasoning(ReasoningBlock(text: "", encrypted: b["data"]?.string, redacted: true, family: .anthropic))
            case "tool_use":
                start = .toolCall(id: b["id"]?.string ?? IDs.make("toolu_"), name: b["name"]?.string ?? "", signature: nil)
                if let input = b["input"], let f = input.fields, !f.isEmpty { initial = .toolArguments(JSONWriter.string(input)) }
            default:
                return []   // a block type we do not translate: its deltas and stop are skipped too
            }
            let idx = nextIndex
            nextIndex += 1
            indexMap[up] = idx
            open.insert(idx)
            out.append(.blockStart(index: idx, start))
            if let initial { out.append(.blockDelta(index: idx, initial)) }
        case "content_block_delta":
            guard let up = json["index"]?.int, let idx = indexMap[up], open.contains(idx), let d = json["delta"] else { break }
            switch d["type"]?.string {
            case "text_delta": out.append(.blockDelta(index: idx, .text(d["text"]?.string ?? "")))
            case "input_json_delta": out.append(.blockDelta(index: idx, .toolArguments(d["partial_json"]?.string ?? "")))
            case "thinking_delta": out.append(.blockDelta(index: idx, .reasoning(d["thinking"]?.string ?? "")))
            case "signature_delta": out.append(.blockDelta(index: idx, .reasoningSignature(d["signature"]?.string ?? "")))
            default: break   // citations_delta and future kinds
            }
        case "content_block_stop":
            guard let up = json["index"]?.int, let idx = indexMap[up], open.contains(idx) else { break }
            open.remove(idx)
            out.append(.blockStop(index: idx))
        case "message_delta":
            out += closeOpen()
            if let u = json["usage"] {
                // Output tokens are cumulative; newer API versions repeat the input counts here too.
                if let o = u["output_tokens"]?.tokenCount { usage.output = o }
                if u["input_tokens"] != nil || u["cache_read_input_tokens"] != nil || u["cache_creation_input_tokens"] != nil {
                    let read = u["cache_read_input_tokens"]?.tokenCount ?? usage.cachedInput
                    let created = u["cache_creation_input_tokens"]?.tokenCount ?? usage.cacheCreation
                    let fresh = u["input_tokens"]?.tokenCount ?? (usage.input - usage.cachedInput - usage.cacheCreation)
                    usage.input = fresh + read + created
                    usage.cachedInput = read
                    usage.cacheCreation = created
                }
            }
            // A repeated message_delta only updates the usage (its counts are cumulative); the first one was sent.
            if sawDelta { break }
            sawDelta = true
            out.append(.messageDelta(stopReason: AnthropicMessagesCodec.stopReason(json["delta"]?["stop_reason"]?.string),
                                     stopSequence: json["delta"]?["stop_sequence"]?.string, usage: usage))
        case "message_stop":
            out += closeOpen()
            if !sawDelta {
                out.append(.messageDelta(stopReason: .endTurn, stopSequence: nil, usage: usage))
                sawDelta = true
            }
            out.append(.messageStop)
            done = true
        case "error":
            let e = json["error"]
            let kind = AnthropicMessagesCodec.errorKind(type: e?["type"]?.string, status: 500)
            let status: Int
            switch kind {
            case .overloaded: status = 529
            case .rateLimited: status = 429
            case .invalidRequest: status = 400
            default: status = 500
            }
            out.append(.error(ErrorInfo(kind: kind, message: e?["message"]?.string ?? "upstream stream error", status: status)))
            done = true
        default: break
        }
        return out
    }

    private func closeOpen() -> [StreamEvent] {
        let stops = open.sorted().map { StreamEvent.blockStop(index: $0) }
        open.removeAll()
        return stops
    }

    func finish() -> [StreamEvent] {
        if done { return [] }
        done = true
        if sawDelta { return closeOpen() + [.messageStop] }
        return [.error(ErrorInfo(kind: .upstream, message: started ? "the upstream stream ended before the message was complete"
                                                                  : "the upstream stream ended before it started", status: 502))]
    }
}

/// Canonical events → the Anthropic event stream Claude Code and the SDKs accept: message_start,
/// content_block_start/delta/stop, message_delta, message_stop; or an `error` event. `finish` ends a stream
/// that did not end (an `error` event, which makes Claude Code retry without streaming instead of looping).
final class AnthropicStreamEncoder: StreamEncoder {
    private let model: String
    private var indexMap: [Int: Int] = [:]
    private var skipped: Set<Int> = []
    private var open: Set<Int> = []
    private var next = 0
    private var started = false
    private var sentDelta = false
    private var ended = false

    /// Blocks that started while another was open (parallel tool calls whose argument fragments an OpenAI
    /// upstream interleaves). Anthropic clients take one block at a time, so such a block's events wait here
    /// until the open one stops: at most the interleaved part of one call's arguments is held.
    private var held: [(index: Int, events: [StreamEvent])] = []

    init(model: String) { self.model = model }

    func encode(_ event: StreamEvent, into out: inout [UInt8]) {
        if ended { return }
        switch event {
        case .blockStart(let index, _) where !open.isEmpty || !held.isEmpty:
            held.append((index, [event]))
            return
        case .blockDelta(let index, _), .blockStop(let index):
            if let k = held.firstIndex(where: { $0.index == index }) {
                held[k].events.append(event)
                return
            }
            emit(event, into: &out)
            if case .blockStop = event { releaseHeld(force: false, into: &out) }
        case .messageDelta, .messageStop:
            releaseHeld(force: true, into: &out)
            emit(event, into: &out)
        case .error:
            held.removeAll()
            emit(event, into: &out)
        case .messageStart, .blockStart:
            emit(event, into: &out)
        }
    }

    private func releaseHeld(force: Bool, into out: inout [UInt8]) {
        if force { for i in open.sorted() { stop(i, into: &out) } }
        while open.isEmpty, !held.isEmpty {
            let h = held.removeFirst()
            for e in h.events { emit(e, into: &out) }
            if force { for i in open.sorted() { stop(i, into: &out) } }
        }
    }

    private func emit(_ event: StreamEvent, into out: inout [UInt8]) {
        switch event {
        case .messageStart(let id, let model, let usage):
            guard !started else { return }
            start(id: id, model: model, usage: usage ?? Usage(), into: &out)
        case .blockStart(let index, let b):
            ensureStarted(into: &out)
            let block: JSONNode
            switch b {
            case .text: block = ["type": "text", "text": ""]
            case .toolCall(let id, let name, _): block = ["type": "tool_use", "id": .string(id), "name": .string(name), "input": .object([])]
            case .reasoning: block = ["type": "thinking", "thinking": "", "signature": ""]
            case .encryptedReasoning(let r):
                guard let b = AnthropicMessagesCodec.thinkingBlock(r, forClient: true) else { skipped.insert(index); return }
                block = b
            }
            let i = next
            next += 1
            indexMap[index] = i
            open.insert(i)
            SSEWriter.event("content_block_start", ["type": "content_block_start", "index": .int(i), "content_block": block], into: &out)
        case .blockDelta(let index, let d):
            guard let i = indexMap[index], open.contains(i) else { return }
            let delta: JSONNode
            switch d {
            // No empty text or thinking delta, as Anthropic sends none (its tool_use blocks may start with an
            // empty partial_json: that one is Anthropic's own).
            case .text(let t): guard !t.isEmpty else { return }; delta = ["type": "text_delta", "text": .string(t)]
            case .toolArguments(let a): delta = ["type": "input_json_delta", "partial_json": .string(a)]
            case .reasoning(let t): guard !t.isEmpty else { return }; delta = ["type": "thinking_delta", "thinking": .string(t)]
            case .reasoningSignature(let s): delta = ["type": "signature_delta", "signature": .string(s)]
            case .reasoningEncrypted: return   // another family's payload: nothing Claude Code could send back usefully
            }
            SSEWriter.event("content_block_delta", ["type": "content_block_delta", "index": .int(i), "delta": delta], into: &out)
        case .blockStop(let index):
            guard let i = indexMap[index], open.contains(i) else { return }
            stop(i, into: &out)
        case .messageDelta(let reason, let seq, let usage):
            ensureStarted(into: &out)
            for i in open.sorted() { stop(i, into: &out) }
            sentDelta = true
            SSEWriter.event("message_delta", ["type": "message_delta",
                                              "delta": ["stop_reason": .string(AnthropicMessagesCodec.stopReasonString(reason)),
                                                        "stop_sequence": seq.map { .string($0) } ?? .null],
                                              "usage": AnthropicMessagesCodec.encodeUsage(usage)], into: &out)
        case .messageStop:
            ensureStarted(into: &out)
            for i in open.sorted() { stop(i, into: &out) }
            if !sentDelta {
                SSEWriter.event("message_delta", ["type": "message_delta", "delta": ["stop_reason": "end_turn", "stop_sequence": nil],
                                                  "usage": AnthropicMessagesCodec.encodeUsage(Usage())], into: &out)
            }
            SSEWriter.event("message_stop", ["type": "message_stop"], into: &out)
            ended = true
        case .error(let e):
            SSEWriter.event("error", AnthropicMessagesCodec.encodeError(e), into: &out)
            ended = true
        }
    }

    func finish(into out: inout [UInt8]) {
        if ended { return }
        ended = true
        SSEWriter.event("error", AnthropicMessagesCodec.encodeError(
            ErrorInfo(kind: .upstream, message: "the upstream stream ended before the message was complete", status: 502)), into: &out)
    }

    private func start(id: String, model: String, usage: Usage, into out: inout [UInt8]) {
        started = true
        let message = JSONNode.make(("id", .string(AnthropicMessagesCodec.messageID(id))), ("type", "message"), ("role", "assistant"),
                                    ("model", .string(model.isEmpty ? self.model : model)), ("content", .array([])),
                                    ("stop_reason", .null), ("stop_sequence", .null),
                                    ("usage", AnthropicMessagesCodec.encodeUsage(usage)))
        SSEWriter.event("message_start", ["type": "message_start", "message": message], into: &out)
    }

    private func ensureStarted(into out: inout [UInt8]) {
        if !started { start(id: IDs.make("msg_"), model: model, usage: Usage(), into: &out) }
    }

    private func stop(_ i: Int, into out: inout [UInt8]) {
        open.remove(i)
        SSEWriter.event("content_block_stop", ["type": "content_block_stop", "index": .int(i)], into: &out)
    }
}
