import ProxyPoolCore
import ProxyPoolSystem

/// Who is calling, and what the daemon lets them do.
public struct ControlCaller: Sendable {
    public enum Identity: Sendable, Equatable {
        /// A process on the control socket, as the kernel vouches for it (SO_PEERCRED).
        case peer(PeerCredentials)
        /// A signed-in dashboard session (its public id): a caller of its own kind, not a uid. It got its
        /// sign-in link from someone who may use the control socket, and may do what they may.
        case dashboardSession(String)
    }
    public var identity: Identity
    /// Whether the caller may call methods that change state (`RPCMethod.mutates`); a read-only caller (a
    /// monitoring user) only reads.
    public var mayMutate: Bool

    public init(peer: PeerCredentials, mayMutate: Bool) { identity = .peer(peer); self.mayMutate = mayMutate }
    public init(dashboardSession id: String) { identity = .dashboardSession(id); mayMutate = true }

    /// The peer on the control socket; nil for a dashboard session.
    public var peer: PeerCredentials? { if case .peer(let p) = identity { return p }; return nil }
}

/// The daemon's verdict on a connecting peer.
public enum ControlAccess: Sendable {
    /// Every method.
    case readWrite
    /// Only the methods that do not change state.
    case readOnly
    /// None: the error is sent (id null) and the connection closed.
    case denied(RPCError)
}
