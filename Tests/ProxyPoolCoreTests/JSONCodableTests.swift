// Foundation only as the oracle of the differential tests below: JSON.encode/decode were JSONEncoder/JSONDecoder
// until ProxyPoolCore got its own (Sources/ProxyPoolCore/JSONCodable/), and must still print and read the same.
import Foundation
import Testing
import ProxyPoolCore
import ProxyPoolControl

/// A type with every shape Codable synthesizes: raw-value enums, an enum with payloads, optionals, nested
/// arrays of itself, dictionaries keyed by strings, integers and an enum.
struct Shape: Codable, Equatable {
    enum Kind: String, Codable, CodingKeyRepresentable { case a, b = "bee" }
    enum Level: Int, Codable { case low = 1, high = 2 }
    enum Payload: Codable, Equatable { case text(String), pair(x: Int, y: Int?), none }
    var kind: Kind
    var level: Level
    var payload: [Payload]
    var optional: Int?
    var nested: [Shape]?
    var byName: [String: [Int?]]
    var byNumber: [Int: String]
    var byKind: [Kind: Bool]
    var doubles: [Double]
    var big: UInt64
    var small: Int8
    var flag: Bool?

    static let leaf = Shape(kind: .a, level: .low, payload: [], optional: nil, nested: nil, byName: [:], byNumber: [:], byKind: [:],
                            doubles: [], big: 0, small: 0, flag: nil)
    static let full = Shape(kind: .b, level: .high, payload: [.text("hi \"you\""), .pair(x: -1, y: nil), .pair(x: 2, y: 3), .none],
                            optional: 5, nested: [leaf], byName: ["z": [1, nil], "a": []], byNumber: [10: "ten", 9: "nine"],
                            byKind: [.b: true, .a: false], doubles: [0.5, -2, 1e100, 123456.789], big: UInt64.max, small: -128, flag: false)
}

/// `encodeNil` writes null; `encodeIfPresent` of nil leaves the key out.
struct NilFields: Codable, Equatable {
    var explicit: Int?
    var omitted: Int?
    enum CodingKeys: String, CodingKey { case explicit, omitted }
    init(explicit: Int?, omitted: Int?) { self.explicit = explicit; self.omitted = omitted }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if let explicit { try c.encode(explicit, forKey: .explicit) } else { try c.encodeNil(forKey: .explicit) }
        try c.encodeIfPresent(omitted, forKey: .omitted)
    }
}

/// A subclass-style encoding: its own fields, and its parent's through superEncoder.
struct WithSuper: Codable, Equatable {
    var own: String
    var parent: [Int]
    enum CodingKeys: String, CodingKey { case own, base }
    init(own: String, parent: [Int]) { self.own = own; self.parent = parent }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(own, forKey: .own)
        try parent.encode(to: c.superEncoder())
        var unkeyed = c.nestedUnkeyedContainer(forKey: .base)
        let first = unkeyed.superEncoder()   // its value goes in at index 0, where it was asked for
        try unkeyed.encode("second")
        try "first".encode(to: first)
    }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        own = try c.decode(String.self, forKey: .own)
        parent = try [Int](from: c.superDecoder())
        var unkeyed = try c.nestedUnkeyedContainer(forKey: .base)
        let first = try String(from: unkeyed.superDecoder()), second = try unkeyed.decode(String.self)
        guard first == "first", second == "second", unkeyed.isAtEnd else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "base is \(first), \(second)"))
        }
    }
}

@Suite struct JSONCodableTests {
    func text<T: Encodable>(_ v: T, pretty: Bool = false) throws -> String { String(decoding: try JSON.encode(v, pretty: pretty), as: UTF8.self) }

    /// What JSON.describe says about decoding `json` as T; nil when it decodes.
    func problem<T: Decodable>(_ type: T.Type, _ json: String) -> String? {
        do { _ = try JSON.decode(T.self, from: Array(json.utf8)); return nil } catch { return JSON.describe(error) }
    }

    func foundationProblem<T: Decodable>(_ type: T.Type, _ json: String) -> String {
        do { _ = try JSONDecoder().decode(T.self, from: Data(json.utf8)); return "decoded" } catch { return JSON.describe(error) }
    }

