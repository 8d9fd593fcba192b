import Glibc
import ProxyPoolCore
import ProxyPoolSystem

/// Why a control call failed, sorted the way proxypoolctl reports it (exit codes 69, 77, 1).
public enum ControlClientError: Error, Sendable, CustomStringConvertible {
    /// The socket is missing or nobody listens: the daemon is not running (or uses another socket).
    case unreachable(path: String, reason: String)
    /// The filesystem or the daemon's peer check refused us.
    case permissionDenied(path: String, reason: String)
    /// The socket's directory or the process listening on it belongs to someone we do not trust with secrets;
    /// nothing was sent.
    case untrusted(path: String, reason: String)
    /// The daemon answered with an error.
    case rpc(RPCError)
    /// The daemon's answer could not be understood.
    case protocolError(String)

    public var description: String {
        switch self {
        case .unreachable(let path, let reason): return "cannot connect to \(path): \(reason)"
        case .permissionDenied(_, let reason): return reason
        case .untrusted(let path, let reason): return "refusing to use the control socket \(path): \(reason)"
        case .rpc(let e): return e.message
        case .protocolError(let m): return m
        }
    }
}

/// A typed client: one call per `RPCMethod`, so the CLI never writes protocol frames by hand.
public final class ControlClient {
    public let path: String
    private let fd: Int32
    private var nextID: Int64 = 1
    private var framer = LineFramer(maxLine: 64 << 20)
    private var pending: [[UInt8]] = []

    /// Connects only to a daemon of one of `trustedOwners` (see `SocketTrust`): the socket's directory is checked
    /// before connecting and the listener's SO_PEERCRED right after, before a byte is sent.
    public init(path: String, timeoutSeconds: Int = 30, trustedOwners: [uid_t] = SocketTrust.trustedOwners()) throws(ControlClientError) {
        self.path = path
        if let problem = SocketTrust.directoryProblem(SocketTrust.directory(of: path), owners: trustedOwners) {
            throw .untrusted(path: path, reason: "its directory \(problem)")
        }
        let fd: Int32
        do { fd = try UnixSocket.connect(path, timeoutSeconds: timeoutSeconds) } catch {
            switch error.errno {
            case EACCES, EPERM:
                throw .permissionDenied(path: path, reason: "permission denied on \(path)")
            default:
                throw .unreachable(path: path, reason: String(cString: strerror(error.errno)))
            }
        }
        let peer: PeerCredentials
        do { peer = try PeerCredentials.of(fd) } catch {
            close(fd)
            throw .untrusted(path: path, reason: "cannot tell who listens on it (\(error))")
        }
        guard trustedOwners.contains(peer.uid) else {
            close(fd)
            throw .untrusted(path: path, reason: "it is served by \(SocketTrust.userName(peer.uid)) (pid \(peer.pid)), not by \(trustedOwners.map(SocketTrust.userName).joined(separator: " or "))")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    public func call<M: RPCMethod>(_ method: M.Type, _ params: M.Params) throws(ControlClientError) -> M.Result {
        let id = nextID; nextID += 1
        let request: RPCRequest
        do { request = RPCRequest(id: .number(id), method: M.name, params: try JSON.value(params)) } catch {
            throw .protocolError("cannot encode params: \(error)")
        }
        let reply = try exchange(request)
        if let e = reply.error {
            if e.name == "permission-denied" { throw .permissionDenied(path: path, reason: e.message) }
            throw .rpc(e)
        }
        guard reply.id == .number(id) else { throw .protocolError("reply id does not match the request") }
        do { return try JSON.convert(reply.result ?? .null, to: M.Result.self) } catch {
            throw .protocolError("unexpected reply to \(M.name): \(JSON.describe(error))")
        }
    }

    public func call<M: RPCMethod>(_ method: M.Type) throws(ControlClientError) -> M.Result where M.Params == NoParams {
        try call(method, NoParams())
    }

    private func exchange(_ request: RPCRequest) throws(ControlClientError) -> RPCResponse {
        guard var bytes = try? JSON.encode(request) else { throw .protocolError("cannot encode request") }
        bytes.append(0x0A)
        do { try Posix.writeAll(fd, bytes) } catch {
            // The daemon may have refused us and closed already; its reason is then waiting to be read.
            if let r = try? readResponse() { return r }
            throw .unreachable(path: path, reason: "the daemon closed the connection (\(error))")
        }
        return try readResponse()
    }

    private func readResponse() throws(ControlClientError) -> RPCResponse {
        var buf = [UInt8](repeating: 0, count: 65536)
        while pending.isEmpty {
            let n = recv(fd, &buf, buf.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw .unreachable(path: path, reason: "the daemon did not answer in time") }
            if n <= 0 { throw .unreachable(path: path, reason: "the daemon closed the connection without an answer") }
            for e in framer.feed(buf[0..<n]) { if case .line(let l) = e { pending.append(l) } }
        }
        let line = pending.removeFirst()
        do { return try JSON.decode(RPCResponse.self, from: line) } catch {
            throw .protocolError("the daemon sent an answer that is not JSON-RPC: \(JSON.describe(error))")
        }
    }
}
