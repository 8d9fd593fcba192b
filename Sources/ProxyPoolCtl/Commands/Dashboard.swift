import ProxyPoolCore
import ProxyPoolControl

/// `dashboard`: a one-time sign-in link for the dashboard the daemon serves on its proxy port.
enum DashboardCommands {
    static let verbs: [Verb] = [
        Verb(["dashboard"], summary: "Print a one-time sign-in link for the dashboard",
             options: [OptionSpec("logout-all", help: "End every dashboard session instead")],
             discussion: "The link works once, within 5 minutes, and gives the browser that opens it a session of 8 hours (ended by a restart of proxypoold or by --logout-all). It grants what this user may do on the control socket: do not share it.",
             phrase: "open the dashboard") { ctx in
            if ctx.invocation.flag("logout-all") {
                let r = try ctx.call(RPC.DashboardLogoutAll.self)
                ctx.json ? Output.json(r) : Output.out("Ended \(r.sessionsEnded) dashboard session\(r.sessionsEnded == 1 ? "" : "s").\n")
                return
            }
            let r = try ctx.call(RPC.DashboardLink.self)
            if ctx.json { Output.json(r) } else {
                // The URL alone on stdout, so it can go straight to a browser; the rest on stderr.
                Output.out(r.url + "\n")
                Output.err("Open this link in a browser on this machine within \(r.expiresInSeconds / 60) minutes; it works once.\n")
            }
        },
    ]
}
