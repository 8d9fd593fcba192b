import Glibc
import CSystemd
import ProxyPoolCore

/// Structured logging. Under journald (stderr is the journal stream named by JOURNAL_STREAM) each record goes
/// through sd_journal_sendv with PRIORITY, SYSLOG_IDENTIFIER and PROXYPOOL_* fields; elsewhere it is one readable
/// line on stderr. Callers pass field values that are already safe: secrets are never handed to the logger.
public final class Logger: @unchecked Sendable {
    public struct Field: Sendable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) { self.key = key; self.value = value }
    }

    private let lock = Mutex()
    private var level: LogLevel
    private let identifier: String
    private let journal: Bool

    public init(identifier: String, level: LogLevel, forceStderr: Bool = false) {
        self.identifier = identifier
        self.level = level
        self.journal = !forceStderr && Logger.stderrIsJournal()
    }

    public var usesJournal: Bool { journal }

    public func setLevel(_ l: LogLevel) { lock.locked { level = l } }

    /// Whether a record at `l` would be written: check before building an expensive message.
    public func enabled(_ l: LogLevel) -> Bool { lock.locked { l <= level } }

    public func log(_ l: LogLevel, _ message: String, event: String? = nil, _ fields: [Field] = []) {
        guard enabled(l) else { return }
        var all = fields
        if let event { all.insert(Field("EVENT", event), at: 0) }
        if journal {
            var items = ["MESSAGE=\(message)", "PRIORITY=\(l.priority)", "SYSLOG_IDENTIFIER=\(identifier)"]
            for f in all { items.append("PROXYPOOL_\(f.key)=\(f.value)") }
            let cstrs = items.map { strdup($0)! }
            defer { cstrs.forEach { free($0) } }
            var iov = cstrs.map { iovec(iov_base: UnsafeMutableRawPointer($0), iov_len: strlen($0)) }
            _ = iov.withUnsafeMutableBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        } else {
            var line = "\(identifier)[\(getpid())]: \(l.rawValue): \(message)"
            if !all.isEmpty { line += " [" + all.map { "\($0.key.lowercased())=\($0.value)" }.joined(separator: " ") + "]" }
            line += "\n"
            lock.locked { _ = try? Posix.writeAll(2, Array(line.utf8)) }
        }
    }

    public func error(_ m: String, event: String? = nil, _ f: [Field] = []) { log(.error, m, event: event, f) }
    public func warning(_ m: String, event: String? = nil, _ f: [Field] = []) { log(.warning, m, event: event, f) }
    public func notice(_ m: String, event: String? = nil, _ f: [Field] = []) { log(.notice, m, event: event, f) }
    public func info(_ m: String, event: String? = nil, _ f: [Field] = []) { log(.info, m, event: event, f) }
    public func debug(_ m: String, event: String? = nil, _ f: [Field] = []) { log(.debug, m, event: event, f) }

    /// systemd sets JOURNAL_STREAM=DEV:INODE when stderr is connected to the journal; compare it with fd 2.
    static func stderrIsJournal() -> Bool {
        guard let v = Posix.environment("JOURNAL_STREAM") else { return false }
        let parts = v.split(separator: ":")
        guard parts.count == 2, let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(2, &st) == 0 else { return false }
        return UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino
    }
}

/// A pthread mutex; the daemon's shared state is small and guarded by these, on plain threads.
public final class Mutex: @unchecked Sendable {
    private var m = pthread_mutex_t()
    public init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    public func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&m)
        defer { pthread_mutex_unlock(&m) }
        return try body()
    }
}

/// Start a detached OS thread: blocking work (sockets, SQLite) never runs on Swift's cooperative pool.
public enum Threads {
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }

    public static func start(_ body: @escaping @Sendable () -> Void) { start(stackSize: 512 * 1024, body) }

    /// 512 KiB suits threads that only block; the event loop's translation walks client JSON recursively (as
    /// deep as the parser allows) and gets more.
    public static func start(stackSize: Int, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attr, stackSize)
        var tid = pthread_t()
        let rc = pthread_create(&tid, &attr, { raw in
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box)
        pthread_attr_destroy(&attr)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }
}
