import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolControl

/// `configure TOOL`: point a coding tool at this proxy through its own settings files, with an access key bound
/// to its app. proxypoolctl edits the files itself, as the user running it (they are that user's files); it asks
/// the daemon only for the proxy's address and, with --write, for the key.
enum ConfigureCommands {
    static let verbs: [Verb] = [
        Verb(["configure"], summary: "Point a coding tool at the proxy (shows the change; --write makes it)",
             arguments: [ArgumentSpec("TOOL", help: "codex, claude-code, gemini-cli or openclaw")],
             options: [
                OptionSpec("print", help: "Show what would change, write nothing (the default)"),
                OptionSpec("write", help: "Create an access key for the tool's app and write its settings, keeping a backup"),
                OptionSpec("undo", help: "Restore the tool's files from their latest backup"),
                OptionSpec("model", value: "MODEL", help: "The model the tool asks for (codex: model; openclaw: the provider's model)"),
                OptionSpec("default", help: "openclaw: make the model the agents' primary model"),
                OptionSpec("model-discovery", help: "claude-code: let it list the proxy's models (GET /v1/models)"),
                OptionSpec("api", value: "API", help: "openclaw: anthropic-messages (default) or openai-responses"),
             ],
             discussion: """
                Files: codex $CODEX_HOME/config.toml (default ~/.codex) and its .env (the key, as PROXYPOOL_API_KEY); \
                claude-code ~/.claude/settings.json (env); gemini-cli ~/.gemini/.env; openclaw ~/.openclaw/openclaw.json (JSON5). \
                Comments, order and other settings are kept; a file that does not parse is refused and left unchanged. \
                --write keeps the previous file beside it as NAME.proxypool-TIME-N.bak (0600); --undo restores the latest \
                byte for byte. Only the new local access key (ppk_…) is written, never an upstream key or account token.
                """,
             phrase: "configure the tool", run: run),
    ]

    static func run(_ ctx: Ctl.Context) throws {
        let inv = ctx.invocation
        let name = inv.value("TOOL")!
        guard let tool = ConfigurableTool(rawValue: name) else {
            throw Ctl.usage("unknown tool '\(name)'; one of: \(ConfigurableTool.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let modes = ["print", "write", "undo"].filter { inv.flag($0) }
        guard modes.count <= 1 else { throw Ctl.usage("give one of --print, --write and --undo") }
        let home = ToolHome(environment: Posix.environment, home: Posix.homeDirectory())
        if inv.flag("undo") { return try undo(ctx, tool, home) }
        if let m = inv.value("model") { do { try Validation.modelName(m) } catch { throw Ctl.usage(error.message) } }
        let api = inv.value("api") ?? ToolConfigPlanner.openclawAPIs[0]
        guard ToolConfigPlanner.openclawAPIs.contains(api) else { throw Ctl.usage("--api must be one of \(ToolConfigPlanner.openclawAPIs.joined(separator: ", "))") }

        let status = try ctx.call(RPC.Status.self)
        guard let listen = try? ListenAddress(parsing: status.listen) else {
            throw Ctl.Failure(message: "cannot read proxypoold's address '\(status.listen)'", hint: nil, code: ExitCode.failure)
        }
        let request = ToolConfigRequest(tool: tool, proxyURL: "http://" + listen.reachable.description, key: ToolConfigPlanner.keyPlaceholder,
                                        model: inv.value("model"), makeDefault: inv.flag("default"),
                                        modelDiscovery: inv.flag("model-discovery"), openclawAPI: api)
        let write = inv.flag("write")
        let outcome: ToolConfigurator.Outcome
        do {
            outcome = try ToolConfigurator.run(request, home: home, write: write, createKey: { app in
                let k = try ctx.call(RPC.KeyCreate.self, .init(app: app))
                return (k.id, k.key)
            }, revokeKey: { id in _ = try? ctx.call(RPC.KeyRevoke.self, .init(id: id)) })
        } catch let e as ToolConfigError {
            throw Ctl.Failure(message: e.description, hint: nil, code: ExitCode.failure)
        } catch let e as SystemError {
            throw Ctl.Failure(message: e.description, hint: nil, code: ExitCode.failure)
        }
        let result = ConfigureResult(outcome.plan, home: home, backups: outcome.backups, keyID: outcome.keyID)
        if ctx.json { return Output.json(result) }
        var text = result.files.map(\.diff).joined(separator: "\n")
        text += "\n" + result.notes.map { "Note: \($0)\n" }.joined()
        Output.out(text)
        if write {
            for f in result.files where f.changed {
                if !f.exists { Output.err("Created \(f.path) (--undo removes it).\n") } else if let b = f.backup { Output.err("Backed up \(f.path) as \(b).\n") }
            }
            let changed = result.files.filter(\.changed).map(\.path)
            Output.err((changed.isEmpty ? "Nothing to change" : "Wrote \(changed.joined(separator: ", "))")
                       + "; access key \(outcome.keyID ?? "-") is bound to app \(tool.app). Undo with: proxypoolctl configure \(tool.rawValue) --undo\n")
        } else {
            Output.err("Nothing was written (\(ToolConfigPlanner.keyPlaceholder.prefix(4))… stands for the access key --write creates). Write it with: proxypoolctl configure \(tool.rawValue) --write\n")
        }
    }

    static func undo(_ ctx: Ctl.Context, _ tool: ConfigurableTool, _ home: ToolHome) throws {
        let restored: [ToolConfigFiles.Restored]
        do { restored = try ToolConfigFiles.undo(ToolConfigPlanner.paths(tool, home)) } catch let e as SystemError {
            throw Ctl.Failure(message: e.description, hint: nil, code: ExitCode.failure)
        }
        guard !restored.isEmpty else {
            throw Ctl.Failure(message: "no backup of \(ToolConfigPlanner.paths(tool, home).map(home.display).joined(separator: " or ")) to restore",
                              hint: "backups are made by 'proxypoolctl configure \(tool.rawValue) --write'", code: ExitCode.failure)
        }
        if ctx.json {
            struct Row: Encodable { var path: String; var from: String; var removed: Bool }
            return Output.json(restored.map { Row(path: home.display($0.path), from: home.display($0.from), removed: $0.removed) })
        }
        for r in restored {
            Output.out(r.removed ? "Removed \(home.display(r.path)) (it did not exist before).\n" : "Restored \(home.display(r.path)) from \(home.display(r.from)).\n")
        }
        Output.err("The access key made for \(tool.app) still works; 'proxypoolctl key list' shows it and 'proxypoolctl key revoke ID' ends it.\n")
    }
}
