import Foundation
import Glibc
import CShims
import Testing

/// Starts the real binaries (built by `swift build`) in throwaway directories.
enum Repo {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static var binDir: String { ProcessInfo.processInfo.environment["PROXYPOOL_BIN_DIR"] ?? root + "/.build/debug" }
    static var daemon: String { binDir + "/proxypoold" }
    static var ctl: String { binDir + "/proxypoolctl" }
}

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func makeTempDir(_ tag: String = "it") -> String {
    var template = Array("/tmp/proxypool-\(tag)-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

/// A child process started with posix_spawn and reaped with waitpid. (Foundation's Process left zombies
/// unreaped under Swift Testing's parallel runner, hanging the suite.)
final class Child: @unchecked Sendable {
    let pid: pid_t
    private var exit: Int32?
    private let lock = NSLock()

    /// The sanitizer options `make sanitize` sets (where reports go) reach the sanitized binaries under test,
    /// whatever clean environment a test gives them.
    static let sanitizerOptions = ProcessInfo.processInfo.environment.filter {
        ["ASAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS"].contains($0.key)
    }

    /// `files`: paths to open as stdin (read) and stdout/stderr (append); nil leaves /dev/null.
    init(_ exe: String, _ args: [String], env: [String: String], stdin: String? = nil, stdout: String? = nil, stderr: String? = nil) throws {
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, stdout ?? "/dev/null", O_WRONLY | O_APPEND | O_CREAT, 0o600)
        posix_spawn_file_actions_addopen(&fa, 2, stderr ?? "/dev/null", O_WRONLY | O_APPEND | O_CREAT, 0o600)
        // Nothing else of this process reaches the child. The tests share one process and open sockets without
        // CLOEXEC (fake servers on threads): a daemon started while another test's fake server held an accepted
        // socket kept that connection open after the server closed it, and the client there waited for an end
        // that never came (HTTP1ClientTests failed that way in CI).
        let closing = cshims_spawn_close_from(&fa, 3)
        guard closing == 0 else { throw HarnessError("posix_spawn_file_actions_addclosefrom_np: \(String(cString: strerror(closing)))") }
        let argv = ([exe] + args).map { strdup($0) } + [nil]
        let envp = env.merging(Child.sanitizerOptions) { own, _ in own }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var p: pid_t = 0
        let rc = posix_spawn(&p, exe, &fa, nil, argv, envp)
        guard rc == 0 else { throw HarnessError("posix_spawn \(exe): \(String(cString: strerror(rc)))") }
        pid = p
    }

    /// Exit status like Foundation's terminationStatus: the exit code, or the signal number if killed.
    var terminationStatus: Int32? {
        lock.lock(); defer { lock.unlock() }
        if let exit { return exit }
        var st: Int32 = 0
        if waitpid(pid, &st, WNOHANG) == pid {
            let sig = st & 0x7f
            exit = sig == 0 ? (st >> 8) & 0xff : sig
        }
        return exit
    }

    var isRunning: Bool { terminationStatus == nil }

    @discardableResult
    func wait(timeout: TimeInterval = 30) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { usleep(2_000) }
        if isRunning { kill(pid, SIGKILL) }
        while isRunning { usleep(2_000) }
        return terminationStatus!
    }

    func signal(_ sig: Int32) { if isRunning { kill(pid, sig) } }

    deinit { if isRunning { kill(pid, SIGKILL); _ = wait() } }
}

let baseEnvironment = ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/nonexistent"]

/// Run a program to completion with a clean environment plus `env`; output goes through temp files, so no
/// pipe can fill up and block the child.
func run(_ exe: String, _ args: [String], env: [String: String] = [:], stdin: String? = nil, timeout: TimeInterval = 30) -> RunResult {
    let dir = makeTempDir("run")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    if let stdin { _ = FileManager.default.createFile(atPath: dir + "/in", contents: Data(stdin.utf8)) }
    var e = baseEnvironment
    e.merge(env) { _, new in new }
    do {
        let child = try Child(exe, args, env: e, stdin: stdin == nil ? nil : dir + "/in", stdout: dir + "/out", stderr: dir + "/err")
        let status = child.wait(timeout: timeout)
        func read(_ f: String) -> String { (try? String(contentsOfFile: dir + "/" + f, encoding: .utf8)) ?? "" }
        return RunResult(status: status, stdout: read("out"), stderr: read("err"))
    } catch {
        return RunResult(status: -1, stdout: "", stderr: "\(error)")
    }
}

/// A running proxypoold with its own state directory, control socket and log file.
final class DaemonProcess: @unchecked Sendable {
    let dir: String
    let stateDir: String
    let socket: String
    let logPath: String
    private(set) var process: Child!

