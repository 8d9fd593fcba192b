import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolControl

/// One function per verb: take arguments from the invocation, call the daemon, print.
enum Verbs {
    typealias Context = Ctl.Context

    static func phrase(_ c: CommandSpec) -> String {
        switch c.words {
        case ["status"]: return "get status"
        case ["credential", "add"]: return "add credential"
        case ["credential", "list"]: return "list credentials"
        case ["credential", "show"]: return "show credential"
        case ["credential", "remove"]: return "remove credential"
        case ["credential", "enable"]: return "enable credential"
        case ["credential", "disable"]: return "disable credential"
        case ["credential", "test"]: return "test credential"
        case ["assignments"]: return "list assignments"
        case ["key", "create"]: return "create key"
        case ["key", "list"]: return "list keys"
        case ["key", "revoke"]: return "revoke key"
        case ["tiers"]: return "list tiers"
        case ["tier", "set"]: return "set tier"
        case ["tier", "reset"]: return "reset tier"
        case ["apps"]: return "list apps"
        case ["usage"]: return "show usage"
        case ["app", "rule", "add"]: return "add app rule"
        case ["app", "rule", "list"]: return "list app rules"
        case ["app", "rule", "remove"]: return "remove app rule"
        case ["classify"]: return "classify model"
        case ["tier", "rule", "add"]: return "add tier rule"
        case ["tier", "rule", "list"]: return "list tier rules"
        case ["tier", "rule", "remove"]: return "remove tier rule"
        case ["alias", "set"]: return "set alias"
        case ["alias", "list"]: return "list aliases"
        case ["alias", "remove"]: return "remove alias"
        case ["free-models"], ["fallback"], ["require-key"]: return "change \(c.name)"
        default: return c.name.isEmpty ? "run" : c.name
        }
    }

