/// Syslog priorities, as journald stores them.
public enum LogLevel: String, CaseIterable, Sendable, Comparable {
    case error, warning, notice, info, debug

    public var priority: Int {
        switch self { case .error: 3; case .warning: 4; case .notice: 5; case .info: 6; case .debug: 7 }
    }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.priority < b.priority }
}

/// Everything `proxypoold` can be told, from its config file and flags. Flags win over the file.
/// `proxypoold.conf(5)` documents each key; `Key` is the single list both parsers use.
public struct DaemonConfig: Equatable, Sendable {
    public enum Key: String, CaseIterable, Sendable {
        case listen
        case stateDir = "state-dir"
        case controlSocket = "control-socket"
        case logLevel = "log-level"
        case allowNonLoopback = "allow-non-loopback"
        case shutdownTimeout = "shutdown-timeout"
        case controlGroup = "control-group"
        case maxBodyBytes = "max-body-bytes"
        case maxHeaderBytes = "max-header-bytes"
        case headerTimeout = "header-timeout"
        case idleTimeout = "idle-timeout"
        case maxConnections = "max-connections"
        case allowedHosts = "allowed-hosts"
        case cooldownMax = "cooldown-max"
        case maxAttempts = "max-attempts"
        case firstByteTimeout = "first-byte-timeout"
        case fetchPrivateURLs = "fetch-private-urls"
        case bodyTimeout = "body-timeout"
        case bodyMinRate = "body-min-rate"
        case sendTimeout = "send-timeout"
        case maxBufferedBytes = "max-buffered-bytes"
        case metricsPublic = "metrics-public"
        case testProviders = "test-providers"
        case quotaThreshold = "quota-threshold"
    }

    public var listen: ListenAddress
    public var stateDir: String?
    public var controlSocket: String?
    public var logLevel: LogLevel = .info
    public var allowNonLoopback = false
    /// Seconds in-flight work may take to finish after SIGTERM.
    public var shutdownTimeout: Int = 10
    /// In system mode, members of this group may use the control socket.
    public var controlGroup = "proxypool"
    /// Proxy limits (bytes, seconds, counts).
    public var maxBodyBytes = 32 * 1024 * 1024
    public var maxHeaderBytes = 64 * 1024
    public var headerTimeout = 10
    public var idleTimeout = 10
    public var maxConnections = 1024
    /// Extra Host header values accepted besides localhost, 127.0.0.1, [::1] and the listen address.
    public var allowedHosts: [String] = []
    /// The longest a credential is left cooling down, whatever a reset header says (seconds).
    public var cooldownMax = 1800
    /// Percent of a subscription account's window after which the next account serves.
    public var quotaThreshold = 95
    /// Credentials tried per request before giving up.
    public var maxAttempts = 4
    /// Seconds to wait for an upstream's response head.
    public var firstByteTimeout = 600
    /// Whether image URLs the proxy fetches (to inline them for Gemini) may point at loopback or private networks.
    public var fetchPrivateURLs = false
    /// Seconds a request body may go without progress; also the grace before `bodyMinRate` applies.
    public var bodyTimeout = 10
    /// Bytes per second a body must average after its first `bodyTimeout` seconds (0: no minimum).
    public var bodyMinRate = 1024
    /// Seconds a client may take none of the output waiting for it before it is disconnected.
    public var sendTimeout = 60
    /// Request bytes held across all connections at once.
    public var maxBufferedBytes = 256 * 1024 * 1024
    /// Whether GET /metrics answers without an access key (it names every credential and app).
    public var metricsPublic = false
    /// Whether the provider kinds that exist for proxypool's own tests (`test-oauth`) may be added and served.
    public var testProviders = false

    public static let defaultListen = "127.0.0.1:8081"

    public init() {
        listen = try! ListenAddress(parsing: DaemonConfig.defaultListen)
    }

