import Foundation
import Testing
import ProxyPoolCore
@testable import ProxyPoolTranslation

/// Each stream encoder ends its stream as its protocol's provider does: the last events of a translated answer are
/// compared with the end of the provider's documented stream (Fixtures/end-of-stream, each citing its page). The
/// comparison holds the event names, the order, every key the provider sends (with the same JSON type: a null
/// stays a null), the values that carry meaning (types, finish and stop reasons, roles, text, arguments, token
/// counts) and array lengths; ids, timestamps and sequence numbers may differ. No encoder may send an empty text
/// part or delta anywhere in the stream.
@Suite struct EndOfStreamFixtureTests {
    /// The provider's own metadata, which a translation has nothing to fill with.
    static let providerOnly: Set<String> = ["system_fingerprint", "logprobs", "promptTokensDetails", "cacheTokensDetails",
                                            "instructions", "max_output_tokens", "previous_response_id", "reasoning", "store",
                                            "temperature", "text", "top_p", "truncation", "user", "metadata"]
    /// Values that may differ between two streams of the same answer.
    static let free: Set<String> = ["id", "created", "created_at", "sequence_number", "model", "modelVersion", "responseId",
                                    "item_id", "call_id"]

    /// "Hello there." with 1920 of 2006 input tokens read from the cache; an empty delta in the middle must vanish.
    static let text: [StreamEvent] = [
        .messageStart(id: "up_1", model: "m", usage: nil),
        .blockStart(index: 0, .text), .blockDelta(index: 0, .text("Hello")), .blockDelta(index: 0, .text("")),
        .blockDelta(index: 0, .text(" there.")), .blockStop(index: 0),
        .messageDelta(stopReason: .endTurn, stopSequence: nil, usage: Usage(input: 2006, output: 300, cachedInput: 1920)),
        .messageStop,
    ]

    /// A line of text, then get_weather({"location":"Paris"}) in two fragments.
    static let tool: [StreamEvent] = [
        .messageStart(id: "up_2", model: "m", usage: nil),
        .blockStart(index: 0, .text), .blockDelta(index: 0, .text("Checking.")), .blockStop(index: 0),
        .blockStart(index: 1, .toolCall(id: "call_12345", name: "get_weather", signature: nil)),
        .blockDelta(index: 1, .toolArguments(#"{"location":"Paris"#)), .blockDelta(index: 1, .toolArguments(#""}"#)), .blockStop(index: 1),
        .messageDelta(stopReason: .toolUse, stopSequence: nil, usage: Usage(input: 82, output: 17)),
        .messageStop,
    ]

    static func encoded(_ wire: WireProtocol, _ events: [StreamEvent]) -> [SSEEvent] {
        var request = ChatRequest(model: "m")
        request.stream = true
        request.streamUsage = true
        let encoder = Codecs.codec(wire).makeStreamEncoder(for: request, context: ClientContext(geminiSSE: true))
        return CodecFixtures.sseEvents(CodecFixtures.encode(events, with: encoder))
    }

    /// Why `actual` does not hold what `expected` holds; nil when it does.
    static func mismatch(_ expected: JSONNode, _ actual: JSONNode?, _ path: String) -> String? {
        guard let actual else { return "\(path): missing" }
        if let fields = expected.fields {
            guard actual.isObject else { return "\(path): not an object" }
            for (k, v) in fields where !providerOnly.contains(k) {
                if free.contains(k) {
                    if actual[k] == nil || (v.isNull != (actual[k]?.isNull ?? true)) { return "\(path).\(k): missing or not \(v.isNull ? "null" : "set")" }
                    continue
                }
                if let why = mismatch(v, actual[k], "\(path).\(k)") { return why }
            }
            return nil
        }
        if let items = expected.array {
            guard let got = actual.array else { return "\(path): not an array" }
            guard got.count == items.count else { return "\(path): \(got.count) items, the provider sends \(items.count)" }
            for (i, e) in items.enumerated() { if let why = mismatch(e, got[i], "\(path)[\(i)]") { return why } }
            return nil
        }
        if expected.isNull { return actual.isNull ? nil : "\(path): \(JSONWriter.string(actual)), the provider sends null" }
        return JSONWriter.string(expected) == JSONWriter.string(actual) ? nil
            : "\(path): \(JSONWriter.string(actual)), the provider sends \(JSONWriter.string(expected))"
    }

    static func emptyPiece(_ events: [SSEEvent]) -> String? {
        for e in events where e.data != "[DONE]" {
            guard let j = try? JSONParser.parse(Array(e.data.utf8)) else { continue }
            let d = JSONWriter.string(j)
            for bad in [#""parts":[{"text":""}]"#, #"{"text":""}"#, #""delta":{"content":""}"#, #""text_delta","text":""}"#,
                        #""thinking_delta","thinking":""}"#, #""delta":"""#] where d.contains(bad) {
                return d
            }
        }
        return nil
    }

    @Test(arguments: [(WireProtocol.openAIChat, "openai-chat"), (.openAIResponses, "openai-responses"), (.anthropicMessages, "anthropic"),
                      (.gemini, "gemini")] as [(WireProtocol, String)],
          ["text", "tool"])
    func theLastEventsAreTheProvidersOwn(_ protocolName: (WireProtocol, String), _ answer: String) throws {
        let (wire, name) = protocolName
        let fixture = CodecFixtures.sse("end-of-stream/\(name)_\(answer).sse")
        let out = Self.encoded(wire, answer == "text" ? Self.text : Self.tool)
        #expect(Self.emptyPiece(out) == nil, "an empty part or delta: \(Self.emptyPiece(out) ?? "")")
        try #require(out.count >= fixture.count, "\(out.count) events: \(out)")
        for (e, a) in zip(fixture, out.suffix(fixture.count)) {
            #expect(a.event == e.event, "event \(a.event ?? "-"), the provider sends \(e.event ?? "-")")
            if e.data == "[DONE]" { #expect(a.data == "[DONE]"); continue }
            let why = Self.mismatch(try JSONParser.parse(Array(e.data.utf8)), try JSONParser.parse(Array(a.data.utf8)), e.event ?? "data")
            #expect(why == nil, "\(name) \(answer): \(why ?? "")\n  ours: \(a.data)")
        }
    }
}
