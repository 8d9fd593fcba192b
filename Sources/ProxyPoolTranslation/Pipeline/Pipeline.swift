import ProxyPoolCore

/// Whole-body translation steps, as the daemon uses them: client request → canonical → upstream request;
/// upstream response or error → canonical → client response or error.
public enum Translator {
    public static func decodeRequest(_ body: [UInt8], from wire: WireProtocol, context: ClientContext) throws(TranslationError) -> ChatRequest {
        let json: JSONNode
        do { json = try JSONParser.parse(body) } catch { throw TranslationError(field: nil, "the request body is not valid JSON (\(error))") }
        guard json.isObject else { throw TranslationError(field: nil, "the request body must be a JSON object") }
        return try Codecs.codec(wire).decodeRequest(json, context: context)
    }

    public static func encodeRequest(_ request: ChatRequest, to wire: WireProtocol) throws(TranslationError) -> [UInt8] {
        JSONWriter.bytes(try Codecs.codec(wire).encodeRequest(request))
    }

    /// An upstream's whole (non-streamed) answer, re-encoded for the client.
    public static func translateResponse(_ body: [UInt8], from upstream: WireProtocol, to client: WireProtocol,
                                         request: ChatRequest) throws(TranslationError) -> (body: [UInt8], response: ChatResponse) {
        let json: JSONNode
        do { json = try JSONParser.parse(body) } catch { throw TranslationError(field: nil, "the upstream's answer is not valid JSON (\(error))") }
        let r = try Codecs.codec(upstream).decodeResponse(json)
        return (JSONWriter.bytes(Codecs.codec(client).encodeResponse(r, for: request)), r)
    }

    /// An upstream error (status and body in its protocol) as the client's protocol says it: the upstream's status
    /// and type give a cause, and the client gets that cause's status and body from its own vocabulary
    /// (ErrorVocabulary.swift), as if the proxy had raised it. Rate limits stay rate limits, so clients back off
    /// as they would with their own provider. `info.status` is the status to answer with.
    public static func translateError(status: Int, body: [UInt8], from upstream: WireProtocol, to client: WireProtocol) -> (info: ErrorInfo, body: [UInt8]) {
        let json = try? JSONParser.parse(body)
        var info = Codecs.codec(upstream).decodeError(status: status, body: json)
        if info.message.isEmpty { info.message = "upstream answered \(status)" }
        info.status = info.kind.status(for: client.family)
        return (info, JSONWriter.bytes(Codecs.codec(client).encodeError(info)))
    }

    public static func errorBody(_ info: ErrorInfo, for client: WireProtocol) -> [UInt8] {
        JSONWriter.bytes(Codecs.codec(client).encodeError(info))
    }
}

/// An upstream's event stream re-encoded for the client as the bytes arrive: SSE framing → upstream decoder →
/// canonical events → client encoder. Nothing is held back beyond an incomplete SSE line.
public final class StreamTranscoder {
    private var parser = SSEParser()
    private var order = CanonicalOrder()
    private let decoder: any StreamDecoder
    private let encoder: any StreamEncoder
    private var ended = false
    /// What the stream reported, for usage accounting and the journal.
    public private(set) var usage = Usage()
    public private(set) var model: String?
    public private(set) var stopReason: StopReason?
    public private(set) var error: ErrorInfo?
    /// Set to collect the stream's reasoning and tool calls (for the reasoning cache).
    public var collector: StreamReasoningCollector?
    /// True once the stream ended properly (messageStop) or with an error event.
    public var isEnded: Bool { ended }

    public init(from upstream: WireProtocol, to client: WireProtocol, request: ChatRequest, context: ClientContext) {
        decoder = Codecs.codec(upstream).makeStreamDecoder()
        encoder = Codecs.codec(client).makeStreamEncoder(for: request, context: context)
    }

    public func feed(_ bytes: some Sequence<UInt8>, into out: inout [UInt8]) {
        guard !ended else { return }
        let events: [SSEEvent]
        do { events = try parser.feed(bytes) } catch {
            return emit([.error(ErrorInfo(kind: .upstream, message: "the upstream sent an event over \(parser.maxEventBytes) bytes", status: 502))], into: &out)
        }
        for e in events {
            guard !ended else { return }
            do { emit(try decoder.decode(e), into: &out) } catch {
                emit([.error(ErrorInfo(kind: .upstream, message: "the upstream sent an event that cannot be translated: \(error)", status: 502))], into: &out)
            }
        }
    }

