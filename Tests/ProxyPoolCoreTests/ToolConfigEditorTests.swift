import Testing
import ProxyPoolCore

/// The format-keeping editors of tool configuration: what they change, that everything else stays byte for
/// byte, and that what they cannot parse they refuse.
@Suite struct TOMLEditorTests {
    func edit(_ text: String, _ values: [(String, String)], table: [String]) throws -> String {
        let doc = try TOMLDocument(Array(text.utf8))
        let after = TextEdit.apply(try doc.edits(setting: values.map { (key: $0.0, value: $0.1) }, inTable: table), to: doc.bytes)
        _ = try TOMLDocument(after)
        return String(decoding: after, as: UTF8.self)
    }

    @Test func replacesOnlyTheValueAndKeepsItsComment() throws {
        let text = "# top\nmodel = \"o3\"   # my favourite\n\n[tui]\nnotifications = true\n"
        #expect(try edit(text, [("model", "\"gpt-5\"")], table: []) == "# top\nmodel = \"gpt-5\"   # my favourite\n\n[tui]\nnotifications = true\n")
    }

    @Test func addsKeysAfterTheTablesLastStatement() throws {
        let text = "[model_providers.proxypool]\nname = \"old\"  # c\n\n# about profiles\n[profiles.x]\nmodel = \"m\"\n"
        let out = try edit(text, [("name", "\"proxypool\""), ("wire_api", "\"responses\"")], table: ["model_providers", "proxypool"])
        #expect(out == "[model_providers.proxypool]\nname = \"proxypool\"  # c\nwire_api = \"responses\"\n\n# about profiles\n[profiles.x]\nmodel = \"m\"\n")
    }

    @Test func appendsAMissingTableAndKeepsTheFileAsItsPrefix() throws {
        let text = "model = \"o3\"\n[features]\nplugins = false # no\n"
        let out = try edit(text, [("name", "\"p\"")], table: ["model_providers", "proxypool"])
        #expect(out.hasPrefix(text))
        #expect(out.hasSuffix("\n\n[model_providers.proxypool]\nname = \"p\"\n"))
    }

    @Test func rootKeysGoBeforeTheFirstTable() throws {
        #expect(try edit("model = \"o3\"\n\n[a]\nb = 1\n", [("model_provider", "\"p\"")], table: []) == "model = \"o3\"\nmodel_provider = \"p\"\n\n[a]\nb = 1\n")
        #expect(try edit("# header comment\n[a]\nb = 1\n", [("k", "1")], table: []) == "k = 1\n\n# header comment\n[a]\nb = 1\n")
        #expect(try edit("", [("k", "1")], table: []) == "k = 1\n")
    }

    @Test func keepsCRLFLineEndings() throws {
        #expect(try edit("a = 1\r\n[t]\r\nb = 2\r\n", [("c", "3")], table: ["t"]) == "a = 1\r\n[t]\r\nb = 2\r\nc = 3\r\n")
    }

