import Glibc
internal import CShims
import ProxyPoolCore

/// journald's native socket: one AF_UNIX datagram socket, connected once, one datagram per record
/// (what sd_journal_sendv does, without building a C string and an iovec per field on every call).
public final class JournalSocket: @unchecked Sendable {
    public static let defaultPath = "/run/systemd/journal/socket"
    /// systemd's own clients ask for this much, so that a burst of records does not block.
    static let sendBufferBytes: Int32 = 8 << 20

    let path: String
    private let fd: Int32
    /// While journald is away (restarting), records go to stderr until this monotonic time, instead of a
    /// failing send and a reconnect on each one.
    private var downUntilMillis: Int64 = 0

    public init(path: String) throws(SystemError) {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        var size = Self.sendBufferBytes
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        do { try Self.connect(fd, path) } catch { close(fd); throw error }
        self.fd = fd
    }

    deinit { close(fd) }

    private static func connect(_ fd: Int32, _ path: String) throws(SystemError) {
        var addr = try UnixSocket.address(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 { throw SystemError("connect \(path)") }
    }

    /// Send the datagrams `buffer[starts[i] ..< starts[i + 1]]` in one call; returns how many the journal took
    /// (a prefix: the caller sends the rest one by one, which reconnects or gives up as `send` does).
    func send(batch buffer: [UInt8], starts: [Int64]) -> Int {
        guard downUntilMillis == 0, starts.count > 1 else { return 0 }
        let n = buffer.withUnsafeBufferPointer { b in
            starts.withUnsafeBufferPointer { s in cshims_send_datagrams(fd, b.baseAddress, s.baseAddress, Int32(starts.count - 1)) }
        }
        return max(0, Int(n))
    }

    /// Send one record; false when the journal did not take it (too large, no room, or journald is away), and
    /// the caller writes it elsewhere. Not thread-safe: the logger calls it under its lock.
    func send(_ record: [UInt8]) -> Bool {
        if downUntilMillis != 0 {
            guard Posix.monotonicMillis() >= downUntilMillis else { return false }
            downUntilMillis = 0
        }
        var reconnected = false
        while true {
            let n = Posix.uninterrupted { record.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
            if n >= 0 { return true }
            switch errno {
            case ECONNREFUSED, ENOTCONN, ENOENT:
                // journald restarted: the path names a new socket. Connect to it once, else wait a second.
                if !reconnected, (try? Self.connect(fd, path)) != nil { reconnected = true; continue }
                downUntilMillis = Posix.monotonicMillis() + 1000
                return false
            default:
                return false   // EMSGSIZE, ENOBUFS, EAGAIN
            }
        }
    }
}

/// A record in the journal's native protocol: `KEY=value\n` per field, or, for a value holding a newline,
/// `KEY\n`, its length as 64-bit little endian, the value and `\n`. Values are kept whole, control characters
/// and all: each stays inside its own field.
public enum JournalRecord {
    public static func append(_ message: String, level: LogLevel, identifier: String, event: String?, _ fields: [Logger.Field],
                              to out: inout [UInt8]) {
        field("MESSAGE", message, &out)
        out.append(contentsOf: "PRIORITY=".utf8)
        out.append(UInt8(ascii: "0") + UInt8(level.priority))
        out.append(0x0A)
        field("SYSLOG_IDENTIFIER", identifier, &out)
        if let event { field("PROXYPOOL_EVENT", event, &out) }
        for f in fields { field(f.key, f.value, &out, prefix: "PROXYPOOL_") }
    }

    /// A record of the journal's protocol as `LogLine` writes it: for one the journal would not take.
    /// MESSAGE, PRIORITY and PROXYPOOL_EVENT are placed as a line places them, PROXYPOOL_KEY fields become
    /// `key=value`, SYSLOG_IDENTIFIER is the prefix's.
    public static func appendAsLine(_ record: [UInt8], prefix: [UInt8], to out: inout [UInt8]) {
        var message = ""
        var level = LogLevel.info
        var event: String?
        var fields: [Logger.Field] = []
        var i = 0
        while i < record.count {
            guard let keyEnd = record[i...].firstIndex(where: { $0 == UInt8(ascii: "=") || $0 == 0x0A }) else { break }
            let key = String(decoding: record[i..<keyEnd], as: UTF8.self)
            let value: ArraySlice<UInt8>
            if record[keyEnd] == UInt8(ascii: "=") {
                let end = record[(keyEnd + 1)...].firstIndex(of: 0x0A) ?? record.count
                value = record[(keyEnd + 1)..<end]
                i = end + 1
            } else {
                guard keyEnd + 9 <= record.count else { break }
                var n: UInt64 = 0
                for k in 0..<8 { n |= UInt64(record[keyEnd + 1 + k]) << (8 * UInt64(k)) }
                let start = keyEnd + 9
                let end = start + Int(min(n, UInt64(record.count - start)))
                value = record[start..<end]
                i = end + 1
            }
            let v = String(decoding: value, as: UTF8.self)
            switch key {
            case "MESSAGE": message = v
            case "PRIORITY": level = LogLevel.allCases.first { String($0.priority) == v } ?? .info
            case "SYSLOG_IDENTIFIER": break
            case "PROXYPOOL_EVENT": event = v
            default: fields.append(.init(key.hasPrefix("PROXYPOOL_") ? String(key.dropFirst(10)) : key, v))
            }
        }
        LogLine.append(prefix: prefix, level: level, message, event: event, fields, to: &out)
    }

    private static func field(_ key: String, _ value: String, _ out: inout [UInt8], prefix: StaticString? = nil) {
        if let prefix { out.append(contentsOf: UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)) }
        out.append(contentsOf: key.utf8)
        var value = value
        value.withUTF8 { appendValue($0, to: &out) }
        out.append(0x0A)
    }

    /// What follows a field's key: `=value`, or for a value holding a newline, `\n`, its length as 64-bit
    /// little endian, and the value.
    static func appendValue(_ p: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        if let base = p.baseAddress, memchr(base, 0x0A, p.count) != nil {
            out.append(0x0A)
            var n = UInt64(p.count).littleEndian
            withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        } else {
            out.append(UInt8(ascii: "="))
        }
        out.append(contentsOf: p)
    }
}

/// A record as one line on stderr: `ident[PID]: LEVEL: MESSAGE [event=EVENT key=value ...]`. Every control
/// character of every part is escaped (`\n`, `\r`, `\t`, `\xHH`, and `\uHHHH` for the C1 controls and the
/// Unicode line and paragraph separators), so a client's string can never end the line and forge the next.
public enum LogLine {
    public static func append(prefix: [UInt8], level: LogLevel, _ message: String, event: String?, _ fields: [Logger.Field],
                              to out: inout [UInt8]) {
        out.append(contentsOf: prefix)
        out.append(contentsOf: level.rawValue.utf8)
        out.append(contentsOf: ": ".utf8)
        appendEscaped(message, to: &out)
        if event != nil || !fields.isEmpty {
            out.append(contentsOf: " [".utf8)
            var first = true
            if let event {
                out.append(contentsOf: "event=".utf8)
                appendEscaped(event, to: &out)
                first = false
            }
            for f in fields {
                if !first { out.append(0x20) }
                first = false
                // Keys are ours and ASCII: lower-cased in place, not with a new String per field.
                let start = out.count
                out.append(contentsOf: f.key.utf8)
                out.withUnsafeMutableBufferPointer { p in
                    for i in start..<p.count {
                        let b = p[i]
                        if b >= 0x41 && b <= 0x5A { p[i] = b + 0x20 } else if b < 0x21 || b == 0x7F { p[i] = UInt8(ascii: "?") }
                    }
                }
                out.append(UInt8(ascii: "="))
                appendEscaped(f.value, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(0x0A)
    }

    /// `s` as it appears in a line (for tests and for callers that print lines of their own).
    public static func escaped(_ s: String) -> String {
        var out: [UInt8] = []
        appendEscaped(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func appendEscaped(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendEscaped($0, to: &out) }
    }

    public static func appendEscaped(_ p: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        do {
            // Nearly every value is plain: one scan, one copy.
            var i = 0
            while i < p.count {
                let b = p[i]
                if b < 0x20 || b == 0x7F || b == 0xC2 || b == 0xE2 { break }
                i += 1
            }
            if i == p.count { out.append(contentsOf: p); return }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: p[..<i]))
            while i < p.count {
                let b = p[i]
                if b < 0x20 || b == 0x7F {
                    switch b {
                    case 0x0A: out.append(contentsOf: #"\n"#.utf8)
                    case 0x0D: out.append(contentsOf: #"\r"#.utf8)
                    case 0x09: out.append(contentsOf: #"\t"#.utf8)
                    default: out.append(contentsOf: #"\x"#.utf8); hex(b, &out)
                    }
                    i += 1
                } else if b == 0xC2, i + 1 < p.count, (0x80...0x9F).contains(p[i + 1]) {
                    // U+0080–U+009F, encoded C2 80 – C2 9F.
                    out.append(contentsOf: #"\u00"#.utf8); hex(p[i + 1], &out)
                    i += 2
                } else if b == 0xE2, i + 2 < p.count, p[i + 1] == 0x80, p[i + 2] == 0xA8 || p[i + 2] == 0xA9 {
                    out.append(contentsOf: (p[i + 2] == 0xA8 ? #"\u2028"# : #"\u2029"#).utf8)
                    i += 3
                } else {
                    out.append(b)
                    i += 1
                }
            }
        }
    }

    private static func hex(_ b: UInt8, _ out: inout [UInt8]) {
        let digits: StaticString = "0123456789abcdef"
        out.append(digits.utf8Start[Int(b >> 4)])
        out.append(digits.utf8Start[Int(b & 0x0F)])
    }
}
