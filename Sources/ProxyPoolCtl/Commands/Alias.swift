import ProxyPoolCore
import ProxyPoolControl

/// `alias …`: model names served by another model, whatever credential a request goes to.
enum AliasCommands {
    static let verbs: [Verb] = [
        Verb(["alias", "set"], summary: "Serve requests for model NAME with MODEL, whatever credential they go to",
             arguments: [ArgumentSpec("NAME", help: "The model name clients ask for"), ArgumentSpec("MODEL", help: "The model sent upstream")],
             phrase: "set alias") { ctx in
            let inv = ctx.invocation
            let a = try ctx.call(RPC.AliasSet.self, .init(name: inv.value("NAME")!, model: inv.value("MODEL")!))
            ctx.json ? Output.json(a) : Output.out("Requests for \(a.name) now go upstream as \(a.model).\n")
        },
        Verb(["alias", "list"], summary: "List model aliases",
             phrase: "list aliases") { ctx in
            Output.list(ctx, try ctx.call(RPC.AliasList.self), empty: "No aliases. Add one with: proxypoolctl alias set NAME MODEL",
                        header: ["NAME", "MODEL"]) { [$0.name, $0.model] }
        },
        Verb(["alias", "remove"], summary: "Remove a model alias", arguments: [ArgumentSpec("NAME", help: "The alias")],
             phrase: "remove alias") { ctx in
            let name = ctx.invocation.value("NAME")!
            let r = try ctx.call(RPC.AliasRemove.self, .init(name: name))
            ctx.json ? Output.json(r) : Output.out("Removed alias \(name).\n")
        },
    ]
}