    /// The upstream closed the stream normally: flush a last event, let the decoder close what is open.
    public func finish(into out: inout [UInt8]) {
        if !ended, let last = parser.finish() {
            do { emit(try decoder.decode(last), into: &out) } catch {
                emit([.error(ErrorInfo(kind: .upstream, message: "the upstream sent an event that cannot be translated: \(error)", status: 502))], into: &out)
            }
        }
        if !ended { emit(decoder.finish(), into: &out) }
        if !ended { emit([.error(ErrorInfo(kind: .upstream, message: "the upstream stream ended without finishing the answer", status: 502))], into: &out) }
        encoder.finish(into: &out)
    }

    /// The upstream failed mid-stream (reset, timeout): end the client's stream with its protocol's error.
    public func fail(_ message: String, into out: inout [UInt8]) {
        if !ended { emit([.error(ErrorInfo(kind: .upstream, message: message, status: 502))], into: &out) }
        encoder.finish(into: &out)
    }

    private func emit(_ events: [StreamEvent], into out: inout [UInt8]) {
        for e in order.filter(events) {
            guard !ended else { return }
            switch e {
            case .messageStart(_, let m, let u):
                model = m
                if let u { usage = u }
            case .messageDelta(let reason, _, let u):
                stopReason = reason
                usage = Usage(input: max(u.input, usage.input), output: u.output, cachedInput: max(u.cachedInput, usage.cachedInput),
                              cacheCreation: max(u.cacheCreation, usage.cacheCreation), reasoning: u.reasoning)
            case .messageStop: ended = true
            case .error(let info): error = info; ended = true
            default: break
            }
            collector?.consume(e)
            encoder.encode(e, into: &out)
        }
    }
}

public enum Codecs {
    public static func codec(_ wire: WireProtocol) -> any ProtocolCodec.Type {
        switch wire {
        case .openAIChat: return OpenAIChatCodec.self
        case .openAIResponses: return OpenAIResponsesCodec.self
        case .anthropicMessages: return AnthropicMessagesCodec.self
        case .gemini: return GeminiCodec.self
        }
    }
}

/// Holds a stream decoder's canonical events to the order every encoder relies on (see `StreamEvent`), whatever
/// the upstream sent: a repeated messageStart, a delta or stop for a block that is not open, or a repeated
/// messageDelta is dropped; blocks still open at messageDelta are stopped first; a messageStop without a
/// messageDelta gets one; a block outside the message (before messageStart, after messageDelta, or with an
/// index out of order) ends the stream with an error. Nothing passes after messageStop or an error.
/// (The stream fuzz target found upstream streams, e.g. a repeated Responses `output_item.added`, that made
/// decoders break this order.)
public struct CanonicalOrder: Sendable {
    private var started = false
    private var sawDelta = false
    private var ended = false
    private var startUsage: Usage?
    private var open = Set<Int>()
    private var nextIndex = 0

    public init() {}

    public mutating func filter(_ events: [StreamEvent]) -> [StreamEvent] {
        var out: [StreamEvent] = []
        func fail(_ message: String) {
            out.append(.error(ErrorInfo(kind: .upstream, message: "the upstream stream is out of order: \(message)", status: 502)))
            ended = true
        }
        func closeOpen() {
            for i in open.sorted() { out.append(.blockStop(index: i)) }
            open.removeAll()
        }
        for e in events {
            if ended { break }
            switch e {
            case .error:
                out.append(e); ended = true
            case .messageStart(_, _, let usage):
                guard !started else { continue }
                started = true; startUsage = usage
                out.append(e)
            case .blockStart(let i, _):
                guard started else { fail("a content block before the message started"); continue }
                guard !sawDelta else { fail("a content block after the message ended"); continue }
                guard i == nextIndex else { fail("content block \(i) where \(nextIndex) was next"); continue }
                nextIndex += 1; open.insert(i)
                out.append(e)
            case .blockDelta(let i, _):
                if open.contains(i) { out.append(e) }
            case .blockStop(let i):
                if open.remove(i) != nil { out.append(e) }
            case .messageDelta:
                guard started else { fail("the message ended before it started"); continue }
                guard !sawDelta else { continue }
                closeOpen(); sawDelta = true
                out.append(e)
            case .messageStop:
                guard started else { fail("the message ended before it started"); continue }
                if !sawDelta {
                    closeOpen(); sawDelta = true
                    out.append(.messageDelta(stopReason: .endTurn, stopSequence: nil, usage: startUsage ?? Usage()))
                }
                out.append(e); ended = true
            }
        }
        return out
    }
}
