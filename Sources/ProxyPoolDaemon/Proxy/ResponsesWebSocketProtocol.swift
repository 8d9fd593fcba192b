import ProxyPoolCore
import ProxyPoolTranslation

/// The Responses WebSocket protocol, as the public openai/codex source speaks it, without I/O.
///
/// - The client sends one text message per turn: `{"type":"response.create", …}` with the body of a
///   `POST /v1/responses` beside `type` (codex-rs/codex-api/src/common.rs, `ResponsesWsRequest` /
///   `ResponseCreateWsRequest`), optionally `generate: false` (a warm-up that only uploads the input:
///   codex-rs/core/src/client.rs, `generate: if warmup { Some(false) } else { None }`) and
///   `previous_response_id` with only the input that follows the previous request's input and the output
///   items it received (client.rs `get_incremental_items` / `prepare_websocket_request`). It may also send
///   `{"type":"response.processed","response_id":…}` (common.rs `ResponseProcessedWsRequest`): nothing to answer.
/// - The server answers with the events of the SSE stream, one text message each, until `response.completed`
///   (codex-rs/codex-api/src/endpoint/responses_websocket.rs, `run_websocket_response_stream`).
/// - An error is a message `{"type":"error","status":N,"error":{"type","code","message"},"headers":{…}}`,
///   which Codex maps to the HTTP error of that status (responses_websocket.rs `WrappedWebsocketErrorEvent`);
///   `previous_response_not_found` makes it start again with the whole input.
enum ResponsesWebSocketProtocol {
    /// What a client message asks for.
    enum Message {
        /// A turn: the body to route as a `POST /v1/responses` (whole input, `stream: true`), and its input
        /// (to remember for the next incremental turn).
        case create(body: JSONNode, input: [JSONNode], generate: Bool, continued: (id: String, earlier: Int)?)
        /// Nothing to do (`response.processed`).
        case ignore
        /// An error event to send (the socket stays open).
        case refuse(status: Int, code: String, message: String)
    }

    /// Read one client text message, joining an incremental turn to what `history` holds.
    static func read(_ text: [UInt8], history: inout ResponsesWebSocketHistory, nowMillis: Int64) -> Message {
        guard let json = try? JSONParser.parse(text), json.isObject else {
            return .refuse(status: 400, code: "invalid_json", message: "a WebSocket message must be a JSON object")
        }
        switch json["type"]?.string {
        case "response.create": break
        case "response.processed": return .ignore
        case let t?: return .refuse(status: 400, code: "unsupported_message", message: "unsupported message type '\(t)'; this endpoint takes response.create")
        case nil: return .refuse(status: 400, code: "missing_type", message: "a WebSocket message needs a 'type' (response.create)")
        }
        var body = json
        body.set("type", nil)
        let generate = body["generate"]?.bool ?? true
        body.set("generate", nil)
        var input: [JSONNode]
        switch body["input"] {
        case nil, .null?: input = []
        case .array(let items)?: input = items
        case .string(let s)?:
            input = [["type": "message", "role": "user", "content": [["type": "input_text", "text": .string(s)]]]]
        default: return .refuse(status: 400, code: "invalid_input", message: "'input' must be an array of items or a string")
        }
        var continued: (id: String, earlier: Int)?
        if let prev = body["previous_response_id"], !prev.isNull {
            guard let id = prev.string, let earlier = history.take(id, nowMillis: nowMillis) else {
                return .refuse(status: 400, code: "previous_response_not_found",
                               message: "Previous response with id '\(prev.string ?? "?")' not found on this connection; send the whole input")
            }
            input = earlier + input
            continued = (id, earlier.count)
            body.set("previous_response_id", nil)
        }
        body.set("input", .array(input))
        body.set("stream", .bool(true))
        return .create(body: body, input: input, generate: generate, continued: continued)
    }

    /// The error message Codex reads as an HTTP error of `status`.
    static func errorEvent(status: Int, type: String, code: String?, message: String, retryAfter: String? = nil) -> [UInt8] {
        var e: JSONNode = ["type": "error", "status": .int(status),
                           "error": ["type": .string(type), "code": code.map { .string($0) } ?? .null, "message": .string(message)]]
        if let r = retryAfter { e.set("headers", ["retry-after": .string(r)]) }
        return JSONWriter.bytes(e)
    }