    /// Apply one `key = value` setting (from the file or a flag).
    public mutating func set(_ key: Key, _ raw: String) throws(ConfigError) {
        let value = raw.trimming(" \t")
        switch key {
        case .listen: listen = try ListenAddress(parsing: value)
        case .stateDir: stateDir = try absolutePath(value, key)
        case .controlSocket: controlSocket = try absolutePath(value, key)
        case .logLevel:
            guard let l = LogLevel(rawValue: value) else {
                throw ConfigError("log-level '\(value)' is not one of \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logLevel = l
        case .allowNonLoopback: allowNonLoopback = try boolean(value, key)
        case .shutdownTimeout:
            guard let s = Int(value), (0...3600).contains(s) else { throw ConfigError("shutdown-timeout must be 0-3600 seconds") }
            shutdownTimeout = s
        case .controlGroup:
            guard !value.isEmpty else { throw ConfigError("control-group must not be empty") }
            controlGroup = value
        case .maxBodyBytes: maxBodyBytes = try integer(value, key, 1024...(1 << 30))
        case .maxHeaderBytes: maxHeaderBytes = try integer(value, key, 1024...(1 << 20))
        case .headerTimeout: headerTimeout = try integer(value, key, 1...3600)
        case .idleTimeout: idleTimeout = try integer(value, key, 1...86400)
        case .maxConnections: maxConnections = try integer(value, key, 1...100_000)
        case .allowedHosts: allowedHosts = value.split(whereSeparator: { $0 == " " || $0 == "," }).map { $0.lowercased() }
        case .cooldownMax: cooldownMax = try integer(value, key, 1...86400)
        case .quotaThreshold: quotaThreshold = try integer(value, key, 1...100)
        case .maxAttempts: maxAttempts = try integer(value, key, 1...32)
        case .firstByteTimeout: firstByteTimeout = try integer(value, key, 1...86400)
        case .fetchPrivateURLs: fetchPrivateURLs = try boolean(value, key)
        case .bodyTimeout: bodyTimeout = try integer(value, key, 1...3600)
        case .bodyMinRate: bodyMinRate = try integer(value, key, 0...(1 << 30))
        case .sendTimeout: sendTimeout = try integer(value, key, 1...86400)
        case .maxBufferedBytes: maxBufferedBytes = try integer(value, key, 1024...(1 << 40))
        case .metricsPublic: metricsPublic = try boolean(value, key)
        case .testProviders: testProviders = try boolean(value, key)
        }
    }

    /// Parse a config file's text: `key = value` lines, `#` or `;` comments, blank lines. Unknown keys are errors,
    /// so that a typo never silently leaves a default (for example a listen address) in force.
    public static func parseFile(_ text: String, into config: inout DaemonConfig, source: String) throws(ConfigError) {
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimming(" \t\r")
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw ConfigError("\(source):\(n + 1): expected 'key = value', got '\(line)'")
            }
            let name = String(line[..<eq]).trimming(" \t")
            guard let key = Key(rawValue: name) else {
                throw ConfigError("\(source):\(n + 1): unknown key '\(name)' (known: \(Key.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            do throws(ConfigError) { try config.set(key, String(line[line.index(after: eq)...])) } catch {
                throw ConfigError("\(source):\(n + 1): \(error.message)")
            }
        }
    }

    /// The reason the daemon refuses to start with this configuration, if any.
    public func refusal() -> String? {
        if !listen.isLoopback && !allowNonLoopback {
            return "refusing to listen on \(listen), which is not a loopback address: every program that can reach it " +
                "could spend your provider credentials. Set 'allow-non-loopback = yes' in the config file if you mean it."
        }
        if maxBufferedBytes < maxBodyBytes {
            return "max-buffered-bytes (\(maxBufferedBytes)) is smaller than max-body-bytes (\(maxBodyBytes)): a body of the largest size " +
                "allowed could never be received. Raise max-buffered-bytes or lower max-body-bytes."
        }
        return nil
    }

    private func absolutePath(_ v: String, _ key: Key) throws(ConfigError) -> String {
        guard v.hasPrefix("/") else { throw ConfigError("\(key.rawValue) must be an absolute path, got '\(v)'") }
        return v
    }

    private func integer(_ v: String, _ key: Key, _ range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let n = Int(v), range.contains(n) else { throw ConfigError("\(key.rawValue) must be an integer in \(range.lowerBound)-\(range.upperBound), got '\(v)'") }
        return n
    }

    private func boolean(_ v: String, _ key: Key) throws(ConfigError) -> Bool {
        switch v.lowercased() {
        case "yes", "true", "on", "1": return true
        case "no", "false", "off", "0": return false
        default: throw ConfigError("\(key.rawValue) must be yes or no, got '\(v)'")
        }
    }
}

extension DaemonConfig {
    /// Descriptors the daemon needs besides one per client connection: standard streams, the event loop,
    /// the listening and control sockets, the store, the journal, curl, and the upstream connections that are
    /// not tied to a client at the moment.
    public static let descriptorReserve = 32

    /// Why `max-connections` cannot be served under an open-files limit of `limit` (RLIMIT_NOFILE's soft
    /// value, nil when unlimited), if it cannot.
    public func descriptorShortfall(limit: UInt64?) -> String? {
        let needed = UInt64(maxConnections + Self.descriptorReserve)
        guard let limit, limit < needed else { return nil }
        return "max-connections = \(maxConnections) needs at least \(needed) open files, but the limit is \(limit) " +
            "(RLIMIT_NOFILE, already raised to its hard limit): lower max-connections in proxypoold.conf, or raise the limit " +
            "(LimitNOFILE= in the unit, ulimit -n in a shell)"
    }
}
