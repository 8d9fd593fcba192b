import Foundation
import Testing
@testable import ProxyPoolTranslation
import ProxyPoolCore

/// Issue 12 item 3: inlining `$ref`s for Gemini is bounded. A small schema whose `$defs` form a DAG (each def
/// refers to the next one twice) inlines to 2^n copies; it used to stall the event loop for seconds and send
/// tens of MB upstream. Now all the schemas of a request share a 1 MiB output budget and a depth cap, and a
/// schema beyond them is refused with a clear error.
@Suite struct GeminiSchemaBoundsTests {
    /// `levels` defs, d0 … d(levels-1); each is an object whose properties `a` and `b` both refer to the next
    /// def (`sibling` adds a description next to each `$ref`: a use is then not a plain `$ref`).
    static func dagSchema(levels: Int, sibling: Bool = false) -> JSONNode {
        func ref(_ k: Int) -> JSONNode {
            sibling ? ["$ref": .string("#/$defs/d\(k)"), "description": .string("level \(k)")] : ["$ref": .string("#/$defs/d\(k)")]
        }
        var defs: [(key: String, value: JSONNode)] = []
        for k in 0..<levels {
            let next: JSONNode = k + 1 < levels ? ref(k + 1) : ["type": "string"]
            defs.append((key: "d\(k)", value: ["type": "object", "properties": ["a": next, "b": next], "required": ["a", "b"]]))
        }
        return ["type": "object", "properties": ["root": ref(0)], "$defs": .object(defs)]
    }

    static func chatRequest(_ schemas: [JSONNode]) -> ChatRequest {
        ChatRequest(model: "gemini-2.5-pro", messages: [Message(role: .user, content: [.text("hi")])],
                    tools: schemas.enumerated().map { ToolDefinition(name: "t\($0.offset)", parameters: $0.element) })
    }

