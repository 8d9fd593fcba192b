import Glibc
import ProxyPoolCore
import ProxyPoolProviders
import ProxyPoolSystem
import ProxyPoolStore
import ProxyPoolControl
import ProxyPoolUpstream
import ProxyPoolHTTP
internal import CShims

/// proxypoold's life: arguments, config, logging, signals, store, sockets, READY=1, serve, STOPPING=1.
public final class Daemon: @unchecked Sendable {
    let logger: Logger
    var config: DaemonConfig
    let configPath: String?
    let configExplicit: Bool
    let flags: [DaemonConfig.Key: String]
    let paths: DefaultPaths
    private let startedAt = Timestamp.now()
    private let startedMono = Posix.monotonicMillis()
    private var boundListen = ""

    /// Entry point: returns the process exit status.
    public static func main(_ args: [String]) -> Int32 {
        let invocation: Invocation
        do {
            switch try DaemonCommandLine.spec.parse(args) {
            case .help(let text): print(text, terminator: ""); return 0
            case .version: print("proxypoold \(DaemonCommandLine.version) (\(Curl.version))"); return 0
            case .run(let inv): invocation = inv
            }
        } catch {
            Posix.printError("proxypoold: \(error.message)\nTry 'proxypoold --help'.\n")
            return 64
        }
        let paths = DefaultPaths.resolve()
        var flags: [DaemonConfig.Key: String] = [:]
        for key in DaemonConfig.Key.allCases { if let v = invocation.value(key.rawValue) { flags[key] = v } }
        let explicit = invocation.value("config")
        let logger = Logger(identifier: "proxypoold", level: .info)
        let config: DaemonConfig
        do { config = try loadConfig(path: explicit ?? paths.configFile, explicit: explicit != nil, flags: flags) } catch {
            logger.error("invalid configuration: \(error.message)", event: "config-invalid")
            return 78   // EX_CONFIG
        }
        logger.setLevel(config.logLevel)
        let d = Daemon(logger: logger, config: config, configPath: explicit ?? paths.configFile, configExplicit: explicit != nil,
                       flags: flags, paths: paths)
        return d.run()
    }

    init(logger: Logger, config: DaemonConfig, configPath: String?, configExplicit: Bool, flags: [DaemonConfig.Key: String],
         paths: DefaultPaths) {
        self.logger = logger; self.config = config; self.configPath = configPath; self.configExplicit = configExplicit
        self.flags = flags; self.paths = paths
    }

    /// File first, then flags on top. A missing default file is fine; a missing --config file is not.
    static func loadConfig(path: String, explicit: Bool, flags: [DaemonConfig.Key: String]) throws(ConfigError) -> DaemonConfig {
        var config = DaemonConfig()
        if access(path, F_OK) == 0 || explicit {
            let text: [UInt8]
            do { text = try Posix.readFile(path, limit: 1 << 20) } catch { throw ConfigError("cannot read \(path): \(error)") }
            try DaemonConfig.parseFile(String(decoding: text, as: UTF8.self), into: &config, source: path)
        }
        for key in DaemonConfig.Key.allCases { if let v = flags[key] { try config.set(key, v) } }
        return config
    }

