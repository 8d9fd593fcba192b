import Glibc
internal import CShims
import ProxyPoolCore
import ProxyPoolSystem

/// JSON-RPC 2.0 over a Unix stream socket, one JSON object per line, each connection on its own thread
/// (the control plane is low-volume; blocking I/O stays off Swift's cooperative pool).
public final class ControlServer: @unchecked Sendable {
    public struct Limits: Sendable {
        public var maxLine = 1 << 20
        public var maxConnections = 32
        public var idleSeconds = 60
        public init() {}
    }

    private let listenFD: Int32
    private let handlers: ControlHandlers
    private let authorize: @Sendable (PeerCredentials) -> ControlAccess
    private let logger: Logger
    private let limits: Limits
    private let state = Mutex()
    private var stopping = false
    private var connections = 0
    private var inFlight = 0

    public init(listenFD: Int32, handlers: ControlHandlers, logger: Logger, limits: Limits = Limits(),
                authorize: @escaping @Sendable (PeerCredentials) -> ControlAccess) {
        self.listenFD = listenFD; self.handlers = handlers; self.logger = logger; self.limits = limits; self.authorize = authorize
    }

    public func start() { Threads.start { self.acceptLoop() } }

    /// Stop accepting; requests already being handled finish (see `waitIdle`).
    public func stop() { state.locked { stopping = true } }

    /// Wait until no request is being handled, or the deadline passes. Returns whether it went idle.
    public func waitIdle(untilMillis deadline: Int64) -> Bool {
        while Posix.monotonicMillis() < deadline {
            if state.locked({ inFlight == 0 }) { return true }
            usleep(10_000)
        }
        return state.locked { inFlight == 0 }
    }

    private func acceptLoop() {
        var pfd = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
        while !state.locked({ stopping }) {
            let rc = poll(&pfd, 1, 1000)
            if rc <= 0 { continue }
            let fd = cshims_accept(listenFD, 0)
            if fd < 0 { continue }
            let admitted = state.locked { () -> Bool in
                guard connections < limits.maxConnections else { return false }
                connections += 1
                return true
            }
            guard admitted else {
                send(fd, RPCResponse(id: .null, error: .busy("too many control connections (\(limits.maxConnections)); try again")))
                close(fd)
                continue
            }
            Threads.start { self.serve(fd); self.state.locked { self.connections -= 1 } }
        }
        close(listenFD)
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        UnixSocket.setTimeouts(fd, seconds: limits.idleSeconds)
        let peer: PeerCredentials
        do { peer = try PeerCredentials.of(fd) } catch { return }
        let mayMutate: Bool
        switch authorize(peer) {
        case .readWrite: mayMutate = true
        case .readOnly: mayMutate = false
        case .denied(let denied):
            logger.warning("control connection refused for uid \(peer.uid) (pid \(peer.pid))", event: "control-denied",
                           [.init("PEER_UID", "\(peer.uid)"), .init("PEER_PID", "\(peer.pid)")])
            send(fd, RPCResponse(id: .null, error: denied))
            return
        }
        let caller = ControlCaller(peer: peer, mayMutate: mayMutate)
        var framer = LineFramer(maxLine: limits.maxLine)
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }   // EOF, idle timeout or error
            for event in framer.feed(buf[0..<n]) {
                switch event {
                case .tooLong:
                    send(fd, RPCResponse(id: .null, error: .tooLarge("request line longer than \(limits.maxLine) bytes")))
                case .line(let line):
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                    state.locked { inFlight += 1 }
                    let reply = handlers.handle(line: line, caller: caller)
                    state.locked { inFlight -= 1 }
                    if let reply, !send(fd, reply) { return }
                }
            }
        }
    }

    @discardableResult
    private func send(_ fd: Int32, _ response: RPCResponse) -> Bool {
        guard var bytes = try? JSON.encode(response) else { return false }
        bytes.append(0x0A)
        return (try? Posix.writeAll(fd, bytes)) != nil
    }
}

