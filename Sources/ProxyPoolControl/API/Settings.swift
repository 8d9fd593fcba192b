import ProxyPoolCore

// The switches: `settings.*`.

public struct Settings: Codable, Sendable, Equatable {
    public var freeModels: Bool
    public var fallbackToPool: Bool
    public var requireAccessKey: Bool
    /// Per-app overrides of `freeModels` (app → on/off).
    public var freeModelsByApp: [String: Bool]
    public init(freeModels: Bool, fallbackToPool: Bool, requireAccessKey: Bool, freeModelsByApp: [String: Bool] = [:]) {
        self.freeModels = freeModels; self.fallbackToPool = fallbackToPool; self.requireAccessKey = requireAccessKey
        self.freeModelsByApp = freeModelsByApp
    }

    /// Whether fast requests of `app` go to free credentials first.
    public func freeModels(for app: String) -> Bool { freeModelsByApp[app] ?? freeModels }
    public subscript(key: SettingKey) -> Bool {
        get {
            switch key {
            case .freeModels: return freeModels
            case .fallbackToPool: return fallbackToPool
            case .requireAccessKey: return requireAccessKey
            }
        }
        set {
            switch key {
            case .freeModels: freeModels = newValue
            case .fallbackToPool: fallbackToPool = newValue
            case .requireAccessKey: requireAccessKey = newValue
            }
        }
    }
}

extension RPC {
    public enum SettingsGet: RPCMethod {
        public static let name = "settings.get"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = Settings
    }

    public enum SettingsSet: RPCMethod {
        public static let name = "settings.set"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var key: String
            /// On or off; null (with `app`) removes the app's override.
            public var value: Bool?
            /// Only for free_models: set the switch for one app instead of the default.
            public var app: String?
            public init(key: String, value: Bool?, app: String? = nil) { self.key = key; self.value = value; self.app = app }
        }
        public typealias Result = Settings
    }
}