    func run() -> Int32 {
        if let refusal = config.refusal() {
            logger.error(refusal, event: "listen-refused", [.init("LISTEN", config.listen.description)])
            return 78
        }
        if let shortfall = Self.openFilesShortfall(config) {
            logger.error(shortfall, event: "open-files-limit")
            return 78
        }
        // Signals are taken synchronously by the main thread; block them before any other thread exists.
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
        // Few threads, small allocations: one malloc arena per thread would only hold idle memory.
        cshims_limit_malloc_arenas(2)

        let stateDir = config.stateDir ?? paths.stateDir
        let socketPath = config.controlSocket ?? paths.controlSocket
        let store: Store
        do { store = try Store(directory: stateDir) } catch {
            logger.error("cannot open the store in \(stateDir): \(error.message)", event: "store-failed")
            return 1
        }
        for note in store.openingNotes { logger.warning(note, event: "store-mode-repaired") }

        // Sockets: systemd's (socket activation) or our own.
        var proxyFD: Int32 = -1
        var controlFD: Int32 = -1
        var ownsControlSocket = false
        for (fd, name) in Systemd.listenFDs() {
            let isUnix = Systemd.isSocket(fd, unix: true)
            if name == "control" || (name != "proxy" && isUnix) { controlFD = fd } else { proxyFD = fd }
            logger.info("using socket passed by systemd: fd \(fd) (\(name))", event: "socket-activated")
        }
        if controlFD < 0, let refusal = prepareSocketDirectory(socketPath) {
            logger.error(refusal, event: "runtime-dir-refused", [.init("CONTROL_SOCKET", socketPath)])
            return 1
        }
        do {
            if proxyFD < 0 { proxyFD = try TCPSocket.listen(config.listen) }
            if controlFD < 0 {
                controlFD = try UnixSocket.listen(socketPath, mode: paths.systemMode ? 0o660 : 0o600)
                ownsControlSocket = true
                if paths.systemMode, let gr = getgrnam(config.controlGroup) { chown(socketPath, uid_t.max, gr.pointee.gr_gid) }
            }
        } catch {
            logger.error("cannot listen: \(error)", event: "listen-failed")
            return 1
        }
        let port = TCPSocket.localPort(proxyFD) ?? config.listen.port
        var shown = config.listen
        shown.port = port
        boundListen = shown.description

        // The proxy: one event loop thread with the HTTP server and the upstream clients (ours for plain HTTP, curl for the rest).
        let cooldowns = CooldownTable()
        do { cooldowns.load(try store.cooldowns(nowMillis: Timestamp.nowMillis())) } catch {
            logger.warning("cannot load saved cooldowns, ignoring: \(error.message)")
        }
        let snapshot: RoutingSnapshot
        do { snapshot = try RoutingSnapshot.load(store) } catch {
            logger.error("cannot read the store: \(error)", event: "store-failed")
            return 1
        }
        let writer = BackgroundWriter(store: store, logger: logger)
        let loop = EventLoop()
        let upstreams = Upstreams(loop: loop)
        let listenHost = config.listen.host.lowercased()
        var hosts: Set<String> = ["localhost", "127.0.0.1", "[::1]", listenHost, "[\(listenHost)]"]
        for h in config.allowedHosts { hosts.insert(h) }
        // Before any thread but this one runs: read from then on only.
        Providers.testProvidersEnabled = config.testProviders
        if config.testProviders {
            logger.warning("test-providers = yes: the test-only provider kinds (test-oauth) can be added and are served; never on a real machine",
                           event: "test-providers")
        }
        let dashboardSessions = DashboardSessions()
        let service = ProxyService(loop: loop, upstreams: upstreams, logger: logger, cooldowns: cooldowns, writer: writer, snapshot: snapshot,
                                   options: .init(allowedHosts: hosts, maxAttempts: config.maxAttempts,
                                                  cooldownCapMillis: Int64(config.cooldownMax) * 1000,
                                                  firstByteTimeoutMillis: Int64(config.firstByteTimeout) * 1000,
                                                  maxAnswerBytes: config.maxBodyBytes, fetchPrivateURLs: config.fetchPrivateURLs,
                                                  metricsPublic: config.metricsPublic, quotaThreshold: Double(config.quotaThreshold)),
                                   dashboardSessions: dashboardSessions)
        service.tokens.persistence = .init(load: { try? store.token($0) }, save: { name, t throws(RPCError) in try store.saveToken(name, t) })
        var serverConfig = HTTPServerConfig()
        serverConfig.limits.maxBodyBytes = config.maxBodyBytes
        serverConfig.limits.maxHeaderBytes = config.maxHeaderBytes
        serverConfig.headerTimeoutMillis = Int64(config.headerTimeout) * 1000
        serverConfig.idleTimeoutMillis = Int64(config.idleTimeout) * 1000
        serverConfig.maxConnections = config.maxConnections
        serverConfig.bodyTimeoutMillis = Int64(config.bodyTimeout) * 1000
        serverConfig.bodyMinBytesPerSecond = config.bodyMinRate
        serverConfig.sendTimeoutMillis = Int64(config.sendTimeout) * 1000
        serverConfig.maxBufferedBytes = config.maxBufferedBytes
        let server = HTTPServer(loop: loop, listenFD: proxyFD, config: serverConfig, handler: service)
        server.start()
        // Requests still being served, counted by the loop once stopping has begun (-1: not counted yet). Only
        // the shutdown reads it, so the loop does not count on every turn before that.
        let activity = Mutex()
        nonisolated(unsafe) var busy = -1
        nonisolated(unsafe) var draining = false   // loop thread only
        // Request records are deferred (Logger.record) and leave together once per turn of the loop, before it
        // waits: one write or sendmmsg for all the requests a turn finished, and none sits longer than the turn.
        loop.addTicker { [logger] _ in logger.flush(); return 1000 }
        loop.addTicker { _ in
            guard draining else { return 1000 }
            let n = service.inFlight + server.busyConnections
            activity.locked { busy = n }
            return 20
        }
        // 8 MiB, a main thread's: codecs recurse over client JSON as deep as the parser allows (and a debug
        // build's frames are large); 512 KiB overflowed on a 40-level tool schema.
        Threads.start(stackSize: 8 << 20) { loop.run() }

        let controlGroup = paths.systemMode ? getgrnam(config.controlGroup).map { $0.pointee.gr_gid } : nil
        let ownUID = geteuid()
        let group = config.controlGroup
        let refresh: @Sendable (String?) -> Void = { [logger] credential in
            if let c = credential { cooldowns.forget(c); writer.clearCooldowns(c); service.quotas.forget(c) }
            do {
                let snap = try RoutingSnapshot.load(store)
                loop.execute { service.snapshot = snap }
            } catch { logger.error("cannot reload the routing table: \(error)") }
        }
        let quotas = service.quotas
        let recognitions = service.recognitions
        let handlers = ControlMethods.make(store: store, logger: logger, quota: { quotas.windows($0) }, credits: { quotas.credits($0) }, recognition: { recognitions.description($0) },
                                           status: { [unowned self] in try self.status(store, socketPath, stateDir, cooldowns, quotas) },
                                           changed: { [unowned self] credential in refresh(credential); self.publishStatus(store) },
                                           authFailed: { credential in
                                               cooldowns.markAuthFailed(credential, reason: "auth failed (credential test)")
                                               writer.cooldown(.init(credential: credential, model: "", authFailed: true, untilMillis: 0,
                                                                     reason: "auth failed (credential test)"))
                                           },
                                           accountToken: { [loop] route in AccountTokenWait.headers(route, loop: loop, tokens: service.tokens) },
                                           dashboard: dashboardSessions, listen: shown)
        loop.execute { [handlers] in service.dashboard.handlers = handlers }
        let control = ControlServer(listenFD: controlFD, handlers: handlers, logger: logger) { peer in
            if peer.uid == 0 || peer.uid == ownUID { return .readWrite }
            if let gid = controlGroup, peer.isMember(ofGroup: gid) { return .readWrite }
            return .denied(.permissionDenied("permission denied: uid \(peer.uid) may not use this daemon's control socket",
                                             hint: controlGroup != nil ? "run as root or add the user to group '\(group)'" : "run it as the user that runs proxypoold, or as root"))
        }
        control.start()

        logger.notice("proxypoold \(ProxyPoolVersion.string) ready: proxy on \(boundListen), control socket \(socketPath), store \(store.path)",
                      event: "daemon-ready", [.init("LISTEN", boundListen), .init("CONTROL_SOCKET", socketPath)])
        Systemd.notify("READY=1\nSTATUS=\(statusLine(store))\nMAINPID=\(getpid())")

        // Test-only fault switch, off unless the variable is set (packaging/e2e-systemd.sh sets it in a unit
        // drop-in): the event loop stops turning, so the watchdog pings stop and systemd must restart us.
        if Posix.environment("PROXYPOOL_TEST_STALL_EVENT_LOOP") == "1" {
            logger.warning("PROXYPOOL_TEST_STALL_EVENT_LOOP=1: stalling the event loop (a test of the watchdog)", event: "test-stall")
            loop.execute { while true { sleep(3600) } }
        }
        let watchdogMillis = Systemd.watchdogInterval().map { Int64($0 / 1000) }
        while true {
            var info = siginfo_t()
            let waitMillis = watchdogMillis.map { max(50, $0 / 2) } ?? 60_000
            var ts = timespec(tv_sec: Int(waitMillis / 1000), tv_nsec: Int(waitMillis % 1000) * 1_000_000)
            let sig = sigtimedwait(&set, &info, &ts)
            if sig < 0 {
                // Ping only while the event loop is alive: a stuck loop must let systemd restart us.
                if let wd = watchdogMillis, loop.sinceHeartbeat < wd { Systemd.notify("WATCHDOG=1") }
                continue
            }
            if sig == SIGHUP {
                reload()
                continue
            }
            // SIGTERM / SIGINT
            Systemd.notify("STOPPING=1\nSTATUS=stopping")
            logger.notice("stopping on signal \(sig == SIGINT ? "SIGINT" : "SIGTERM")", event: "daemon-stopping")
            control.stop()
            loop.execute {
                server.stopAccepting()
                service.dashboard.liveLog.closeAll()   // a watching page must not hold the shutdown up
                draining = true
                let n = service.inFlight + server.busyConnections
                activity.locked { busy = n }
            }
            let deadline = Posix.monotonicMillis() + Int64(config.shutdownTimeout) * 1000
            var drained = control.waitIdle(untilMillis: deadline)
            while Posix.monotonicMillis() < deadline && activity.locked({ busy != 0 }) { usleep(20_000) }
            drained = drained && activity.locked { busy == 0 }
            if !drained { logger.warning("in-flight requests did not finish within \(config.shutdownTimeout)s, exiting anyway") }
            writer.flushAndStop()
            if ownsControlSocket { unlink(socketPath) }
            logger.info("stopped", event: "daemon-stopped")
            return 0
        }
    }