    static func seconds(_ body: () -> Void) -> Double {
        let start = ContinuousClock.now
        body()
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// 19 and 25 levels (2 KB and 3 KB of schema; 31 MB and 2 GB inlined): refused at once, naming the cap.
    @Test(arguments: [19, 25], [false, true])
    func dagSchemaIsRefusedPromptly(levels: Int, sibling: Bool) throws {
        let schema = Self.dagSchema(levels: levels, sibling: sibling)
        #expect(JSONWriter.bytes(schema).count < 6_000)
        var thrown: TranslationError?
        let took = Self.seconds {
            do throws(TranslationError) { _ = try GeminiCodec.encodeRequest(Self.chatRequest([schema])) } catch { thrown = error }
        }
        #expect(took < 1, "took \(took) s")
        let error = try #require(thrown, "a 2^\(levels)-fold expansion must be refused")
        #expect(error.field == "tools[0].parameters")
        #expect(error.message.contains("1 MiB") && error.message.contains("$ref"), Comment(rawValue: error.message))
    }

    /// Whatever the depth, a DAG schema either comes out whole within 1 MiB or is refused, and quickly.
    @Test func everyDagDepthIsWithinTheBudgetOrRefused() throws {
        var accepted = 0
        for levels in 1...30 {
            for sibling in [false, true] {
                let schema = Self.dagSchema(levels: levels, sibling: sibling)
                var outcome: Result<JSONNode, TranslationError>!
                let took = Self.seconds {
                    outcome = Result { () throws(TranslationError) -> JSONNode in try GeminiSchema.sanitize(schema, field: "f") }
                }
                #expect(took < 1, "\(levels) levels took \(took) s")
                switch outcome! {
                case .success(let out):
                    accepted += 1
                    #expect(JSONWriter.bytes(out).count <= GeminiSchema.Budget.maxOutputBytes)
                    // Really inlined: 2^levels string leaves at the bottom.
                    #expect(JSONWriter.string(out).components(separatedBy: #""type":"string""#).count - 1 == 1 << levels)
                case .failure(let e):
                    #expect(e.message.contains("1 MiB") || e.message.contains("nested too deeply"), Comment(rawValue: e.message))
                    #expect(levels > 10, "a \(levels)-level DAG (\(1 << levels) leaves) fits in 1 MiB")
                }
            }
        }
        #expect(accepted >= 20)
    }

    /// Type arrays split into one `anyOf` branch per type, each a copy of the rest of the schema: nested, that is
    /// exponential without any `$ref`, and is bounded the same way.
    @Test func nestedTypeArraysAreBoundedToo() throws {
        var schema: JSONNode = ["type": "string"]
        for _ in 0..<12 {
            schema = ["type": ["string", "number", "integer", "boolean", "array", "object"], "properties": ["a": schema]]
        }
        var thrown: TranslationError?
        let took = Self.seconds {
            do throws(TranslationError) { _ = try GeminiSchema.sanitize(schema, field: "f") } catch { thrown = error }
        }
        // Nothing to share here: the refusal comes after 1 MiB of output was built (far less in a release build).
        #expect(took < 5, "took \(took) s")
        #expect(thrown?.message.contains("1 MiB") == true, "6^12 branches must be refused")
    }

    /// The budget is the request's, not each schema's: two tools that each inline to ~600 KB fit one by one,
    /// not together.
    @Test func theBudgetCoversAllTheRequestsSchemas() throws {
        let big: JSONNode = ["type": "string", "description": .string(String(repeating: "x", count: 100_000))]
        let refs = (0..<6).map { (key: "p\($0)", value: ["$ref": "#/$defs/Big"] as JSONNode) }
        let schema: JSONNode = ["type": "object", "properties": .object(refs), "$defs": ["Big": big]]
        let one = try GeminiCodec.encodeRequest(Self.chatRequest([schema]))
        #expect(JSONWriter.bytes(one).count > 600_000)
        // (try? … == nil rather than #expect(throws:), which would print the megabyte it got.)
        #expect((try? GeminiCodec.encodeRequest(Self.chatRequest([schema, schema]))) == nil, "two of them are refused")
        var withFormat = Self.chatRequest([schema])
        withFormat.responseFormat = .jsonSchema(name: "r", schema: schema, strict: nil)
        #expect((try? GeminiCodec.encodeRequest(withFormat)) == nil, "response_format.schema shares the budget")
    }

    /// A def reused below is inlined the same each time (the memo changes nothing a client can see), with or
    /// without a sibling keyword next to the `$ref`.
    @Test func reusedDefsInlineAsBefore() throws {
        let point: JSONNode = ["type": "object", "properties": ["x": ["type": "number"], "y": ["type": "number"]], "required": ["x", "y"]]
        let schema: JSONNode = ["type": "object", "properties": [
            "from": ["$ref": "#/$defs/Point"], "to": ["$ref": "#/$defs/Point"],
            "via": ["type": "array", "items": ["$ref": "#/$defs/Point"]],
            "label": ["$ref": "#/$defs/Point", "description": "where"],
        ], "$defs": ["Point": point]]
        let cleaned: JSONNode = ["type": "object", "properties": ["x": ["type": "number"], "y": ["type": "number"]], "required": ["x", "y"]]
        var labelled = cleaned
        labelled.set("description", "where")
        let expected: JSONNode = ["type": "object", "properties": ["from": cleaned, "to": cleaned, "via": ["type": "array", "items": cleaned],
                                                                   "label": labelled]]
        let out = try GeminiSchema.sanitize(schema, field: "f")
        #expect(out == expected)
        #expect(JSONWriter.string(out) == JSONWriter.string(expected), "same bytes, same key order")
    }

    /// Recursive schemas stay refused (Gemini has no way to say them), directly or through another def.
    @Test(arguments: [
        ["type": "object", "properties": ["next": ["$ref": "#/$defs/Node"]],
         "$defs": ["Node": ["type": "object", "properties": ["next": ["$ref": "#/$defs/Node"]]]]] as JSONNode,
        ["$ref": "#/$defs/A", "$defs": ["A": ["type": "array", "items": ["$ref": "#/$defs/B"]],
                                        "B": ["anyOf": [["type": "string"], ["$ref": "#/$defs/A"]]]]],
        ["$ref": "#/definitions/A", "definitions": ["A": ["allOf": [["$ref": "#/definitions/A"]]]]],
    ])
    func recursiveSchemasAreRefused(_ schema: JSONNode) {
        #expect {
            try GeminiSchema.sanitize(schema, field: "f")
        } throws: { ($0 as? TranslationError)?.message.contains("recursive") == true }
    }

