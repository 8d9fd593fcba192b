import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolHTTP
import ProxyPoolHTTPWire
import ProxyPoolTranslation

extension ProxyService {
    /// `GET /v1/responses` with `Upgrade: websocket`, admitted like any API request (Host, Origin, access key,
    /// head checks, all before the 101): check the handshake, answer 101, and serve the socket's turns.
    func openResponsesWebSocket(_ endpoint: Endpoint, _ request: HTTPRequest, _ response: HTTPResponseWriter, keyInfo: (id: String, app: String?)?) {
        let head = request.head
        if let (status, message) = WebSocketHandshake.problem(head) {
            // 426 names the version we speak (RFC 6455 §4.4); Codex falls back to HTTP at once on a 426.
            return refuse(response, endpoint.family, .invalidRequest, message, status: status,
                          headers: status == 426 ? [("Sec-WebSocket-Version", "13"), ("Upgrade", "websocket")] : [])
        }
        var key = Substring(head.header("sec-websocket-key") ?? "")
        while key.first == " " || key.first == "\t" { key.removeFirst() }
        while key.last == " " || key.last == "\t" { key.removeLast() }
        let session = ResponsesWebSocketSession(service: self, upgrade: head, endpoint: endpoint, keyInfo: keyInfo)
        guard let ws = response.acceptWebSocket(accept: WebSocketAccept.value(key: String(key)),
                                                maxMessageBytes: options.maxAnswerBytes, delegate: session) else { return }
        if session.channel == nil && ws.isOpen { session.channel = ws }
        let (app, _) = AppDetection.detect(keyApp: keyInfo?.app, userRules: snapshot.appRules, header: head.header)
        metrics.count("proxypool_websocket_connections_total", "app=\"\(app)\"")
        logger.info("WebSocket opened on \(head.path) app=\(app)", event: "websocket-open", [.init("APP", app)])
    }
}

/// The bytes all WebSockets' histories hold (ResponsesWebSocketHistory), against one budget: a connection's own
/// cap (max-body-bytes) times a thousand connections would be far more than the daemon should hold.
final class WebSocketHistoryBudget {
    var held = 0
    let capBytes: Int
    init(capBytes: Int) { self.capBytes = capBytes }
}

/// One Responses WebSocket: each `response.create` becomes a `POST /v1/responses` routed by the proxy as any
/// other (app detection, chain, tiers, translation to every credential kind, failover before the first event
/// reaches the client), answered into a sink that sends every SSE event as one text message. Turns run one at
/// a time, in order; a few may wait. Loop thread only.
final class ResponsesWebSocketSession: WebSocketDelegate, LoopSoon {
    let service: ProxyService
    /// The handshake's head, whose headers (app, session, key) every turn carries.
    let upgrade: HTTPRequestHead
    let endpoint: Endpoint
    let keyInfo: (id: String, app: String?)?
    var channel: WebSocketChannel?
    private var history: ResponsesWebSocketHistory
    private var turn: ResponsesWebSocketTurn?
    /// Messages that came while a turn ran, at most `maxWaiting`.
    private var waiting: [[UInt8]] = []
    static let maxWaiting = 4
    private var nextWarmup = 0
    /// The head every turn is sent with: the handshake's headers without the hop-by-hop and WebSocket ones.
    let turnHeaders: [(name: String, value: String)]

    init(service: ProxyService, upgrade: HTTPRequestHead, endpoint: Endpoint, keyInfo: (id: String, app: String?)?) {
        self.service = service; self.upgrade = upgrade; self.endpoint = endpoint; self.keyInfo = keyInfo
        history = ResponsesWebSocketHistory(maxBytes: service.options.maxAnswerBytes, ttlMillis: 30 * 60_000)
        let dropped: Set<String> = ["connection", "upgrade", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
                                    "sec-websocket-protocol", "openai-beta", "content-length", "transfer-encoding"]
        var h: [(name: String, value: String)] = []
        for (i, name) in upgrade.lowerNames.enumerated() where !dropped.contains(name) { h.append(upgrade.headers[i]) }
        h.append((name: "Content-Type", value: "application/json"))
        turnHeaders = h
    }

    // MARK: WebSocketDelegate