    /// Raise the open-files soft limit to the hard one (every client connection is a descriptor, and so is
    /// each upstream connection), then check that it holds max-connections. Raising may be forbidden (the
    /// units' system call filter leaves setrlimit out; they set LimitNOFILE= instead): the limit then stays.
    static func openFilesShortfall(_ config: DaemonConfig) -> String? {
        var rl = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0 else { return nil }
        if rl.rlim_cur < rl.rlim_max {
            var raised = rl
            raised.rlim_cur = rl.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { rl = raised }
        }
        // RLIM_INFINITY is all ones, which Swift cannot import as a literal.
        return config.descriptorShortfall(limit: rl.rlim_cur == rlim_t.max ? nil : UInt64(rl.rlim_cur))
    }

    /// Create the control socket's directory if it is missing, then make sure it is ours alone: a directory
    /// another user made (say /tmp/proxypool-UID, planted before we start) or may write in could hold their
    /// socket in place of ours. Returns why it is refused.
    private func prepareSocketDirectory(_ socketPath: String) -> String? {
        let dir = SocketTrust.directory(of: socketPath)
        if Posix.fileMode(dir) == nil {
            do { try Posix.makeDirectories(dir, mode: paths.systemMode ? 0o755 : 0o700) } catch {
                return "cannot create the directory of the control socket: \(error)"
            }
        }
        guard let problem = SocketTrust.directoryProblem(dir, owners: [geteuid()]) else { return nil }
        return "refusing to put the control socket in \(problem); another user could take it over. Remove it, or choose " +
            "another place with --control-socket (or control-socket in proxypoold.conf), or set XDG_RUNTIME_DIR"
    }