    /// The depth cap holds for an inlined def reused deeper down: the memo keeps how deep each one goes.
    @Test func aReusedDefDeepDownIsStillTooDeep() throws {
        var chain: [(key: String, value: JSONNode)] = []
        for k in 0..<25 { chain.append((key: "c\(k)", value: ["type": "object", "properties": ["n": k < 24 ? ["$ref": .string("#/$defs/c\(k + 1)")] : ["type": "string"]]])) }
        var deep: JSONNode = ["$ref": "#/$defs/c0"]
        for _ in 0..<20 { deep = ["type": "object", "properties": ["d": deep]] }
        let shallowOnly: JSONNode = ["type": "object", "properties": ["s": ["$ref": "#/$defs/c0"]], "$defs": .object(chain)]
        _ = try GeminiSchema.sanitize(shallowOnly, field: "f")
        let both: JSONNode = ["type": "object", "properties": ["s": ["$ref": "#/$defs/c0"], "deep": deep], "$defs": .object(chain)]
        #expect {
            try GeminiSchema.sanitize(both, field: "f")
        } throws: { ($0 as? TranslationError)?.message.contains("nested too deeply") == true }
    }

    /// An `allOf` of many branches merges in linear time (it used to look each branch's keywords up among all
    /// the merged ones), and merges as before.
    @Test func wideAllOfMergesLinearly() throws {
        let small: JSONNode = ["allOf": [["type": "object", "properties": ["a": ["type": "string"]], "required": ["a"]],
                                         ["properties": ["b": ["type": "integer"], "a": ["type": "number"]], "required": ["b"], "title": "T"]]]
        #expect(JSONWriter.string(try GeminiSchema.sanitize(small, field: "f"))
                == #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["a","b"],"title":"T"}"#)
        let branches: [JSONNode] = (0..<5_000).map { ["properties": .object([(key: "p\($0)", value: ["type": "string"])]), "required": .array([.string("p\($0)")])] }
        var out: JSONNode?
        let took = Self.seconds { out = try? GeminiSchema.sanitize(["type": "object", "allOf": .array(branches)], field: "f") }
        #expect(took < 2, "took \(took) s")
        #expect(out?["properties"]?.fields?.count == 5_000 && out?["required"]?.array?.count == 5_000)
    }

    /// The deepest JSON the parser takes (200 levels) goes through decoding and every upstream encoder
    /// without running out of stack; a schema nested deeper than Gemini's cap is refused, not crashed on.
    @Test func deepestParsableNestingThroughEveryCodec() throws {
        let deepValue = String(repeating: "[", count: 180) + String(repeating: "]", count: 180)
        var schema = #"{"type":"string"}"#
        for _ in 0..<40 { schema = #"{"type":"object","properties":{"a":\#(schema)}}"# }
        let args = #"{\"v\":"# + deepValue.replacingOccurrences(of: "[]", with: "[1]") + "}"
        let body = #"{"model":"m","messages":[{"role":"user","content":"hi"},"#
            + #"{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"\#(args)"}}]},"#
            + #"{"role":"tool","tool_call_id":"c1","content":"ok"}],"#
            + #""tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","propertyOrdering":\#(deepValue),"properties":{"x":\#(schema)}}}}]}"#
        let req = try Translator.decodeRequest(Array(body.utf8), from: .openAIChat, context: ClientContext())
        for wire in WireProtocol.allCases {
            let out = try Translator.encodeRequest(req, to: wire)
            #expect((try? JSONParser.parse(out)) != nil, "\(wire) wrote valid JSON")
        }
        var tooDeep = #"{"type":"string"}"#
        for _ in 0..<70 { tooDeep = #"{"type":"object","properties":{"a":\#(tooDeep)}}"# }
        let deepTool = body.replacingOccurrences(of: #""properties":{"x":\#(schema)}"#, with: #""properties":{"x":\#(tooDeep)}"#)
        let deepReq = try Translator.decodeRequest(Array(deepTool.utf8), from: .openAIChat, context: ClientContext())
        #expect { try Translator.encodeRequest(deepReq, to: .gemini) } throws: { ($0 as? TranslationError)?.message.contains("nested too deeply") == true }
    }

    /// `JSONWriter.count` is what `JSONWriter.bytes` writes, escapes included.
    @Test(arguments: [
        JSONNode.null, true, false, 12.5, "plain", "quote \" back \\ nl \n tab \t cr \r bs \u{08} ff \u{0C} ctl \u{01} é ✓",
        [], [:], [1, "a", nil, ["k": [true]]], ["a\"b": "c", "": [:], "x": [[], [1, 2]]],
    ] as [JSONNode])
    func writerCountMatchesBytes(_ node: JSONNode) {
        #expect(JSONWriter.count(node) == JSONWriter.bytes(node).count)
    }
}
