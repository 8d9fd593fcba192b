import ProxyPoolCore

// The daemon's state: `status`.

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
    /// The subscription accounts: plan, login state and usage windows.
    public var accounts: [AccountStatus]?
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

/// A subscription account in `status`.
public struct AccountStatus: Codable, Sendable, Equatable {
    public var name: String
    public var provider: ProviderKind
    public var email: String?
    public var plan: String?
    /// `ok`, `disabled`, or why it is not in use (`login expired (…)`, `plan refuses third-party use…`, a cooldown).
    public var login: String
    /// Raw figures: percent used, window length in minutes, reset time (epoch ms).
    public var windows: [QuotaWindow]
    /// A ChatGPT account's purchased credits, when its upstream reported them.
    public var credits: AccountCredits?
    public init(name: String, provider: ProviderKind, email: String?, plan: String?, login: String, windows: [QuotaWindow]) {
        self.name = name; self.provider = provider; self.email = email; self.plan = plan; self.login = login; self.windows = windows
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

extension RPC {
    public enum Status: RPCMethod {
        public static let name = "status"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = StatusInfo
    }
}