    func webSocket(_ ws: WebSocketChannel, text: [UInt8]) {
        if channel == nil { channel = ws }   // frames that came right behind the handshake
        if turn != nil || !waiting.isEmpty {
            guard waiting.count < Self.maxWaiting else {
                ws.close(code: WebSocketCloseCode.policyViolation, reason: "more than \(Self.maxWaiting) requests waiting on one connection")
                return
            }
            waiting.append(text)
            return
        }
        start(text)
    }

    func webSocket(_ ws: WebSocketChannel, binary: [UInt8]) {
        // Codex sends text only; a binary message is not part of the protocol (RFC 6455 §7.4.1: 1003).
        ws.close(code: WebSocketCloseCode.unsupportedData, reason: "binary messages are not accepted; send response.create as text")
    }

    func webSocketDrained(_ ws: WebSocketChannel) { turn?.writer?.drained() }

    func webSocketClosed(_ ws: WebSocketChannel) {
        waiting = []
        remember(nil, input: [], output: [], bytes: 0)
        let t = turn
        turn = nil
        t?.writer?.clientGone()   // the exchange stops its upstream transfer
        channel = nil
    }

    // MARK: Turns

    private func start(_ text: [UInt8]) {
        guard let ws = channel, ws.isOpen else { return }
        let now = Posix.monotonicMillis()
        switch ResponsesWebSocketProtocol.read(text, history: &history, nowMillis: now) {
        case .ignore:
            runSoon()
        case .refuse(let status, let code, let message):
            service.metrics.count("proxypool_requests_total", "app=\"-\",code=\"\(status)\",credential=\"-\"")
            ws.sendText(ResponsesWebSocketProtocol.errorEvent(status: status, type: "invalid_request_error", code: code, message: message))
            runSoon()
        case .create(let body, let input, let generate, let continued):
            if let c = continued {
                service.logger.debug("WebSocket turn continues response \(c.id): \(c.earlier) items remembered, \(input.count - c.earlier) new",
                                     event: "websocket-continue")
            }
            if !generate {
                // A warm-up uploads the input and asks for nothing: answered here, no upstream is called.
                nextWarmup += 1
                let id = "resp_ws_warmup_\(ObjectIdentifier(self).hashValue & 0xFFFFFF)_\(nextWarmup)"
                for m in ResponsesWebSocketProtocol.warmupEvents(id: id, model: body["model"]?.string, createdAt: Timestamp.now()) { ws.sendText(m) }
                remember(id, input: input, output: [], bytes: text.count)
                runSoon()
                return
            }
            // Admitted again, as every HTTP request is: a key revoked (or rules changed) since the handshake applies.
            if let r = service.admit(upgrade) {
                service.admitted = nil
                ws.sendText(ResponsesWebSocketProtocol.errorEvent(status: r.status, headers: r.headers, body: r.body))
                ws.close(code: WebSocketCloseCode.policyViolation, reason: "no longer admitted")
                return
            }
            let keyInfo = service.admitted?.keyInfo ?? self.keyInfo
            service.admitted = nil
            let bytes = JSONWriter.bytes(body)
            var headers = turnHeaders
            headers.append((name: "Content-Length", value: String(bytes.count)))
            let head = HTTPRequestHead(method: "POST", target: String(upgrade.path), minorVersion: 1, headers: headers)
            let t = ResponsesWebSocketTurn(session: self, input: input, bodyBytes: bytes.count)
            turn = t
            ws.busy = true
            // The writer lives as long as the exchange that answers into it holds it.
            let writer = t.makeWriter(head)
            service.proxy(endpoint, HTTPRequest(head: head, body: bytes), writer, keyInfo: keyInfo, overWebSocket: true)
        }
    }

    /// A turn's response ended: remember what the next incremental turn needs, then take the next message.
    func turnEnded(_ t: ResponsesWebSocketTurn) {
        guard turn === t else { return }
        turn = nil
        channel?.busy = false
        let o = t.outcome
        remember(o.completed && !o.overCap ? o.responseID : nil, input: t.input, output: o.items,
                 bytes: t.bodyBytes.addingReportingOverflow(o.outputBytes).partialValue)
        // At the next turn of the loop: the exchange that answered is still finishing its own bookkeeping.
        service.loop.soon(self)
    }

    /// Keep (or, with no id, drop) what the next incremental turn needs, within this connection's cap and the
    /// budget all connections share.
    private func remember(_ id: String?, input: [JSONNode], output: [JSONNode], bytes: Int) {
        let budget = service.webSocketHistory
        budget.held -= history.heldBytes
        history.forget()
        guard let id, bytes <= budget.capBytes - budget.held else { return }
        history.remember(id: id, input: input, output: output, bytes: bytes, nowMillis: Posix.monotonicMillis())
        budget.held += history.heldBytes
    }