    static func run(_ ctx: Context) throws {
        let inv = ctx.invocation
        switch inv.command.words {
        case ["status"]: try status(ctx)
        case ["credential", "add"]: try credentialAdd(ctx)
        case ["credential", "list"]: try credentialList(ctx)
        case ["credential", "show"]:
            let c = try ctx.call(RPC.CredentialShow.self, .init(name: inv.value("NAME")!))
            ctx.json ? Output.json(c) : Output.out(describe(c))
        case ["credential", "remove"]:
            let r = try ctx.call(RPC.CredentialRemove.self, .init(name: inv.value("NAME")!, force: inv.flag("force")))
            if ctx.json { Output.json(r) } else {
                Output.out("Removed credential \(r.name).\n")
                if !r.unassignedFrom.isEmpty { Output.out("It was removed from the chains of: \(r.unassignedFrom.joined(separator: ", ")).\n") }
            }
        case ["credential", "enable"], ["credential", "disable"]:
            let on = inv.command.words[1] == "enable"
            let c = try ctx.call(RPC.CredentialSetEnabled.self, .init(name: inv.value("NAME")!, enabled: on))
            ctx.json ? Output.json(c) : Output.out("Credential \(c.name) \(on ? "enabled" : "disabled").\n")
        case ["credential", "test"]:
            let c = try ctx.call(RPC.CredentialTest.self, .init(name: inv.value("NAME")!))
            let t = c.lastTest
            if ctx.json { Output.json(c) } else { Output.out("Credential \(c.name): \(t?.ok == true ? "ok" : "FAILED"), \(t?.message ?? "no result").\n") }
            if t?.ok != true { throw Ctl.Failure(message: "credential \(c.name) failed its test", hint: nil, code: ExitCode.failure) }
        case ["assign"]:
            let a = try ctx.call(RPC.Assign.self, Assignment(app: inv.value("APP")!, credentials: inv.all("CRED")))
            ctx.json ? Output.json(a) : Output.out("\(a.app) → \(a.credentials.joined(separator: ", "))\n")
        case ["unassign"]:
            let r = try ctx.call(RPC.Unassign.self, .init(app: inv.value("APP")!))
            ctx.json ? Output.json(r) : Output.out("Removed the assignment of \(inv.value("APP")!).\n")
        case ["assignments"]:
            list(ctx, try ctx.call(RPC.AssignmentList.self), empty: "No app has an assignment. Give one with: proxypoolctl assign APP CRED [CRED…]",
                 header: ["APP", "CREDENTIALS (in order)"]) { [$0.app, $0.credentials.joined(separator: ", ")] }
        case ["key", "create"]:
            let k = try ctx.call(RPC.KeyCreate.self, .init(app: inv.value("app")))
            if ctx.json { Output.json(k) } else {
                // The key alone on stdout, so KEY=$(proxypoolctl key create) works; the rest on stderr.
                Output.out(k.key + "\n")
                Output.err("Created access key \(k.id)\(k.app.map { " for app \($0)" } ?? ""). It is shown only this once.\n")
            }
        case ["key", "list"]:
            list(ctx, try ctx.call(RPC.KeyList.self), empty: "No access keys. Create one with: proxypoolctl key create [--app APP]",
                 header: ["ID", "APP", "KEY", "CREATED", "LAST USED"]) {
                [$0.id, $0.app ?? "-", "ppk_…" + $0.suffix, $0.createdAt, $0.lastUsedAt ?? "never"]
            }
        case ["key", "revoke"]:
            let r = try ctx.call(RPC.KeyRevoke.self, .init(id: inv.value("ID")!))
            ctx.json ? Output.json(r) : Output.out("Revoked access key \(inv.value("ID")!).\n")
        case ["apps"]:
            list(ctx, try ctx.call(RPC.AppList.self), empty: "No app has sent a request yet.",
                 header: ["APP", "REQUESTS", "LAST REQUEST", "FIRST SEEN", "ASSIGNED TO"]) {
                [$0.app, String($0.requests), $0.lastSeen, $0.firstSeen, $0.assignment.isEmpty ? "(pool)" : $0.assignment.joined(separator: ", ")]
            }
        case ["usage"]: try usage(ctx)
        case ["app", "rule", "add"]:
            guard let m = AppRule.Match(rawValue: inv.value("MATCH")!) else { throw Ctl.usage("MATCH must be prefix, contains or equals") }
            let r = try ctx.call(RPC.AppRuleAdd.self, AppRule(header: inv.value("HEADER")!, match: m, value: inv.value("VALUE")!, app: inv.value("APP")!))
            ctx.json ? Output.json(r) : Output.out("Added rule \(r.id): \(r.rule.header) \(r.rule.match.rawValue) '\(r.rule.value)' → \(r.rule.app)\n")
        case ["app", "rule", "list"]:
            let rules = try ctx.call(RPC.AppRuleList.self)
            if ctx.json { Output.json(rules); return }
            let rows = rules.map { [String($0.id), $0.rule.header, $0.rule.match.rawValue, $0.rule.value, $0.rule.app] }
                + AppDetection.builtinRules.map { ["built-in", $0.header, $0.match.rawValue, $0.value, $0.app] }
            Output.out(Output.table(["ID", "HEADER", "MATCH", "VALUE", "APP"], rows))
            Output.out("Order: the access key's app, then the X-Proxypool-App header, then these rules top to bottom, else 'default'.\n")
        case ["app", "rule", "remove"]:
            guard let id = Int64(inv.value("ID")!) else { throw Ctl.usage("ID must be a number from 'app rule list'") }
            let r = try ctx.call(RPC.AppRuleRemove.self, .init(id: id))
            ctx.json ? Output.json(r) : Output.out("Removed app rule \(id).\n")
        case ["tiers"]: try tiers(ctx)
        case ["tier", "set"], ["tier", "reset"]:
            let model = inv.command.words[1] == "set" ? inv.value("MODEL") : nil
            let provider = inv.value("PROVIDER"), credential = inv.value("credential")
            guard (provider == nil) != (credential == nil) else {
                throw Ctl.usage(provider == nil ? "give a PROVIDER, or --credential NAME" : "give a PROVIDER or --credential NAME, not both")
            }
            let e = try ctx.call(RPC.TierSet.self, .init(provider: provider, credential: credential, tier: inv.value("TIER")!, model: model))
            let who = e.credential.map { "credential \($0)" } ?? e.provider.rawValue
            ctx.json ? Output.json(e) : Output.out("\(who) \(e.tier.rawValue) → \(e.model ?? "(none)")\(e.source == .builtin ? " (default)" : "")\n")
        case ["alias", "set"]:
            let a = try ctx.call(RPC.AliasSet.self, .init(name: inv.value("NAME")!, model: inv.value("MODEL")!))
            ctx.json ? Output.json(a) : Output.out("Requests for \(a.name) now go upstream as \(a.model).\n")
        case ["alias", "list"]:
            list(ctx, try ctx.call(RPC.AliasList.self), empty: "No aliases. Add one with: proxypoolctl alias set NAME MODEL",
                 header: ["NAME", "MODEL"]) { [$0.name, $0.model] }
        case ["alias", "remove"]:
            let r = try ctx.call(RPC.AliasRemove.self, .init(name: inv.value("NAME")!))
            ctx.json ? Output.json(r) : Output.out("Removed alias \(inv.value("NAME")!).\n")
        case ["classify"]:
            let r = try ctx.call(RPC.TierClassify.self, .init(model: inv.value("MODEL")!))
            ctx.json ? Output.json(r) : Output.out("\(r.model): \(r.tier.rawValue) (\(r.rule))\n")
        case ["tier", "rule", "add"]:
            let r = try ctx.call(RPC.TierRuleAdd.self, .init(pattern: inv.value("PATTERN")!, tier: inv.value("TIER")!))
            ctx.json ? Output.json(r) : Output.out("Added tier rule \(r.id): '\(r.pattern)' → \(r.tier.rawValue)\n")
        case ["tier", "rule", "list"]:
            let rules = try ctx.call(RPC.TierRuleList.self)
            if ctx.json { Output.json(rules); return }
            Output.out(Output.table(["ID", "RULE", "TIER"], rules.map { [String($0.id), $0.pattern, $0.tier.rawValue] }
                + TierClassifier.builtinRules.map { ["built-in", $0.match, $0.tier.rawValue] }))
            Output.out("The first matching rule decides; a name no rule matches is standard.\n")
        case ["tier", "rule", "remove"]:
            guard let id = Int64(inv.value("ID")!) else { throw Ctl.usage("ID must be a number from 'tier rule list'") }
            let r = try ctx.call(RPC.TierRuleRemove.self, .init(id: id))
            ctx.json ? Output.json(r) : Output.out("Removed tier rule \(id).\n")
        case ["free-models"]: try freeModels(ctx)
        case ["fallback"]: try toggle(ctx, .fallbackToPool, "Fallback to the pool")
        case ["require-key"]: try toggle(ctx, .requireAccessKey, "The local access key requirement")
        default: throw Ctl.usage("unhandled command '\(inv.command.name)'")
        }
    }

