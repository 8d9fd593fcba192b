import Testing
@testable import ProxyPoolDaemon
import ProxyPoolTranslation

/// The Responses WebSocket's messages (ResponsesWebSocketProtocol.swift), without sockets.
@Suite struct ResponsesWebSocketProtocolTests {
    func bytes(_ j: JSONNode) -> [UInt8] { JSONWriter.bytes(j) }
    let user: JSONNode = ["type": "message", "role": "user", "content": [["type": "input_text", "text": "hi"]]]
    let answer: JSONNode = ["type": "message", "role": "assistant", "content": [["type": "output_text", "text": "hello"]]]

    @Test func responseCreateBecomesAStreamedPostBody() {
        var h = ResponsesWebSocketHistory(maxBytes: 1 << 20, ttlMillis: 1000)
        let m = ResponsesWebSocketProtocol.read(bytes(["type": "response.create", "model": "gpt-5", "input": [user], "stream": false,
                                                      "client_metadata": ["a": "b"]]), history: &h, nowMillis: 0)
        guard case .create(let body, let input, let generate, let continued) = m else { Issue.record("\(m)"); return }
        #expect(body["type"] == nil && body["stream"] == .bool(true) && body["model"]?.string == "gpt-5")
        #expect(input == [user] && generate && continued == nil)
    }

    @Test func incrementalTurnsJoinTheRememberedResponse() {
        var h = ResponsesWebSocketHistory(maxBytes: 1 << 20, ttlMillis: 1000)
        h.remember(id: "resp_1", input: [user], output: [answer], bytes: 100, nowMillis: 0)
        let follow: JSONNode = ["type": "function_call_output", "call_id": "c1", "output": "ok"]
        let m = ResponsesWebSocketProtocol.read(bytes(["type": "response.create", "model": "gpt-5", "previous_response_id": "resp_1", "input": [follow]]),
                                                history: &h, nowMillis: 500)
        guard case .create(let body, let input, _, let continued) = m else { Issue.record("\(m)"); return }
        #expect(input == [user, answer, follow])
        #expect(body["input"] == .array([user, answer, follow]) && body["previous_response_id"] == nil)
        #expect(continued?.id == "resp_1" && continued?.earlier == 2)
    }

    @Test func unknownExpiredOrOversizedPreviousResponsesAreNotFound() {
        var h = ResponsesWebSocketHistory(maxBytes: 1000, ttlMillis: 1000)
        let ask = bytes(["type": "response.create", "previous_response_id": "resp_1", "input": []])
        func code(_ m: ResponsesWebSocketProtocol.Message) -> String? { if case .refuse(_, let c, _) = m { return c }; return nil }
        #expect(code(ResponsesWebSocketProtocol.read(ask, history: &h, nowMillis: 0)) == "previous_response_not_found")
        h.remember(id: "resp_1", input: [user], output: [], bytes: 10, nowMillis: 0)
        #expect(code(ResponsesWebSocketProtocol.read(ask, history: &h, nowMillis: 1001)) == "previous_response_not_found", "older than the TTL")
        h.remember(id: "resp_1", input: [user], output: [], bytes: 1001, nowMillis: 0)
        #expect(h.rememberedID == nil, "over the cap: not kept")
    }

    @Test func otherMessages() {
        var h = ResponsesWebSocketHistory(maxBytes: 1000, ttlMillis: 1000)
        if case .ignore = ResponsesWebSocketProtocol.read(bytes(["type": "response.processed", "response_id": "r"]), history: &h, nowMillis: 0) {} else { Issue.record("processed") }
        for bad in [Array("not json".utf8), bytes(["type": "session.update"]), bytes(["model": "x"]), bytes(["type": "response.create", "input": 5])] {
            guard case .refuse(let status, _, _) = ResponsesWebSocketProtocol.read(bad, history: &h, nowMillis: 0) else { Issue.record("\(bad)"); continue }
            #expect(status == 400)
        }
        guard case .create(_, let input, let generate, _) = ResponsesWebSocketProtocol.read(bytes(["type": "response.create", "input": "hi", "generate": false]),
                                                                                            history: &h, nowMillis: 0) else { Issue.record("string input"); return }
        #expect(!generate && input.count == 1 && input[0]["role"]?.string == "user")
    }

    @Test func errorEventsAreWhatCodexMapsToHTTPErrors() throws {
        let e = try JSONParser.parse(ResponsesWebSocketProtocol.errorEvent(
            status: 429, headers: [("Retry-After", "7")], body: Array(#"{"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limited"}}"#.utf8)))
        #expect(e["type"]?.string == "error" && e["status"]?.int == 429)
        #expect(e["error"]?["message"]?.string == "slow down" && e["error"]?["code"]?.string == "rate_limited")
        #expect(e["headers"]?["retry-after"]?.string == "7")
        let raw = try JSONParser.parse(ResponsesWebSocketProtocol.errorEvent(status: 502, headers: [], body: Array("bad gateway".utf8)))
        #expect(raw["error"]?["message"]?.string == "bad gateway" && raw["error"]?["type"]?.string == "server_error")
    }

    @Test func outcomeCollectsIDAndOutputItems() {
        var o = ResponsesTurnOutcome()
        for e: JSONNode in [["type": "response.created", "response": ["id": "resp_9"]],
                            ["type": "response.output_text.delta", "delta": "response.completed"],
                            ["type": "response.output_item.done", "item": answer],
                            ["type": "response.completed", "response": ["id": "resp_9", "output": [answer]]]] {
            o.observe(String(decoding: JSONWriter.bytes(e), as: UTF8.self), capBytes: 1 << 20)
        }
        #expect(o.responseID == "resp_9" && o.terminal && o.completed && o.items == [answer])
        var failed = ResponsesTurnOutcome()
        failed.observe(#"{"type":"response.failed","response":{"id":"r"}}"#, name: "response.failed", capBytes: 100)
        failed.observe(#"{"type":"response.output_text.delta","delta":"response.completed\""}"#, name: "response.output_text.delta", capBytes: 100)
        #expect(failed.terminal && !failed.completed, "only a completed response is built on")
        var small = ResponsesTurnOutcome()
        small.observe(String(decoding: JSONWriter.bytes(["type": "response.output_item.done", "item": answer]), as: UTF8.self), capBytes: 10)
        #expect(small.overCap && small.items.isEmpty)
    }

    @Test func warmupAnswersWithAnEmptyCompletedResponse() throws {
        let events = ResponsesWebSocketProtocol.warmupEvents(id: "resp_w", model: "gpt-5", createdAt: 1)
        let last = try JSONParser.parse(events[1])
        #expect(events.count == 2 && last["type"]?.string == "response.completed" && last["response"]?["id"]?.string == "resp_w")
        #expect(last["response"]?["output"] == .array([]))
    }
}
