import Foundation
import Testing
@testable import ProxyPoolTranslation
import ProxyPoolCore

/// Inputs the fuzzer (Tests/Fuzz) once crashed on or broke an invariant with, replayed the way its target fed
/// them: Fixtures/fuzz/<target>/<name>. A new finding goes into the directory of its target; no code needed.
enum FuzzFixtures {
    static let root = CodecFixtures.root.appendingPathComponent("fuzz")

    static func inputs(_ target: String) -> [(name: String, bytes: [UInt8])] {
        let dir = root.appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().map { ($0, [UInt8](try! Data(contentsOf: dir.appendingPathComponent($0)))) }
    }

    static func wire(_ selector: UInt8) -> WireProtocol { WireProtocol.allCases[Int(selector) % WireProtocol.allCases.count] }

    static let request = ChatRequest(model: "fuzz-model", messages: [Message(role: .user, content: [.text("hi")])],
                                     tools: [ToolDefinition(name: "get_weather", parameters: ["type": "object"])], stream: true)

    static func context(_ wire: WireProtocol) -> ClientContext {
        wire == .gemini ? ClientContext(pathModel: "gemini-fuzz", streamFromPath: false) : ClientContext()
    }
}

@Suite struct FuzzRegressionTests {
    @Test func jsonWriteParseRoundTrips() throws {
        for (name, bytes) in FuzzFixtures.inputs("json") {
            guard let v = try? JSONParser.parse(bytes) else { continue }
            let written = JSONWriter.bytes(v)
            let again = try JSONParser.parse(written)
            #expect(again == v, "\(name)")
            #expect(v == v, "\(name)")
            #expect(JSONWriter.bytes(again) == written, "\(name)")
        }
    }

