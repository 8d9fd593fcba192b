import ProxyPoolCore
import ProxyPoolControl

/// `key …`: local access keys.
enum KeyCommands {
    static let verbs: [Verb] = [
        Verb(["key", "create"], summary: "Create a local access key (printed once)",
             options: [OptionSpec("app", value: "APP", help: "Bind the key to an app")],
             phrase: "create key") { ctx in
            let k = try ctx.call(RPC.KeyCreate.self, .init(app: ctx.invocation.value("app")))
            if ctx.json { Output.json(k) } else {
                // The key alone on stdout, so KEY=$(proxypoolctl key create) works; the rest on stderr.
                Output.out(k.key + "\n")
                Output.err("Created access key \(k.id)\(k.app.map { " for app \($0)" } ?? ""). It is shown only this once.\n")
            }
        },
        Verb(["key", "list"], summary: "List local access keys",
             phrase: "list keys") { ctx in
            Output.list(ctx, try ctx.call(RPC.KeyList.self), empty: "No access keys. Create one with: proxypoolctl key create [--app APP]",
                        header: ["ID", "APP", "KEY", "CREATED", "LAST USED"]) {
                [$0.id, $0.app ?? "-", "ppk_…" + $0.suffix, $0.createdAt, $0.lastUsedAt ?? "never"]
            }
        },
        Verb(["key", "revoke"], summary: "Revoke a local access key", arguments: [ArgumentSpec("ID", help: "Key id from 'key list'")],
             phrase: "revoke key") { ctx in
            let id = ctx.invocation.value("ID")!
            let r = try ctx.call(RPC.KeyRevoke.self, .init(id: id))
            ctx.json ? Output.json(r) : Output.out("Revoked access key \(id).\n")
        },
    ]
}