    /// A listing verb's output: JSON, or a hint when there is nothing, or a table.
    static func list<T: Encodable>(_ ctx: Context, _ items: [T], empty: String, header: [String], row: (T) -> [String]) {
        if ctx.json { Output.json(items) } else if items.isEmpty { Output.out(empty + "\n") } else { Output.out(Output.table(header, items.map(row))) }
    }

    // MARK: status

    static func status(_ ctx: Context) throws {
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
        if !s.health.isEmpty {
            Output.out("Credentials not in use:\n" + Output.table(["NAME", "STATE", "UNTIL", "LEFT", "MODEL", "REASON"], s.health.map {
                [$0.name, $0.state.rawValue, $0.until ?? "-", $0.secondsLeft.map { duration($0) } ?? "-",
                 $0.state == .cooling ? (($0.model ?? "").isEmpty ? "(all)" : $0.model!) : "-", $0.reason ?? "-"]
            }))
        }
    }

    static func usage(_ ctx: Context) throws {
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
        list(ctx, rows, empty: "No usage recorded yet.",
             header: ["DAY", "APP", "CREDENTIAL", "MODEL", "UPSTREAM MODEL", "REQUESTS", "ERRORS", "INPUT", "OUTPUT", "CACHED"]) {
            [$0.day, $0.app, $0.credential, $0.model.isEmpty ? "-" : $0.model, $0.upstreamModel.isEmpty ? "-" : $0.upstreamModel,
             String($0.requests), String($0.errors),
             String($0.inputTokens), String($0.outputTokens), String($0.cachedTokens)]
        }
    }

    static func duration(_ s: Int64) -> String {
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m \(s % 60)s" }
        if s < 86400 { return "\(s / 3600)h \(s % 3600 / 60)m" }
        return "\(s / 86400)d \(s % 86400 / 3600)h"
    }

    // MARK: credentials

