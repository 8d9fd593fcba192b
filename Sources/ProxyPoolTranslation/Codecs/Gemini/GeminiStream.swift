import ProxyPoolCore

// MARK: - Client stream: canonical events → Gemini chunks

/// One GenerateContentResponse per text / thought delta, each held until the next one so that the last text
/// arrives together with `finishReason` and `usageMetadata`, as Gemini sends it (ai.google.dev/api/generate-content:
/// there is no separate closing chunk); functionCall parts (Gemini never streams arguments) held with it, so
/// that code that reads the last chunk's content finds the calls there. No chunk carries an empty text part: a
/// last chunk with nothing to add has a content without parts. Framed as SSE (`alt=sse`) or as one JSON array
/// written incrementally.
final class GeminiStreamEncoder: StreamEncoder {
    let sse: Bool
    let includeThoughts: Bool
    var wroteAny = false
    var closed = false
    var responseID = IDs.make("", length: 22)
    var model = ""
    var calls: [Int: ToolCall] = [:]
    var reasoning: [Int: (text: String, signature: String?, family: Family?)] = [:]
    var pendingSignature: String?
    /// Parts not sent yet: the latest text or thought delta and the calls finished since; they go out when the
    /// next text or thought comes, or with the finish reason. At most one delta is held back.
    var held: [JSONNode] = []

    init(sse: Bool, includeThoughts: Bool) { self.sse = sse; self.includeThoughts = includeThoughts }

    /// A text or thought part: sent after what was held, unless only calls were held (they go with it).
    func hold(_ part: JSONNode, into out: inout [UInt8]) {
        if held.contains(where: { $0["functionCall"] == nil }) { chunk(held, into: &out); held = [] }
        held.append(part)
    }

    func chunk(_ parts: [JSONNode], finish: String? = nil, usage: Usage? = nil, into out: inout [UInt8]) {
        var parts = parts
        if let s = pendingSignature, !parts.isEmpty, parts[0]["thoughtSignature"] == nil {
            parts[0].set("thoughtSignature", .string(s)); pendingSignature = nil
        }
        let content: JSONNode = parts.isEmpty ? ["role": "model"] : ["parts": .array(parts), "role": "model"]
        var cand: JSONNode = ["content": content]
        if let finish { cand.set("finishReason", .string(finish)) }
        cand.set("index", 0)
        var c: JSONNode = ["candidates": [cand]]
        if let usage { c.set("usageMetadata", GeminiCodec.usageMetadata(usage)) }
        c.set("modelVersion", .string(model))
        c.set("responseId", .string(responseID))
        write(c, into: &out)
    }

    func write(_ c: JSONNode, into out: inout [UInt8]) {
        if sse {
            SSEWriter.event(nil, c, into: &out)
        } else {
            out.append(contentsOf: (wroteAny ? ",\r\n" : "[").utf8)
            JSONWriter.write(c, into: &out)
        }
        wroteAny = true
    }

    func encode(_ event: StreamEvent, into out: inout [UInt8]) {
        guard !closed else { return }
        switch event {
        case .messageStart(let id, let m, _):
            if !id.isEmpty { responseID = id }
            model = m
        case .blockStart(let i, let start):
            switch start {
            case .toolCall(let id, let name, let sig): calls[i] = ToolCall(id: id, name: name, arguments: "", signature: sig)
            case .reasoning(let family, _): reasoning[i] = ("", nil, family)
            case .encryptedReasoning(let b):
                if b.family == .gemini, let s = b.signature { pendingSignature = s }
            case .text: break
            }
        case .blockDelta(let i, let d):
            switch d {
            case .text(let t): if !t.isEmpty { hold(["text": .string(t)], into: &out) }
            case .toolArguments(let a): calls[i]?.arguments += a
            case .reasoning(let t):
                if includeThoughts, !t.isEmpty { hold(["text": .string(t), "thought": true], into: &out) }
            case .reasoningSignature(let s):
                if reasoning[i] != nil { reasoning[i]!.signature = (reasoning[i]!.signature ?? "") + s }
            case .reasoningEncrypted: break
            }
        case .blockStop(let i):
            if let c = calls.removeValue(forKey: i) {
                var part: JSONNode = ["functionCall": ["name": .string(c.name), "args": GeminiCodec.argsObject(c.arguments), "id": .string(c.id)]]
                if let s = c.signature { part.set("thoughtSignature", .string(s)) }
                // Text before a call has streamed by the time Gemini sends the call: it goes out first.
                if held.contains(where: { $0["functionCall"] == nil }) { chunk(held, into: &out); held = [] }
                held.append(part)
            }
            if let r = reasoning.removeValue(forKey: i), r.family == .gemini, let s = r.signature {
                // It rides on the next part, as Gemini sends it: what was held before the thinking goes first.
                if !held.isEmpty { chunk(held, into: &out); held = [] }
                pendingSignature = s
            }
        case .messageDelta(let reason, _, let usage):
            // A signature with nothing to ride on keeps Gemini's own carrier, a text part holding only it.
            var parts = held
            held = []
            if let s = pendingSignature, parts.isEmpty { parts.append(["text": "", "thoughtSignature": .string(s)]); pendingSignature = nil }
            chunk(parts, finish: GeminiCodec.finishReason(reason), usage: usage, into: &out)
        case .messageStop:
            break
        case .error(var info):
            if !held.isEmpty { chunk(held, into: &out); held = [] }   // what was made is not lost to the error
            info.status = info.kind.status(for: .gemini)
            write(GeminiCodec.encodeError(info), into: &out)
            closed = true
        }
    }

