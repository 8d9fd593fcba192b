/// The control protocol shared by `proxypoold` and `proxypoolctl`: one type per method, its params and result.
/// docs/control-protocol.md documents every method; ControlProtocolDocTests keep the two in step.
public protocol RPCMethod {
    associatedtype Params: Codable & Sendable
    associatedtype Result: Codable & Sendable
    static var name: String { get }
    /// Whether the method changes state (for logging and, later, finer-grained permissions).
    static var mutates: Bool { get }
}

public struct NoParams: Codable, Sendable, Equatable { public init() {} }
public struct Empty: Codable, Sendable, Equatable { public init() {} }

// MARK: Wire types

public struct CredentialInfo: Codable, Sendable, Equatable {
    public var name: String
    public var provider: ProviderKind
    /// Provider prefix and last 4 characters only. The full secret never leaves the daemon.
    public var secretRedacted: String
    public var baseURL: String?
    public var options: [String: String]
    public var enabled: Bool
    public var free: Bool
    public var createdAt: String
    public var updatedAt: String
    public var lastTest: TestResult?
    /// Apps whose assignment chain names this credential, in app order.
    public var assignedTo: [String]

    public init(name: String, provider: ProviderKind, secretRedacted: String, baseURL: String?, options: [String: String],
                enabled: Bool, free: Bool, createdAt: String, updatedAt: String, lastTest: TestResult?, assignedTo: [String]) {
        self.name = name; self.provider = provider; self.secretRedacted = secretRedacted; self.baseURL = baseURL
        self.options = options; self.enabled = enabled; self.free = free; self.createdAt = createdAt
        self.updatedAt = updatedAt; self.lastTest = lastTest; self.assignedTo = assignedTo
    }
}

public struct TestResult: Codable, Sendable, Equatable {
    public var at: String
    public var ok: Bool
    public var message: String
    public init(at: String, ok: Bool, message: String) { self.at = at; self.ok = ok; self.message = message }
}

public struct Assignment: Codable, Sendable, Equatable {
    public var app: String
    public var credentials: [String]
    public init(app: String, credentials: [String]) { self.app = app; self.credentials = credentials }
}

public struct AccessKeyInfo: Codable, Sendable, Equatable {
    public var id: String
    public var app: String?
    /// The key's last 4 characters, to tell keys apart.
    public var suffix: String
    public var createdAt: String
    public var lastUsedAt: String?
    public init(id: String, app: String?, suffix: String, createdAt: String, lastUsedAt: String?) {
        self.id = id; self.app = app; self.suffix = suffix; self.createdAt = createdAt; self.lastUsedAt = lastUsedAt
    }
}

public struct TierEntry: Codable, Sendable, Equatable {
    public enum Source: String, Codable, Sendable { case builtin, user }
    public var provider: ProviderKind
    public var tier: Tier
    public var model: String?
    public var source: Source
    /// Set for a credential's own tier model, which wins over its provider's.
    public var credential: String?
    public init(provider: ProviderKind, tier: Tier, model: String?, source: Source, credential: String? = nil) {
        self.provider = provider; self.tier = tier; self.model = model; self.source = source; self.credential = credential
    }
}

public struct AliasInfo: Codable, Sendable, Equatable {
    public var name: String
    public var model: String
    public init(name: String, model: String) { self.name = name; self.model = model }
}

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

public struct StatusInfo: Codable, Sendable, Equatable {
    public var version: String
    public var pid: Int32
    public var startedAt: String
    public var uptimeSeconds: Int64
    public var listen: String
    public var controlSocket: String
    public var stateDirectory: String
    public var database: String
    public var credentials: Int
    public var enabledCredentials: Int
    public var apps: Int
    public var accessKeys: Int
    public var settings: Settings
    /// Credentials that are not plainly usable: cooling down, auth failed, or disabled.
    public var health: [CredentialHealth]
    public init(version: String, pid: Int32, startedAt: String, uptimeSeconds: Int64, listen: String, controlSocket: String,
                stateDirectory: String, database: String, credentials: Int, enabledCredentials: Int, apps: Int,
                accessKeys: Int, settings: Settings, health: [CredentialHealth]) {
        self.health = health
        self.version = version; self.pid = pid; self.startedAt = startedAt; self.uptimeSeconds = uptimeSeconds
        self.listen = listen; self.controlSocket = controlSocket; self.stateDirectory = stateDirectory
        self.database = database; self.credentials = credentials; self.enabledCredentials = enabledCredentials
        self.apps = apps; self.accessKeys = accessKeys; self.settings = settings
    }
}

public struct AppInfo: Codable, Sendable, Equatable {
    public var app: String
    public var firstSeen: String
    public var lastSeen: String
    public var requests: Int64
    public var assignment: [String]
    public init(app: String, firstSeen: String, lastSeen: String, requests: Int64, assignment: [String]) {
        self.app = app; self.firstSeen = firstSeen; self.lastSeen = lastSeen; self.requests = requests; self.assignment = assignment
    }
}