    func foundation<T: Encodable>(_ v: T, pretty: Bool = false) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(v), as: UTF8.self)
    }

    // MARK: The project's wire types, byte for byte as JSONEncoder printed them before

    @Test func statusPrintsAsBefore() throws {
        #expect(try text(JSONCodableSamples.status) == #"{"accessKeys":0,"accounts":[{"credits":{"balance":"5.39","hasCredits":true,"unlimited":false},"email":"me@example.com","login":"ok","name":"me","provider":"openai","windows":[{"name":"5h","rejected":false,"resetsAtMillis":1767225600000,"usedPercent":37.5,"windowMinutes":300},{"name":"week","rejected":true,"usedPercent":100},{"name":"week (gpt-5)","rejected":false,"resetsAtMillis":-1,"usedPercent":0.1,"windowMinutes":10080}]}],"apps":1,"controlSocket":"/run/proxypool/control.sock","credentials":3,"database":"/var/lib/proxypool/state.db","enabledCredentials":2,"health":[{"model":"","name":"work","reason":"429 from upstream","secondsLeft":3600,"state":"cooling","until":"2026-12-03T19:00:00Z"},{"name":"old","state":"auth-failed"}],"listen":"127.0.0.1:8787","pid":4242,"settings":{"fallbackToPool":false,"freeModels":true,"freeModelsByApp":{"Claude-Code":true,"aider":true,"codex":false},"requireAccessKey":true},"startedAt":"2026-12-03T18:00:00Z","stateDirectory":"/var/lib/proxypool","uptimeSeconds":9223372036854775807,"version":"1.4.0"}"#)
        #expect(try text(JSONCodableSamples.status.accounts![0], pretty: true) == """
            {
              "credits" : {
                "balance" : "5.39",
                "hasCredits" : true,
                "unlimited" : false
              },
              "email" : "me@example.com",
              "login" : "ok",
              "name" : "me",
              "provider" : "openai",
              "windows" : [
                {
                  "name" : "5h",
                  "rejected" : false,
                  "resetsAtMillis" : 1767225600000,
                  "usedPercent" : 37.5,
                  "windowMinutes" : 300
                },
                {
                  "name" : "week",
                  "rejected" : true,
                  "usedPercent" : 100
                },
                {
                  "name" : "week (gpt-5)",
                  "rejected" : false,
                  "resetsAtMillis" : -1,
                  "usedPercent" : 0.1,
                  "windowMinutes" : 10080
                }
              ]
            }
            """)
        #expect(try JSON.decode(StatusInfo.self, from: try JSON.encode(JSONCodableSamples.status)) == JSONCodableSamples.status)
    }

    @Test func credentialPrintsAsBefore() throws {
        let c = JSONCodableSamples.credential
        #expect(try text(c) == #"{"assignedTo":["codex","claude-code"],"baseURL":"https://example.openai.azure.com/openai/v1/","createdAt":"2026-01-01T00:00:00Z","enabled":true,"free":false,"lastTest":{"at":"2026-01-02T00:00:00Z","message":"HTTP 401: \"bad key\"\n\tretry","ok":false},"name":"team/shared","options":{"api-version":"2024-10-21","deployment":"gpt-4o"},"provider":"azure-openai","quota":[],"secretRedacted":"sk-…abcd","updatedAt":"2026-01-02T00:00:00Z"}"#)
        #expect(try text(c, pretty: true) == #"""
            {
              "assignedTo" : [
                "codex",
                "claude-code"
              ],
              "baseURL" : "https://example.openai.azure.com/openai/v1/",
              "createdAt" : "2026-01-01T00:00:00Z",
              "enabled" : true,
              "free" : false,
              "lastTest" : {
                "at" : "2026-01-02T00:00:00Z",
                "message" : "HTTP 401: \"bad key\"\n\tretry",
                "ok" : false
              },
              "name" : "team/shared",
              "options" : {
                "api-version" : "2024-10-21",
                "deployment" : "gpt-4o"
              },
              "provider" : "azure-openai",
              "quota" : [

              ],
              "secretRedacted" : "sk-…abcd",
              "updatedAt" : "2026-01-02T00:00:00Z"
            }
            """#)
        #expect(try JSON.decode(CredentialInfo.self, from: try JSON.encode(c, pretty: true)) == c)
    }

    @Test func paramsAndEnvelopesPrintAsBefore() throws {
        // A control character escaped, DEL and non-ASCII as they are, Int64.min exact.
        #expect(try text(JSONCodableSamples.addParams) == #"{"accessToken":"at","accessTokenExpiresAtMillis":-9223372036854775808,"name":"acct","options":{},"provider":"chatgpt","secret":"rt-\u0001"# + "\u{7F}é😀\"}")
        let request = #"{"id":7,"jsonrpc":"2.0","method":"credential.add","params":{"big":1e+21,"list":[true,[],{}],"n":-3,"name":"a/b","none":null,"ratio":0.25,"tiny":1.5e-07,"whole":2}}"#
        #expect(try text(JSONCodableSamples.request) == request)
        #expect(try text(JSON.value(JSONCodableSamples.request)) == request)
        #expect(try text(JSONCodableSamples.errorReply) == #"{"error":{"code":-32004,"data":{"hint":"use --force","name":"in-use"},"message":"credential 'a' is assigned"},"id":"x","jsonrpc":"2.0"}"#)
        #expect(try text(JSONCodableSamples.resultReply) == #"{"id":null,"jsonrpc":"2.0","result":["ok",1]}"#)
        #expect(try text(JSONCodableSamples.usage, pretty: true) == """
            [
              {
                "app" : "codex",
                "cachedTokens" : 0,
                "credential" : "me",
                "day" : "2026-12-03",
                "errors" : 1,
                "inputTokens" : 1000,
                "model" : "gpt-5",
                "outputTokens" : 2000,
                "requests" : 12,
                "upstreamModel" : ""
              }
            ]
            """)
        #expect(try text(JSONCodableSamples.removed, pretty: true) == "{\n  \"name\" : \"a\",\n  \"unassignedFrom\" : [\n\n  ]\n}")
        // Read back: the double 2 comes back as the integer it printed as, the others as they were.
        let back = try JSON.decode(RPCRequest.self, from: Array(request.utf8))
        #expect(back.id == .number(7) && back.method == "credential.add")
        #expect(back.params?["whole"] == .int(2) && back.params?["ratio"] == .double(0.25) && back.params?["big"] == .double(1e21))
        #expect(back.params?["none"] == .null && back.params?["list"] == .array([.bool(true), .array([]), .object([:])]))
    }

    // MARK: Shapes, keys, layout

    @Test func nestedShapesRoundTripAndPrintAsBefore() throws {
        let full = #"{"big":18446744073709551615,"byKind":{"a":false,"bee":true},"byName":{"a":[],"z":[1,null]},"byNumber":{"10":"ten","9":"nine"},"doubles":[0.5,-2,1e+100,123456.789],"flag":false,"kind":"bee","level":2,"nested":[{"big":0,"byKind":{},"byName":{},"byNumber":{},"doubles":[],"kind":"a","level":1,"payload":[],"small":0}],"optional":5,"payload":[{"text":{"_0":"hi \"you\""}},{"pair":{"x":-1}},{"pair":{"x":2,"y":3}},{"none":{}}],"small":-128}"#
        #expect(try text(Shape.full) == full)
        #expect(try JSON.decode(Shape.self, from: Array(full.utf8)) == Shape.full)
        #expect(try JSON.decode(Shape.self, from: try JSON.encode(Shape.full, pretty: true)) == Shape.full)
        // Through JSONValue too, as far as it holds: its integers are Int64, so UInt64.max becomes a Double there (and
        // then fits no UInt64), as it did when JSON.value was Foundation's.
        var held = Shape.full
        held.big = UInt64(Int64.max)
        #expect(try JSON.convert(JSON.value(held), to: Shape.self) == held)
        #expect(try JSON.value(Shape.full)["big"] == .double(1.8446744073709552e19))
        #expect(problem(Shape.self, try text(JSON.value(Shape.full))) == "field 'big' is invalid: 1.8446744073709552e+19 does not fit in UInt64")
        #expect(try text(Shape.leaf, pretty: true) == """
            {
              "big" : 0,
              "byKind" : {

              },
              "byName" : {

              },
              "byNumber" : {

              },
              "doubles" : [

              ],
              "kind" : "a",
              "level" : 1,
              "payload" : [

              ],
              "small" : 0
            }
            """)
    }

    @Test func keysSortByTheirUTF8Bytes() throws {
        let keys = ["b", "a", "B", "a10", "a9", "_x", "Z", "é", "e", "", "A", "aa", "a-"]
        let object = JSONValue.object(Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, .int(Int64($0))) }))
        #expect(try text(object) == #"{"":9,"A":10,"B":2,"Z":6,"_x":5,"a":1,"a-":12,"a10":3,"a9":4,"aa":11,"b":0,"e":8,"é":7}"#)
        // Not Swift's String order, which compares canonical forms: a decomposed é sorts by its plain "e".
        // Bytes, not Strings: String's == would take either é for the other.
        #expect(try JSON.encode(["e\u{301}": 1, "f": 2, "e": 3, "\u{E9}a": 4]) == Array("{\"e\":3,\"e\u{301}\":1,\"f\":2,\"\u{E9}a\":4}".utf8))
    }

    @Test func prettyLayoutOfScalarsAndEmptyContainers() throws {
        #expect(try text([Int](), pretty: true) == "[\n\n]")
        #expect(try text([String: Int](), pretty: true) == "{\n\n}")
        #expect(try text(1, pretty: true) == "1")
        #expect(try text(JSONValue.null, pretty: true) == "null")
        #expect(try text([[Int]()], pretty: true) == "[\n  [\n\n  ]\n]")
        #expect(try text(["k": [["a": 1], [:]]], pretty: true) == "{\n  \"k\" : [\n    {\n      \"a\" : 1\n    },\n    {\n\n    }\n  ]\n}")
    }

    @Test func stringsEscapeOnlyWhatJSONEncoderEscaped() throws {
        #expect(try text("a/b\"\\\n\r\t\u{8}\u{C}\u{1}\u{1F}\u{7F}\u{2028}é😀") == "\"a/b\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\u{7F}\u{2028}é😀\"")
        #expect(try JSON.decode(String.self, from: try JSON.encode("a/b\"\\\n\u{0}\u{1F}é😀")) == "a/b\"\\\n\u{0}\u{1F}é😀")
    }

    @Test func numbersPrintAsJSONEncoderPrintedThem() throws {
        let doubles: [Double] = [0, -0.0, 1, 1.5, 0.1, 1e20, 1e-7, 1.2345678901234568e17, 1e16, 1e15, 3.14159, .greatestFiniteMagnitude,
                                 .leastNonzeroMagnitude, 100]
        #expect(try text(doubles) == "[0,-0,1,1.5,0.1,1e+20,1e-07,1.2345678901234568e+17,1e+16,1000000000000000,3.14159,1.7976931348623157e+308,5e-324,100]")
        #expect(try text([Float(0.1), Float(1e10)]) == "[0.1,1e+10]")
        #expect(try text([UInt64.max]) == "[18446744073709551615]" && (try text(Int64.min)) == "-9223372036854775808")
        #expect(try text(Int8(-5)) == "-5" && (try text([true, false])) == "[true,false]")
        #expect(throws: EncodingError.self) { try JSON.encode(Double.nan) }
        #expect(throws: EncodingError.self) { try JSON.encode(["x": Double.infinity]) }
    }

    @Test func integersDecodeExactlyOrNotAtAll() throws {
        #expect(try JSON.decode(UInt64.self, from: Array("18446744073709551615".utf8)) == UInt64.max)
        #expect(try JSON.decode(Int64.self, from: Array("-9223372036854775808".utf8)) == Int64.min)
        // Past 2^53 the digits decide, not the nearest Double (…992).
        #expect(try JSON.decode(Int64.self, from: Array("9007199254740993.0".utf8)) == 9_007_199_254_740_993)
        #expect(try JSON.decode([Int].self, from: Array("[1.0, 1e2, 0.5e1, -0, -0.0, 12345678901234567e2]".utf8)) == [1, 100, 5, 0, 0, 1_234_567_890_123_456_700])
        for bad in ["9223372036854775808", "1e19", "1.5", "15e-1", "1e400"] { #expect(throws: DecodingError.self) { try JSON.decode(Int64.self, from: Array(bad.utf8)) } }
        #expect(throws: DecodingError.self) { try JSON.decode(UInt.self, from: Array("-1".utf8)) }
        #expect(try JSON.decode([Double].self, from: Array("[1, 0.1, 1e-320, -0.0]".utf8)) == [1, 0.1, Double("1e-320")!, 0])
        for bad in ["1e400", "-1e400", "1e-400", "2e-324"] { #expect(throws: DecodingError.self) { try JSON.decode(Double.self, from: Array(bad.utf8)) } }
    }

    @Test func nilIsNullWhenExplicitAndAbsentWhenIfPresent() throws {
        #expect(try text(NilFields(explicit: nil, omitted: nil)) == #"{"explicit":null}"#)
        #expect(try text(NilFields(explicit: 1, omitted: 2)) == #"{"explicit":1,"omitted":2}"#)
        #expect(try text([1, nil] as [Int?]) == "[1,null]" && (try text(Int?.none)) == "null")
        #expect(try JSON.decode(NilFields.self, from: Array(#"{"explicit":null}"#.utf8)) == NilFields(explicit: nil, omitted: nil))
        #expect(try JSON.decode(NilFields.self, from: Array("{}".utf8)) == NilFields(explicit: nil, omitted: nil))
        #expect(problem(NilFields.self, #"{"omitted":"x"}"#) == "field 'omitted' must be of type number")
    }

    @Test func superEncoderAndDecoder() throws {
        let v = WithSuper(own: "me", parent: [1, 2])
        #expect(try text(v) == #"{"base":["first","second"],"own":"me","super":[1,2]}"#)
        #expect(try JSON.decode(WithSuper.self, from: try JSON.encode(v)) == v)
    }

    // MARK: Errors, in JSON.describe's words

    @Test func describeNamesTheField() {
        struct Port: Codable { var port: UInt16; var host: String; var tags: [String]? }
        struct Outer: Codable { var list: [Port] }
        #expect(problem(Port.self, #"{"host":"h"}"#) == "missing field 'port'")
        #expect(problem(Outer.self, #"{"list":[{"port":1,"host":"a"},{"host":"b"}]}"#) == "missing field 'list.[1].port'")
        #expect(problem(Port.self, #"{"port":80,"host":7}"#) == "field 'host' must be of type string")
        #expect(problem(Port.self, #"{"port":80,"host":null}"#) == "field 'host' must be of type string, not null")
        #expect(problem(Port.self, #"{"port":80,"host":"h","tags":["a",1]}"#) == "field 'tags.[1]' must be of type string")
        #expect(problem(Port.self, #"{"port":80,"host":"h","tags":{}}"#) == "field 'tags' must be of type array")
        #expect(problem(Port.self, "[]") == "field value must be of type object")
        #expect(problem(Port.self, "null") == "field value must be of type object, not null")
        // Numbers that do not fit name the field (JSONDecoder said only "not valid JSON").
        #expect(problem(Port.self, #"{"port":70000,"host":"h"}"#) == "field 'port' is invalid: 70000 does not fit in UInt16")
        #expect(problem(Port.self, #"{"port":1.5,"host":"h"}"#) == "field 'port' is invalid: 1.5 is not a whole number")
        #expect(problem(Outer.self, #"{"list":[{"port":-1,"host":"h"}]}"#) == "field 'list.[0].port' is invalid: -1 does not fit in UInt16")
        #expect(problem([Double].self, "[1e400]") == "field '[0]' is invalid: 1e400 does not fit in Double")
        #expect(problem(Int.self, "1" + String(repeating: "0", count: 60)) == "not valid JSON")
        #expect(problem([Int].self, "[1" + String(repeating: "0", count: 60) + "]")
                == "field '[0]' is invalid: 1" + String(repeating: "0", count: 39) + "… does not fit in Int")   // outside text, cut short
        for bad in ["", "[1,]", "{\"a\":1,}", "[1] x", "01", "NaN", "'a'", "{\"a\" 1}", "[\"\\x\"]", "\"a\nb\""] {
            #expect(problem(JSONValue.self, bad) == "not valid JSON", "\(bad)")
        }
    }

    @Test func parserLimitsAndChoices() throws {
        let deep = { (n: Int) in String(repeating: "[", count: n) + String(repeating: "]", count: n) }
        #expect(problem(JSONValue.self, deep(128)) == nil)
        #expect(problem(JSONValue.self, deep(129)) == "not valid JSON")
        #expect(try JSON.decode(JSONValue.self, from: [0xEF, 0xBB, 0xBF] + Array("1".utf8)) == .int(1))
        #expect(try JSON.decode([String: Int].self, from: Array(#"{"a":1,"a":2}"#.utf8)) == ["a": 1])   // the first wins
        #expect(try JSON.decode(String.self, from: Array(#""\ud83d\ude00 \ud800""#.utf8)) == "😀 \u{FFFD}")
        #expect(problem(String.self, "\"\u{FF}\"") == nil && problem(String.self, "\"\\u00ff\"") == nil)
        // An overlong "/" and an encoded surrogate are not UTF-8.
        #expect(throws: DecodingError.self) { try JSON.decode(String.self, from: [0x22, 0xC0, 0xAF, 0x22]) }
        #expect(throws: DecodingError.self) { try JSON.decode(String.self, from: [0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test func jsonValueReadsNumbersAsBefore() throws {
        let v = try JSON.decode(JSONValue.self, from: Array("[1, 1.0, 1.5, 1e2, 9223372036854775808, -0, -0.0, 18446744073709551615, true, \"x\", null, {\"k\":[]}]".utf8))
        #expect(v == .array([.int(1), .int(1), .double(1.5), .int(100), .double(9.223372036854775808e18), .int(0), .int(0),
                             .double(1.8446744073709552e19), .bool(true), .string("x"), .null, .object(["k": .array([])])]))
        // 1e400 is neither an Int64 nor a Double: JSONValue's init(from:) ends at the object it tried last.
        #expect(problem(JSONValue.self, "[1e400]") == "field value must be of type object")
        #expect(problem(JSONValue.self, #"{"a":{"b":1e400}}"#) == "field 'a.b' must be of type object")
    }

    // MARK: Against Foundation itself

    static let documents = [
        "0", "-0", "1.0", "-12.5e-3", "1E+2", "123456789012345678901234567890", "0.30000000000000004", "true", "null", "\"\"",
        #""\u00e9\u0000\/\b\f\n\r\t\\\"""#, "\"é😀\u{7F}\u{2028}\"", "[]", "{}", " [ 1 , [ ] , { } ] ",
        #"{"b":{"c":[1,2,{"d":null}]},"a":"x","":0}"#, #"{"x":[1e300,-1e-300,5e-324,4.9e-324,1.7976931348623157e308]}"#,
        #"[9007199254740993,-9223372036854775808,9223372036854775807,18446744073709551615,18446744073709551616]"#,
        #"{"jsonrpc":"2.0","id":"a","method":"status","params":{}}"#, #"[{"a":1,"a":2}]"#,
    ]

    @Test(arguments: documents) func readsAndPrintsAsFoundation(_ document: String) throws {
        let ours = try JSON.decode(JSONValue.self, from: Array(document.utf8))
        let theirs = try JSONDecoder().decode(JSONValue.self, from: Data(document.utf8))
        #expect(ours == theirs)
        #expect(try text(ours) == foundation(ours) && (try text(ours, pretty: true)) == foundation(ours, pretty: true))
    }

    @Test func typesPrintAsFoundation() throws {
        #expect(try text(Shape.full) == foundation(Shape.full) && (try text(Shape.full, pretty: true)) == foundation(Shape.full, pretty: true))
        #expect(try text(JSONCodableSamples.status, pretty: true) == foundation(JSONCodableSamples.status, pretty: true))
        #expect(try text(JSONCodableSamples.addParams, pretty: true) == foundation(JSONCodableSamples.addParams, pretty: true))
        #expect(try text(WithSuper(own: "x", parent: [])) == foundation(WithSuper(own: "x", parent: [])))
    }

    /// The failures whose words did not change: same sentence from our decoder and from JSONDecoder.
    @Test func describesFailuresAsFoundation() {
        struct P: Decodable { var a: Int; var b: String?; var c: [Int]?; var d: [String: Bool]? }
        struct Q: Decodable { var p: P; var list: [P] }
        let cases: [(any Decodable.Type, String)] = [
            (P.self, "{}"), (P.self, #"{"a":"x"}"#), (P.self, #"{"a":null}"#), (P.self, #"{"a":1,"b":2}"#), (P.self, #"{"a":1,"c":[1,"x"]}"#),
            (P.self, #"{"a":1,"c":[1,null]}"#), (P.self, #"{"a":1,"c":{}}"#), (P.self, #"{"a":1,"d":{"k":1}}"#), (P.self, "[]"), (P.self, "1"),
            (P.self, "null"), (Q.self, #"{"p":{"a":1},"list":[{"a":1},{}]}"#), (Q.self, #"{"p":{"a":1},"list":[{"a":1},{"a":true}]}"#),
            (Q.self, #"{"p":{}}"#), (Q.self, #"{"p":{"a":1},"list":[1]}"#), (Shape.self, #"{"kind":"c"}"#), (Bool.self, "null"),
            (Shape.Payload.self, "{}"), (Shape.Payload.self, #"{"pair":{}}"#), ([Int: Int].self, #"{"x":1}"#), (Int.self, "[1,2"),
            (JSONValue.self, "[1e400]"), (JSONValue.self, #"{"a":{"b":1e400}}"#), (RPC.CredentialSetEnabled.Params.self, #"{"name":"a"}"#),
            (RPC.CredentialSetEnabled.Params.self, #"{"name":"a","enabled":"yes"}"#), (StatusInfo.self, #"{"version":"1"}"#),
        ]
        for (type, json) in cases {
            #expect((problem(type, json) ?? "decoded") == foundationProblem(type, json), "\(type) from \(json)")
        }
    }
}
