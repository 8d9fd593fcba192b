import Glibc
import Testing
import ProxyPoolCore
@testable import ProxyPoolSystem

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
        #expect(DefaultPaths.clientSocket(environment: { env[$0] }, isRoot: false, exists: { $0 == "/run/proxypool" }) == "/run/proxypool/control.sock",
                "a user who cannot see into /run/proxypool is sent to the system daemon's socket too (and refused there)")
        #expect(DefaultPaths.clientSocket(environment: { env[$0] }, isRoot: false, exists: { _ in false }) == "/run/user/1000/proxypool/control.sock")
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
