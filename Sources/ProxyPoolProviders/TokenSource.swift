import ProxyPoolCore

/// How a kind whose credentials authenticate with a short-lived token gets one: the request that exchanges the
/// stored secret (or the latest refresh token) for a token, how its answer reads, and how the token is sent.
/// No I/O: the daemon carries the request out (`TokenSources` in the daemon).
public protocol TokenGrant: Sendable {
    /// The token request for a credential, with the refresh token (or secret) the credential holds now.
    func request(_ c: CredentialRoute, refreshToken: String) -> TokenRequest
    /// What the token endpoint's answer means. `nowMillis` is wall-clock time (tokens outlive the daemon).
    func result(status: Int, body: [UInt8], nowMillis: Int64) -> TokenFetchResult
    /// The header lines that carry `token` upstream.
    func headers(token: String) -> [String]
    /// How long before its expiry a token is replaced, so that none expires on its way upstream.
    var refreshMarginMillis: Int64 { get }
    /// Whether building the request is blocking work (signing a JWT assertion): then the daemon calls
    /// `request` on a thread of its own, never on the event loop (`TokenSource.Action.build`).
    var requestBlocks: Bool { get }
}

public extension TokenGrant {
    var requestBlocks: Bool { false }
}

/// A request to a token endpoint, as the daemon sends it (on its own connection, never logged).
public struct TokenRequest: Sendable, Equatable {
    public var url: String
    public var method: String
    public var headers: [String]
    public var body: [UInt8]
    /// Set when no request could be built from the stored secret (a key that cannot sign): nothing is sent,
    /// and the grant counts as refused with this reason (the credential must be changed).
    public var failure: String?
    public init(url: String, method: String = "POST", headers: [String], body: [UInt8], failure: String? = nil) {
        self.url = url; self.method = method; self.headers = headers; self.body = body; self.failure = failure
    }
}

/// A token and when it stops being accepted (wall-clock milliseconds).
public struct Token: Sendable, Equatable {
    public var value: String
    public var expiresAtMillis: Int64
    public init(value: String, expiresAtMillis: Int64) { self.value = value; self.expiresAtMillis = expiresAtMillis }
}

/// What a token request came to.
public enum TokenFetchResult: Sendable, Equatable {
    /// A new token; `refreshToken` when the endpoint rotated it (the old one is then spent: store the new one
    /// before using the token).
    case success(Token, refreshToken: String?)
    /// The endpoint refused the grant (revoked, expired, reused): no retry helps until the credential changes.
    case refused(String)
    /// No answer, or one that says nothing about the grant (5xx, garbage): the next request tries again.
    case failed(String)
}

/// One credential's token, as a state machine (no I/O, no clock of its own): ask it with the time and it says
/// use this token, fetch one (and it is then fetching: everyone else waits), or wait; tell it what the fetch
/// came to and it says what the waiters get.
public struct TokenSource: Sendable {
    public enum Action: Sendable, Equatable {
        case use(String)
        /// Carry this request out and report with `fetched(_:)`; until then `next` says `.wait`.
        case fetch(TokenRequest)
        /// Like `fetch`, for a grant whose request is blocking work to build (`TokenGrant.requestBlocks`): build
        /// it off the loop with `grant.request(credential, refreshToken:)`, carry it out, report with `fetched(_:)`.
        case build
        /// A fetch is under way.
        case wait
        /// The grant was refused: the credential cannot be used until it is changed.
        case refused(String)
    }

    /// What the requests waiting on a fetch get.
    public enum Outcome: Sendable, Equatable {
        case ready(String)
        case refused(String)
        case failed(String)
    }

    enum State: Sendable, Equatable { case idle, fetching, refused(String) }

    public let credential: CredentialRoute
    public let grant: any TokenGrant
    public private(set) var token: Token?
    /// The secret to present on the next fetch: the stored one, or the latest a fetch rotated it to.
    public private(set) var refreshToken: String
    private(set) var state = State.idle

    public init(credential: CredentialRoute, grant: any TokenGrant, token: Token? = nil, refreshToken: String? = nil) {
        self.credential = credential; self.grant = grant; self.token = token
        self.refreshToken = refreshToken ?? credential.secret
    }

    public var isFetching: Bool { state == .fetching }

    public mutating func next(nowMillis: Int64) -> Action {
        switch state {
        case .refused(let why): return .refused(why)
        case .fetching: return .wait
        case .idle:
            if let t = token, t.expiresAtMillis - grant.refreshMarginMillis > nowMillis { return .use(t.value) }
            state = .fetching
            if grant.requestBlocks { return .build }
            return .fetch(grant.request(credential, refreshToken: refreshToken))
        }
    }

    /// The upstream refused this token before its expiry (revoked, or the account signed out elsewhere): the next
    /// `next` fetches a new one. Nothing changes while a fetch is under way or when the token is another.
    public mutating func forget(_ value: String) {
        if state == .idle, token?.value == value { token = nil }
    }

    public mutating func fetched(_ result: TokenFetchResult) -> Outcome {
        switch result {
        case .success(let t, let rotated):
            token = t
            if let rotated { refreshToken = rotated }
            state = .idle
            return .ready(t.value)
        case .refused(let why):
            token = nil
            state = .refused(why)
            return .refused(why)
        case .failed(let why):
            state = .idle   // the next request asks again
            return .failed(why)
        }
    }
}
