import ProxyPoolCore
import ProxyPoolControl

/// `assign`, `unassign`, `assignments`: the chains of credentials apps are given.
enum AssignCommands {
    static let verbs: [Verb] = [
        Verb(["assign"], summary: "Give an app an ordered chain of credentials",
             arguments: [ArgumentSpec("APP", help: "App name, for example codex or claude-code"),
                         ArgumentSpec("CRED", .oneOrMore, help: "Credentials, tried in this order")],
             phrase: "assign") { ctx in
            let inv = ctx.invocation
            let a = try ctx.call(RPC.Assign.self, Assignment(app: inv.value("APP")!, credentials: inv.all("CRED")))
            ctx.json ? Output.json(a) : Output.out("\(a.app) → \(a.credentials.joined(separator: ", "))\n")
        },
        Verb(["unassign"], summary: "Remove an app's assignment", arguments: [ArgumentSpec("APP", help: "App name")],
             phrase: "unassign") { ctx in
            let inv = ctx.invocation
            let r = try ctx.call(RPC.Unassign.self, .init(app: inv.value("APP")!))
            ctx.json ? Output.json(r) : Output.out("Removed the assignment of \(inv.value("APP")!).\n")
        },
        Verb(["assignments"], summary: "List app assignments",
             phrase: "list assignments") { ctx in
            Output.list(ctx, try ctx.call(RPC.AssignmentList.self), empty: "No app has an assignment. Give one with: proxypoolctl assign APP CRED [CRED…]",
                        header: ["APP", "CREDENTIALS (in order)"]) { [$0.app, $0.credentials.joined(separator: ", ")] }
        },
    ]
}
