import Foundation
import Glibc
import Testing

/// Model mapping, aliases, per-credential tiers, free-model routing and the local model list (issue 6), through
/// the running daemon against the fake upstream.
@Suite struct MappingTests {
    func chat(_ s: ProxySetup, model: String, app: String? = nil) throws -> HTTPResult {
        try http(port: s.port, "POST", "/v1/chat/completions",
                 headers: [("Authorization", "Bearer \(s.key)"), ("Content-Type", "application/json")] + (app.map { [("X-Proxypool-App", $0)] } ?? []),
                 body: #"{"model":"\#(model)","messages":[{"role":"user","content":"hi FAKE-TEXT-ONLY"}]}"#)
    }

    func lastUpstream(_ s: ProxySetup) throws -> (path: String, model: String?, key: String?) {
        let r = try #require(try s.fake.requests().last)
        return (r["path"] as? String ?? "", (r["body"] as? [String: Any])?["model"] as? String, r["key"] as? String)
    }

    @Test func sameFamilyPassesCrossFamilyMapsByTierAndAliasesWin() throws {
        let s = try ProxySetup(credentials: [("o", "openai", "fake-ok~o"), ("g", "gemini", "fake-ok~g")], assign: ["tool": ["o"]])
        #expect(try chat(s, model: "gpt-4.1-mini", app: "tool").status == 200)
        #expect(try lastUpstream(s).model == "gpt-4.1-mini", "an OpenAI model to an OpenAI credential is not touched")
        #expect(try chat(s, model: "claude-haiku-4-5-20251001", app: "tool").status == 200)
        #expect(try lastUpstream(s).model == "gpt-5-mini", "a Claude fast model becomes the OpenAI fast tier model")
        #expect(s.daemon.ctl(["tier", "set", "openai", "fast", "gpt-4.1-nano"]).status == 0)
        #expect(s.daemon.ctl(["alias", "set", "house-model", "gpt-5.1-codex"]).status == 0)
        usleep(150_000)
        #expect(try chat(s, model: "claude-3-5-haiku-latest", app: "tool").status == 200)
        #expect(try lastUpstream(s).model == "gpt-4.1-nano", "the user's tier model")
        #expect(try chat(s, model: "house-model", app: "tool").status == 200)
        #expect(try lastUpstream(s).model == "gpt-5.1-codex", "an alias")
        // A credential's own tier model wins over its provider's.
        #expect(s.daemon.ctl(["tier", "set", "--credential", "o", "fast", "my-fast-one"]).status == 0)
        usleep(150_000)
        #expect(try chat(s, model: "claude-haiku-4-5", app: "tool").status == 200)
        #expect(try lastUpstream(s).model == "my-fast-one")
        let tiers = s.daemon.ctl(["tiers"]).stdout
        #expect(tiers.contains("Credentials with their own tier models") && tiers.contains("my-fast-one"))
        // Gemini carries the model in the path: it is rewritten there.
        let gem = try http(port: s.port, "POST", "/v1beta/models/claude-opus-4-5:generateContent",
                           headers: [("x-goog-api-key", s.key), ("X-Proxypool-App", "gem"), ("Content-Type", "application/json")],
                           body: #"{"contents":[{"role":"user","parts":[{"text":"hi FAKE-TEXT-ONLY"}]}]}"#)
        _ = s.daemon.ctl(["assign", "gem", "g"])
        #expect(gem.status == 200)
        #expect(try lastUpstream(s).path == "/v1beta/models/gemini-2.5-pro:generateContent")
        // Usage and the journal keep both names.
        usleep(1_500_000)
        let rows = try JSONSerialization.jsonObject(with: Data(s.daemon.ctl(["usage", "--json"]).stdout.utf8)) as! [[String: Any]]
        #expect(rows.contains { $0["model"] as? String == "claude-haiku-4-5" && $0["upstreamModel"] as? String == "my-fast-one" })
        #expect(s.daemon.log.contains("model=claude-haiku-4-5 upstream_model=my-fast-one"))
    }

    @Test func freeModelsRouteFastRequestsOnlyWhenOnAndFallBack() throws {
        let s = try ProxySetup(credentials: [("paid", "openai", "fake-ok~paid")], assign: ["tool": ["paid"]])
        let add = s.daemon.ctl(["credential", "add", "free1", "--provider", "openai-compatible", "--base-url", s.fake.url + "/v1", "--key-stdin", "--free"],
                               stdin: "fake-ok~free1")
        #expect(add.status == 0)
        usleep(150_000)
        // Off (the default): a free credential gets nothing, not even through the pool.
        #expect(try chat(s, model: "gpt-5-mini", app: "tool").header("x-proxypool-credential") == "paid")
        #expect(try chat(s, model: "gpt-5-mini", app: "unassigned").header("x-proxypool-credential") == "paid")
        #expect(s.daemon.ctl(["free-models", "on"]).status == 0)
        usleep(150_000)
        #expect(try chat(s, model: "gpt-5-mini", app: "tool").header("x-proxypool-credential") == "free1", "fast → free first")
        #expect(try chat(s, model: "gpt-5.1", app: "tool").header("x-proxypool-credential") == "paid", "flagship (not fast) → the normal route")
        #expect(s.daemon.ctl(["status"]).stdout.contains("free models:     on"))
        // Per-app override.
        #expect(s.daemon.ctl(["free-models", "off", "--app", "tool"]).stdout.contains("for tool is now off"))
        usleep(150_000)
        #expect(try chat(s, model: "gpt-5-mini", app: "tool").header("x-proxypool-credential") == "paid")
        #expect(try chat(s, model: "gpt-5-mini", app: "other").header("x-proxypool-credential") == "free1")
        #expect(s.daemon.ctl(["status"]).stdout.contains("(tool: off)"))
        #expect(s.daemon.ctl(["free-models", "default", "--app", "tool"]).status == 0)
        // A failing free credential falls back to the normal route.
        #expect(s.daemon.ctl(["credential", "remove", "free1"]).status == 0)
        #expect(s.daemon.ctl(["credential", "add", "free2", "--provider", "openai-compatible", "--base-url", s.fake.url + "/v1", "--key-stdin", "--free"],
                             stdin: "fake-500~free2").status == 0)
        usleep(150_000)
        let r = try chat(s, model: "gpt-5-nano", app: "tool")
        #expect(r.status == 200 && r.header("x-proxypool-credential") == "paid")
        #expect(try s.fake.keysSeen().suffix(2) == ["fake-500~free2", "fake-ok~paid"])
    }

