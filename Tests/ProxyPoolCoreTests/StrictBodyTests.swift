import Testing
@testable import ProxyPoolCore

/// RequestFields.scan as a strict JSON validator: what it accepts, what it refuses and why.
@Suite struct StrictBodyTests {
    func scan(_ s: String) -> RequestFields { RequestFields.scan(Array(s.utf8)) }
    func scan(_ b: [UInt8]) -> RequestFields { RequestFields.scan(b) }
    /// The body `{"a":"<bytes>"}` with raw bytes inside the string.
    func inString(_ bytes: [UInt8]) -> [UInt8] { Array(#"{"a":""#.utf8) + bytes + Array(#""}"#.utf8) }

    @Test func acceptsValidEdgeCases() {
        let valid = [
            "{}", " \t\r\n{ \t\r\n} \t\r\n", #"{"a":{}}"#, #"{"a":[]}"#, #"{"a":[[],[[]],[[[1]]]]}"#,
            #"{"e":"\" \\ \/ \b \f \n \r \t"}"#, #"{"u":"\u0041\u00e9\u4e2d\uFFFF"}"#,
            #"{"pair":"\ud83d\ude00","lone":"\ud800","low":"\udc00"}"#,
            #"{"n":[0,-0,1,-1,12.5,-0.25,1e5,1E+5,1e-5,2.5E-10,123456789012345678901234567890]}"#,
            #"{"lit":[true,false,null]}"#, #"{"deep":{"a":{"b":[{"c":"d"}]}}}"#,
            #"{"":"", "k" : "v" , "x":[ 1 , 2 ]}"#,
            "{\"utf8\":\"é中😀\u{7F}\"}", #"{"model":"a\/b","stream":true}"#,
        ]
        for v in valid { #expect(scan(v).problem == nil, "\(v): \(scan(v).problem ?? "")") }
        // Raw UTF-8 at the edges of each range.
        for bytes: [UInt8] in [[0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
                               [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF]] {
            #expect(scan(inString(bytes)).problem == nil, "\(bytes)")
        }
        // 128 levels is the limit, inclusive.
        let deep = "{\"a\":" + String(repeating: "[", count: 127) + String(repeating: "]", count: 127) + "}"
        #expect(scan(deep).problem == nil)
    }

    @Test func readsTopLevelModelAndStreamOnly() {
        let f = scan(#"{"tools":[{"model":"nested","stream":1}],"model":"gpt-5","meta":{"model":{}},"stream":false}"#)
        #expect(f.problem == nil && f.model == "gpt-5" && f.stream == false)
        #expect(scan(#"{"model":"gpt\u002d5"}"#).model == "gpt-5", "escapes in the model are decoded")
        #expect(scan(#"{"mod\u0065l":"x"}"#).model == "x", "an escaped name is read as its text")
        let nested = scan(#"{"model":"top","x":{"model":"inner","y":["s"]},"stream":true,"z":{"stream":"no"}}"#)
        #expect(nested.problem == nil && nested.model == "top" && nested.stream == true, "nested members leave the top-level ones alone")
        let escapedThenNested = scan(#"{"model":"a\"b","x":{"k":"v"}}"#)
        #expect(escapedThenNested.model == #"a"b"#, "\(escapedThenNested)")
        let nulls = scan(#"{"model":null,"stream":null}"#)
        #expect(nulls.problem == nil && nulls.model == nil && nulls.stream == nil, "null counts as absent")
    }

    /// Each refusal and the words of its message.
    @Test func refusesWithAMessageNamingTheProblem() {
        let cases: [(String, String)] = [
            ("", "empty"), ("   ", "empty"), ("[1,2]", "must be a JSON object"), (#""x""#, "must be a JSON object"),
            ("{} {}", "more than one JSON value"), (#"{"a":1}x"#, "more than one JSON value"), ("{}\u{0}", "more than one"),
            (#"{"a":NaN}"#, "NaN"), (#"{"a":Infinity}"#, "Infinity"), (#"{"a":-Infinity}"#, "-Infinity"),
            (#"{"a":"\x"}"#, #"invalid escape \x"#), (#"{"a":"\u12"}"#, "four hex digits"), (#"{"a":"\u12G4"}"#, "four hex digits"),
            (#"{"a":"\'"}"#, "invalid escape"), ("{\"a\":\"line\nbreak\"}", "raw control character (0x0A)"),
            ("{\"a\":\"tab\there\"}", "0x09"), ("{\"a\":\"\u{1F}\"}", "0x1F"), ("{\"a\":\"\u{0}\"}", "0x00"),
            (#"{"a":01}"#, "expected"), (#"{"a":1.}"#, "digit must follow"), (#"{"a":.5}"#, "unexpected '.'"),
            (#"{"a":+1}"#, "unexpected '+'"), (#"{"a":1e}"#, "exponent"), (#"{"a":-}"#, "invalid number"),
            (#"{"a":'x'}"#, "double quotes"), (#"{"a":1,}"#, "member name"), (#"{"a":[1,]}"#, "unexpected ']'"),
            (#"{"a" 1}"#, "':' is expected"), (#"{a:1}"#, "member name"), (#"{"a":tru}"#, "unexpected 't'"),
            (#"{"a":nul"#, "unexpected 'n'"), (#"{"a":"x"#, "not closed"), (#"{"a":[1"#, "ends inside an array"),
            (#"{"a":1"#, "ends inside an object"), (#"{"a":}"#, "unexpected '}'"), (#"{"a":truex}"#, "expected at byte"),
            (#"{"model":"a","model":"b"}"#, #""model" is given twice"#), (#"{"stream":true,"x":1,"stream":false}"#, #""stream" is given twice"#),
            (#"{"model":"a","mod\u0065l":"b"}"#, "given twice"),
            (#"{"model":5}"#, #""model" must be a string"#), (#"{"model":["a"]}"#, "must be a string"), (#"{"model":{"a":1}}"#, "must be a string"),
            (#"{"model":{"id":"gpt-5"}}"#, "must be a string"), (#"{"model":["x","y"]}"#, "must be a string"),
            (#"{"stream":{"a":true}}"#, "true or false"), (#"{"stream":[true]}"#, "true or false"),
            (#"{"model":true}"#, "must be a string"), (#"{"stream":"true"}"#, #""stream" must be true or false"#), (#"{"stream":1}"#, "true or false"),
            ("\u{FEFF}{}", "must be a JSON object"),
        ]
        for (body, words) in cases {
            let f = scan(body)
            #expect(f.problem?.contains(words) == true, "\(body.debugDescription): \(f.problem ?? "accepted")")
            #expect(!f.validObject && f.model == nil && f.stream == nil)
        }
        let tooDeep = "{\"a\":" + String(repeating: "[", count: 128) + String(repeating: "]", count: 128) + "}"
        #expect(scan(tooDeep).problem?.contains("deeper than 128") == true)
        // Deep nesting costs no stack: a million brackets are refused at the 129th.
        #expect(scan(String(repeating: "[", count: 1_000_000)).problem?.contains("must be a JSON object") == true)
        #expect(scan("{\"a\":" + String(repeating: "{\"a\":", count: 1_000_000)).problem?.contains("deeper than 128") == true)
    }

    @Test func refusesInvalidUTF8() {
        let cases: [([UInt8], String)] = [
            ([0xC0, 0xAF], "overlong"), ([0xC1, 0xBF], "overlong"), ([0xE0, 0x80, 0xAF], "overlong"), ([0xE0, 0x9F, 0xBF], "overlong"),
            ([0xF0, 0x80, 0x80, 0xAF], "overlong"), ([0xF0, 0x8F, 0xBF, 0xBF], "overlong"),
            ([0xED, 0xA0, 0x80], "encoded surrogate"), ([0xED, 0xBF, 0xBF], "encoded surrogate"),
            ([0xF4, 0x90, 0x80, 0x80], "above U+10FFFF"), ([0xF5, 0x80, 0x80, 0x80], "0xF5"), ([0xFF], "0xFF"), ([0xFE], "0xFE"),
            ([0x80], "continuation byte"), ([0xBF], "continuation byte"), ([0xC3], "cut short"), ([0xE4, 0xB8], "cut short"),
            ([0xF0, 0x9F, 0x98], "cut short"), ([0xC3, 0x28], "cut short"),
        ]
        for (bytes, words) in cases {
            let f = scan(inString(bytes))
            #expect(f.problem?.contains("invalid UTF-8") == true && f.problem?.contains(words) == true, "\(bytes): \(f.problem ?? "accepted")")
        }
        // Outside a string, any byte ≥ 0x80 is simply not JSON.
        #expect(scan([0x7B, 0xC3, 0xA9, 0x7D]).problem != nil)
        // Found wherever they fall among the eight-byte steps of the string scan.
        for offset in 0..<17 {
            let body = inString(Array(repeating: 0x61, count: offset) + [0xED, 0xA0, 0x80] + Array(repeating: 0x61, count: 9))
            #expect(scan(body).problem?.contains("encoded surrogate") == true, "offset \(offset)")
            let q = inString(Array(repeating: 0x61, count: offset) + [0x5C, 0x22] + Array(repeating: 0x61, count: 9))
            #expect(scan(q).problem == nil, "escaped quote at offset \(offset)")
            let ctl = inString(Array(repeating: 0x61, count: offset) + [0x01] + Array(repeating: 0x61, count: 9))
            #expect(scan(ctl).problem?.contains("0x01") == true, "control at offset \(offset)")
        }
    }
}

@Suite struct RequestChecksTests {
    let chat = Endpoint(family: .openai, kind: .chatCompletions)
    let messages = Endpoint(family: .anthropic, kind: .messages)

    func gemini(_ rawModel: String) -> Endpoint? {
        guard case .api(let e) = Endpoints.match(method: "POST", path: Substring("/v1beta/models/\(rawModel):generateContent"), header: { _ in nil }) else { return nil }
        return e
    }

    func headCheck(_ e: Endpoint, _ headers: [(String, String)] = [], query: Substring? = nil) -> RequestChecks.Refusal? {
        RequestChecks.head(e, headers: headers.map { (name: $0.0, value: $0.1) }, lowerNames: headers.map { $0.0.lowercased() }, query: query)
    }

    @Test func geminiPathModels() {
        #expect(gemini("gemini-2.5-pro")?.pathModel == "gemini-2.5-pro")
        #expect(gemini("gemini%2D2.5")?.pathModel == "gemini-2.5", "decoded once")
        for ok in ["gemini-2.5-pro", "gemini%2D2.5", "tunedModels~x_y.z", "a:b"] {
            #expect(headCheck(gemini(ok)!) == nil, "\(ok)")
        }
        let refused: [(String, String)] = [
            ("..%2F..%2F..%2Fetc%2Fpasswd", "'/'"), ("x%3Fkey%3Devil", "'?'"), ("x%23frag", "'#'"), ("x%252F", "'%'"), ("x%zz", "'%'"),
            ("", "is empty"), (String(repeating: "m", count: 257), "257 bytes"), ("a%00b", "0x00"), ("a%0Ab", "0x0A"), ("a%7Fb", "0x7F"),
            ("a%20b", "0x20"), ("..", "'..'"), ("a..b", "'..'"), ("a/b", "'/'"), ("%C3%A9", "0xC3"),
        ]
        for (raw, words) in refused {
            let r = gemini(raw).flatMap { headCheck($0) }
            #expect(r?.status == 400 && r?.message.contains(words) == true, "\(raw): \(r?.message ?? "accepted")")
        }
        #expect(headCheck(gemini(String(repeating: "m", count: 256))!) == nil, "256 bytes is the limit")
    }

    @Test func headChecks() {
        #expect(headCheck(chat, [("Content-Encoding", "gzip")])?.status == 415)
        #expect(headCheck(chat, [("content-encoding", "br")])?.message.contains("'br'") == true)
        #expect(headCheck(chat, [("Content-Encoding", "Identity")]) == nil)
        #expect(headCheck(chat, [("Content-Encoding", "identity"), ("Content-Encoding", "gzip")])?.status == 415)
        #expect(headCheck(chat, query: "key=ppk_x")?.message.contains("?key=") == true)
        #expect(headCheck(messages, query: "beta=true&key=ppk_x")?.status == 400)
        #expect(headCheck(messages, query: "beta=true") == nil)
        #expect(headCheck(gemini("gemini-2.5-pro")!, query: "alt=sse&key=ppk_x") == nil, "Gemini clients put the key there")
        #expect(headCheck(chat, [("X-Proxypool-App", "my-tool")]) == nil)
        for bad in [String(repeating: "a", count: 65), "bad name", "-x", "a/b", "é"] {
            #expect(headCheck(chat, [("X-Proxypool-App", bad)])?.message.contains("X-Proxypool-App") == true, "\(bad)")
        }
        #expect(headCheck(chat, [("x-claude-code-session-id", "0f8c2d4e-5b6a-4c3d-9e8f-1a2b3c4d5e6f")]) == nil)
        #expect(headCheck(chat, [("session-id", String(repeating: "s", count: 256))]) == nil)
        #expect(headCheck(chat, [("session-id", String(repeating: "s", count: 257))])?.message.contains("257 bytes") == true)
        #expect(headCheck(chat, [("conversation_id", "a b")])?.message.contains("conversation_id") == true)
        #expect(headCheck(chat, [("X-Claude-Code-Session-Id", "x\u{80}")]) != nil)
    }

    @Test func bodyChecks() {
        func check(_ e: Endpoint, _ body: String) -> RequestChecks.Refusal? { RequestChecks.body(RequestFields.scan(Array(body.utf8)), endpoint: e) }
        #expect(check(chat, #"{"model":"gpt-5"}"#) == nil)
        #expect(check(chat, #"{"messages":[]}"#)?.message.contains(#""model" is missing"#) == true)
        #expect(check(messages, #"{"model":null}"#)?.message.contains("missing") == true)
        #expect(check(gemini("gemini-2.5-pro")!, #"{"contents":[]}"#) == nil, "Gemini's model is in the path")
        #expect(check(Endpoint(family: .openai, kind: .responses), #"{"model":"\#(String(repeating: "m", count: 257))"}"#)?.message.contains("257 bytes") == true)
        #expect(check(Endpoint(family: .anthropic, kind: .countTokens), #"{"model":"\#(String(repeating: "m", count: 256))"}"#) == nil)
        #expect(check(chat, #"{"model":"gpt 5"}"#)?.message.contains("0x20") == true)
        #expect(check(chat, #"{"model":"gpt\n5"}"#)?.message.contains("0x0A") == true, "an escaped control character")
        #expect(check(chat, #"{"model":""}"#)?.message.contains("empty") == true)
        #expect(check(chat, #"{"model":"gpt-5"} x"#)?.message.hasPrefix("the request body is not accepted: ") == true)
    }
}
