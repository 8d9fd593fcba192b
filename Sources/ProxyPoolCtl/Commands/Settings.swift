import ProxyPoolCore
import ProxyPoolControl

/// `free-models`, `fallback`, `require-key`: the switches, shown without an argument.
enum SettingsCommands {
    static let verbs: [Verb] = [
        Verb(["free-models"], summary: "Turn routing of fast requests to free credentials on or off (default off)",
             arguments: [ArgumentSpec("on|off|default", .optional, help: "Omit to show the current value; 'default' (with --app) drops the app's own setting")],
             options: [OptionSpec("app", value: "APP", help: "Set it for one app only (wins over the default)")],
             phrase: "change free-models") { try freeModels($0) },
        Verb(["fallback"], summary: "Turn fallback from an app's chain to the whole pool on or off (default on)",
             arguments: [ArgumentSpec("on|off", .optional, help: "Omit to show the current value")],
             phrase: "change fallback") { try toggle($0, .fallbackToPool, "Fallback to the pool") },
        Verb(["require-key"], summary: "Turn the local access key requirement on or off (default on)",
             arguments: [ArgumentSpec("on|off", .optional, help: "Omit to show the current value")],
             phrase: "change require-key") { try toggle($0, .requireAccessKey, "The local access key requirement") },
    ]

    static func freeModels(_ ctx: Ctl.Context) throws {
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

    static func toggle(_ ctx: Ctl.Context, _ key: SettingKey, _ label: String) throws {
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
