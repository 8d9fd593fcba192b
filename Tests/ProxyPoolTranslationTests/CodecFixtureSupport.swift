import Foundation
@testable import ProxyPoolTranslation

/// Fixture loading and stream plumbing for the Anthropic / OpenAI Chat codec tests.
enum CodecFixtures {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ path: String) -> [UInt8] {
        [UInt8](try! Data(contentsOf: root.appendingPathComponent(path)))
    }

    static func json(_ path: String) -> JSONNode { try! JSONParser.parse(bytes(path)) }

    static func sse(_ path: String) -> [SSEEvent] { sseEvents(bytes(path)) }

    static func sseEvents(_ bytes: [UInt8]) -> [SSEEvent] {
        var p = SSEParser()
        var events = try! p.feed(bytes)
        if let last = p.finish() { events.append(last) }
        return events
    }

    /// Runs SSE events through a stream decoder, then `finish()`.
    static func decode(_ events: [SSEEvent], with decoder: any StreamDecoder) throws -> [StreamEvent] {
        var out: [StreamEvent] = []
        for e in events { out += try decoder.decode(e) }
        return out + decoder.finish()
    }

    /// Runs canonical events through a stream encoder, then `finish(into:)`.
    static func encode(_ events: [StreamEvent], with encoder: any StreamEncoder) -> [UInt8] {
        var out: [UInt8] = []
        for e in events { encoder.encode(e, into: &out) }
        encoder.finish(into: &out)
        return out
    }

    static func parse(_ text: String) -> JSONNode { try! JSONParser.parse(text) }
}

extension ChatRequest {
    /// The text of every message block, for quick checks.
    var messageRoles: [Role] { messages.map(\.role) }
}
