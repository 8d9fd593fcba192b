import Foundation
import Glibc
import Testing

/// Without XDG_RUNTIME_DIR, proxypoolctl and proxypoold fall back to /tmp/proxypool-UID, a name any user can
/// take first. These tests plant it as another user (nobody) and check that proxypoolctl sends nothing there and
/// proxypoold will not serve from it. They need root (to act as several users, with setpriv).
@Suite(.enabled(if: geteuid() == 0, "needs root to act as other users"))
struct ControlSocketTrustTests {
    static let nobody: uid_t = 65534

    /// A uid with no account and no daemon of its own, for the user being attacked; one per test.
    static func victimUID(_ n: uid_t) -> uid_t {
        var uid = 61000 + uid_t(getpid() % 1000) * 4 + n
        while getpwuid(uid) != nil { uid += 4000 }
        return uid
    }

    /// `args` run as `uid` (no supplementary groups), with a clean environment plus `env`.
    static func runAs(_ uid: uid_t, _ exe: String, _ args: [String], env: [String: String], stdin: String? = nil) -> RunResult {
        run("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--", exe] + args, env: env, stdin: stdin)
    }

    /// The other user's process: listens on `path` (socket mode 0777, so anyone can connect) and writes to its
    /// log what each connection sent.
    final class Listener {
        let child: Child
        let logPath: String

        static let script = """
            import os, socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777); s.listen(8)
            print("listening", flush=True)
            while True:
                c, _ = s.accept()
                c.settimeout(5)
                data = b""
                try:
                    while b"\\n" not in data:
                        d = c.recv(65536)
                        if not d: break
                        data += d
                except OSError:
                    pass
                print("received %d bytes: %r" % (len(data), data), flush=True)
                c.close()
            """

        init(path: String, uid: uid_t, logDir: String) throws {
            logPath = logDir + "/listener.log"
            child = try Child("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--",
                                                   "/usr/bin/python3", "-c", Self.script, path],
                              env: baseEnvironment, stdout: logPath, stderr: logPath)
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, !log.contains("listening") {
                guard child.isRunning else { throw HarnessError("listener exited: \(log)") }
                usleep(20_000)
            }
            guard log.contains("listening") else { throw HarnessError("listener did not start: \(log)") }
        }

        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        /// What the connections sent, after they were handled (the listener logs a connection when it ends).
        func received(connections: Int = 1) -> String {
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline, log.components(separatedBy: "received ").count - 1 < connections { usleep(20_000) }
            return log
        }

        deinit { child.signal(SIGKILL); _ = child.wait() }
    }

    /// /tmp/proxypool-UID made by `owner` with `mode`, removed again afterwards (by the caller's defer).
    static func plantFallback(for victim: uid_t, owner: uid_t, mode: mode_t) throws -> String {
        let dir = "/tmp/proxypool-\(victim)"
        try? FileManager.default.removeItem(atPath: dir)
        guard mkdir(dir, 0o700) == 0, chown(dir, owner, owner) == 0, chmod(dir, mode) == 0 else {
            throw HarnessError("cannot plant \(dir): errno \(errno)")
        }
        return dir
    }

    static func victimHome(_ uid: uid_t) -> String {
        let home = makeTempDir("victim-home")
        chown(home, uid, uid)
        return home
    }

    @Test func ctlSendsNothingToAFallbackDirectoryPlantedByAnotherUser() throws {
        let victim = Self.victimUID(0)
        let dir = try Self.plantFallback(for: victim, owner: Self.nobody, mode: 0o755)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logs = makeTempDir("listener")
        let listener = try Listener(path: dir + "/control.sock", uid: Self.nobody, logDir: logs)

        let r = Self.runAs(victim, Repo.ctl, ["credential", "add", "work", "--provider", "openai", "--key-stdin"],
                           env: ["HOME": Self.victimHome(victim)], stdin: "sk-very-secret-key")
        #expect(r.status == 77, "\(r)")
        #expect(r.stderr.contains("refusing to use the control socket \(dir)/control.sock"), "\(r.stderr)")
        #expect(r.stderr.contains("belongs to uid 65534 (nobody)"), "\(r.stderr)")
        #expect(r.stderr.contains("nothing was sent"), "\(r.stderr)")
        usleep(300_000)
        #expect(!listener.log.contains("received"), "the planted listener got a connection: \(listener.log)")
        #expect(!listener.log.contains("secret"))
    }

    @Test func ctlSendsNothingToAListenerOfAnotherUserInItsOwnDirectory() throws {
        // The directory looks right (the victim's, mode 0700), but the socket in it was bound by nobody before
        // the directory changed hands: only SO_PEERCRED shows who listens.
        let victim = Self.victimUID(1)
        let dir = try Self.plantFallback(for: victim, owner: Self.nobody, mode: 0o755)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logs = makeTempDir("listener")
        let listener = try Listener(path: dir + "/control.sock", uid: Self.nobody, logDir: logs)
        #expect(chown(dir, victim, victim) == 0 && chmod(dir, 0o700) == 0)

        let r = Self.runAs(victim, Repo.ctl, ["credential", "add", "work", "--provider", "openai", "--key-stdin"],
                           env: ["HOME": Self.victimHome(victim)], stdin: "sk-very-secret-key")
        #expect(r.status == 77, "\(r)")
        #expect(r.stderr.contains("it is served by uid 65534 (nobody)"), "\(r.stderr)")
        let seen = listener.received()
        #expect(seen.contains("received 0 bytes"), "\(seen)")
        #expect(!seen.contains("secret") && !seen.contains("credential"), "\(seen)")
    }

    @Test func ctlStillTalksToItsOwnDaemonInTheFallbackDirectory() throws {
        let victim = Self.victimUID(2)
        let home = Self.victimHome(victim)
        let fallback = "/tmp/proxypool-\(victim)"
        try? FileManager.default.removeItem(atPath: fallback)
        defer { try? FileManager.default.removeItem(atPath: fallback) }
        let daemonLog = home + "/daemon.log"
        let daemon = try Child("/usr/bin/setpriv", ["--reuid=\(victim)", "--regid=\(victim)", "--clear-groups", "--", Repo.daemon,
                                                    "--listen", "127.0.0.1:0", "--config", "/dev/null"],
                               env: ["PATH": "/usr/bin:/bin", "HOME": home], stderr: daemonLog)
        defer { daemon.signal(SIGTERM); daemon.wait() }
        var status = Self.runAs(victim, Repo.ctl, ["status"], env: ["HOME": home])
        let deadline = Date().addingTimeInterval(15)
        while status.status != 0, Date() < deadline, daemon.isRunning {
            usleep(50_000)
            status = Self.runAs(victim, Repo.ctl, ["status"], env: ["HOME": home])
        }
        #expect(status.status == 0, "\(status) \((try? String(contentsOfFile: daemonLog, encoding: .utf8)) ?? "")")
        #expect(status.stdout.contains(fallback + "/control.sock"))
    }

    @Test func daemonRefusesAFallbackDirectoryPlantedByAnotherUser() throws {
        // Mode 0777: the victim's daemon could bind there, and the planter swap the socket afterwards.
        let victim = Self.victimUID(3)
        let dir = try Self.plantFallback(for: victim, owner: Self.nobody, mode: 0o777)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = Self.runAs(victim, Repo.daemon, ["--listen", "127.0.0.1:0", "--config", "/dev/null"],
                           env: ["HOME": Self.victimHome(victim)])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("refusing to put the control socket in \(dir) belongs to uid 65534 (nobody)"), "\(r.stderr)")
        #expect(access(dir + "/control.sock", F_OK) != 0, "the daemon bound its socket in the planted directory")
    }

    @Test func daemonRefusesARuntimeDirectoryOthersCanWrite() throws {
        let base = makeTempDir("rundir")
        let dir = base + "/run"
        #expect(mkdir(dir, 0o700) == 0 && chmod(dir, 0o1777) == 0)
        let r = run(Repo.daemon, ["--listen", "127.0.0.1:0", "--config", "/dev/null", "--state-dir", base + "/state",
                                  "--control-socket", dir + "/control.sock"])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("refusing to put the control socket in \(dir) is writable by every user (mode 1777)"), "\(r.stderr)")
        #expect(access(dir + "/control.sock", F_OK) != 0)
    }
}
