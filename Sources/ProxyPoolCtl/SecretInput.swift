import Glibc
import ProxyPoolCore
import ProxyPoolSystem

/// Reading a secret without it ever being an argument: stdin, a file, an environment variable, or a
/// prompt on the terminal with echo off.
enum SecretInput {
    static func read(_ ctx: Ctl.Context, name: String) throws -> String {
        let inv = ctx.invocation
        let given = [inv.flag("key-stdin"), inv.value("key-file") != nil, inv.value("key-env") != nil, inv.flag("adc") || inv.value("adc") != nil].filter { $0 }.count
        guard given <= 1 else { throw Ctl.usage("give the secret one way only: --key-stdin, --key-file, --key-env or --adc") }
        let raw: String
        if inv.flag("adc") || inv.value("adc") != nil {
            let path: String
            if let given = inv.value("adc") { path = given } else {
                // Where gcloud writes it (`gcloud auth application-default login`): $CLOUDSDK_CONFIG, else ~/.config/gcloud.
                guard let dir = Posix.environment("CLOUDSDK_CONFIG") ?? Posix.environment("HOME").map({ $0 + "/.config/gcloud" }) else {
                    throw Ctl.usage("--adc needs HOME or CLOUDSDK_CONFIG to find application_default_credentials.json; or give the file: --adc=FILE")
                }
                path = dir + "/application_default_credentials.json"
            }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw Ctl.Failure(message: "cannot read \(path): \(String(cString: strerror(errno)))",
                                  hint: "run 'gcloud auth application-default login', or give the file with --adc=FILE", code: ExitCode.failure)
            }
            defer { close(fd) }
            raw = try readAll(fd: fd, what: path)
        } else if inv.flag("key-stdin") {
            raw = try readAll(fd: 0, what: "standard input")
        } else if let path = inv.value("key-file") {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Ctl.Failure(message: "cannot read \(path): \(String(cString: strerror(errno)))", hint: nil, code: ExitCode.failure) }
            defer { close(fd) }
            raw = try readAll(fd: fd, what: path)
        } else if let v = inv.value("key-env") {
            guard let value = Posix.environment(v) else {
                throw Ctl.usage("environment variable \(v) is not set or empty")
            }
            raw = value
        } else if isatty(0) == 1 {
            raw = try prompt("Secret for \(name) (input hidden): ")
        } else {
            throw Ctl.usage("no secret given: use --key-stdin, --key-file FILE or --key-env VAR (a secret is never taken as an argument)")
        }
        let secret = raw.trimming(" \t\r\n")
        guard !secret.isEmpty else { throw Ctl.usage("the secret is empty") }
        return secret
    }

    static func readAll(fd: Int32, what: String) throws -> String {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw Ctl.Failure(message: "cannot read \(what): \(String(cString: strerror(errno)))", hint: nil, code: ExitCode.failure) }
            if n == 0 { break }
            out += buf[0..<n]
            if out.count > 64 * 1024 { throw Ctl.usage("the secret read from \(what) is longer than 64 KiB") }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func prompt(_ text: String) throws -> String {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else { throw Ctl.usage("no terminal to ask for the secret; use --key-stdin, --key-file or --key-env") }
        defer { close(tty) }
        try? Posix.writeAll(tty, Array(text.utf8))
        var old = termios()
        tcgetattr(tty, &old)
        var quiet = old
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(tty, TCSANOW, &quiet)   // not TCSAFLUSH: that discards what was typed ahead
        defer { tcsetattr(tty, TCSANOW, &old); try? Posix.writeAll(tty, [0x0A]) }
        var line: [UInt8] = []
        var c: UInt8 = 0
        while Glibc.read(tty, &c, 1) == 1 && c != 0x0A { line.append(c); if line.count > 64 * 1024 { break } }
        return String(decoding: line, as: UTF8.self)
    }
}
