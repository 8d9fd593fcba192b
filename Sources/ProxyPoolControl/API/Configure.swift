import ProxyPoolCore

// Tool configuration for the dashboard's Configure buttons: `configure.*`. The daemon edits the files itself,
// so these serve only a daemon that runs as the user owning them (the per-user service); `proxypoolctl
// configure` edits them as the user who runs it, calling only `status` and `key.create`.

/// One file of a preview or a write.
public struct ConfigureFile: Codable, Sendable, Equatable {
    /// As shown to people: `~/.codex/config.toml`.
    public var path: String
    public var exists: Bool
    public var changed: Bool
    /// Removed and added lines, secrets redacted (ToolConfigDiff).
    public var diff: String
    /// `write`: the backup kept beside the file.
    public var backup: String?
    public init(path: String, exists: Bool, changed: Bool, diff: String, backup: String? = nil) {
        self.path = path; self.exists = exists; self.changed = changed; self.diff = diff; self.backup = backup
    }
}

public struct ConfigureResult: Codable, Sendable, Equatable {
    public var tool: String
    public var files: [ConfigureFile]
    public var notes: [String]
    /// `apply`: the access key created for the tool (its id; the key itself is only in the tool's files).
    public var keyID: String?
    public init(tool: String, files: [ConfigureFile], notes: [String], keyID: String? = nil) {
        self.tool = tool; self.files = files; self.notes = notes; self.keyID = keyID
    }
}

extension ConfigureResult {
    /// A plan (and what writing it did: path → backup) as the caller sees it, secrets redacted.
    public init(_ plan: ToolConfigPlan, home: ToolHome, backups: [String: String]? = nil, keyID: String? = nil) {
        self.init(tool: plan.tool.rawValue, files: plan.files.map { f in
            ConfigureFile(path: home.display(f.path), exists: f.before != nil, changed: f.changed,
                          diff: ToolConfigDiff.render(f, display: home.display(f.path), secrets: plan.secrets),
                          backup: backups?[f.path].map(home.display))
        }, notes: plan.notes, keyID: keyID)
    }
}

extension RPC {
    /// What `configure.apply` would write, as a diff, with a placeholder for the key it would create.
    /// Listed as changing state although it changes nothing: it reads the tool owner's files, which a read-only
    /// (monitoring) caller has no business reading.
    public enum ConfigurePreview: RPCMethod {
        public static let name = "configure.preview"; public static let mutates = true
        public struct Params: Codable, Sendable {
            /// `codex`, `claude-code`, `gemini-cli` or `openclaw`.
            public var tool: String
            public var model: String?
            /// OpenClaw: make the model the agents' primary one.
            public var makeDefault: Bool?
            /// Claude Code: turn on its gateway model discovery.
            public var modelDiscovery: Bool?
            /// OpenClaw: `anthropic-messages` (default) or `openai-responses`.
            public var api: String?
            public init(tool: String, model: String? = nil, makeDefault: Bool? = nil, modelDiscovery: Bool? = nil, api: String? = nil) {
                self.tool = tool; self.model = model; self.makeDefault = makeDefault; self.modelDiscovery = modelDiscovery; self.api = api
            }
        }
        public typealias Result = ConfigureResult
    }

    /// Create an access key bound to the tool's app and write the tool's files (each backed up first).
    public enum ConfigureApply: RPCMethod {
        public static let name = "configure.apply"; public static let mutates = true
        public typealias Params = ConfigurePreview.Params
        public typealias Result = ConfigureResult
    }
}
