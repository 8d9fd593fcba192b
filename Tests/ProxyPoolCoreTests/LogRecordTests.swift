import Glibc
import Testing
import ProxyPoolCore
import ProxyPoolSystem

/// `Logger.record` (typed values, deferred until `flush`) must write exactly what `Logger.log` writes for the
/// same message and fields, in both forms, and keep the log's order.
@Suite struct LogRecordTests {
    typealias Pipe = LoggerOutputTests.Pipe
    typealias FakeJournal = LoggerOutputTests.FakeJournal

    /// Hostile parts: a forged line, control characters, C1 and line separators, a long number.
    static let model = "m\nproxypoold[1]: error: forged\u{85}\u{2028}"
    static let path: Substring = "/v1/chat/completions"

    static func viaRecord(_ logger: Logger) {
        logger.record(.info, event: "request") { r in
            r.literal("POST"); r.literal(" "); r.text(path); r.literal(" model="); r.text(model)
            r.literal(" status="); r.number(200); r.literal(" "); r.number(Int64.min); r.literal("ms")
            // Keys made beforehand (`LogKey`) and composed per field (StaticString) write the same bytes.
            r.field(LogKey(journal: "PROXYPOOL_MODEL", line: " model="), model)
            r.field(LogKey(journal: "PROXYPOOL_STATUS", line: " status="), 200)
            r.field("LATENCY_MS", Int64.max)
            r.field("NEGATIVE", -42)
            r.field(LogKey(journal: "PROXYPOOL_MIN", line: " min="), Int64.min)
            r.field("ZERO", 0)
            r.field(LogKey(journal: "PROXYPOOL_EMPTY", line: " empty="), "")
        }
    }

    static func viaLog(_ logger: Logger) {
        logger.info("POST /v1/chat/completions model=\(model) status=200 \(Int64.min)ms", event: "request",
                    [.init("MODEL", model), .init("STATUS", "200"), .init("LATENCY_MS", String(Int64.max)), .init("NEGATIVE", "-42"), .init("MIN", String(Int64.min)), .init("ZERO", "0"),
                     .init("EMPTY", "")])
    }

    @Test func aLineIsTheLineLogWrites() {
        let a = Pipe(), b = Pipe()
        let byRecord = Logger(identifier: "proxypoold", level: .info, destination: .lines(fd: a.writeFD))
        let byLog = Logger(identifier: "proxypoold", level: .info, destination: .lines(fd: b.writeFD))
        Self.viaRecord(byRecord)
        #expect(a.read() == "", "deferred until flush")
        byRecord.flush()
        Self.viaLog(byLog)
        let line = a.read()
        #expect(line == b.read())
        #expect(line.filter { $0 == "\n" }.count == 1)
        #expect(line.contains("[event=request model=m\\nproxypoold[1]: error: forged\\u0085\\u2028 status=200 latency_ms=9223372036854775807 negative=-42 min=-9223372036854775808 zero=0 empty=]"))
    }

    /// Parts longer than the record's 1 KiB scratch area, and many short ones that fill it, in both forms.
    @Test func longRecordsAreTheOnesLogWrites() throws {
        let long = String(repeating: "abcdefghij", count: 150) + "\n" + String(repeating: "y", count: 700)
        func viaRecord(_ logger: Logger) {
            logger.record(.info, event: "request") { r in
                r.literal("POST "); r.text(long)
                for i in 0..<120 { r.literal(" n="); r.number(i * 1_000_003) }
                r.field("MODEL", long)
                for i in 0..<60 {
                    if i % 2 == 0 { r.field("COUNT", Int64(i) * -77_777_777) }
                    else { r.field(LogKey(journal: "PROXYPOOL_COUNT", line: " count="), Int64(i) * -77_777_777) }
                }
                r.field(LogKey(journal: "PROXYPOOL_LONG", line: " long="), long)
                r.field("LAST", "x")
                // Keys are ours, but a line shows any key the way `log` does (lower case, `?` for the invisible).
                r.field("ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789", 1)
                r.field("A B\u{7F}CDEFGH\tIJ", 2)
            }
        }
        func viaLog(_ logger: Logger) {
            let numbers = (0..<120).map { " n=\($0 * 1_000_003)" }.joined()
            logger.info("POST \(long)\(numbers)", event: "request",
                        [.init("MODEL", long)] + (0..<60).map { .init("COUNT", String(Int64($0) * -77_777_777)) } + [.init("LONG", long), .init("LAST", "x"),
                         .init("ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789", "1"), .init("A B\u{7F}CDEFGH\tIJ", "2")])
        }
        let a = Pipe(), b = Pipe()
        let byRecord = Logger(identifier: "proxypoold", level: .info, destination: .lines(fd: a.writeFD))
        let byLog = Logger(identifier: "proxypoold", level: .info, destination: .lines(fd: b.writeFD))
        viaRecord(byRecord)
        byRecord.flush()
        viaLog(byLog)
        let line = a.read()
        #expect(line.utf8.count > 5000)
        #expect(line == b.read())

        let journal = FakeJournal(LoggerOutputTests.tempSocketPath())
        let logger = Logger(identifier: "proxypoold", level: .info, destination: .journal(socketPath: journal.path))
        viaRecord(logger)
        logger.flush()
        viaLog(logger)
        let first = try #require(journal.record()), second = try #require(journal.record())
        #expect(first == second)
        #expect(first["PROXYPOOL_MODEL"] == long)
    }