    @Test func readsTheWholeLanguage() throws {
        let text = #"""
        # every kind of value
        "quoted key" = 'literal'
        dotted.key = "v"   # defines table dotted
        multi = """
        line one \
          continued "quoted" ""
        """
        lit = '''
        C:\path\'''
        arr = [
          1, 2.5e3, -0x1F, # comment
          "s", { a = 1, b = [true, false] },
        ]
        when = 1979-05-27 07:32:00Z
        day = 1979-05-27
        num = +1_000
        inf = -inf
        inline = { x = 1, y.z = "w" }
        [[fruits]]
        name = "apple"
        [[fruits]]
        name = "banana"
        [a."b.c".d]
        e = "\u00e9\n"
        """#
        let doc = try TOMLDocument(Array(text.utf8))
        #expect(doc.valueText(["a", "b.c", "d"], "e") == #""\u00e9\n""#)
        #expect(doc.valueText([], "quoted key") == "'literal'")
    }

    @Test(arguments: [
        ("a = \"open\n", 1), ("a = 1\na = 2\n", 2), ("[t]\n[t]\n", 2), ("a = bare\n", 1), ("a = 1 b\n", 1),
        ("[t\n", 1), ("a = [1, 2\n", 2), ("a = { b = 1, b = 2 }\n", 1), ("= 1\n", 1), ("a = \"\\q\"\n", 1),
        ("a.b = 1\n[a]\n", 2), ("a = 'x\n'", 1), ("a = \"\"\"never\n", 1), ("x = 1\n\u{1}\n", 2), ("a = 1979-13-\n", nil),
    ] as [(String, Int?)])
    func refusesWhatItCannotParse(_ text: String, _ line: Int?) {
        do {
            _ = try TOMLDocument(Array(text.utf8))
            // A malformed date is not caught by the character check; it must at least stay unedited bytes.
            #expect(line == nil, "accepted: \(text.debugDescription)")
        } catch {
            if let line { #expect(error.line == line, "\(text.debugDescription): \(error)") }
        }
    }

    @Test func refusesAddingATableThatDottedKeysOrAnInlineTableDefine() throws {
        let dotted = try TOMLDocument(Array("model_providers.proxypool.name = \"x\"\n".utf8))
        #expect(throws: ToolConfigError.self) { try dotted.edits(setting: [(key: "base_url", value: "\"u\"")], inTable: ["model_providers", "proxypool"]) }
        let inline = try TOMLDocument(Array("model_providers = { proxypool = { name = \"x\" } }\n".utf8))
        #expect(throws: ToolConfigError.self) { try inline.edits(setting: [(key: "base_url", value: "\"u\"")], inTable: ["model_providers", "proxypool"]) }
        let array = try TOMLDocument(Array("[[model_providers.proxypool]]\nname = \"x\"\n".utf8))
        #expect(throws: ToolConfigError.self) { try array.edits(setting: [(key: "base_url", value: "\"u\"")], inTable: ["model_providers", "proxypool"]) }
    }

    @Test func stringsAreEscaped() {
        #expect(TOMLDocument.string("a\"b\\c\n\u{7}") == #""a\"b\\c\n\u0007""#)
    }
}

@Suite struct JSON5EditorTests {
    func doc(_ s: String, _ d: JSON5Document.Dialect = .json5) throws -> JSON5Document { try JSON5Document(Array(s.utf8), dialect: d) }
    func text(_ d: JSON5Document) -> String { String(decoding: d.bytes, as: UTF8.self) }

    @Test func readsJSON5() throws {
        let d = try doc("""
        // OpenClaw config
        {
          /* block */ agents: { defaults: { model: { primary: 'anthropic/claude', }, }, },
          "quoted": "a\\u00e9", n: [0x1F, +1, .5, 5., Infinity, -NaN, 1e3,],
          'single': 'it\\'s',
          $id_1: null,
        }
        """)
        #expect(d.stringValue(["agents", "defaults", "model", "primary"]) == "anthropic/claude")
        #expect(d.stringValue(["quoted"]) == "aé")
        #expect(d.stringValue(["single"]) == "it's")
        #expect(d.contains(["$id_1"]))
    }

    @Test func replacesAValueAndKeepsEverythingElse() throws {
        let before = "{\n  // keep me\n  models: { providers: { other: { apiKey: 'k' }, proxypool: { old: 1 }, }, },\n  x: 1, // and me\n}\n"
        let after = try doc(before).setting(["models", "providers", "proxypool"], to: .object([("api", .string("anthropic-messages"))]))
        #expect(text(after) == "{\n  // keep me\n  models: { providers: { other: { apiKey: 'k' }, proxypool: {\n    \"api\": \"anthropic-messages\"\n  }, }, },\n  x: 1, // and me\n}\n")
    }

    @Test func addsAMemberAfterTheLastOneKeepingItsCommaStyleAndComment() throws {
        let trailing = try doc("{\n  a: 1, // one\n}\n").setting(["b"], to: .int(2))
        #expect(text(trailing) == "{\n  a: 1, // one\n  \"b\": 2,\n}\n")
        let none = try doc("{\n    \"a\": 1 // one\n}\n").setting(["b"], to: .int(2))
        #expect(text(none) == "{\n    \"a\": 1, // one\n    \"b\": 2\n}\n")
    }

    @Test func addsTheObjectsOnTheWay() throws {
        let d = try doc("{}\n", .json).setting(["env", "ANTHROPIC_BASE_URL"], to: .string("http://127.0.0.1:8081"))
        #expect(text(d) == "{\n  \"env\": {\n    \"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:8081\"\n  }\n}\n")
        let inline = try doc("{\"a\": 1}", .json).setting(["b", "c"], to: .bool(true))
        #expect(text(inline) == "{\"a\": 1, \"b\": {\"c\": true}}")
        let commented = try doc("{\n  // nothing yet\n}\n").setting(["k"], to: .string("v"))
        #expect(text(commented) == "{\n  \"k\": \"v\"\n  // nothing yet\n}\n")
    }

    @Test func removesAMemberWithItsComma() throws {
        let base = "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}\n"
        #expect(text(try doc(base, .json).removing(["b"])) == "{\n  \"a\": 1,\n  \"c\": 3\n}\n")
        #expect(text(try doc(base, .json).removing(["c"])) == "{\n  \"a\": 1,\n  \"b\": 2\n}\n")
        #expect(text(try doc(base, .json).removing(["a"])) == "{\n  \"b\": 2,\n  \"c\": 3\n}\n")
        #expect(text(try doc("{\"only\": 1}", .json).removing(["only"])) == "{}")
        #expect(text(try doc("{\"a\": 1, \"b\": 2}", .json).removing(["b"])) == "{\"a\": 1}")
        #expect(text(try doc(base, .json).removing(["zz"])) == base)
    }

    @Test(arguments: [
        ("{\"a\": 1,}", JSON5Document.Dialect.json), ("{a: 1}", .json), ("// c\n{}", .json), ("{'a': 1}", .json), ("[1,]", .json),
        ("{\"a\": 01}", .json), ("{\"a\" 1}", .json5), ("{\"a\": 1, \"a\": 2}", .json5), ("{\"a\": \"open}", .json5),
        ("{} {}", .json5), ("/* never closed", .json5), ("{\"a\": [1 2]}", .json5), ("{\"a\": tru}", .json5), ("", .json5),
        ("{\"a\": \"\\q\"}", .json), ("{\"a\": \"line\nbreak\"}", .json5), ("{1a: 2}", .json5),
    ])
    func refusesWhatItCannotParse(_ s: String, _ d: JSON5Document.Dialect) {
        #expect(throws: ToolConfigError.self, "\(s.debugDescription)") { try JSON5Document(Array(s.utf8), dialect: d) }
    }

    @Test func refusesSettingUnderANonObject() throws {
        #expect(throws: ToolConfigError.self) { try doc("{\"env\": [1]}", .json).setting(["env", "K"], to: .string("v")) }
        #expect(throws: ToolConfigError.self) { try doc("[]", .json).setting(["env"], to: .string("v")) }
    }
}

@Suite struct DotEnvEditorTests {
    @Test func setsEveryAssignmentOrAddsOneAndKeepsTheRest() throws {
        let text = "# gemini\nexport GEMINI_API_KEY='old'  # c\nOTHER=\"multi\nline\"\nGEMINI_API_KEY=again\n"
        let d = try DotEnvDocument(Array(text.utf8)).setting("GEMINI_API_KEY", to: "ppk_new").setting("GOOGLE_GEMINI_BASE_URL", to: "http://127.0.0.1:8081")
        #expect(String(decoding: d.bytes, as: UTF8.self) == "# gemini\nGEMINI_API_KEY=ppk_new\nOTHER=\"multi\nline\"\nGEMINI_API_KEY=ppk_new\nGOOGLE_GEMINI_BASE_URL=http://127.0.0.1:8081\n")
        #expect(d.value("OTHER") == "multi\nline")
        let noNewline = try DotEnvDocument(Array("A=1".utf8)).setting("B", to: "2")
        #expect(String(decoding: noNewline.bytes, as: UTF8.self) == "A=1\nB=2\n")
    }

    @Test(arguments: ["just words\n", "A\n", "A='open\n", "1A=x\n", "A=\"x\" trailing\n", "export\n"])
    func refusesWhatItCannotParse(_ s: String) {
        #expect(throws: ToolConfigError.self, "\(s.debugDescription)") { try DotEnvDocument(Array(s.utf8)) }
    }
}

@Suite struct ToolConfigPlannerTests {
    let home = ToolHome(home: "/h")

    func plan(_ tool: ConfigurableTool, _ files: [String: String], key: String = "ppk_" + String(repeating: "K", count: 43),
              home: ToolHome? = nil, model: String? = nil, makeDefault: Bool = false) throws -> ToolConfigPlan {
        try ToolConfigPlanner.plan(ToolConfigRequest(tool: tool, proxyURL: "http://127.0.0.1:8081", key: key, model: model, makeDefault: makeDefault),
                                   home: home ?? self.home, read: { files[$0].map { Array($0.utf8) } })
    }

    @Test func codexHonoursCodexHomeAndPutsTheKeyInItsEnvFile() throws {
        let p = try plan(.codex, ["/c/config.toml": "# mine\nmodel = \"o3\"\n"], home: ToolHome(home: "/h", codexHome: "/c"))
        #expect(p.files.map(\.path) == ["/c/config.toml", "/c/.env"])
        let toml = try TOMLDocument(p.files[0].after)
        #expect(toml.valueText([], "model_provider") == "\"proxypool\"")
        #expect(toml.valueText(["model_providers", "proxypool"], "base_url") == "\"http://127.0.0.1:8081/v1\"")
        #expect(toml.valueText(["model_providers", "proxypool"], "wire_api") == "\"responses\"")
        #expect(toml.valueText(["model_providers", "proxypool"], "env_key") == "\"PROXYPOOL_API_KEY\"")
        #expect(toml.valueText(["model_providers", "proxypool"], "supports_websockets") == (ToolConfigPlanner.codexSupportsWebSockets ? "true" : "false"))
        #expect(String(decoding: p.files[0].after, as: UTF8.self).hasPrefix("# mine\nmodel = \"o3\"\n"))
        #expect(try DotEnvDocument(p.files[1].after).value("PROXYPOOL_API_KEY") == "ppk_" + String(repeating: "K", count: 43))
        #expect(!String(decoding: p.files[0].after, as: UTF8.self).contains("ppk_"), "the key stays out of config.toml")
    }

    @Test func claudeCodeGetsExactlyOneKeyAndTheOldOnesAreNeverShown() throws {
        let old = "{\n  \"env\": {\n    \"ANTHROPIC_AUTH_TOKEN\": \"sk-ant-oat01-SECRETSECRET\",\n    \"ANTHROPIC_API_KEY\": \"sk-ant-api-OTHERSECRET\"\n  },\n  \"theme\": \"dark\"\n}\n"
        let p = try plan(.claudeCode, ["/h/.claude/settings.json": old])
        let d = try JSON5Document(p.files[0].after, dialect: .json)
        #expect(d.stringValue(["env", "ANTHROPIC_BASE_URL"]) == "http://127.0.0.1:8081")
        #expect(d.stringValue(["env", "ANTHROPIC_API_KEY"])?.hasPrefix("ppk_") == true)
        #expect(!d.contains(["env", "ANTHROPIC_AUTH_TOKEN"]))
        #expect(d.stringValue(["theme"]) == "dark")
        let diff = ToolConfigDiff.render(p.files[0], display: "~/.claude/settings.json", secrets: p.secrets)
        #expect(!diff.contains("SECRETSECRET") && !diff.contains("OTHERSECRET") && !diff.contains("KKKKKKKK"), "\(diff)")
        #expect(diff.contains("ANTHROPIC_BASE_URL"))
    }

    @Test func aFileThatDoesNotParseStopsThePlanNamingIt() {
        do {
            _ = try plan(.openclaw, ["/h/.openclaw/openclaw.json": "{ models: { providers: { } } // fine\n, oops }"])
            Issue.record("accepted")
        } catch let e as ToolConfigError {
            #expect(e.message.hasPrefix("~/.openclaw/openclaw.json: line 2"), "\(e)")
            #expect(e.message.hasSuffix("it was left unchanged"))
        } catch { Issue.record("\(error)") }
    }

    @Test func openclawProviderAndDefaultModel() throws {
        let p = try plan(.openclaw, ["/h/.openclaw/openclaw.json": "// mine\n{ gateway: { port: 18789 }, }\n"], model: "claude-opus-5", makeDefault: true)
        let d = try JSON5Document(p.files[0].after, dialect: .json5)
        #expect(d.stringValue(["models", "providers", "proxypool", "api"]) == "anthropic-messages")
        #expect(d.stringValue(["models", "providers", "proxypool", "baseUrl"]) == "http://127.0.0.1:8081")
        #expect(d.stringValue(["agents", "defaults", "model", "primary"]) == "proxypool/claude-opus-5")
        #expect(String(decoding: p.files[0].after, as: UTF8.self).hasPrefix("// mine\n{ gateway: { port: 18789 },"))
    }

    @Test func geminiEnvFile() throws {
        let p = try plan(.geminiCLI, ["/h/.gemini/.env": "# keep\nGEMINI_MODEL=gemini-2.5-pro\n"])
        #expect(String(decoding: p.files[0].after, as: UTF8.self) == "# keep\nGEMINI_MODEL=gemini-2.5-pro\nGOOGLE_GEMINI_BASE_URL=http://127.0.0.1:8081\nGEMINI_API_KEY=ppk_" + String(repeating: "K", count: 43) + "\n")
    }

    @Test func planningTwiceChangesNothingMore() throws {
        let first = try plan(.codex, ["/h/.codex/config.toml": "[tui]\nx = 1\n"])
        let again = try plan(.codex, ["/h/.codex/config.toml": String(decoding: first.files[0].after, as: UTF8.self),
                                      "/h/.codex/.env": String(decoding: first.files[1].after, as: UTF8.self)])
        #expect(again.files.allSatisfy { !$0.changed })
    }
}

@Suite struct ToolConfigDiffTests {
    @Test func redactsSecretLookingValuesAndKnownSecrets() {
        #expect(ToolConfigDiff.redact("    \"apiKey\": \"sk-abcdefghijkl\",", []) == "    \"apiKey\": \"sk-a…\",")
        #expect(ToolConfigDiff.redact("GEMINI_API_KEY=AIzaSyXXXXXXXX", []) == "GEMINI_API_KEY=AIza…")
        #expect(ToolConfigDiff.redact("env_key = \"PROXYPOOL_API_KEY\"", []) == "env_key = \"PROXYPOOL_API_KEY\"")
        #expect(ToolConfigDiff.redact("note: the value ppk_abcdefgh123 here", ["ppk_abcdefgh123"]) == "note: the value ppk_… here")
        #expect(ToolConfigDiff.redact("base_url = \"http://x\"", []) == "base_url = \"http://x\"")
    }

    @Test func showsOnlyChangedLines() {
        let f = PlannedFile(path: "/p", before: Array("a\nb\nc\nd\n".utf8), after: Array("a\nB\nc\nd\ne\n".utf8))
        #expect(ToolConfigDiff.render(f, display: "p", secrets: []) == "--- p\n+++ p\n@@ -2,1 +2,1 @@\n-b\n+B\n@@ -5,0 +5,1 @@\n+e\n")
    }
}
