import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolControl

/// The control methods that hand out and end dashboard sessions (`proxypoolctl dashboard`).
enum DashboardControl {
    /// `listen`: the proxy's bound address; a wildcard one is reached through loopback.
    static func register(_ h: inout ControlHandlers, sessions: DashboardSessions, listen: ListenAddress, logger: Logger) {
        let base = baseURL(listen)
        h.register(RPC.DashboardLink.self) { _, c in
            let token = sessions.newLink(nowMillis: Timestamp.nowMillis(), by: c.peer?.uid)
            // The token goes only to the caller: the log says a link was made, and by whom.
            logger.notice("dashboard sign-in link made", event: "dashboard-link", [ControlMethods.who(c)])
            return .init(url: base + "/ui/login?token=" + token, expiresInSeconds: Int(DashboardSessions.linkLifetimeMillis / 1000))
        }
        h.register(RPC.DashboardLogoutAll.self) { _, c in
            let n = sessions.endAll()
            logger.notice("dashboard: \(n) session\(n == 1 ? "" : "s") ended", event: "dashboard-logout-all", [ControlMethods.who(c)])
            return .init(sessionsEnded: n)
        }
    }

    static func baseURL(_ listen: ListenAddress) -> String { "http://\(listen.reachable.description)" }
}
