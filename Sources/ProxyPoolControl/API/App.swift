import ProxyPoolCore

// Apps seen and app-detection rules: `app.list`, `app-rule.*`.

public struct AppInfo: Codable, Sendable, Equatable {
    public var app: String
    public var firstSeen: String
    public var lastSeen: String
    public var requests: Int64
    public var assignment: [String]
    /// How the running daemon recognised the app on its latest request ("built-in rule: user-agent prefix
    /// \"claude-cli/\""); nil when it has not seen the app since it started.
    public var recognisedBy: String?
    public init(app: String, firstSeen: String, lastSeen: String, requests: Int64, assignment: [String], recognisedBy: String? = nil) {
        self.app = app; self.firstSeen = firstSeen; self.lastSeen = lastSeen; self.requests = requests; self.assignment = assignment
        self.recognisedBy = recognisedBy
    }
}

public struct AppRuleInfo: Codable, Sendable, Equatable {
    public var id: Int64
    public var rule: AppRule
    public init(id: Int64, rule: AppRule) { self.id = id; self.rule = rule }
}

extension RPC {
    public enum AppList: RPCMethod {
        public static let name = "app.list"; public static let mutates = false
        public typealias Params = NoParams; public typealias Result = [AppInfo]
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
}
