import Glibc
import Testing
import ProxyPoolCore
import ProxyPoolSystem

@Suite struct LogLineEscapingTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("a\nb", #"a\nb"#),
        ("a\r\nproxypoold[1]: error: forged", #"a\r\nproxypoold[1]: error: forged"#),
        ("tab\there", #"tab\there"#),
        ("\u{1B}[31mred", #"\x1b[31mred"#),
        ("nul\u{0}", #"nul\x00"#),
        ("del\u{7F}", #"del\x7f"#),
        ("nel\u{85}next", #"nel\u0085next"#),
        ("csi\u{9B}", #"csi\u009b"#),
        ("ls\u{2028}ps\u{2029}", #"ls\u2028ps\u2029"#),
        ("→ é ñ 漢字 \u{A0}\u{2027}\u{202A}", "→ é ñ 漢字 \u{A0}\u{2027}\u{202A}"),
        (#"back\slash"#, #"back\slash"#),
    ])
    func escapesControlCharacters(raw: String, shown: String) {
        #expect(LogLine.escaped(raw) == shown)
    }

    @Test func everyPartOfALineIsEscaped() {
        var out: [UInt8] = []
        LogLine.append(prefix: Array("proxypoold[7]: ".utf8), level: .info, "GET /x model=m\nproxypoold[1]: error: forged",
                       event: "ev\nent", [.init("MODEL", "m\nforged"), .init("APP", "a\rb")], to: &out)
        let line = String(decoding: out, as: UTF8.self)
        #expect(line == #"proxypoold[7]: info: GET /x model=m\nproxypoold[1]: error: forged [event=ev\nent model=m\nforged app=a\rb]"# + "\n")
        #expect(out.filter { $0 == 0x0A }.count == 1)
    }
}

@Suite struct LoggerOutputTests {
    /// A pipe the logger writes lines to; what it wrote, read back.
    final class Pipe {
        var fds: [Int32] = [0, 0]
        init() { pipe(&fds) }
        deinit { close(fds[0]); close(fds[1]) }
        var writeFD: Int32 { fds[1] }
        func read() -> String {
            _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
            var buf = [UInt8](repeating: 0, count: 65536), out: [UInt8] = []
            while case let n = Glibc.read(fds[0], &buf, buf.count), n > 0 { out += buf[0..<n] }
            return String(decoding: out, as: UTF8.self)
        }
    }

    @Test func aLineOnStderrStaysOneLine() {
        let p = Pipe()
        let logger = Logger(identifier: "proxypoold", level: .info, destination: .lines(fd: p.writeFD))
        #expect(!logger.usesJournal)
        logger.info("POST /v1/messages app=a model=x\nproxypoold[1]: error: forged status=200", event: "request",
                    [.init("MODEL", "x\nproxypoold[1]: error: forged")])
        logger.debug("not at this level")
        let text = p.read()
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1, "\(text)")
        #expect(lines.first?.hasPrefix("proxypoold[\(getpid())]: info: POST /v1/messages app=a model=x\\nproxypoold[1]: error: forged") == true, "\(text)")
        #expect(lines.first?.hasSuffix("[event=request model=x\\nproxypoold[1]: error: forged]") == true, "\(text)")
    }

    /// A datagram socket standing in for journald's.
    final class FakeJournal {
        let path: String
        var fd: Int32 = -1
        init(_ path: String) { self.path = path; bind() }
        func bind() {
            unlink(path)
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in let b = Array(path.utf8); raw.copyBytes(from: b); raw[b.count] = 0 }
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            var tv = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        /// journald restarting: the old socket goes, a new one takes the path.
        func restart() { close(fd); bind() }
        deinit { close(fd); unlink(path) }

        /// The next record, decoded from the native protocol (both the `K=v` and the length-prefixed form).
        func record() -> [String: String]? {
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            let n = recv(fd, &buf, buf.count, 0)
            guard n > 0 else { return nil }
            let b = Array(buf[0..<n])
            var fields: [String: String] = [:], i = 0
            while i < b.count {
                guard let nl = b[i...].firstIndex(of: 0x0A) else { return nil }
                if let eq = b[i..<nl].firstIndex(of: UInt8(ascii: "=")) {
                    fields[String(decoding: b[i..<eq], as: UTF8.self)] = String(decoding: b[(eq + 1)..<nl], as: UTF8.self)
                    i = nl + 1
                } else {
                    let key = String(decoding: b[i..<nl], as: UTF8.self)
                    guard nl + 9 <= b.count else { return nil }
                    let len = b[(nl + 1)...(nl + 8)].reversed().reduce(0) { $0 << 8 | Int($1) }
                    let start = nl + 9
                    guard start + len < b.count, b[start + len] == 0x0A else { return nil }
                    fields[key] = String(decoding: b[start..<(start + len)], as: UTF8.self)
                    i = start + len + 1
                }
            }
            return fields
        }
    }

    static func tempSocketPath() -> String {
        var template = Array("/tmp/proxypool-journal-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        return dir + "/socket"
    }

    @Test func aJournalRecordKeepsEachValueWholeInItsField() throws {
        let journal = FakeJournal(Self.tempSocketPath())
        let logger = Logger(identifier: "proxypoold", level: .info, destination: .journal(socketPath: journal.path))
        #expect(logger.usesJournal)
        logger.info("POST /v1/messages model=x\ny", event: "request", [.init("MODEL", "x\ny"), .init("STATUS", "200")])
        let r = try #require(journal.record())
        #expect(r["MESSAGE"] == "POST /v1/messages model=x\ny")
        #expect(r["PRIORITY"] == "6")
        #expect(r["SYSLOG_IDENTIFIER"] == "proxypoold")
        #expect(r["PROXYPOOL_EVENT"] == "request")
        #expect(r["PROXYPOOL_MODEL"] == "x\ny")
        #expect(r["PROXYPOOL_STATUS"] == "200")
        #expect(r.count == 6)
        logger.warning("second")
        #expect(journal.record()?["PRIORITY"] == "4")
    }

    @Test func theLoggerFindsJournaldAgainAfterARestart() throws {
        let journal = FakeJournal(Self.tempSocketPath())
        let logger = Logger(identifier: "proxypoold", level: .info, destination: .journal(socketPath: journal.path))
        logger.notice("before")
        #expect(journal.record()?["MESSAGE"] == "before")
        journal.restart()
        logger.notice("after")
        #expect(journal.record()?["MESSAGE"] == "after")
    }

    @Test func noJournalSocketMeansLinesFromTheStart() {
        let logger = Logger(identifier: "proxypoold", level: .error, destination: .journal(socketPath: "/nonexistent/journal/socket"))
        #expect(!logger.usesJournal)
    }
}