    /// `openFiles`: run under that RLIMIT_NOFILE (soft and hard), set by a shell that then execs the daemon.
    init(args: [String] = [], env: [String: String] = [:], stateDir: String? = nil, socket: String? = nil,
         listen: String? = "127.0.0.1:0", wait: Bool = true, openFiles: Int? = nil) throws {
        dir = makeTempDir("daemon")
        self.stateDir = stateDir ?? dir + "/state"
        self.socket = socket ?? dir + "/run/control.sock"
        logPath = dir + "/daemon.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        var a = ["--state-dir", self.stateDir, "--control-socket", self.socket]
        if let listen { a += ["--listen", listen] }
        // An empty config file of our own, so the test never reads the machine's.
        if !args.contains("--config") {
            _ = FileManager.default.createFile(atPath: dir + "/empty.conf", contents: Data())
            a += ["--config", dir + "/empty.conf"]
        }
        var e = ["PATH": "/usr/bin:/bin", "HOME": dir]
        e.merge(env) { _, new in new }
        if let n = openFiles {
            process = try Child("/bin/sh", ["-c", "ulimit -n \(n) && exec \"$0\" \"$@\"", Repo.daemon] + a + args, env: e, stderr: logPath)
        } else {
            process = try Child(Repo.daemon, a + args, env: e, stderr: logPath)
        }
        if wait { try waitReady() }
    }

    func waitReady(timeout: TimeInterval = 15) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let st = process.terminationStatus { throw HarnessError("daemon exited with \(st): \(log)") }
            if ctl(["status"]).status == 0 { return }
            usleep(20_000)
        }
        throw HarnessError("daemon not ready after \(timeout)s: \(log)")
    }

    func ctl(_ args: [String], stdin: String? = nil, env: [String: String] = [:]) -> RunResult {
        var e = ["PROXYPOOL_SOCKET": socket]
        e.merge(env) { _, new in new }
        return run(Repo.ctl, args, env: e, stdin: stdin)
    }

    /// Status as JSON, parsed loosely.
    func status() throws -> [String: Any] {
        let r = ctl(["status", "--json"])
        guard r.status == 0, let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            throw HarnessError("status failed: \(r.stderr)")
        }
        return obj
    }

    var proxyPort: UInt16 { get throws { UInt16((try status()["listen"] as! String).split(separator: ":").last!)! } }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    var pid: pid_t { process.pid }

    @discardableResult
    func stop(_ sig: Int32 = SIGTERM, timeout: TimeInterval = 15) -> Int32 {
        process.signal(sig)
        return process.wait(timeout: timeout)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A raw connection to the control socket, for frames proxypoolctl would never send.
final class RawControl {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(_ path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let b = Array(path.utf8); raw.copyBytes(from: b); raw[b.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { close(fd); throw HarnessError("connect \(path): errno \(errno)") }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    func send(_ s: String) { send(Array(s.utf8)) }

    /// The next reply line, parsed.
    func reply() throws -> [String: Any] {
        var buf = [UInt8](repeating: 0, count: 65536)
        while !buffer.contains(0x0A) {
            let n = recv(fd, &buf, buf.count, 0)
            guard n > 0 else { throw HarnessError("no reply (recv \(n), errno \(errno))") }
            buffer += buf[0..<n]
        }
        let i = buffer.firstIndex(of: 0x0A)!
        let line = Array(buffer[..<i])
        buffer.removeFirst(i + 1)
        guard let obj = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { throw HarnessError("not an object") }
        return obj
    }

    func call(_ line: String) throws -> [String: Any] { send(line + "\n"); return try reply() }
}

func errorName(_ reply: [String: Any]) -> String? {
    ((reply["error"] as? [String: Any])?["data"] as? [String: Any])?["name"] as? String
}

/// A datagram socket standing in for systemd's NOTIFY_SOCKET.
final class NotifyListener {
    let path: String
    let fd: Int32

    init() {
        path = makeTempDir("notify") + "/notify.sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let b = Array(path.utf8); raw.copyBytes(from: b); raw[b.count] = 0
        }
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Wait for a datagram containing `line` (one of its newline-separated assignments); returns that datagram.
    func waitFor(_ line: String, timeout: TimeInterval = 10) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let n = recv(fd, &buf, buf.count, 0)
            if n > 0 {
                let msg = String(decoding: buf[0..<n], as: UTF8.self)
                if msg.split(separator: "\n").contains(where: { $0 == line }) { return msg }
            }
        }
        return nil
    }
}