    func finish(into out: inout [UInt8]) {
        if !sse {
            out.append(contentsOf: (wroteAny ? "]" : "[]").utf8)
        }
        closed = true
    }
}

// MARK: - Upstream stream: Gemini SSE → canonical events

/// Each SSE event is a whole GenerateContentResponse. Text and thought parts extend the open block (or open
/// a new one when the kind changes); a functionCall part arrives whole and becomes blockStart + one arguments
/// delta + blockStop. The chunk carrying `finishReason` ends the message (its `usageMetadata` is the final
/// count); a stream that closes without one is an error.
final class GeminiStreamDecoder: StreamDecoder {
    enum Kind { case text, reasoning }
    var started = false
    var done = false
    var openBlock: (index: Int, kind: Kind)?
    var nextIndex = 0
    var sawCall = false
    var usage = Usage()

    func decode(_ event: SSEEvent) throws(TranslationError) -> [StreamEvent] {
        guard !done else { return [] }
        guard let data = try? JSONParser.parse(event.data) else {
            throw TranslationError(field: nil, "the upstream sent an event that is not JSON")
        }
        var out: [StreamEvent] = []
        if let e = data["error"], e.isObject {
            let status = e["code"]?.int ?? 500
            out.append(.error(ErrorInfo(kind: GeminiCodec.errorKind(status: status, name: e["status"]?.string),
                                        message: e["message"]?.string ?? "upstream stream error", status: status)))
            done = true
            return out
        }
        if !started {
            started = true
            out.append(.messageStart(id: data["responseId"]?.string ?? IDs.make("gen_"), model: data["modelVersion"]?.string ?? "", usage: nil))
        }
        if let u = data["usageMetadata"], u.isObject { usage = GeminiCodec.decodeUsage(u) }
        let cand = data["candidates"]?[0]
        for p in cand?["content"]?["parts"]?.array ?? [] {
            for block in GeminiCodec.partBlocks(p) {
                switch block {
                case .text(let t):
                    ensure(.text, &out)
                    out.append(.blockDelta(index: openBlock!.index, .text(t)))
                case .reasoning(let r):
                    if r.text.isEmpty, openBlock?.kind == .reasoning, let s = r.signature {
                        out.append(.blockDelta(index: openBlock!.index, .reasoningSignature(s)))
                        close(&out)
                        continue
                    }
                    ensure(.reasoning, &out, forceNew: !r.text.isEmpty ? false : true)
                    if !r.text.isEmpty { out.append(.blockDelta(index: openBlock!.index, .reasoning(r.text))) }
                    if let s = r.signature {
                        out.append(.blockDelta(index: openBlock!.index, .reasoningSignature(s)))
                        close(&out)
                    }
                case .toolCall(let c):
                    close(&out)
                    sawCall = true
                    out.append(.blockStart(index: nextIndex, .toolCall(id: c.id, name: c.name, signature: c.signature)))
                    out.append(.blockDelta(index: nextIndex, .toolArguments(c.arguments)))
                    out.append(.blockStop(index: nextIndex))
                    nextIndex += 1
                default:
                    break
                }
            }
        }
        if let finish = cand?["finishReason"]?.string {
            close(&out)
            out.append(.messageDelta(stopReason: GeminiCodec.stopReason(finish, hasCall: sawCall), stopSequence: nil, usage: usage))
            out.append(.messageStop)
            done = true
        } else if cand == nil, let block = data["promptFeedback"]?["blockReason"]?.string {
            close(&out)
            _ = block
            out.append(.messageDelta(stopReason: .contentFilter, stopSequence: nil, usage: usage))
            out.append(.messageStop)
            done = true
        }
        return out
    }

    func ensure(_ kind: Kind, _ out: inout [StreamEvent], forceNew: Bool = false) {
        if let o = openBlock, o.kind == kind, !forceNew { return }
        close(&out)
        out.append(.blockStart(index: nextIndex, kind == .text ? .text : .reasoning(family: .gemini, itemID: nil)))
        openBlock = (nextIndex, kind)
        nextIndex += 1
    }

    func close(_ out: inout [StreamEvent]) {
        guard let o = openBlock else { return }
        out.append(.blockStop(index: o.index))
        openBlock = nil
    }

    func finish() -> [StreamEvent] {
        guard !done else { return [] }
        done = true
        var out: [StreamEvent] = []
        if !started { out.append(.messageStart(id: IDs.make("gen_"), model: "", usage: nil)) }
        close(&out)
        out.append(.error(ErrorInfo(kind: .upstream, message: "the upstream stream ended without a finishReason", status: 502)))
        return out
    }
}
