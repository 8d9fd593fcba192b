import ProxyPoolCore

// The dashboard's sign-in: `dashboard.*`.

extension RPC {
    /// A one-time sign-in URL for the dashboard the daemon serves on its proxy port (valid 5 minutes, once).
    /// Mutating: it grants a session that may do what the daemon's owner may do.
    public enum DashboardLink: RPCMethod {
        public static let name = "dashboard.link"; public static let mutates = true
        public typealias Params = NoParams
        public struct Result: Codable, Sendable, Equatable {
            /// Holds the one-time token: printed for the user who asked, never logged.
            public var url: String
            public var expiresInSeconds: Int
            public init(url: String, expiresInSeconds: Int) { self.url = url; self.expiresInSeconds = expiresInSeconds }
        }
    }

    /// End every dashboard session and unused sign-in link.
    public enum DashboardLogoutAll: RPCMethod {
        public static let name = "dashboard.logout-all"; public static let mutates = true
        public typealias Params = NoParams
        public struct Result: Codable, Sendable, Equatable {
            public var sessionsEnded: Int
            public init(sessionsEnded: Int) { self.sessionsEnded = sessionsEnded }
        }
    }
}
