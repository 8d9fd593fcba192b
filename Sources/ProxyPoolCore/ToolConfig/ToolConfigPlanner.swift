/// What `proxypoolctl configure TOOL` (and the dashboard's Configure button) writes into a tool's own settings
/// so that it talks to this proxy with a local access key: which files, and their new contents made from the
/// old ones by the format-keeping editors. No I/O here: files come in through `read`.
/// Never an upstream key or account token: the only secret written is the `ppk_` access key given.
public enum ConfigurableTool: String, CaseIterable, Codable, Sendable {
    case codex
    case claudeCode = "claude-code"
    case geminiCLI = "gemini-cli"
    case openclaw

    /// The app the access key is bound to (AppDetection's names for these clients).
    public var app: String { rawValue }
}

/// Where a tool's files live, from the environment of whoever edits them.
public struct ToolHome: Equatable, Sendable {
    public var home: String
    /// `$CODEX_HOME` (Codex's config directory; default `~/.codex`).
    public var codexHome: String?
    /// `$CLAUDE_CONFIG_DIR` (Claude Code's; default `~/.claude`).
    public var claudeConfigDir: String?
    /// `$OPENCLAW_CONFIG_PATH` (OpenClaw's config file; default `~/.openclaw/openclaw.json`).
    public var openclawConfigPath: String?

    public init(home: String, codexHome: String? = nil, claudeConfigDir: String? = nil, openclawConfigPath: String? = nil) {
        self.home = home; self.codexHome = codexHome; self.claudeConfigDir = claudeConfigDir; self.openclawConfigPath = openclawConfigPath
    }

    public init(environment env: (String) -> String?, home: String) {
        func nonEmpty(_ k: String) -> String? { env(k).flatMap { $0.isEmpty ? nil : $0 } }
        self.init(home: home, codexHome: nonEmpty("CODEX_HOME"), claudeConfigDir: nonEmpty("CLAUDE_CONFIG_DIR"),
                  openclawConfigPath: nonEmpty("OPENCLAW_CONFIG_PATH"))
    }

    /// `path` with the home directory written as `~`.
    public func display(_ path: String) -> String {
        path.hasPrefix(home + "/") ? "~" + path.dropFirst(home.count) : path
    }
}

/// What to configure.
public struct ToolConfigRequest: Equatable, Sendable {
    public var tool: ConfigurableTool
    /// The proxy as the tool reaches it, without a path: `http://127.0.0.1:8081`.
    public var proxyURL: String
    /// The access key, or `ToolConfigPlanner.keyPlaceholder` for a preview made before the key exists.
    public var key: String
    /// The model the tool should ask for (Codex: `model`; OpenClaw: the provider's model).
    public var model: String?
    /// OpenClaw: also make `proxypool/<model>` the agents' primary model.
    public var makeDefault: Bool
    /// Claude Code: `CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1` (the proxy answers `GET /v1/models`).
    public var modelDiscovery: Bool
    /// OpenClaw: `openai-responses` instead of `anthropic-messages`.
    public var openclawAPI: String

    public init(tool: ConfigurableTool, proxyURL: String, key: String, model: String? = nil, makeDefault: Bool = false,
                modelDiscovery: Bool = false, openclawAPI: String = "anthropic-messages") {
        self.tool = tool; self.proxyURL = proxyURL; self.key = key; self.model = model; self.makeDefault = makeDefault
        self.modelDiscovery = modelDiscovery; self.openclawAPI = openclawAPI
    }
}

/// One file to write: its bytes before (nil: it does not exist) and after.
public struct PlannedFile: Equatable, Sendable {
    public var path: String
    public var before: [UInt8]?
    public var after: [UInt8]
    public var changed: Bool { before != after }
    public init(path: String, before: [UInt8]?, after: [UInt8]) { self.path = path; self.before = before; self.after = after }
}

public struct ToolConfigPlan: Equatable, Sendable {
    public var tool: ConfigurableTool
    public var files: [PlannedFile]
    /// What the user should know: how the key is found, what else wins over these files, the resume caveat.
    public var notes: [String]
    /// Values never to show (the key, and secrets the edit replaces).
    public var secrets: [String]
}