    @Test func aJournalDatagramIsTheOneLogSends() throws {
        let journal = FakeJournal(LoggerOutputTests.tempSocketPath())
        let logger = Logger(identifier: "proxypoold", level: .info, destination: .journal(socketPath: journal.path))
        Self.viaRecord(logger)
        Self.viaRecord(logger)
        logger.flush()
        Self.viaLog(logger)
        let first = try #require(journal.record()), second = try #require(journal.record()), third = try #require(journal.record())
        #expect(first == third)
        #expect(second == third)
        #expect(first["MESSAGE"] == "POST /v1/chat/completions model=\(Self.model) status=200 \(Int64.min)ms")
        #expect(first["PROXYPOOL_MODEL"] == Self.model)
        #expect(first["PROXYPOOL_LATENCY_MS"] == String(Int64.max))
        #expect(first["PROXYPOOL_EVENT"] == "request")
    }

    @Test func aKeysTwoFormsMustAgree() {
        #expect(LogKey.agree("PROXYPOOL_LATENCY_MS", " latency_ms="))
        #expect(LogKey.agree("PROXYPOOL_A1", " a1="))
        #expect(!LogKey.agree("PROXYPOOL_STATUS", " Status="))
        #expect(!LogKey.agree("PROXYPOOL_STATUS", "status="))
        #expect(!LogKey.agree("PROXYPOOL_STATUS", " status"))
        #expect(!LogKey.agree("STATUS", " status="))
        #expect(!LogKey.agree("PROXYPOOL_", " ="))
        #expect(!LogKey.agree("PROXYPOOL_A B", " a b="))
    }

    @Test func aRecordTheJournalRefusesBecomesTheSameLine() {
        var record: [UInt8] = []
        JournalRecord.append("GET /x\nforged", level: .warning, identifier: "proxypoold", event: "request",
                             [.init("MODEL", "a\nb"), .init("STATUS", "502")], to: &record)
        var fromJournal: [UInt8] = [], direct: [UInt8] = []
        JournalRecord.appendAsLine(record, prefix: Array("proxypoold[9]: ".utf8), to: &fromJournal)
        LogLine.append(prefix: Array("proxypoold[9]: ".utf8), level: .warning, "GET /x\nforged", event: "request",
                       [.init("MODEL", "a\nb"), .init("STATUS", "502")], to: &direct)
        #expect(String(decoding: fromJournal, as: UTF8.self) == String(decoding: direct, as: UTF8.self))
    }

    @Test func deferredRecordsGoBeforeALaterImmediateOne() {
        let p = Pipe()
        let logger = Logger(identifier: "proxypoold", level: .info, destination: .lines(fd: p.writeFD))
        logger.record(.info, event: "request") { $0.text("first") }
        logger.record(.info, event: "request") { $0.text("second") }
        logger.warning("third")
        let lines = p.read().split(separator: "\n").map { $0.split(separator: ": ", maxSplits: 2).last.map(String.init) ?? "" }
        #expect(lines == ["first [event=request]", "second [event=request]", "third"])
    }

    @Test func aDisabledLevelBuildsNothing() {
        let p = Pipe()
        let logger = Logger(identifier: "proxypoold", level: .warning, destination: .lines(fd: p.writeFD))
        var built = false
        logger.record(.info, event: "request") { _ in built = true }
        logger.flush()
        #expect(!built)
        #expect(p.read() == "")
    }

    @Test func manyRecordsLeaveWithoutAFlushOnceEnoughArePending() {
        // A file, not a pipe: 64 KiB would fill a pipe nobody reads yet.
        var template = Array("/tmp/proxypool-log-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        defer { close(fd); template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } }
        func lines() -> Int {
            var buf = [UInt8](repeating: 0, count: 1 << 20)
            let n = pread(fd, &buf, buf.count, 0)
            return buf[0..<max(0, n)].filter { $0 == 0x0A }.count
        }
        let logger = Logger(identifier: "proxypoold", level: .info, destination: .lines(fd: fd))
        let long = String(repeating: "x", count: 1000)
        for _ in 0..<80 { logger.record(.info, event: "request") { $0.text(long) } }   // 80 KB: over the 64 KiB limit
        let before = lines()
        #expect(before >= 60 && before < 80)
        logger.flush()
        #expect(lines() == 80)
    }

    @Test func manyDatagramsLeaveInOneFlush() throws {
        let journal = FakeJournal(LoggerOutputTests.tempSocketPath())
        let logger = Logger(identifier: "proxypoold", level: .info, destination: .journal(socketPath: journal.path))
        // More than one sendmmsg batch (64), and more than the kernel queues for an unread socket (10): the
        // flush blocks until this reader has taken them, as it would with a slow journald.
        let got = Mutex()
        nonisolated(unsafe) var records: [[String: String]] = []
        nonisolated(unsafe) let reader = journal
        Threads.start { for _ in 0..<150 { guard let r = reader.record() else { break }; got.locked { records.append(r) } } }
        for i in 0..<150 { logger.record(.info, event: "request") { $0.literal("n="); $0.number(i); $0.field("N", i) } }
        logger.flush()
        let deadline = Posix.monotonicMillis() + 5000
        while got.locked({ records.count }) < 150 && Posix.monotonicMillis() < deadline { usleep(2000) }
        let all = got.locked { records }
        try #require(all.count == 150)
        for (i, r) in all.enumerated() { #expect(r["MESSAGE"] == "n=\(i)" && r["PROXYPOOL_N"] == String(i)) }
    }
}
