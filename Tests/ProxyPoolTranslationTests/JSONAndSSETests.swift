import Testing
@testable import ProxyPoolTranslation

@Suite struct JSONParserTests {
    @Test func parsesEveryKindAndKeepsOrderAndNumberText() throws {
        let v = try JSONParser.parse(#" {"z":1,"a":[true,false,null],"n":12345678901234567890,"f":-1.5e-3,"s":"x"} "#)
        #expect(v.keys == ["z", "a", "n", "f", "s"])
        #expect(v["n"] == .number("12345678901234567890"))
        #expect(v["f"]?.double == -0.0015)
        #expect(v["a"]?[2]?.isNull == true)
        #expect(JSONWriter.string(v) == #"{"z":1,"a":[true,false,null],"n":12345678901234567890,"f":-1.5e-3,"s":"x"}"#)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let v = try JSONParser.parse(#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00 \ud800x""#)
        #expect(v.string == "a\"b\\c/d\u{08}\u{0C}\n\r\té😀 \u{FFFD}x")
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "1e", "+1", "NaN", "[1 2]", "{\"a\" 1}", "{1:2}", "\"\u{01}\"",
        "\"abc", "tru", "nul", "[1]x", "\"\\x\"", "\"\\u12\"", "'a'", "// c\n1",
    ])
    func rejectsMalformedInput(_ text: String) {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        let deep = String(repeating: "[", count: 201) + String(repeating: "]", count: 201)
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(deep) }
        let ok = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect((try? JSONParser.parse(ok)) != nil)
    }

    @Test func errorNamesTheOffset() {
        #expect(throws: JSONParser.Error(message: "expected ',' or ']'", offset: 3)) { try JSONParser.parse("[1 2]") }
    }

    @Test func writerEscapesWhatJSONRequiresAndNothingElse() throws {
        let s = "q\"b\\n\nc\u{01}\u{1F} é/😀"
        let out = JSONWriter.string(.string(s))
        #expect(out == #""q\"b\\n\nc\u0001\u001f é/😀""#)
        #expect(try JSONParser.parse(out).string == s)
    }

    @Test func setReplacesInPlaceAppendsAndRemoves() {
        var o: JSONNode = ["a": 1, "b": 2]
        o.set("a", "x"); o.set("c", true); o.set("b", nil)
        #expect(JSONWriter.string(o) == #"{"a":"x","c":true}"#)
        #expect(JSONNode.make(("k", nil), ("v", 1)) == ["v": 1])
        #expect(JSONNode.double(2) == .number("2") && JSONNode.double(0.5) == .number("0.5") && JSONNode.double(.nan) == .null)
    }

    @Test func duplicateKeysResolveToTheLast() throws {
        #expect(try JSONParser.parse(#"{"m":"a","m":"b"}"#)["m"] == "b")
    }
}

@Suite struct SSEParserTests {
    @Test func parsesEventsSplitAnywhereWithAnyLineEnding() throws {
        let text = "event: message_start\r\ndata: {\"a\":1}\r\n\r\n: comment\n\ndata: line1\ndata: line2\n\nid: 7\rdata:nospace\r\r"
        let bytes = Array(text.utf8)
        // Every split point gives the same events: a CRLF cut in half must not produce a blank line.
        for cut in 0...bytes.count {
            var p = SSEParser()
            var events = try p.feed(bytes[..<cut])
            events += try p.feed(bytes[cut...])
            if let e = p.finish() { events.append(e) }
            #expect(events == [SSEEvent(event: "message_start", data: "{\"a\":1}"), SSEEvent(data: "line1\nline2"),
                               SSEEvent(data: "nospace")], "cut at \(cut)")
        }
    }

    @Test func deliversALastEventWithoutBlankLineAtEnd() throws {
        var p = SSEParser()
        #expect(try p.feed(Array("data: [DONE]".utf8)).isEmpty)
        #expect(p.finish() == SSEEvent(data: "[DONE]"))
        #expect(p.finish() == nil)
    }

    @Test func capsEventSize() {
        var p = SSEParser(maxEventBytes: 64)
        #expect(throws: SSEParser.TooLarge.self) { try p.feed(Array(("data: " + String(repeating: "x", count: 100)).utf8)) }
    }

    @Test func writerFramesEvents() {
        var out: [UInt8] = []
        SSEWriter.event("ping", ["type": "ping"], into: &out)
        SSEWriter.event(nil, data: "a\nb", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "event: ping\ndata: {\"type\":\"ping\"}\n\ndata: a\ndata: b\n\n")
    }
}

/// A Responses event stream collected into one answer (ChatGPT accounts serving clients that did not stream).
@Suite struct ResponsesStreamCollectorTests {
    static func stream(_ events: [String]) -> [UInt8] { Array(events.map { "event: x\ndata: \($0)\n\n" }.joined().utf8) }

    @Test func theCompletedResponseWithItsOutputFilledFromTheItemsWhenEmpty() throws {
        let body = Self.stream([
            #"{"type":"response.created","response":{"id":"r","output":[]}}"#,
            #"{"type":"response.output_item.done","output_index":1,"item":{"type":"function_call","name":"f"}}"#,
            #"{"type":"response.output_item.done","output_index":0,"item":{"type":"message","id":"m"}}"#,
            #"{"type":"response.completed","response":{"id":"r","status":"completed","output":[],"usage":{"input_tokens":3}}}"#,
        ])
        let out = try JSONParser.parse(try ResponsesStreamCollector.collect(body))
        #expect(out["id"]?.string == "r" && out["usage"]?["input_tokens"]?.int == 3)
        #expect(out["output"]?.array?.map { $0["type"]?.string } == ["message", "function_call"], "in output_index order")
        // A full output is the backend's word: kept as it is.
        let full = Self.stream([#"{"type":"response.output_item.done","output_index":0,"item":{"type":"message"}}"#,
                                #"{"type":"response.completed","response":{"output":[{"type":"reasoning"}]}}"#])
        #expect(try JSONParser.parse(try ResponsesStreamCollector.collect(full))["output"]?.array?.count == 1)
    }

    @Test func anErrorOrAMissingEndIsAFailure() {
        #expect(throws: ResponsesStreamCollector.Failure(message: "the stream ended with an error: limit")) {
            try ResponsesStreamCollector.collect(Self.stream([#"{"type":"error","error":{"message":"limit"}}"#]))
        }
        #expect(throws: ResponsesStreamCollector.Failure(message: "the stream ended without a response.completed event")) {
            try ResponsesStreamCollector.collect(Self.stream([#"{"type":"response.created","response":{}}"#]))
        }
        #expect(ResponsesStreamCollector.looksLikeEventStream(Array("\nevent: a\n".utf8)) && !ResponsesStreamCollector.looksLikeEventStream(Array("{}".utf8)))
    }
}
