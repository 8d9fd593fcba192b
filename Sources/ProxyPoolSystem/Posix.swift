import Glibc
import ProxyPoolCore

/// An errno from a named libc call.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public var call: String
    public var errno: Int32
    public init(_ call: String, errno: Int32 = Glibc.errno) { self.call = call; self.errno = errno }
    public var description: String { "\(call): \(String(cString: strerror(errno)))" }
}

public enum Posix {
    /// A libc call run again while a signal interrupts it (EINTR): its result, and errno, as they then are. The
    /// one EINTR loop for calls whose other failures the caller sorts out itself (EAGAIN on a non-blocking socket).
    @inlinable @inline(__always)
    public static func uninterrupted<T: BinaryInteger>(_ body: () -> T) -> T {
        while true {
            let r = body()
            if r >= 0 || errno != EINTR { return r }
        }
    }

    /// Run a libc call, retrying on EINTR, throwing its errno on -1.
    @discardableResult
    public static func call(_ name: String, _ body: () -> Int32) throws(SystemError) -> Int32 {
        let rc = uninterrupted(body)
        if rc == -1 { throw SystemError(name) }
        return rc
    }

    /// Write all bytes to a file descriptor (blocking).
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        var off = 0
        while off < bytes.count {
            let n = uninterrupted { bytes.withUnsafeBytes { send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) } }
            if n < 0 {
                if errno == ENOTSOCK {   // not a socket: a pipe or a file
                    let w = uninterrupted { bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, bytes.count - off) } }
                    if w < 0 { throw SystemError("write") }
                    off += w; continue
                }
                throw SystemError("send")
            }
            off += n
        }
    }

    public static func readFile(_ path: String, limit: Int = 1 << 20) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = uninterrupted { read(fd, &buf, buf.count) }
            if n < 0 { throw SystemError("read \(path)") }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
            if out.count > limit { throw SystemError("read \(path)", errno: EFBIG) }
        }
        return out
    }

    public static func fileMode(_ path: String) -> (mode: mode_t, uid: uid_t, isDirectory: Bool)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (st.st_mode & 0o7777, st.st_uid, (st.st_mode & S_IFMT) == S_IFDIR)
    }

    /// mkdir -p, creating missing components with `mode`.
    public static func makeDirectories(_ path: String, mode: mode_t) throws(SystemError) {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, mode) != 0 && errno != EEXIST { throw SystemError("mkdir \(current)") }
        }
    }

    /// Write text to stderr, unbuffered (Swift 6 forbids touching Glibc's `stderr` FILE).
    public static func printError(_ text: String) { try? writeAll(2, Array(text.utf8)) }

    public static var isRoot: Bool { geteuid() == 0 }

    public static func environment(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }

    public static func homeDirectory() -> String {
        if let h = environment("HOME") { return h }
        if let pw = getpwuid(geteuid()), let dir = pw.pointee.pw_dir { return String(cString: dir) }
        return "/"
    }

    /// Monotonic milliseconds, for deadlines.
    public static func monotonicMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
