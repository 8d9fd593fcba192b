import ProxyPoolCore
import ProxyPoolControl

/// `usage`: requests and tokens per day, app, credential and model.
enum UsageCommands {
    static let verbs: [Verb] = [
        Verb(["usage"], summary: "Show requests and tokens per day, app, credential and model",
             options: [OptionSpec("since", value: "YYYY-MM-DD", help: "First day to include (default: all)"),
                       OptionSpec("by", value: "FIELD", help: "Sum by app, credential, model, upstream-model or day (default: every row)")],
             phrase: "show usage") { try show($0) },
    ]

    static func show(_ ctx: Ctl.Context) throws {
        let inv = ctx.invocation
        var rows = try ctx.call(RPC.Usage.self, .init(since: inv.value("since")))
        if let by = inv.value("by") {
            let key: (UsageRow) -> String
            switch by {
            case "app": key = { $0.app }
            case "credential": key = { $0.credential }
            case "model": key = { $0.model }
            case "upstream-model": key = { $0.upstreamModel }
            case "day": key = { $0.day }
            default: throw Ctl.usage("--by takes app, credential, model, upstream-model or day, not '\(by)'")
            }
            var sums: [String: UsageRow] = [:]
            for r in rows {
                let k = key(r)
                var s = sums[k] ?? UsageRow(day: by == "day" ? k : "*", app: by == "app" ? k : "*", credential: by == "credential" ? k : "*",
                                            model: by == "model" ? k : "*", upstreamModel: by == "upstream-model" ? k : "*", requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0)
                // Stored sums may be saturated already (Int64.max): adding them saturates too.
                s.requests = Saturating.add(s.requests, r.requests); s.errors = Saturating.add(s.errors, r.errors)
                s.inputTokens = Saturating.add(s.inputTokens, r.inputTokens); s.outputTokens = Saturating.add(s.outputTokens, r.outputTokens)
                s.cachedTokens = Saturating.add(s.cachedTokens, r.cachedTokens)
                sums[k] = s
            }
            rows = sums.keys.sorted().map { sums[$0]! }
        }
        Output.list(ctx, rows, empty: "No usage recorded yet.",
                    header: ["DAY", "APP", "CREDENTIAL", "MODEL", "UPSTREAM MODEL", "REQUESTS", "ERRORS", "INPUT", "OUTPUT", "CACHED"]) {
            [$0.day, $0.app, $0.credential, $0.model.isEmpty ? "-" : $0.model, $0.upstreamModel.isEmpty ? "-" : $0.upstreamModel,
             String($0.requests), String($0.errors),
             String($0.inputTokens), String($0.outputTokens), String($0.cachedTokens)]
        }
    }
}