    static func credentialAdd(_ ctx: Context) throws {
        let inv = ctx.invocation
        guard let provider = inv.value("provider") else { throw Ctl.usage("credential add needs --provider KIND (one of: \(ProviderKind.names))") }
        var options: [String: String] = [:]
        for o in CtlCommandLine.providerOptions { if let v = inv.value(o.long) { options[o.long] = v } }
        let secret = try SecretInput.read(ctx, name: inv.value("NAME")!)
        let c = try ctx.call(RPC.CredentialAdd.self, .init(name: inv.value("NAME")!, provider: provider, secret: secret,
                                                           baseURL: inv.value("base-url"), options: options.isEmpty ? nil : options,
                                                           free: inv.flag("free"), enabled: !inv.flag("disabled")))
        ctx.json ? Output.json(c) : Output.out("Added credential \(c.name) (\(c.provider.rawValue), secret \(c.secretRedacted)).\n")
    }

    static func credentialList(_ ctx: Context) throws {
        list(ctx, try ctx.call(RPC.CredentialList.self),
             empty: "No credentials. Add one with: proxypoolctl credential add NAME --provider KIND --key-stdin",
             header: ["NAME", "PROVIDER", "SECRET", "STATE", "FREE", "ASSIGNED TO", "BASE URL"]) {
            [$0.name, $0.provider.rawValue, $0.secretRedacted, $0.enabled ? "enabled" : "disabled", $0.free ? "yes" : "no",
             $0.assignedTo.isEmpty ? "-" : $0.assignedTo.joined(separator: ","), $0.baseURL ?? "(default)"]
        }
    }

    static func describe(_ c: CredentialInfo) -> String {
        var lines = [
            ("name", c.name), ("provider", c.provider.rawValue), ("secret", c.secretRedacted),
            ("base URL", c.baseURL ?? "(default: \(c.provider.defaultBaseURL ?? "none"))"),
            ("state", c.enabled ? "enabled" : "disabled"), ("free", c.free ? "yes" : "no"),
            ("assigned to", c.assignedTo.isEmpty ? "-" : c.assignedTo.joined(separator: ", ")),
            ("created", c.createdAt), ("updated", c.updatedAt),
            ("last test", c.lastTest.map { "\($0.at) \($0.ok ? "ok" : "failed"): \($0.message)" } ?? "never"),
        ]
        for (k, v) in c.options.sorted(by: { $0.key < $1.key }) { lines.append((k, v)) }
        let w = lines.map { $0.0.count }.max()! + 1
        return lines.map { "\($0.0):" + String(repeating: " ", count: w - $0.0.count + 1) + $0.1 }.joined(separator: "\n") + "\n"
    }

    // MARK: tiers and toggles

    static func tiers(_ ctx: Context) throws {
        let entries = try ctx.call(RPC.TierList.self)
        if ctx.json { Output.json(entries); return }
        let rows = ProviderKind.allCases.map { kind in
            [kind.rawValue] + Tier.allCases.map { tier in
                let e = entries.first { $0.provider == kind && $0.tier == tier }
                return (e?.model ?? "-") + (e?.source == .user ? " *" : "")
            }
        }
        Output.out(Output.table(["PROVIDER"] + Tier.allCases.map { $0.rawValue.uppercased() }, rows))
        Output.out("* set by you; the rest are built-in defaults. Change one with: proxypoolctl tier set PROVIDER TIER MODEL\n")
        let own = Dictionary(grouping: entries.filter { $0.credential != nil }, by: { $0.credential! })
        if !own.isEmpty {
            Output.out("\nCredentials with their own tier models (they win over their provider's):\n")
            Output.out(Output.table(["CREDENTIAL"] + Tier.allCases.map { $0.rawValue.uppercased() }, own.keys.sorted().map { c in
                [c] + Tier.allCases.map { t in own[c]!.first { $0.tier == t }?.model ?? "-" }
            }))
        }
    }