public enum ToolConfigPlanner {
    /// Our provider's id in Codex and OpenClaw.
    public static let providerID = "proxypool"
    /// The environment variable Codex takes the key from; set in `$CODEX_HOME/.env`, which Codex loads at start
    /// (openai/codex `codex-rs/arg0/src/lib.rs`, `load_dotenv`; it refuses only names starting with `CODEX_`).
    public static let codexKeyVariable = "PROXYPOOL_API_KEY"
    /// Whether Codex may open a Responses WebSocket to us (`supports_websockets` in its provider block): the
    /// proxy serves the Responses WebSocket transport on /v1/responses (Sources/ProxyPoolDaemon/Proxy/
    /// ResponsesWebSocket*.swift), which Tests/e2e/codex-websocket.sh proves with the real Codex CLI.
    public static let codexSupportsWebSockets = true
    /// Stands for the access key in a preview made before it is created (`--write` creates it).
    public static let keyPlaceholder = AccessKeys.prefix + String(repeating: "x", count: 43)
    public static let defaultAnthropicModel = "claude-sonnet-4-6"
    public static let defaultOpenAIModel = "gpt-5.1-codex"
    public static let openclawAPIs = ["anthropic-messages", "openai-responses"]

    /// The files a tool's configuration touches.
    public static func paths(_ tool: ConfigurableTool, _ home: ToolHome) -> [String] {
        switch tool {
        case .codex:
            let dir = home.codexHome ?? home.home + "/.codex"
            return [dir + "/config.toml", dir + "/.env"]
        case .claudeCode: return [(home.claudeConfigDir ?? home.home + "/.claude") + "/settings.json"]
        case .geminiCLI: return [home.home + "/.gemini/.env"]
        case .openclaw: return [home.openclawConfigPath ?? home.home + "/.openclaw/openclaw.json"]
        }
    }

