import ProxyPoolCore

// Local access keys: `key.*`.

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

extension RPC {
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
}