public struct UsageRow: Codable, Sendable, Equatable {
    public var day, app, credential, model: String
    /// The model the upstream was asked for, when mapping changed it ("" before schema 5, same as `model` otherwise).
    public var upstreamModel: String
    public var requests, errors, inputTokens, outputTokens, cachedTokens: Int64
    public init(day: String, app: String, credential: String, model: String, upstreamModel: String = "", requests: Int64, errors: Int64,
                inputTokens: Int64, outputTokens: Int64, cachedTokens: Int64) {
        self.day = day; self.app = app; self.credential = credential; self.model = model; self.upstreamModel = upstreamModel; self.requests = requests
        self.errors = errors; self.inputTokens = inputTokens; self.outputTokens = outputTokens; self.cachedTokens = cachedTokens
    }
}

public struct AppRuleInfo: Codable, Sendable, Equatable {
    public var id: Int64
    public var rule: AppRule
    public init(id: Int64, rule: AppRule) { self.id = id; self.rule = rule }
}

public struct TierRuleInfo: Codable, Sendable, Equatable {
    public var id: Int64
    /// A word, or a prefix ending in `*`.
    public var pattern: String
    public var tier: Tier
    public init(id: Int64, pattern: String, tier: Tier) { self.id = id; self.pattern = pattern; self.tier = tier }

    public var rule: TierRule {
        pattern.hasSuffix("*") ? TierRule(.prefix, String(pattern.dropLast()), tier) : TierRule(.word, pattern, tier)
    }
}

/// A credential's health as the proxy sees it.
public struct CredentialHealth: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case ok, cooling, authFailed = "auth-failed", disabled }
    public var name: String
    public var state: State
    /// Cooling: until when, and for which model ("" = every model).
    public var until: String?
    public var model: String?
    public var reason: String?
    /// Seconds until the cooldown ends.
    public var secondsLeft: Int64?
    public init(name: String, state: State, until: String?, model: String?, reason: String?, secondsLeft: Int64? = nil) {
        self.name = name; self.state = state; self.until = until; self.model = model; self.reason = reason; self.secondsLeft = secondsLeft
    }
}

// MARK: Methods

public enum RPC {
    public enum Status: RPCMethod {
        public static let name = "status"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = StatusInfo
    }