    /// The plan for `request`: each file's new bytes. A file that does not parse stops it with an error naming
    /// the file (and nothing is to be written).
    public static func plan(_ r: ToolConfigRequest, home: ToolHome, read: (String) throws -> [UInt8]?) throws -> ToolConfigPlan {
        let paths = paths(r.tool, home)
        var files: [PlannedFile] = []
        var secrets = [r.key]
        func file(_ path: String, _ make: ([UInt8]?) throws(ToolConfigError) -> [UInt8]) throws {
            let before = try read(path)
            do { files.append(PlannedFile(path: path, before: before, after: try make(before))) } catch {
                throw ToolConfigError("\(home.display(path)): \(error.description); it was left unchanged")
            }
        }
        let url = r.proxyURL
        var notes: [String] = []
        switch r.tool {
        case .codex:
            try file(paths[0]) { before throws(ToolConfigError) in
                let doc = try TOMLDocument(before ?? [])
                var root = [(key: "model_provider", value: TOMLDocument.string(providerID))]
                if let m = r.model { root.append((key: "model", value: TOMLDocument.string(m))) }
                let provider = [
                    (key: "name", value: TOMLDocument.string(providerID)),
                    (key: "base_url", value: TOMLDocument.string(url + "/v1")),
                    (key: "env_key", value: TOMLDocument.string(codexKeyVariable)),
                    (key: "wire_api", value: TOMLDocument.string("responses")),
                    (key: "supports_websockets", value: codexSupportsWebSockets ? "true" : "false"),
                ]
                let edits = try doc.edits(setting: root, inTable: []) + doc.edits(setting: provider, inTable: ["model_providers", providerID])
                let after = TextEdit.apply(edits, to: doc.bytes)
                _ = try TOMLDocument(after)   // what we write must read back
                return after
            }
            try file(paths[1]) { before throws(ToolConfigError) in
                let doc = try DotEnvDocument(before ?? [])
                if let old = doc.value(codexKeyVariable) { secrets.append(old) }
                return try doc.setting(codexKeyVariable, to: r.key).bytes
            }
            notes = [
                "Codex loads \(codexKeyVariable) from \(home.display(paths[1])) when it starts; an exported \(codexKeyVariable) works too.",
                "'codex resume' lists only the sessions of the current model_provider: sessions made with another provider are hidden while model_provider = \"\(providerID)\" (and come back when you switch back).",
                "To keep the built-in provider and its sessions instead: leave model_provider as it was, put openai_base_url = \"\(url)/v1\" at the top of config.toml, and export CODEX_API_KEY with the access key in your shell (a .env file cannot set CODEX_ variables).",
            ]
        case .claudeCode:
            try file(paths[0]) { before throws(ToolConfigError) in
                var doc = try JSON5Document(before ?? Array("{}\n".utf8), dialect: .json)
                for k in ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"] { if let s = doc.stringValue(["env", k]) { secrets.append(s) } }
                doc = try doc.setting(["env", "ANTHROPIC_BASE_URL"], to: .string(url))
                // A non-empty ANTHROPIC_API_KEY wins over ANTHROPIC_AUTH_TOKEN: exactly one, the other removed.
                doc = try doc.setting(["env", "ANTHROPIC_API_KEY"], to: .string(r.key))
                doc = try doc.removing(["env", "ANTHROPIC_AUTH_TOKEN"])
                if r.modelDiscovery { doc = try doc.setting(["env", "CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY"], to: .string("1")) }
                return doc.bytes
            }
            notes = [
                "Claude Code sends the key as x-api-key to \(url) (no /v1: it adds the path itself).",
                "Interactive Claude Code asks once whether to use this API key: answer yes.",
            ]
        case .geminiCLI:
            try file(paths[0]) { before throws(ToolConfigError) in
                let doc = try DotEnvDocument(before ?? [])
                if let old = doc.value("GEMINI_API_KEY") { secrets.append(old) }
                return try doc.setting("GOOGLE_GEMINI_BASE_URL", to: url).setting("GEMINI_API_KEY", to: r.key).bytes
            }
            notes = [
                "Gemini CLI takes GOOGLE_GEMINI_BASE_URL as its gateway (http is accepted for localhost only).",
                "Variables already exported, and .env files in the working directory or above it, win over \(home.display(paths[0])): unset GEMINI_API_KEY and GOOGLE_GEMINI_BASE_URL there if they point elsewhere.",
            ]
        case .openclaw:
            guard openclawAPIs.contains(r.openclawAPI) else { throw ToolConfigError("the OpenClaw api must be one of \(openclawAPIs.joined(separator: ", "))") }
            let anthropic = r.openclawAPI == "anthropic-messages"
            let model = r.model ?? (anthropic ? defaultAnthropicModel : defaultOpenAIModel)
            try file(paths[0]) { before throws(ToolConfigError) in
                var doc = try JSON5Document(before ?? Array("{}\n".utf8), dialect: .json5)
                if let s = doc.stringValue(["models", "providers", providerID, "apiKey"]) { secrets.append(s) }
                let provider = ConfigValue.object([
                    // The Anthropic SDK adds /v1/messages itself; the OpenAI one adds only /responses.
                    ("baseUrl", .string(anthropic ? url : url + "/v1")),
                    ("apiKey", .string(r.key)),
                    ("api", .string(r.openclawAPI)),
                    ("models", .array([.object([("id", .string(model)), ("name", .string(model + " (proxypool)"))])])),
                ])
                doc = try doc.setting(["models", "providers", providerID], to: provider)
                if r.makeDefault { doc = try doc.setting(["agents", "defaults", "model", "primary"], to: .string(providerID + "/" + model)) }
                return doc.bytes
            }
            notes = ["OpenClaw can use it as \(providerID)/\(model)" + (r.makeDefault ? ", now the agents' primary model." : "; --default makes it the agents' primary model.")]
        }
        return ToolConfigPlan(tool: r.tool, files: files, notes: notes, secrets: secrets.filter { !$0.isEmpty })
    }
}