    static func freeModels(_ ctx: Context) throws {
        let inv = ctx.invocation
        let arg = inv.value("on|off|default"), app = inv.value("app")
        var settings: Settings
        if let arg {
            guard arg == "on" || arg == "off" || (arg == "default" && app != nil) else {
                throw Ctl.usage(app == nil ? "expected 'on' or 'off', got '\(arg)'" : "expected 'on', 'off' or 'default', got '\(arg)'")
            }
            settings = try ctx.call(RPC.SettingsSet.self, .init(key: SettingKey.freeModels.rawValue, value: arg == "default" ? nil : arg == "on", app: app))
        } else {
            settings = try ctx.call(RPC.SettingsGet.self)
        }
        if ctx.json {
            var out: [String: JSONValue] = ["free_models": .bool(settings.freeModels)]
            if let app { out["app"] = .string(app); out["app_free_models"] = .bool(settings.freeModels(for: app)) }
            Output.json(out)
            return
        }
        let now = arg == nil ? "" : "now "
        if let app {
            let own = settings.freeModelsByApp[app] != nil
            Output.out("Free-model routing for \(app) is \(now)\(settings.freeModels(for: app) ? "on" : "off")\(own ? "" : " (the default)").\n")
        } else {
            Output.out("Free-model routing is \(now)\(settings.freeModels ? "on" : "off").\n")
            for (a, on) in settings.freeModelsByApp.sorted(by: { $0.key < $1.key }) { Output.out("  \(a): \(on ? "on" : "off")\n") }
        }
    }

    static func toggle(_ ctx: Context, _ key: SettingKey, _ label: String) throws {
        let arg = ctx.invocation.value("on|off")
        let settings: Settings
        if let arg {
            guard arg == "on" || arg == "off" else { throw Ctl.usage("expected 'on' or 'off', got '\(arg)'") }
            settings = try ctx.call(RPC.SettingsSet.self, .init(key: key.rawValue, value: arg == "on"))
        } else {
            settings = try ctx.call(RPC.SettingsGet.self)
        }
        if ctx.json { Output.json([key.rawValue: settings[key]]); return }
        Output.out("\(label) is \(arg == nil ? "" : "now ")\(settings[key] ? "on" : "off").\n")
    }
}

/// Reading a secret without it ever being an argument: stdin, a file, an environment variable, or a
/// prompt on the terminal with echo off.
enum SecretInput {
    static func read(_ ctx: Ctl.Context, name: String) throws -> String {
        let inv = ctx.invocation
        let given = [inv.flag("key-stdin"), inv.value("key-file") != nil, inv.value("key-env") != nil].filter { $0 }.count
        guard given <= 1 else { throw Ctl.usage("give the secret one way only: --key-stdin, --key-file or --key-env") }
        let raw: String
        if inv.flag("key-stdin") {
            raw = try readAll(fd: 0, what: "standard input")
        } else if let path = inv.value("key-file") {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Ctl.Failure(message: "cannot read \(path): \(String(cString: strerror(errno)))", hint: nil, code: ExitCode.failure) }
            defer { close(fd) }
            raw = try readAll(fd: fd, what: path)
        } else if let v = inv.value("key-env") {
            guard let value = Posix.environment(v) else {
                throw Ctl.usage("environment variable \(v) is not set or empty")
            }
            raw = value
        } else if isatty(0) == 1 {
            raw = try prompt("Secret for \(name) (input hidden): ")
        } else {
            throw Ctl.usage("no secret given: use --key-stdin, --key-file FILE or --key-env VAR (a secret is never taken as an argument)")
        }
        let secret = raw.trimming(" \t\r\n")
        guard !secret.isEmpty else { throw Ctl.usage("the secret is empty") }
        return secret
    }

    static func readAll(fd: Int32, what: String) throws -> String {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw Ctl.Failure(message: "cannot read \(what): \(String(cString: strerror(errno)))", hint: nil, code: ExitCode.failure) }
            if n == 0 { break }
            out += buf[0..<n]
            if out.count > 64 * 1024 { throw Ctl.usage("the secret read from \(what) is longer than 64 KiB") }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func prompt(_ text: String) throws -> String {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else { throw Ctl.usage("no terminal to ask for the secret; use --key-stdin, --key-file or --key-env") }
        defer { close(tty) }
        try? Posix.writeAll(tty, Array(text.utf8))
        var old = termios()
        tcgetattr(tty, &old)
        var quiet = old
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(tty, TCSANOW, &quiet)   // not TCSAFLUSH: that discards what was typed ahead
        defer { tcsetattr(tty, TCSANOW, &old); try? Posix.writeAll(tty, [0x0A]) }
        var line: [UInt8] = []
        var c: UInt8 = 0
        while Glibc.read(tty, &c, 1) == 1 && c != 0x0A { line.append(c); if line.count > 64 * 1024 { break } }
        return String(decoding: line, as: UTF8.self)
    }
}
