import ProxyPoolCore

// Credentials: `credential.*`.

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
    /// A subscription account's usage windows as its upstream last reported them (nil for other kinds).
    public var quota: [QuotaWindow]?
    /// A ChatGPT account's purchased credits as its upstream last reported them.
    public var credits: AccountCredits?

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

extension RPC {
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
            /// An imported login (`credential import`): its current access token and expiry (ms), stored with the
            /// credential in the same transaction; `secret` is then the refresh token.
            public var accessToken: String?
            public var accessTokenExpiresAtMillis: Int64?
            /// Replace the secret, base URL, options and token of an existing credential of the same kind (a new
            /// login for it) instead of refusing the name.
            public var replace: Bool?
            public init(name: String, provider: String, secret: String, baseURL: String? = nil,
                        options: [String: String]? = nil, free: Bool? = nil, enabled: Bool? = nil,
                        accessToken: String? = nil, accessTokenExpiresAtMillis: Int64? = nil, replace: Bool? = nil) {
                self.name = name; self.provider = provider; self.secret = secret; self.baseURL = baseURL
                self.options = options; self.free = free; self.enabled = enabled
                self.accessToken = accessToken; self.accessTokenExpiresAtMillis = accessTokenExpiresAtMillis; self.replace = replace
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

    /// Change what a credential holds, in place: its name, kind, assignments, usage and state stay. Each field
    /// left out stays as it is.
    public enum CredentialUpdate: RPCMethod {
        public static let name = "credential.update"; public static let mutates = true
        public struct Params: Codable, Sendable {
            public var name: String
            /// A new key (API-key kinds and vertex); a subscription account's tokens change by a new login.
            public var secret: String?
            /// A new endpoint; "" goes back to the provider's default.
            public var baseURL: String?
            /// Options to set; an empty value removes one.
            public var options: [String: String]?
            public var free: Bool?
            public init(name: String, secret: String? = nil, baseURL: String? = nil, options: [String: String]? = nil, free: Bool? = nil) {
                self.name = name; self.secret = secret; self.baseURL = baseURL; self.options = options; self.free = free
            }
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
}
