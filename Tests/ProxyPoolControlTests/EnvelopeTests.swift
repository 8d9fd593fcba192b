import Testing
import ProxyPoolCore
@testable import ProxyPoolControl

@Suite struct RPCEnvelopeTests {
    func parse(_ s: String) -> Result<RPCRequest, RPCErrorWithID> { RPCEnvelope.parseRequest(Array(s.utf8)) }

    func errorName(_ s: String) -> String? {
        if case .failure(let e) = parse(s) { return e.error.name }
        return nil
    }

    @Test func validRequest() throws {
        let r = try parse(#"{"jsonrpc":"2.0","id":7,"method":"status","params":{}}"#).get()
        #expect(r.method == "status" && r.id == .number(7))
        let s = try parse(#"{"jsonrpc":"2.0","id":"a","method":"x"}"#).get()
        #expect(s.id == .string("a") && s.params == nil)
        #expect(try parse(#"{"jsonrpc":"2.0","method":"x"}"#).get().id == nil, "a request without id is a notification")
    }

    @Test(arguments: [
        ("garbage", "parse-error"), ("{\"jsonrpc\":", "parse-error"), ("", "parse-error"),
        ("[]", "invalid-request"), ("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}]", "invalid-request"),
        ("42", "invalid-request"), ("\"status\"", "invalid-request"),
        ("{\"id\":1,\"method\":\"status\"}", "invalid-request"),
        ("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"status\"}", "invalid-request"),
        ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", "invalid-request"),
        ("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"status\"}", "invalid-request"),
        ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":[1]}", "invalid-params"),
    ])
    func badFramesGetNamedErrors(input: String, expected: String) {
        #expect(errorName(input) == expected, "\(input)")
    }

    @Test func errorKeepsTheRequestIDWhenKnown() {
        guard case .failure(let e) = parse(#"{"jsonrpc":"2.0","id":9,"method":1}"#) else { Issue.record("expected failure"); return }
        #expect(e.id == .number(9) && e.error.code == -32600)
    }
}

@Suite struct LineFramerTests {
    @Test func splitsLinesAcrossFeedsAndDropsCR() {
        var f = LineFramer(maxLine: 100)
        #expect(f.feed(Array("ab".utf8)) == [])
        #expect(f.feed(Array("c\r\nde\nf".utf8)) == [.line(Array("abc".utf8)), .line(Array("de".utf8))])
        #expect(f.pending == 1)
    }

    @Test func tooLongLineIsReportedOnceThenResyncs() {
        var f = LineFramer(maxLine: 8)
        var events = f.feed([UInt8](repeating: 0x61, count: 20))
        events += f.feed([UInt8](repeating: 0x61, count: 20) + [0x0A] + Array("ok\n".utf8))
        #expect(events == [.tooLong, .line(Array("ok".utf8))])
    }
}