    /// SIGHUP: re-read the config file; settings that need new sockets or a new store wait for a restart.
    private func reload() {
        Systemd.notify("RELOADING=1")
        do {
            let new = try Daemon.loadConfig(path: configPath ?? paths.configFile, explicit: configExplicit, flags: flags)
            for (key, changed) in [("listen", new.listen != config.listen), ("state-dir", new.stateDir != config.stateDir),
                                   ("control-socket", new.controlSocket != config.controlSocket),
                                   ("control-group", new.controlGroup != config.controlGroup),
                                   ("metrics-public", new.metricsPublic != config.metricsPublic),
                                   ("test-providers", new.testProviders != config.testProviders)] where changed {
                logger.warning("\(key) changed in the config file; it takes effect at the next restart, ignoring for now", event: "reload-deferred")
            }
            logger.setLevel(new.logLevel)
            config.logLevel = new.logLevel
            config.shutdownTimeout = new.shutdownTimeout
            logger.notice("configuration reloaded", event: "reloaded")
        } catch {
            logger.error("reload failed, keeping the running configuration: \(error.message)", event: "reload-failed")
        }
        Systemd.notify("READY=1")
    }

    func status(_ store: Store, _ socketPath: String, _ stateDir: String, _ cooldowns: CooldownTable, _ quotas: QuotaTable) throws -> StatusInfo {
        let c = try store.counts()
        let health = cooldowns.health(credentials: try store.credentials(), now: Timestamp.nowMillis())
        var s = StatusInfo(version: ProxyPoolVersion.string, pid: getpid(), startedAt: Timestamp.iso8601(startedAt),
                          uptimeSeconds: (Posix.monotonicMillis() - startedMono) / 1000, listen: boundListen,
                          controlSocket: socketPath, stateDirectory: stateDir, database: store.path, credentials: c.credentials,
                          enabledCredentials: c.enabled, apps: c.apps, accessKeys: c.keys, settings: try store.settings(),
                          health: health)
        s.accounts = try store.credentials().filter { $0.provider.isAccount }.map { c in
            AccountStatus(name: c.name, provider: c.provider, email: c.options["email"], plan: c.options["plan"],
                          login: health.first { $0.name == c.name }?.reason ?? (c.enabled ? "ok" : "disabled"),
                          windows: quotas.windows(c.name))
        }
        for i in (s.accounts ?? []).indices { s.accounts![i].credits = quotas.credits(s.accounts![i].name) }
        return s
    }

    func statusLine(_ store: Store) -> String {
        guard let c = try? store.counts() else { return "proxy on \(boundListen)" }
        return "\(c.credentials) credentials (\(c.enabled) enabled), \(c.apps) apps assigned; proxy on \(boundListen)"
    }

    func publishStatus(_ store: Store) { Systemd.notify("STATUS=\(statusLine(store))") }
}
