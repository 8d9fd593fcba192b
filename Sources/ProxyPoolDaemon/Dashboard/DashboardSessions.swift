import ProxyPoolCore
import ProxyPoolSystem

/// Who may use the dashboard: one-time sign-in links (made by `proxypoolctl dashboard` over the control socket,
/// so only someone who may use the control socket gets one) and the browser sessions they turn into.
///
/// Held in memory only: a restart ends every session, as does `dashboard --logout-all`. Links and session
/// cookies are 256-bit random tokens kept by their SHA-256, so a look-up compares hashes, not the secret
/// itself. Every count is capped; the oldest entry goes first. Thread-safe: the control plane makes links on
/// its threads, the proxy loop redeems and checks them.
public final class DashboardSessions: @unchecked Sendable {
    public struct Session: Sendable, Equatable {
        /// A short public id for logs (never the cookie).
        public let id: String
        /// Sent by the page with every API call (`X-CSRF-Token`); a page of another origin cannot read it.
        public let csrf: String
        public let expiresAtMillis: Int64
        /// The uid that asked for the sign-in link (nil when unknown): whose tools the Configure buttons may edit.
        public var openedBy: UInt32? = nil
    }

    public static let linkLifetimeMillis: Int64 = 5 * 60_000
    public static let sessionLifetimeMillis: Int64 = 8 * 3_600_000
    public static let maxLinks = 16
    public static let maxSessions = 64

    private let lock = Mutex()
    private var links: [String: Int64] = [:]          // hash of the link token → expiry
    private var linkOwners: [String: UInt32] = [:]    // hash of the link token → the uid that asked for it
    private var sessions: [String: Session] = [:]     // hash of the cookie → session
    private let random: @Sendable () -> [UInt8]

    /// `random`: 32 bytes per call (tests may pass their own; the default reads getrandom(2)).
    public init(random: @escaping @Sendable () -> [UInt8] = DashboardSessions.systemRandom) { self.random = random }

    public static let systemRandom: @Sendable () -> [UInt8] = {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// A new one-time sign-in token, valid for 5 minutes; `by`: the uid asking for it.
    public func newLink(nowMillis now: Int64, by uid: UInt32? = nil) -> String {
        let token = Hex.encode(random())
        lock.locked {
            links = links.filter { $0.value > now }
            while links.count >= Self.maxLinks, let oldest = links.min(by: { $0.value < $1.value }) { links[oldest.key] = nil }
            linkOwners = linkOwners.filter { links[$0.key] != nil }
            let key = SHA256.hex(Array(token.utf8))
            links[key] = now + Self.linkLifetimeMillis
            linkOwners[key] = uid
        }
        return token
    }

    /// Trade a sign-in token for a session: the cookie value and the session. Nil for a token that is unknown,
    /// expired or already used (a link works once).
    public func redeem(_ token: String, nowMillis now: Int64) -> (cookie: String, session: Session)? {
        guard Self.wellFormed(token) else { return nil }
        let key = SHA256.hex(Array(token.utf8))
        let cookie = Hex.encode(random()), csrf = Hex.encode(random())
        let id = String(Hex.encode(random()).prefix(8))
        return lock.locked { () -> (String, Session)? in
            guard let expiry = links.removeValue(forKey: key), expiry > now else { return nil }
            sessions = sessions.filter { $0.value.expiresAtMillis > now }
            while sessions.count >= Self.maxSessions, let oldest = sessions.min(by: { $0.value.expiresAtMillis < $1.value.expiresAtMillis }) {
                sessions[oldest.key] = nil
            }
            let s = Session(id: id, csrf: csrf, expiresAtMillis: now + Self.sessionLifetimeMillis, openedBy: linkOwners.removeValue(forKey: key))
            sessions[SHA256.hex(Array(cookie.utf8))] = s
            return (cookie, s)
        }
    }

    /// The session a cookie value stands for, if it is live.
    public func session(cookie: String, nowMillis now: Int64) -> Session? {
        guard Self.wellFormed(cookie) else { return nil }
        let key = SHA256.hex(Array(cookie.utf8))
        return lock.locked {
            guard let s = sessions[key] else { return nil }
            guard s.expiresAtMillis > now else { sessions[key] = nil; return nil }
            return s
        }
    }

    /// The live session of a public id (for a control method called by it).
    public func session(id: String, nowMillis now: Int64) -> Session? {
        lock.locked { sessions.values.first { $0.id == id && $0.expiresAtMillis > now } }
    }

    /// End every session and unused link; returns how many sessions ended.
    @discardableResult
    public func endAll() -> Int {
        lock.locked {
            let n = sessions.count
            sessions.removeAll()
            links.removeAll()
            linkOwners.removeAll()
            return n
        }
    }

    public var liveSessions: Int { lock.locked { sessions.count } }

    /// Tokens are 64 lowercase hex digits: anything else is refused before hashing.
    static func wellFormed(_ token: String) -> Bool {
        token.utf8.count == 64 && token.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
