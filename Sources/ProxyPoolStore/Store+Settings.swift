import Glibc
internal import CSQLite
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolSystem

// Settings: free models per app and the daemon-wide switches.
extension Store {
    public func settings() throws(RPCError) -> Settings {
        try locked { () throws(RPCError) in
            var s = Settings(freeModels: SettingKey.freeModels.defaultValue, fallbackToPool: SettingKey.fallbackToPool.defaultValue,
                             requireAccessKey: SettingKey.requireAccessKey.defaultValue)
            for (k, v) in try db.query("SELECT key, value FROM settings", [], { st in (st.text(0) ?? "", st.text(1) ?? "") }) {
                if let key = SettingKey(rawValue: k) { s[key] = v == "1" }
            }
            for (app, on) in try db.query("SELECT app, enabled FROM app_free_models", [], { st in (st.text(0) ?? "", st.int(1) == 1) }) {
                s.freeModelsByApp[app] = on
            }
            return s
        }
    }

    /// The free-model switch of one app; nil removes its override (the default applies again).
    public func setFreeModels(app: String, _ value: Bool?) throws(RPCError) -> Settings {
        try Validation.name(app, what: "app name")
        try transaction { () throws(RPCError) in
            if let value {
                try db.run("INSERT INTO app_free_models(app, enabled) VALUES (?, ?) ON CONFLICT(app) DO UPDATE SET enabled = excluded.enabled",
                           [.text(app), .int(value ? 1 : 0)])
            } else {
                try db.run("DELETE FROM app_free_models WHERE app = ?", [.text(app)])
            }
        }
        return try settings()
    }

    public func setSetting(_ key: SettingKey, _ value: Bool) throws(RPCError) -> Settings {
        try transaction { () throws(RPCError) in
            try db.run("INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       [.text(key.rawValue), .text(value ? "1" : "0")])
        }
        return try settings()
    }
}
