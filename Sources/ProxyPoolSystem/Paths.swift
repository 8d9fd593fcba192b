import Glibc
import ProxyPoolCore

/// Default locations, following systemd (STATE_DIRECTORY, RUNTIME_DIRECTORY) and then XDG for users,
/// or /var/lib/proxypool and /run/proxypool for root.
public struct DefaultPaths: Equatable, Sendable {
    public var stateDir: String
    public var controlSocket: String
    public var configFile: String
    /// The system daemon (root, or the system unit's dedicated user): the control socket is then 0660 and open
    /// to the control group.
    public var systemMode: Bool

    public static func resolve(environment env: (String) -> String? = Posix.environment, isRoot: Bool = Posix.isRoot,
                               home: () -> String = Posix.homeDirectory) -> DefaultPaths {
        // systemd may pass several directories separated by ':'; the first is ours.
        let stateFromSystemd = env("STATE_DIRECTORY").flatMap { $0.split(separator: ":").first.map(String.init) }
        let runtimeFromSystemd = env("RUNTIME_DIRECTORY").flatMap { $0.split(separator: ":").first.map(String.init) }
        let state, runtime: String
        var config: String
        // The system unit runs as user proxypool, not root; systemd's /var/lib StateDirectory tells us we are it.
        let systemMode = isRoot || (stateFromSystemd?.hasPrefix("/var/lib/") ?? false)
        if systemMode {
            state = stateFromSystemd ?? "/var/lib/proxypool"
            runtime = runtimeFromSystemd ?? "/run/proxypool"
            config = "/etc/proxypool/proxypoold.conf"
        } else {
            state = stateFromSystemd ?? (env("XDG_STATE_HOME") ?? home() + "/.local/state") + "/proxypool"
            // Without XDG_RUNTIME_DIR (no login session) fall back to a per-uid directory under /tmp.
            runtime = runtimeFromSystemd ?? env("XDG_RUNTIME_DIR").map { $0 + "/proxypool" } ?? "/tmp/proxypool-\(getuid())"
            config = (env("XDG_CONFIG_HOME") ?? home() + "/.config") + "/proxypool/proxypoold.conf"
        }
        // ConfigurationDirectory= in the unit names the directory for us, in either mode.
        if let dir = env("CONFIGURATION_DIRECTORY")?.split(separator: ":").first { config = dir + "/proxypoold.conf" }
        return DefaultPaths(stateDir: state, controlSocket: runtime + "/control.sock", configFile: config, systemMode: systemMode)
    }

    /// Where proxypoolctl looks for the socket when neither --socket nor PROXYPOOL_SOCKET is given: the same place
    /// the daemon would use for this user (root reaches the system daemon).
    /// A user with no daemon of their own (a member of group proxypool) reaches the system daemon.
    public static func clientSocket(environment env: (String) -> String? = Posix.environment, isRoot: Bool = Posix.isRoot,
                                    exists: (String) -> Bool = { access($0, F_OK) == 0 }) -> String {
        if let s = env("PROXYPOOL_SOCKET") { return s }
        let own = resolve(environment: { k in k == "STATE_DIRECTORY" || k == "RUNTIME_DIRECTORY" ? nil : env(k) }, isRoot: isRoot).controlSocket
        let system = "/run/proxypool/control.sock"
        // The system daemon's directory is enough: a user outside group proxypool cannot see the socket inside
        // it (0750), and must hear "permission denied" from it (exit 77), not that no daemon of theirs runs.
        return !exists(own) && (exists(system) || exists("/run/proxypool")) ? system : own
    }
}
