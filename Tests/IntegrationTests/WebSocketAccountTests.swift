import Foundation
import Glibc
import Testing

/// The Responses WebSocket onto subscription logins: a ChatGPT account (the Codex backend, over HTTP/SSE) and,
/// translated, a Claude account, as Codex would use them.
@Suite struct WebSocketAccountTests {
    @Test func chatGPTAccountServesWebSocketTurns() throws {
        let s = try AccountSetup()
        let login = try s.fake.mint("chatgpt", "wes", expiresIn: 5 * 86400)
        #expect(s.importLogin("codex", "wes", from: login.path).status == 0)
        let key = s.key(app: "codex")
        var ws = try WSClient(port: try s.daemon.proxyPort, key: key)
        defer { ws.close() }
        #expect(ws.status == 101, "\(ws.head)")
        ws.sendText(responseCreate("hello WSACCOUNT", model: "gpt-5.1"))
        let (events, close) = ws.events()
        #expect(close == nil && events.last?["type"] as? String == "response.completed", Comment(rawValue: "\(events.map { $0["type"] ?? "?" })\n" + s.daemon.log))
        // A message of 126 or 127 bytes goes in the 16-bit length form (RFC 6455 §5.2): this stream has both.
        #expect(events.count == 8)
        let sent = try s.fake.backendRequests().filter { $0.path.hasSuffix("/backend-api/codex/responses") }
        #expect(sent.contains { $0.body.contains("WSACCOUNT") }, "the turn went to the Codex backend")
        #expect(s.daemon.log.contains("WS /v1/responses app=codex credential=wes"))
    }
}
