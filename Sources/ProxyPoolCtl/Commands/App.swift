import ProxyPoolCore
import ProxyPoolControl

/// `apps` and `app rule …`: the apps seen, and how requests are told apart by app.
enum AppCommands {
    static let verbs: [Verb] = [
        Verb(["apps"], summary: "List the apps seen, with their last request, counts and how they were recognised",
             phrase: "list apps") { ctx in
            Output.list(ctx, try ctx.call(RPC.AppList.self), empty: "No app has sent a request yet.",
                        header: ["APP", "REQUESTS", "LAST REQUEST", "FIRST SEEN", "ASSIGNED TO", "RECOGNISED BY"]) {
                [$0.app, String($0.requests), $0.lastSeen, $0.firstSeen, $0.assignment.isEmpty ? "(pool)" : $0.assignment.joined(separator: ", "),
                 $0.recognisedBy ?? "(not since the daemon started)"]
            }
        },
        Verb(["app", "rule", "add"], summary: "Recognise an app by a request header (tried before the built-in rules)",
             arguments: [ArgumentSpec("HEADER", help: "Header name, for example User-Agent"),
                         ArgumentSpec("MATCH", help: "prefix, contains or equals (case-insensitive)"),
                         ArgumentSpec("VALUE", help: "Text to look for"), ArgumentSpec("APP", help: "App name to give the request")],
             phrase: "add app rule") { ctx in
            let inv = ctx.invocation
            guard let m = AppRule.Match(rawValue: inv.value("MATCH")!) else { throw Ctl.usage("MATCH must be prefix, contains or equals") }
            let r = try ctx.call(RPC.AppRuleAdd.self, AppRule(header: inv.value("HEADER")!, match: m, value: inv.value("VALUE")!, app: inv.value("APP")!))
            ctx.json ? Output.json(r) : Output.out("Added rule \(r.id): \(r.rule.header) \(r.rule.match.rawValue) '\(r.rule.value)' → \(r.rule.app)\n")
        },
        Verb(["app", "rule", "list"], summary: "List your app-detection rules and the built-in ones",
             phrase: "list app rules") { ctx in
            let rules = try ctx.call(RPC.AppRuleList.self)
            if ctx.json { Output.json(rules); return }
            let rows = rules.map { [String($0.id), $0.rule.header, $0.rule.match.rawValue, $0.rule.value, $0.rule.app] }
                + AppDetection.builtinRules.map { ["built-in", $0.header, $0.match.rawValue, $0.value, $0.app] }
            Output.out(Output.table(["ID", "HEADER", "MATCH", "VALUE", "APP"], rows))
            Output.out("Order: the access key's app, then the X-Proxypool-App header, then these rules top to bottom, else 'default'.\n")
        },
        Verb(["app", "rule", "remove"], summary: "Remove one of your app-detection rules",
             arguments: [ArgumentSpec("ID", help: "Rule id from 'app rule list'")],
             phrase: "remove app rule") { ctx in
            guard let id = Int64(ctx.invocation.value("ID")!) else { throw Ctl.usage("ID must be a number from 'app rule list'") }
            let r = try ctx.call(RPC.AppRuleRemove.self, .init(id: id))
            ctx.json ? Output.json(r) : Output.out("Removed app rule \(id).\n")
        },
    ]
}