    @Test func repeatedKeysCompareAsTheirLastValue() throws {
        let a = try JSONParser.parse(#"{"a":1,"b":[true],"a":2}"#)
        #expect(a == a)
        #expect(a == (try JSONParser.parse(#"{"b":[true],"a":2}"#)))
        #expect(a != (try JSONParser.parse(#"{"a":1,"b":[true]}"#)))
        #expect(a != (try JSONParser.parse(#"{"a":2,"b":[true],"c":null}"#)))
    }

    @Test func sseSplitsGiveTheSameEvents() throws {
        for (name, bytes) in FuzzFixtures.inputs("sse") where !bytes.isEmpty {
            let stream = bytes.dropFirst()
            func run(_ step: Int) throws -> [SSEEvent] {
                var p = SSEParser()
                var out: [SSEEvent] = []
                var i = stream.startIndex
                while i < stream.endIndex { out += try p.feed(stream[i..<min(i + step, stream.endIndex)]); i += step }
                if let last = p.finish() { out.append(last) }
                return out
            }
            let whole = try run(max(stream.count, 1))
            #expect(try run(1) == whole, "\(name)")
            #expect(try run(7) == whole, "\(name)")
        }
    }

    @Test(arguments: WireProtocol.allCases)
    func requestsDecodeAndEncodeWithoutTrapping(_ wire: WireProtocol) {
        let target = ["openai-chat": "request-openai-chat", "openai-responses": "request-openai-responses",
                      "anthropic-messages": "request-anthropic", "gemini": "request-gemini"][wire.rawValue]!
        for (_, bytes) in FuzzFixtures.inputs(target) {
            guard let req = try? Translator.decodeRequest(bytes, from: wire, context: FuzzFixtures.context(wire)) else { continue }
            for to in WireProtocol.allCases {
                if let out = try? Translator.encodeRequest(req, to: to) { #expect((try? JSONParser.parse(out)) != nil) }
            }
        }
    }

    @Test func responsesDecodeWithoutTrapping() {
        for (name, bytes) in FuzzFixtures.inputs("response") where !bytes.isEmpty {
            let upstream = FuzzFixtures.wire(bytes[0])
            let body = Array(bytes.dropFirst())
            for client in WireProtocol.allCases {
                if let (out, _) = try? Translator.translateResponse(body, from: upstream, to: client, request: FuzzFixtures.request) {
                    #expect((try? JSONParser.parse(out)) != nil, "\(name) → \(client)")
                }
                _ = Translator.translateError(status: 500, body: body, from: upstream, to: client)
            }
        }
    }

    @Test func streamsTranscodeWithoutTrapping() {
        for (name, bytes) in FuzzFixtures.inputs("stream") where bytes.count >= 2 {
            let upstream = FuzzFixtures.wire(bytes[0])
            let stream = bytes[2...]
            for client in WireProtocol.allCases {
                for step in [1, 5, max(stream.count, 1)] {
                    let t = StreamTranscoder(from: upstream, to: client, request: FuzzFixtures.request, context: FuzzFixtures.context(client))
                    var out: [UInt8] = []
                    var i = stream.startIndex
                    while i < stream.endIndex { t.feed(stream[i..<min(i + step, stream.endIndex)], into: &out); i += step }
                    t.finish(into: &out)
                    #expect(t.isEnded, "\(name) → \(client)")
                }
            }
        }
    }
}

@Suite struct CanonicalOrderTests {
    func decoded(_ wire: WireProtocol, _ sse: String) throws -> [StreamEvent] {
        let d = Codecs.codec(wire).makeStreamDecoder()
        var out: [StreamEvent] = []
        for e in CodecFixtures.sseEvents(Array(sse.utf8)) {
            do { out += try d.decode(e) } catch { return out + [.error(ErrorInfo(kind: .server, message: "\(error)", status: 502))] }
        }
        return out + d.finish()
    }

    @Test func anthropicBlockBeforeMessageStartIsAnError() throws {
        let events = try decoded(.anthropicMessages, """
            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}


            """)
        #expect(events.count == 1)
        guard case .error(let info)? = events.first else { Issue.record("\(events)"); return }
        #expect(info.message.contains("before message_start"))
    }

    @Test func anthropicRepeatedMessageStartAndDeltaAreDropped() throws {
        let events = try decoded(.anthropicMessages, """
            data: {"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":3}}}

            data: {"type":"message_start","message":{"id":"msg_2","model":"m"}}

            data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}

            data: {"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":2}}

            data: {"type":"message_stop"}


            """)
        #expect(events.count == 3)
        #expect(events.filter { if case .messageDelta(.endTurn, _, _) = $0 { return true }; return false }.count == 1)
    }

    @Test func orderIsRepaired() {
        var o = CanonicalOrder()
        let u = Usage(input: 1, output: 2)
        let out = o.filter([
            .messageStart(id: "a", model: "m", usage: nil), .messageStart(id: "b", model: "m", usage: nil),
            .blockStart(index: 0, .text), .blockDelta(index: 0, .text("x")), .blockDelta(index: 5, .text("y")),
            .blockStart(index: 1, .text), .blockStop(index: 1), .blockStop(index: 1),
            .messageDelta(stopReason: .endTurn, stopSequence: nil, usage: u),
            .messageDelta(stopReason: .maxTokens, stopSequence: nil, usage: u), .messageStop, .messageStop,
        ])
        #expect(out == [
            .messageStart(id: "a", model: "m", usage: nil), .blockStart(index: 0, .text), .blockDelta(index: 0, .text("x")),
            .blockStart(index: 1, .text), .blockStop(index: 1), .blockStop(index: 0),
            .messageDelta(stopReason: .endTurn, stopSequence: nil, usage: u), .messageStop,
        ])
        var o2 = CanonicalOrder()
        let bad = o2.filter([.blockStart(index: 0, .text), .messageStart(id: "a", model: "m", usage: nil)])
        #expect(bad.count == 1)
        if case .error(let info)? = bad.first { #expect(info.status == 502) } else { Issue.record("\(bad)") }
        var o3 = CanonicalOrder()
        #expect(o3.filter([.messageStart(id: "a", model: "m", usage: u), .blockStart(index: 0, .text), .messageStop]) == [
            .messageStart(id: "a", model: "m", usage: u), .blockStart(index: 0, .text), .blockStop(index: 0),
            .messageDelta(stopReason: .endTurn, stopSequence: nil, usage: u), .messageStop,
        ])
    }
}
