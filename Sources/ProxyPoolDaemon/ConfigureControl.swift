import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolStore
import ProxyPoolControl

/// `configure.preview` and `configure.apply`: the dashboard's Configure buttons. The daemon edits the tool's
/// files itself (the browser cannot), in its own HOME, so it does so only for its own user: the caller (the
/// peer's uid, or for a dashboard session the uid that asked for its sign-in link) must be the uid the daemon
/// runs as, and the files must belong to it. That is the per-user service; the system daemon, serving other
/// users, refuses, and says to run `proxypoolctl configure TOOL --write` as that user (proxypoolctl edits the
/// files as whoever runs it and asks the daemon only for the access key).
enum ConfigureControl {
    static func register(_ h: inout ControlHandlers, store: Store, listen: ListenAddress, logger: Logger, sessions: DashboardSessions) {
        @Sendable func owner(_ c: ControlCaller) -> UInt32? {
            switch c.identity {
            case .peer(let p): return p.uid
            case .dashboardSession(let id): return sessions.session(id: id, nowMillis: Timestamp.nowMillis())?.openedBy
            }
        }
        h.register(RPC.ConfigurePreview.self) { p, c in
            try configure(p, write: false, store: store, listen: listen, logger: logger, caller: c, callerUID: owner(c))
        }
        h.register(RPC.ConfigureApply.self) { p, c in
            try configure(p, write: true, store: store, listen: listen, logger: logger, caller: c, callerUID: owner(c))
        }
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
                          caller: ControlCaller, callerUID: UInt32?) throws -> ConfigureResult {
        let r = try request(p, proxyURL: DashboardControl.baseURL(listen))
        let home = ToolHome(environment: Posix.environment, home: Posix.homeDirectory())
        try checkOwner(r.tool, home, caller: callerUID, daemon: geteuid())
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
        if write {
            let files = outcome.plan.files.filter(\.changed).map { home.display($0.path) }
            logger.notice("\(r.tool.rawValue) configured: " + (files.isEmpty ? "nothing to change" : files.joined(separator: ", ")) + ", access key \(outcome.keyID ?? "-")",
                          event: "tool-configured", [.init("TOOL", r.tool.rawValue), .init("KEY_ID", outcome.keyID ?? ""), ControlMethods.who(caller)])
        }
        return ConfigureResult(outcome.plan, home: home, backups: outcome.backups, keyID: outcome.keyID)
    }

    /// Only for the daemon's own user: the caller is it, and so is the owner of every file (or its directory).
    static func checkOwner(_ tool: ConfigurableTool, _ home: ToolHome, caller: UInt32?, daemon: uid_t) throws(RPCError) {
        let hint = "run 'proxypoolctl configure \(tool.rawValue) --write' as the user whose tool it is"
        guard let caller else {
            throw RPCError.permissionDenied("this dashboard session's user is unknown, so proxypoold cannot tell whose files these are", hint: hint)
        }
        guard caller == daemon else {
            throw RPCError.permissionDenied("proxypoold runs as uid \(daemon) and edits only its own user's files; this request comes from uid \(caller)", hint: hint)
        }
        for path in ToolConfigPlanner.paths(tool, home) {
            if let owner = ToolConfigFiles.owner(of: path), owner != daemon {
                throw RPCError.permissionDenied("proxypoold runs as uid \(daemon), but \(home.display(path)) (or its directory) belongs to uid \(owner)", hint: hint)
            }
        }
    }
}