    @Test func modelListIsTheAppsTierModelsAndAliasesInEachDialect() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok")], assign: ["tool": ["a"]])
        #expect(s.daemon.ctl(["fallback", "off"]).status == 0)
        #expect(s.daemon.ctl(["alias", "set", "team-default", "claude-sonnet-4-5"]).status == 0)
        usleep(150_000)
        let h = [("Authorization", "Bearer \(s.key)"), ("X-Proxypool-App", "tool")]
        let oai = try http(port: s.port, "GET", "/v1/models", headers: h)
        let list = try JSONSerialization.jsonObject(with: Data(oai.body.utf8)) as! [String: Any]
        let ids = (list["data"] as! [[String: Any]]).map { $0["id"] as! String }
        #expect(oai.status == 200 && ids == ["claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5", "team-default"])
        let ant = try http(port: s.port, "GET", "/v1/models", headers: h + [("anthropic-version", "2023-06-01")])
        #expect(ant.body.contains(#""type":"model","id":"claude-haiku-4-5""#) && ant.body.contains(#""has_more":false"#))
        let gem = try http(port: s.port, "GET", "/v1beta/models", headers: [("x-goog-api-key", s.key), ("X-Proxypool-App", "tool")])
        #expect(gem.body.contains(#""name":"models/claude-sonnet-4-5""#) && gem.body.contains("generateContent"))
        // An app with no route sees only the aliases.
        let none = try http(port: s.port, "GET", "/v1/models", headers: [("Authorization", "Bearer \(s.key)"), ("X-Proxypool-App", "lonely")])
        #expect(none.body.contains("team-default") && !none.body.contains("claude-haiku"))
        #expect(s.daemon.ctl(["alias", "list"]).stdout.contains("team-default"))
        #expect(s.daemon.ctl(["alias", "remove", "team-default"]).status == 0)
        #expect(s.daemon.ctl(["alias", "remove", "team-default"]).status != 0)
    }

    /// Claude Code's gateway model discovery (CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1): `GET /v1/models?limit=1000`
    /// with x-api-key and anthropic-version; it keeps ids containing claude or anthropic. Whatever credential
    /// serves the app, the list holds the Claude names per tier, paged as Anthropic pages; the names it picks
    /// (and dated or newer ones) then map through their tier.
    @Test func claudeCodeDiscoveryListsClaudeNamesPerTierWhateverServesThem() throws {
        let s = try ProxySetup(credentials: [("o", "openai", "fake-ok~o")], assign: ["claude-code": ["o"]])
        #expect(s.daemon.ctl(["fallback", "off"]).status == 0)
        #expect(s.daemon.ctl(["alias", "set", "claude-house", "gpt-5-nano"]).status == 0)
        usleep(150_000)
        let h = [("x-api-key", s.key), ("anthropic-version", "2023-06-01"), ("User-Agent", "claude-cli/2.1.332 (external, cli)")]
        func page(_ q: String) throws -> (status: Int, ids: [String], json: [String: Any]) {
            let r = try http(port: s.port, "GET", "/v1/models" + q, headers: h)
            let j = (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [String: Any] ?? [:]
            return (r.status, ((j["data"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }, j)
        }
        let all = try page("?limit=1000")
        #expect(all.status == 200 && all.ids == ["claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5", "claude-house"], "\(all.json)")
        #expect(all.json["has_more"] as? Bool == false && all.json["first_id"] as? String == "claude-opus-4-5"
                && all.json["last_id"] as? String == "claude-house")
        let described = (all.json["data"] as? [[String: Any]])?.first
        #expect(described?["type"] as? String == "model" && described?["description"] as? String == "flagship tier")
        let first = try page("?limit=2")
        #expect(first.ids == ["claude-opus-4-5", "claude-sonnet-4-5"] && first.json["has_more"] as? Bool == true)
        let next = try page("?limit=2&after_id=claude-sonnet-4-5")
        #expect(next.ids == ["claude-haiku-4-5", "claude-house"] && next.json["has_more"] as? Bool == false)
        let back = try page("?limit=1&before_id=claude-haiku-4-5")
        #expect(back.ids == ["claude-sonnet-4-5"] && back.json["has_more"] as? Bool == true)
        for bad in ["?limit=0", "?limit=1001", "?limit=x", "?after_id=nope", "?after_id=claude-opus-4-5&before_id=claude-house"] {
            let r = try page(bad)
            #expect(r.status == 400 && (r.json["error"] as? [String: Any])?["type"] as? String == "invalid_request_error", "\(bad): \(r.json)")
        }
        // The anthropic kind's tier models are the user's to set: the list follows.
        #expect(s.daemon.ctl(["tier", "set", "anthropic", "flagship", "claude-fable-5"]).status == 0)
        usleep(150_000)
        #expect(try page("").ids.first == "claude-fable-5")
        // What Claude Code then sends, and what its subagents hard-code, maps through the tiers.
        for (model, upstream) in [("claude-fable-5", "gpt-5.1"), ("claude-haiku-4-5-20251001", "gpt-5-mini"), ("claude-sonnet-5", "gpt-5.1"),
                                  ("claude-opus-4-5", "gpt-5.1")] {
            let r = try s.messages(headers: [("User-Agent", "claude-cli/2.1.332 (external, cli)")], model: model)
            #expect(r.status == 200, "\(model): \(r.body)")
            #expect(try lastUpstream(s).model == upstream, "\(model)")
        }
        // The connectivity probe.
        #expect(try http(port: s.port, "HEAD", "/").status == 200)
    }
}
