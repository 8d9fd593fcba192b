import Glibc
import Testing
import ProxyPoolCore
@testable import ProxyPoolSystem
@testable import ProxyPoolControl

@Suite struct ControlHandlerTests {
    let caller = Caller(peer: PeerCredentials(uid: 0, gid: 0, pid: 1))

    func handlers() -> ControlHandlers {
        var h = ControlHandlers()
        h.register(RPC.CredentialShow.self) { p, _ in
            guard p.name == "known" else { throw RPCError.notFound("no credential named '\(p.name)'") }
            return CredentialInfo(name: "known", provider: .openai, secretRedacted: "sk-…abcd", baseURL: nil, options: [:],
                                  enabled: true, free: false, createdAt: "t", updatedAt: "t", lastTest: nil, assignedTo: [])
        }
        h.register(RPC.CredentialSetEnabled.self) { p, _ in
            struct Boom: Error {}
            if p.name == "boom" { throw Boom() }
            throw RPCError.notFound("x")
        }
        return h
    }

    func reply(_ line: String) -> RPCResponse? { handlers().handle(line: Array(line.utf8), caller: caller) }

    @Test func dispatchesTypedParamsAndResults() {
        let r = reply(#"{"jsonrpc":"2.0","id":1,"method":"credential.show","params":{"name":"known"}}"#)
        #expect(r?.error == nil && r?.result?["secretRedacted"] == .string("sk-…abcd") && r?.id == .number(1))
    }

    @Test func namedErrors() {
        #expect(reply(#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#)?.error?.name == "method-not-found")
        #expect(reply(#"{"jsonrpc":"2.0","id":1,"method":"credential.show","params":{"name":"other"}}"#)?.error?.name == "not-found")
        let missing = reply(#"{"jsonrpc":"2.0","id":1,"method":"credential.show","params":{}}"#)?.error
        #expect(missing?.name == "invalid-params" && missing?.message == "invalid params for 'credential.show': missing field 'name'")
        let wrongType = reply(#"{"jsonrpc":"2.0","id":1,"method":"credential.set-enabled","params":{"name":"a","enabled":"yes"}}"#)?.error
        #expect(wrongType?.name == "invalid-params" && wrongType?.message.contains("'enabled' must be of type boolean") == true)
        #expect(reply(#"{"jsonrpc":"2.0","id":1,"method":"credential.set-enabled","params":{"name":"boom","enabled":true}}"#)?.error?.name == "internal-error")
    }

    @Test func notificationsGetNoReply() {
        #expect(reply(#"{"jsonrpc":"2.0","method":"credential.show","params":{"name":"known"}}"#) == nil)
    }
}

@Suite struct PathsTests {
    @Test func userDefaultsFollowXDG() {
        let env = ["XDG_STATE_HOME": "/h/state", "XDG_RUNTIME_DIR": "/run/user/1000", "XDG_CONFIG_HOME": "/h/cfg"]
        let p = DefaultPaths.resolve(environment: { env[$0] }, isRoot: false, home: { "/home/u" })
        #expect(p == DefaultPaths(stateDir: "/h/state/proxypool", controlSocket: "/run/user/1000/proxypool/control.sock",
                                  configFile: "/h/cfg/proxypool/proxypoold.conf", systemMode: false))
        let bare = DefaultPaths.resolve(environment: { _ in nil }, isRoot: false, home: { "/home/u" })
        #expect(bare.stateDir == "/home/u/.local/state/proxypool" && bare.configFile == "/home/u/.config/proxypool/proxypoold.conf")
    }

    @Test func rootAndSystemdDefaults() {
        let root = DefaultPaths.resolve(environment: { _ in nil }, isRoot: true, home: { "/root" })
        #expect(root.stateDir == "/var/lib/proxypool" && root.controlSocket == "/run/proxypool/control.sock" && root.systemMode)
        let env = ["STATE_DIRECTORY": "/var/lib/proxypool:/var/lib/other", "RUNTIME_DIRECTORY": "/run/proxypool"]
        let sd = DefaultPaths.resolve(environment: { env[$0] }, isRoot: false, home: { "/x" })
        #expect(sd.stateDir == "/var/lib/proxypool" && sd.controlSocket == "/run/proxypool/control.sock")
        #expect(sd.systemMode, "the system unit runs as user proxypool, not root")
        let user = ["STATE_DIRECTORY": "/home/u/.local/state/proxypool", "CONFIGURATION_DIRECTORY": "/home/u/.config/proxypool"]
        let su = DefaultPaths.resolve(environment: { user[$0] }, isRoot: false, home: { "/home/u" })
        #expect(!su.systemMode && su.configFile == "/home/u/.config/proxypool/proxypoold.conf")
        let sys = ["STATE_DIRECTORY": "/var/lib/proxypool", "CONFIGURATION_DIRECTORY": "/etc/proxypool"]
        #expect(DefaultPaths.resolve(environment: { sys[$0] }, isRoot: false, home: { "/" }).configFile == "/etc/proxypool/proxypoold.conf")
    }

    @Test func clientPrefersEnvironment() {
        #expect(DefaultPaths.clientSocket(environment: { $0 == "PROXYPOOL_SOCKET" ? "/tmp/s.sock" : nil }) == "/tmp/s.sock")
        let env = ["XDG_RUNTIME_DIR": "/run/user/1000"]
        #expect(DefaultPaths.clientSocket(environment: { env[$0] }, isRoot: false, exists: { _ in true }) == "/run/user/1000/proxypool/control.sock")
        #expect(DefaultPaths.clientSocket(environment: { env[$0] }, isRoot: false, exists: { $0.hasPrefix("/run/proxypool") }) == "/run/proxypool/control.sock",
                "a group member without a daemon of their own reaches the system daemon")
    }
}

@Suite struct PeerCredentialsTests {
    @Test func groupMembershipUsesPrimaryAndSupplementaryGroups() throws {
        let me = PeerCredentials(uid: getuid(), gid: getgid(), pid: getpid())
        #expect(me.isMember(ofGroup: getgid()), "primary group")
        #expect(!me.isMember(ofGroup: 54_321), "a group nobody is in")
        var groups = [gid_t](repeating: 0, count: 64)
        let n = getgroups(64, &groups)
        for g in groups.prefix(Int(max(n, 0))) { #expect(me.isMember(ofGroup: g), "supplementary group \(g)") }
    }
}
