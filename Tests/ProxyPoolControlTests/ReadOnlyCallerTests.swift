import Glibc
import Testing
import ProxyPoolCore
@testable import ProxyPoolSystem
@testable import ProxyPoolControl

/// A read-only caller reads, and gets `read-only` for anything that changes state, before the handler runs.
@Suite struct ReadOnlyCallerTests {
    /// Counts the handler runs, to prove a refused call never reached its handler.
    final class Runs: @unchecked Sendable {
        private let lock = Mutex()
        private var n = 0
        func hit() { lock.locked { n += 1 } }
        var count: Int { lock.locked { n } }
    }

    static func info(_ name: String, enabled: Bool = true) -> CredentialInfo {
        CredentialInfo(name: name, provider: .openai, secretRedacted: "sk-…abcd", baseURL: nil, options: [:],
                       enabled: enabled, free: false, createdAt: "t", updatedAt: "t", lastTest: nil, assignedTo: [])
    }

    func handlers(_ runs: Runs) -> ControlHandlers {
        var h = ControlHandlers()
        h.register(RPC.CredentialShow.self) { p, _ in runs.hit(); return Self.info(p.name) }
        h.register(RPC.CredentialSetEnabled.self) { p, _ in runs.hit(); return Self.info(p.name, enabled: p.enabled) }
        return h
    }

    let peer = PeerCredentials(uid: 1000, gid: 1000, pid: 1)

    @Test func readOnlyCallerMayReadButNotChange() {
        let runs = Runs()
        let h = handlers(runs)
        let reader = ControlCaller(peer: peer, mayMutate: false)
        let show = h.handle(line: Array(#"{"jsonrpc":"2.0","id":1,"method":"credential.show","params":{"name":"a"}}"#.utf8), caller: reader)
        #expect(show?.error == nil && show?.result?["name"] == .string("a"))
        #expect(runs.count == 1)

        let set = h.handle(line: Array(#"{"jsonrpc":"2.0","id":2,"method":"credential.set-enabled","params":{"name":"a","enabled":false}}"#.utf8),
                           caller: reader)
        #expect(set?.id == .number(2) && set?.result == nil)
        #expect(set?.error?.code == -32008 && set?.error?.name == "read-only")
        #expect(set?.error?.message == "method 'credential.set-enabled' changes state, and this caller may only read")
        #expect(runs.count == 1, "the refused call must not reach its handler")

        // Refused before its params are read: a read-only caller learns nothing from a changing method.
        let bad = h.handle(line: Array(#"{"jsonrpc":"2.0","id":3,"method":"credential.set-enabled","params":{}}"#.utf8), caller: reader)
        #expect(bad?.error?.name == "read-only")
    }

    @Test func readOnlyNotificationIsNotCarriedOut() {
        let runs = Runs()
        let reply = handlers(runs).handle(line: Array(#"{"jsonrpc":"2.0","method":"credential.set-enabled","params":{"name":"a","enabled":false}}"#.utf8),
                                          caller: ControlCaller(peer: peer, mayMutate: false))
        #expect(reply == nil && runs.count == 0)
    }

    @Test func readWriteCallerMayChange() {
        let runs = Runs()
        let r = handlers(runs).handle(line: Array(#"{"jsonrpc":"2.0","id":1,"method":"credential.set-enabled","params":{"name":"a","enabled":false}}"#.utf8),
                                      caller: ControlCaller(peer: peer, mayMutate: true))
        #expect(r?.error == nil && r?.result?["enabled"] == .bool(false) && runs.count == 1)
    }

    @Test func unknownMethodStaysMethodNotFoundForReaders() {
        let r = handlers(Runs()).handle(line: Array(#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#.utf8), caller: ControlCaller(peer: peer, mayMutate: false))
        #expect(r?.error?.name == "method-not-found")
    }

    /// The same through a real socket: the server's `authorize` says read-only, the typed client sees the error.
    @Test func serverEnforcesReadOnlyThroughTheSocket() throws {
        var template = Array("/tmp/proxypool-control-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        defer { unlink(dir + "/c.sock"); rmdir(dir) }
        let fd = try UnixSocket.listen(dir + "/c.sock", mode: 0o600)
        let runs = Runs()
        let server = ControlServer(listenFD: fd, handlers: handlers(runs), logger: Logger(identifier: "test", level: .error)) { _ in .readOnly }
        server.start()
        defer { server.stop() }

        let client = try ControlClient(path: dir + "/c.sock", timeoutSeconds: 10, trustedOwners: [geteuid()])
        #expect(try client.call(RPC.CredentialShow.self, .init(name: "a")).name == "a")
        do {
            _ = try client.call(RPC.CredentialSetEnabled.self, .init(name: "a", enabled: false))
            Issue.record("a read-only caller changed a credential")
        } catch {
            guard case .rpc(let e) = error else { Issue.record("expected an RPC error, got \(error)"); return }
            #expect(e.name == "read-only" && e.code == -32008)
        }
        #expect(runs.count == 1)
        // The connection stays usable after the refusal.
        #expect(try client.call(RPC.CredentialShow.self, .init(name: "b")).name == "b")
    }
}
