import Glibc
import ProxyPoolCore

/// Structured logging. Under journald (stderr is the journal stream named by JOURNAL_STREAM) each record is one
/// datagram of the journal's native protocol with PRIORITY, SYSLOG_IDENTIFIER and PROXYPOOL_* fields, sent on a
/// socket opened once; elsewhere it is one readable line on stderr, its control characters escaped so that no
/// value can start a line of its own. Callers pass field values that are already safe: secrets are never handed
/// to the logger.
///
/// A record costs one system call (the send or the write): the pid of the line prefix is read once, whether
/// stderr is a socket is known from the start, and the bytes are built in one buffer reused under the lock.
public final class Logger: @unchecked Sendable {
    public struct Field: Sendable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) { self.key = key; self.value = value }
    }

    public enum Destination: Sendable {
        /// The journal when stderr is the journal stream and its socket answers, else lines on stderr.
        case automatic
        /// Lines on this descriptor.
        case lines(fd: Int32)
        /// The journal's native socket at this path (lines on stderr if it cannot be reached).
        case journal(socketPath: String)
    }

    private let lock = Mutex()
    private var level: LogLevel
    private let identifier: String
    private let journal: JournalSocket?
    private let lineFD: Int32
    /// send(2) on a socket (the journal stream), write(2) on a file or pipe: trying send first would cost a
    /// failing call on every line.
    private let lineFDIsSocket: Bool
    /// "proxypoold[PID]: "
    private let linePrefix: [UInt8]
    /// The record being built; only touched under `lock`.
    private var buffer: [UInt8] = []
    /// Deferred records (`record`), in the form they leave in, sent together by `flush`: one send per turn
    /// of the event loop instead of one per request. Journal datagram i is pending[starts[i] ..< starts[i+1]].
    private var pending: [UInt8] = []
    private var pendingStarts: [Int64] = [0]
    private let identifierBytes: [UInt8]
    /// Deferred records are sent at once beyond this much.
    static let pendingLimit = 64 * 1024

    public init(identifier: String, level: LogLevel, destination: Destination = .automatic) {
        self.identifier = identifier
        self.level = level
        var fd: Int32 = 2
        var journalPath: String?
        switch destination {
        case .automatic: if Logger.stderrIsJournal() { journalPath = JournalSocket.defaultPath }
        case .lines(let f): fd = f
        case .journal(let path): journalPath = path
        }
        var journal: JournalSocket?
        var journalMissing: SystemError?
        if let journalPath {
            do { journal = try JournalSocket(path: journalPath) } catch { journalMissing = error }
        }
        self.journal = journal
        lineFD = fd
        var st = stat()
        lineFDIsSocket = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK
        linePrefix = Array("\(identifier)[\(getpid())]: ".utf8)
        identifierBytes = Array(identifier.utf8)
        buffer.reserveCapacity(1024)
        if let journalMissing {
            warning("cannot reach the journal (\(journalMissing)); logging plain lines to stderr", event: "journal-unavailable")
        }
    }

    /// Whether records go to the journal's socket (rather than lines on stderr).
    public var usesJournal: Bool { journal != nil }

    public func setLevel(_ l: LogLevel) { lock.locked { level = l } }

    /// Whether a record at `l` would be written: check before building an expensive message.
    public func enabled(_ l: LogLevel) -> Bool { lock.locked { l <= level } }

    public func log(_ l: LogLevel, _ message: String, event: String? = nil, _ fields: [Field] = []) {
        lock.locked {
            guard l <= level else { return }
            // Records deferred before this one go first: the order of the log is the order of the calls.
            if pendingStarts.count > 1 { flushLocked() }
            defer { if buffer.capacity > 1 << 16 { buffer = []; buffer.reserveCapacity(1024) } }
            if let journal {
                buffer.removeAll(keepingCapacity: true)
                JournalRecord.append(message, level: l, identifier: identifier, event: event, fields, to: &buffer)
                // A record the journal does not take (too large, or journald restarting) still reaches it as a
                // line on stderr, which is the journal stream.
                if journal.send(buffer) { return }
            }
            buffer.removeAll(keepingCapacity: true)
            LogLine.append(prefix: linePrefix, level: l, message, event: event, fields, to: &buffer)
            writeLine()
        }
    }

    /// A record built from typed values (`LogRecord`), deferred until the next `flush` (the event loop calls
    /// it once per turn, before it waits) or until 64 KiB are pending. `build` runs only when the level is
    /// enabled, under the logger's lock: it must not log.
    public func record(_ l: LogLevel, event: StaticString, _ build: (inout LogRecord) -> Void) {
        lock.locked {
            guard l <= level else { return }
            var r = LogRecord(form: journal != nil ? .journal : .line, level: l, identifier: identifierBytes, linePrefix: linePrefix,
                              event: event)
            swap(&r.out, &pending)   // built in place at the end of what is pending, not copied there
            // Composed in a stack buffer, moved to `pending` when it fills and at the end.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { scratch in
                r.useScratch(scratch)
                r.begin()
                build(&r)
                r.end()
            }
            swap(&r.out, &pending)
            pendingStarts.append(Int64(pending.count))
            if pending.count >= Self.pendingLimit { flushLocked() }
        }
    }

    /// Send the deferred records. Safe from any thread; cheap when there are none.
    public func flush() {
        lock.locked { if pendingStarts.count > 1 { flushLocked() } }
    }

    private func flushLocked() {
        defer {
            pending.removeAll(keepingCapacity: pending.capacity <= 4 * Self.pendingLimit)
            pendingStarts.removeAll(keepingCapacity: true)
            pendingStarts.append(0)
        }
        let count = pendingStarts.count - 1
        guard let journal else {
            writeAll(pending)
            return
        }
        var i = journal.send(batch: pending, starts: pendingStarts)
        // One the journal did not take (too large, or journald restarting) is tried alone, then reaches the
        // journal stream as a line, as `log` does.
        while i < count {
            let record = Array(pending[Int(pendingStarts[i])..<Int(pendingStarts[i + 1])])
            if !journal.send(record) {
                buffer.removeAll(keepingCapacity: true)
                JournalRecord.appendAsLine(record, prefix: linePrefix, to: &buffer)
                writeLine()
            }
            i += 1
        }
    }

    private func writeLine() { writeAll(buffer) }

    private func writeAll(_ buffer: [UInt8]) {
        var off = 0
        buffer.withUnsafeBytes { raw in
            while off < raw.count {
                let n = Posix.uninterrupted {
                    lineFDIsSocket ? send(lineFD, raw.baseAddress! + off, raw.count - off, Int32(MSG_NOSIGNAL))
                                   : write(lineFD, raw.baseAddress! + off, raw.count - off)
                }
                if n < 0 { return }
                off += n
            }
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
