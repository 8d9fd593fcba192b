import ProxyPoolCore
import ProxyPoolSystem

/// Who is calling, as the kernel vouches for it, and what the daemon lets them do.
public struct ControlCaller: Sendable {
    public var peer: PeerCredentials
    /// Whether the caller may call methods that change state (`RPCMethod.mutates`); a read-only caller (a
    /// dashboard, a monitoring user) only reads.
    public var mayMutate: Bool

    public init(peer: PeerCredentials, mayMutate: Bool) { self.peer = peer; self.mayMutate = mayMutate }
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
