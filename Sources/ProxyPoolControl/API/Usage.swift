import ProxyPoolCore

// Usage counts: `usage`.

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

extension RPC {
    public enum Usage: RPCMethod {
        public static let name = "usage"; public static let mutates = false
        public struct Params: Codable, Sendable {
            /// First day (YYYY-MM-DD) to include; all when absent.
            public var since: String?
            public init(since: String? = nil) { self.since = since }
        }
        public typealias Result = [UsageRow]
    }
}
