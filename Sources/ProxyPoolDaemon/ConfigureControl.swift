import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolStore
import ProxyPoolControl

/// `configure.preview` and `configure.apply`: the dashboard's Configure buttons. The daemon edits the tool's
/// files itself (the browser cannot), so only a daemon running as the user who owns them may: the per-user
/// service, whose HOME is that user's. The system daemon, or any daemon whose uid does not own the files,
/// refuses and says to run `proxypoolctl configure TOOL --write` as that user (proxypoolctl edits files as
/// whoever runs it and asks the daemon only for the access key).
enum ConfigureControl {
    static func register(_ h: inout ControlHandlers, store: Store, listen: ListenAddress, logger: Logger) {
        h.register(RPC.ConfigurePreview.self) { p, _ in try configure(p, write: false, store: store, listen: listen, logger: logger, caller: nil) }
        h.register(RPC.ConfigureApply.self) { p, c in try configure(p, write: true, store: store, listen: listen, logger: logger, caller: c) }
    }

    static func request(_ p: RPC.ConfigurePreview.Params, proxyURL: String) throws(RPCError) -> ToolConfigRequest {
        guard let tool = ConfigurableTool(rawValue: p.tool) else {
            throw RPCError.invalidParams("unknown tool '\(p.tool.prefix(40))'; one of: \(ConfigurableTool.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let m = p.model { try Validation.modelName(m) }
        if let api = p.api, !ToolConfigPlanner.openclawAPIs.contains(api) {
            throw RPCError.invalidParams("api must be one of \(ToolConfigPlanner.openclawAPIs.joined(separator: ", "))")
        }
        return ToolConfigRequest(tool: tool, proxyURL: proxyURL, key: ToolConfigPlanner.keyPlaceholder, model: p.model,
                                 makeDefault: p.makeDefault ?? false, modelDiscovery: p.modelDiscovery ?? false,
                                 openclawAPI: p.api ?? ToolConfigPlanner.openclawAPIs[0])
    }

    static func configure(_ p: RPC.ConfigurePreview.Params, write: Bool, store: Store, listen: ListenAddress, logger: Logger,
                          caller: ControlCaller?) throws -> ConfigureResult {
        let r = try request(p, proxyURL: DashboardControl.baseURL(listen))
        let home = ToolHome(environment: Posix.environment, home: Posix.homeDirectory())
        try checkOwner(r.tool, home, systemMode: DefaultPaths.resolve().systemMode, uid: geteuid())
        let outcome: ToolConfigurator.Outcome
        do {
            outcome = try ToolConfigurator.run(r, home: home, write: write, createKey: { app in
                let k = try store.createKey(app: app)
                return (k.id, k.key)
            }, revokeKey: { id in try? store.revokeKey(id) })
        } catch let e as ToolConfigError {
            throw RPCError.unparsableFile(e.description)
        } catch let e as SystemError {
            throw RPCError.internalError("cannot edit \(r.tool.rawValue)'s files: \(e)")
        }
        if write, let caller {
            let files = outcome.plan.files.filter(\.changed).map { home.display($0.path) }
            logger.notice("\(r.tool.rawValue) configured: " + (files.isEmpty ? "nothing to change" : files.joined(separator: ", ")) + ", access key \(outcome.keyID ?? "-")",
                          event: "tool-configured", [.init("TOOL", r.tool.rawValue), .init("KEY_ID", outcome.keyID ?? ""), ControlMethods.who(caller)])
        }
        return ConfigureResult(outcome.plan, home: home, backups: outcome.backups, keyID: outcome.keyID)
    }

    /// Only the files' owner edits them: the system daemon never does, another user's daemon neither.
    static func checkOwner(_ tool: ConfigurableTool, _ home: ToolHome, systemMode: Bool, uid: uid_t) throws(RPCError) {
        let hint = "run 'proxypoolctl configure \(tool.rawValue) --write' as the user whose tool it is"
        if systemMode {
            throw RPCError.permissionDenied("the system daemon does not edit users' files", hint: hint)
        }
        for path in ToolConfigPlanner.paths(tool, home) {
            if let owner = ToolConfigFiles.owner(of: path), owner != uid {
                throw RPCError.permissionDenied("proxypoold runs as uid \(uid), but \(home.display(path)) (or its directory) belongs to uid \(owner)", hint: hint)
            }
        }
    }
}