    public enum CredentialAdd: RPCMethod {
        public static let name = "credential.add"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var name: String
            public var provider: String
            public var secret: String
            public var baseURL: String?
            public var options: [String: String]?
            public var free: Bool?
            public var enabled: Bool?
            public init(name: String, provider: String, secret: String, baseURL: String? = nil,
                        options: [String: String]? = nil, free: Bool? = nil, enabled: Bool? = nil) {
                self.name = name; self.provider = provider; self.secret = secret; self.baseURL = baseURL
                self.options = options; self.free = free; self.enabled = enabled
            }
        }
        public typealias Result = CredentialInfo
    }

    public enum CredentialList: RPCMethod {
        public static let name = "credential.list"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = [CredentialInfo]
    }

    public struct NameParams: Codable, Sendable {
        public var name: String
        public init(name: String) { self.name = name }
    }

    public enum CredentialShow: RPCMethod {
        public static let name = "credential.show"; public static let mutates = false
        public typealias Params = NameParams; public typealias Result = CredentialInfo
    }

    public enum CredentialRemove: RPCMethod {
        public static let name = "credential.remove"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var name: String
            /// Remove it from every assignment chain too; without it, an assigned credential is refused (`in-use`).
            public var force: Bool?
            public init(name: String, force: Bool? = nil) { self.name = name; self.force = force }
        }
        public struct Result: Codable, Sendable, Equatable {
            public var name: String
            public var unassignedFrom: [String]
            public init(name: String, unassignedFrom: [String]) { self.name = name; self.unassignedFrom = unassignedFrom }
        }
    }

    public enum CredentialSetEnabled: RPCMethod {
        public static let name = "credential.set-enabled"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var name: String
            public var enabled: Bool
            public init(name: String, enabled: Bool) { self.name = name; self.enabled = enabled }
        }
        public typealias Result = CredentialInfo
    }

    /// Ask the upstream for its model list with the credential's key: ok, or why not. Success clears an
    /// auth-failed mark; 401/403 sets one.
    public enum CredentialTest: RPCMethod {
        public static let name = "credential.test"; public static let mutates = true
        public typealias Params = NameParams
        public typealias Result = CredentialInfo
    }

    public enum Assign: RPCMethod {
        public static let name = "assign"; public static let mutates = true
        public typealias Params = Assignment; public typealias Result = Assignment
    }

    public enum Unassign: RPCMethod {
        public static let name = "unassign"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var app: String
            public init(app: String) { self.app = app }
        }
        public typealias Result = Empty
    }

    public enum AssignmentList: RPCMethod {
        public static let name = "assignment.list"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = [Assignment]
    }

    public enum KeyCreate: RPCMethod {
        public static let name = "key.create"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var app: String?
            public init(app: String? = nil) { self.app = app }
        }
        public struct Result: Codable, Sendable, Equatable {
            public var id: String
            /// The key itself, returned once at creation; only its hash is stored.
            public var key: String
            public var app: String?
            public init(id: String, key: String, app: String?) { self.id = id; self.key = key; self.app = app }
        }
    }

    public enum KeyList: RPCMethod {
        public static let name = "key.list"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = [AccessKeyInfo]
    }

    public enum KeyRevoke: RPCMethod {
        public static let name = "key.revoke"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var id: String
            public init(id: String) { self.id = id }
        }
        public typealias Result = Empty
    }

    public enum TierList: RPCMethod {
        public static let name = "tier.list"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = [TierEntry]
    }

    public enum TierSet: RPCMethod {
        public static let name = "tier.set"; public static let mutates = true
        /// Exactly one of `provider` (a provider kind's map) and `credential` (one credential's own map).
        public struct Params: Codable, Sendable {
            public var provider: String?
            public var credential: String?
            public var tier: String
            /// The model, or null to go back to the default (the built-in one, or for a credential its provider's).
            public var model: String?
            public init(provider: String? = nil, credential: String? = nil, tier: String, model: String?) {
                self.provider = provider; self.credential = credential; self.tier = tier; self.model = model
            }
        }
        public typealias Result = TierEntry
    }

    public enum AliasList: RPCMethod {
        public static let name = "alias.list"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = [AliasInfo]
    }

    public enum AliasSet: RPCMethod {
        public static let name = "alias.set"; public static let mutates = true
        public typealias Params = AliasInfo; public typealias Result = AliasInfo
    }

    public enum AliasRemove: RPCMethod {
        public static let name = "alias.remove"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var name: String
            public init(name: String) { self.name = name }
        }
        public typealias Result = Empty
    }

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

    public enum AppList: RPCMethod {
        public static let name = "app.list"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = [AppInfo]
    }

    public enum Usage: RPCMethod {
        public static let name = "usage"; public static let mutates = false
        public struct Params: Codable, Sendable {
            /// First day (YYYY-MM-DD) to include; all when absent.
            public var since: String?
            public init(since: String? = nil) { self.since = since }
        }
        public typealias Result = [UsageRow]
    }

    public enum AppRuleList: RPCMethod {
        public static let name = "app-rule.list"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = [AppRuleInfo]
    }

    public enum AppRuleAdd: RPCMethod {
        public static let name = "app-rule.add"; public static let mutates = true
        public typealias Params = AppRule; public typealias Result = AppRuleInfo
    }

    public enum AppRuleRemove: RPCMethod {
        public static let name = "app-rule.remove"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var id: Int64
            public init(id: Int64) { self.id = id }
        }
        public typealias Result = Empty
    }

    public enum TierClassify: RPCMethod {
        public static let name = "tier.classify"; public static let mutates = false
        public struct Params: Codable, Sendable {
            public var model: String
            public init(model: String) { self.model = model }
        }
        public struct Result: Codable, Sendable, Equatable {
            public var model: String
            public var normalized: String
            public var tier: Tier
            /// The rule that decided.
            public var rule: String
            public init(model: String, normalized: String, tier: Tier, rule: String) {
                self.model = model; self.normalized = normalized; self.tier = tier; self.rule = rule
            }
        }
    }

    public enum TierRuleList: RPCMethod {
        public static let name = "tier-rule.list"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = [TierRuleInfo]
    }

    public enum TierRuleAdd: RPCMethod {
        public static let name = "tier-rule.add"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var pattern: String
            public var tier: String
            public init(pattern: String, tier: String) { self.pattern = pattern; self.tier = tier }
        }
        public typealias Result = TierRuleInfo
    }

    public enum TierRuleRemove: RPCMethod {
        public static let name = "tier-rule.remove"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var id: Int64
            public init(id: Int64) { self.id = id }
        }
        public typealias Result = Empty
    }

    /// Every method, for documentation checks and the server's registry.
    public static let allNames: [String] = [
        Status.name, CredentialAdd.name, CredentialList.name, CredentialShow.name, CredentialRemove.name,
        CredentialSetEnabled.name, Assign.name, Unassign.name, AssignmentList.name, KeyCreate.name, KeyList.name,
        KeyRevoke.name, TierList.name, TierSet.name, SettingsGet.name, SettingsSet.name, AppList.name, Usage.name,
        AppRuleList.name, AppRuleAdd.name, AppRuleRemove.name,
        TierClassify.name, TierRuleList.name, TierRuleAdd.name, TierRuleRemove.name,
        AliasList.name, AliasSet.name, AliasRemove.name, CredentialTest.name,
    ]
}
