import ProxyPoolCore
import ProxyPoolControl

/// `status`: the daemon's state, the default command.
enum StatusCommands {
    static let verbs: [Verb] = [
        Verb(["status"], summary: "Show the daemon's state (the default command)",
             phrase: "get status") { try show($0) },
    ]

    static func show(_ ctx: Ctl.Context) throws {
        let s = try ctx.call(RPC.Status.self)
        if ctx.json { Output.json(s); return }
        func onOff(_ b: Bool) -> String { b ? "on" : "off" }
        Output.out("""
            proxypoold \(s.version) (pid \(s.pid)), up \(duration(s.uptimeSeconds))
              proxy:           http://\(s.listen)
              control socket:  \(s.controlSocket)
              store:           \(s.database)
              credentials:     \(s.credentials) (\(s.enabledCredentials) enabled)
              apps assigned:   \(s.apps)
              access keys:     \(s.accessKeys) (required: \(s.settings.requireAccessKey ? "yes" : "no"))
              free models:     \(onOff(s.settings.freeModels))\(s.settings.freeModelsByApp.isEmpty ? "" : " (" + s.settings.freeModelsByApp.sorted { $0.key < $1.key }.map { "\($0.key): \(onOff($0.value))" }.joined(separator: ", ") + ")")
              pool fallback:   \(onOff(s.settings.fallbackToPool))

            """)
        if let accounts = s.accounts, !accounts.isEmpty {
            let now = Timestamp.nowMillis()
            Output.out("Subscription accounts:\n" + Output.table(["NAME", "PLAN", "LOGIN", "QUOTA"], accounts.map {
                [$0.name, $0.plan ?? "-", $0.login, ($0.windows.isEmpty ? "-" : AccountQuota.describe($0.windows, nowMillis: now))
                    + ($0.credits.map { ", " + $0.description } ?? "")]
            }) + "\n")
        }
        if !s.health.isEmpty {
            Output.out("Credentials not in use:\n" + Output.table(["NAME", "STATE", "UNTIL", "LEFT", "MODEL", "REASON"], s.health.map {
                [$0.name, $0.state.rawValue, $0.until ?? "-", $0.secondsLeft.map { duration($0) } ?? "-",
                 $0.state == .cooling ? (($0.model ?? "").isEmpty ? "(all)" : $0.model!) : "-", $0.reason ?? "-"]
            }))
        }
    }

    static func duration(_ s: Int64) -> String {
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m \(s % 60)s" }
        if s < 86400 { return "\(s / 3600)h \(s % 3600 / 60)m" }
        return "\(s / 86400)d \(s % 86400 / 3600)h"
    }
}
