/// A whole Responses answer from a Responses event stream: what a client that asked for `stream: false` gets
/// from an upstream that only streams. ChatGPT's Codex backend answers a non-streamed request with
/// `400 {"detail":"Stream must be set to true"}` (reported in netclaw-dev/netclaw#1289 and kryptobaseddev/cleo#1079),
/// so such a request goes up streamed and its events are collected here. The answer is the `response` of the
/// final `response.completed` (or `response.incomplete` / `response.failed`) event; its `output`, which that
/// backend may leave empty although the stream delivered every item (RayBytes/ChatMock#121), is then filled
/// from the `response.output_item.done` events, in `output_index` order.
public enum ResponsesStreamCollector {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Whether `body` reads as an event stream (the backend may send one without a Content-Type).
    public static func looksLikeEventStream(_ body: [UInt8]) -> Bool {
        let start = body.prefix(64).drop { $0 == 32 || $0 == 10 || $0 == 13 }
        return start.starts(with: Array("event:".utf8)) || start.starts(with: Array("data:".utf8)) || start.starts(with: Array(":".utf8))
    }

    public static func collect(_ body: [UInt8]) throws(Failure) -> [UInt8] {
        var parser = SSEParser()
        var events: [SSEEvent]
        do { events = try parser.feed(body) } catch { throw Failure(message: "an event of the stream is too large") }
        if let last = parser.finish() { events.append(last) }
        var items: [(index: Int, item: JSONNode)] = []
        var final: JSONNode?
        for e in events {
            guard let json = try? JSONParser.parse(e.data), json.isObject else { continue }
            let type = json["type"]?.string ?? e.event ?? ""
            switch type {
            case "response.output_item.done":
                if let item = json["item"], item.isObject { items.append((json["output_index"]?.int ?? items.count, item)) }
            case "response.completed", "response.incomplete", "response.failed":
                final = json["response"]
            case "error":
                let m = json["error"]?["message"]?.string ?? json["message"]?.string ?? json["error"]?["type"]?.string ?? "an error event"
                throw Failure(message: "the stream ended with an error: \(m)")
            default:
                break
            }
        }
        guard var response = final, response.isObject else {
            throw Failure(message: "the stream ended without a response.completed event")
        }
        if (response["output"]?.array ?? []).isEmpty && !items.isEmpty {
            response.set("output", .array(items.enumerated().sorted { ($0.element.index, $0.offset) < ($1.element.index, $1.offset) }.map(\.element.item)))
        }
        return JSONWriter.bytes(response)
    }
}