    /// An HTTP error answer (an OpenAI-shaped error body, or anything else) as the error message.
    static func errorEvent(status: Int, headers: [(String, String)], body: [UInt8]) -> [UInt8] {
        let parsed = try? JSONParser.parse(body)
        let err = parsed?["error"]
        let message = err?["message"]?.string ?? err?.string ?? (String(validating: body, as: UTF8.self).map { String($0.prefix(2000)) } ?? "upstream error \(status)")
        let type = err?["type"]?.string ?? (status == 429 ? "rate_limit_error" : (status >= 500 ? "server_error" : "invalid_request_error"))
        let retryAfter = headers.first { $0.0.lowercased() == "retry-after" }?.1
        return errorEvent(status: status, type: type, code: err?["code"]?.string, message: message, retryAfter: retryAfter)
    }

    /// The two events that answer a warm-up (`generate: false`): a response with no output, which the next
    /// turn names as its `previous_response_id`.
    static func warmupEvents(id: String, model: String?, createdAt: Int64) -> [[UInt8]] {
        func response(_ status: String) -> JSONNode {
            var r: JSONNode = ["id": .string(id), "object": "response", "created_at": .number(String(createdAt)), "status": .string(status),
                               "model": model.map { .string($0) } ?? .null, "output": []]
            if status == "completed" { r.set("usage", ["input_tokens": 0, "output_tokens": 0, "total_tokens": 0]) }
            return r
        }
        return [JSONWriter.bytes(["type": "response.created", "response": response("in_progress")]),
                JSONWriter.bytes(["type": "response.completed", "response": response("completed")])]
    }
}

/// What one turn's event stream said, read as the events pass: the response's id and its output items (the
/// next incremental turn starts from them), and whether it ended.
struct ResponsesTurnOutcome {
    var responseID: String?
    var output: [JSONNode] = []
    var completedOutput: [JSONNode]?
    var terminal = false
    /// Ended with `response.completed` (the only ending a next turn builds on).
    var completed = false
    /// Bytes of output held, against the history's cap.
    var outputBytes = 0
    var overCap = false

    /// The event kinds read here; the others (deltas, most of a stream) are passed on without being parsed.
    static let observed = ["response.created", "response.in_progress", "response.output_item.done", "response.completed",
                           "response.failed", "response.incomplete"]

    /// Look at one event (`data` of an SSE event, `name` its `event:` line if it had one).
    mutating func observe(_ data: String, name: String? = nil, capBytes: Int) {
        if let name { guard Self.observed.contains(name) else { return } }
        else { guard Self.observed.contains(where: { data.includes($0 + "\"") }) else { return } }
        guard let e = try? JSONParser.parse(Array(data.utf8)), let type = e["type"]?.string else { return }
        switch type {
        case "response.created", "response.in_progress":
            if responseID == nil { responseID = e["response"]?["id"]?.string }
        case "response.output_item.done":
            guard let item = e["item"], !overCap else { return }
            outputBytes = outputBytes.addingReportingOverflow(data.utf8.count).partialValue
            if outputBytes > capBytes { overCap = true; output = []; return }
            output.append(item)
        case "response.completed":
            terminal = true
            completed = true
            if let id = e["response"]?["id"]?.string { responseID = id }
            completedOutput = e["response"]?["output"]?.array
        case "response.failed", "response.incomplete":
            terminal = true
        default: break
        }
    }

    /// The output items the client counts as received (those of `output_item.done`, else the completed
    /// response's `output`).
    var items: [JSONNode] { output.isEmpty ? (completedOutput ?? []) : output }
}

/// The per-connection memory that incremental turns need: the last response's id, the whole input that
/// produced it and its output items. Bounded: one response, at most `maxBytes` of JSON, forgotten after
/// `ttlMillis` (a turn beyond either gets `previous_response_not_found` and Codex sends the whole input).
struct ResponsesWebSocketHistory {
    let maxBytes: Int
    let ttlMillis: Int64
    private var last: (id: String, items: [JSONNode], at: Int64)?
    private(set) var heldBytes = 0

    init(maxBytes: Int, ttlMillis: Int64) { self.maxBytes = maxBytes; self.ttlMillis = ttlMillis }

    /// The items (input then output) of response `id`, if it is the one remembered and still fresh.
    mutating func take(_ id: String, nowMillis: Int64) -> [JSONNode]? {
        guard let l = last, l.id == id else { return nil }
        // Stale: not used (it stays counted until the next turn replaces it or the connection ends).
        guard nowMillis - l.at <= ttlMillis else { return nil }
        return l.items
    }

    mutating func remember(id: String, input: [JSONNode], output: [JSONNode], bytes: Int, nowMillis: Int64) {
        guard bytes <= maxBytes, !id.isEmpty else { forget(); return }
        last = (id, input + output, nowMillis)
        heldBytes = bytes
    }

    mutating func forget() { last = nil; heldBytes = 0 }

    var rememberedID: String? { last?.id }
}