    func runSoon() {
        guard turn == nil, !waiting.isEmpty, channel?.isOpen == true else { return }
        start(waiting.removeFirst())
    }

    func send(_ message: [UInt8]) { channel?.sendText(message) }
    var overHighWater: Bool { channel?.overHighWater ?? false }
    var queuedBytes: Int { channel?.queuedBytes ?? 0 }
}

/// One `response.create` being answered: the sink of its writer. An event stream is cut into its events,
/// each sent as one text message (`data: [DONE]` is not an event); an error answer becomes an error message.
final class ResponsesWebSocketTurn: HTTPResponseSink {
    /// Weak: the exchange (holding the writer, which holds this sink) may outlive a closed socket's session.
    weak var session: ResponsesWebSocketSession?
    let input: [JSONNode]
    let bodyBytes: Int
    /// Weak: the exchange holds it (a strong reference here would be a cycle through the writer's sink).
    private(set) weak var writer: HTTPResponseWriter?
    private let cap: Int
    private var status = 0
    private var eventStream = false
    private var headers: [(String, String)] = []
    private var sse = SSEParser()
    private var held: [UInt8] = []
    private var ended = false
    var outcome = ResponsesTurnOutcome()

    init(session: ResponsesWebSocketSession, input: [JSONNode], bodyBytes: Int) {
        self.session = session; self.input = input; self.bodyBytes = bodyBytes
        cap = session.service.options.maxAnswerBytes
        sse = SSEParser(maxEventBytes: cap)
    }

    func makeWriter(_ head: HTTPRequestHead) -> HTTPResponseWriter {
        let w = HTTPResponseWriter(sink: self, head: head)
        writer = w
        return w
    }

    func responseStarted(status: Int, headers: [(String, String)], contentLength: Int?) {
        self.status = status
        self.headers = headers
        let type = headers.first { $0.0.lowercased() == "content-type" }?.1.lowercased() ?? ""
        eventStream = (200..<300).contains(status) && type.hasPrefix("text/event-stream")
    }

    func responseBody(_ bytes: [UInt8]) {
        guard !ended else { return }
        guard eventStream else {
            // An error (or a whole JSON answer) is sent once complete; bounded like an upstream answer.
            if held.count < cap { held.append(contentsOf: bytes.prefix(cap - held.count)) }
            return
        }
        let events: [SSEEvent]
        do { events = try sse.feed(bytes) } catch {
            session?.send(ResponsesWebSocketProtocol.errorEvent(status: 502, type: "server_error", code: "event_too_large", message: "an upstream event was too large"))
            end(sawTerminal: false)
            return
        }
        for e in events { deliver(e) }
    }

    private func deliver(_ e: SSEEvent) {
        let data = e.data
        if data.isEmpty || data == "[DONE]" { return }
        outcome.observe(data, name: e.event, capBytes: cap)
        session?.send(Array(data.utf8))
    }

    func responseEnded(complete: Bool) {
        guard !ended else { return }
        if eventStream {
            if let last = sse.finish() { deliver(last) }
            if !outcome.terminal {
                // Codex waits for response.completed; a stream that ends without one must say so.
                session?.send(ResponsesWebSocketProtocol.errorEvent(status: 502, type: "server_error", code: "stream_incomplete",
                                                                   message: "the upstream stream ended before response.completed"))
            }
        } else if (200..<300).contains(status), let json = try? JSONParser.parse(held), json["object"]?.string == "response" {
            // A whole response (not streamed): its completion event.
            outcome.observe(String(decoding: JSONWriter.bytes(["type": "response.completed", "response": json]), as: UTF8.self), capBytes: Int.max)
            session?.send(JSONWriter.bytes(["type": "response.completed", "response": json]))
        } else {
            session?.send(ResponsesWebSocketProtocol.errorEvent(status: (200..<300).contains(status) ? 502 : status, headers: headers, body: held))
        }
        end(sawTerminal: outcome.terminal)
    }

    private func end(sawTerminal: Bool) {
        guard !ended else { return }
        ended = true
        held = []
        session?.turnEnded(self)
    }

    var sinkOverHighWater: Bool { session?.overHighWater ?? false }
    var sinkQueuedBytes: Int { session?.queuedBytes ?? 0 }
}
