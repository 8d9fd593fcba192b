import Foundation
import Glibc
import Testing

/// What proxypoold shows, and to whom: no client string can forge a line of the daemon's log.
@Suite struct ExposureTests {
    @Test func clientStringsCannotForgeALogLine() throws {
        let s = try ProxySetup(credentials: [("a", "anthropic", "fake-ok")])
        // A model name with a line break (JSON's \n), and an app rule value with one: both reach a log record.
        let served = try s.messages(model: #"claude-sonnet-4-5\nproxypoold[1]: error: forged-by-model"#)
        let rule = s.daemon.ctl(["app", "rule", "add", "User-Agent", "prefix", "x\nproxypoold[1]: error: forged-by-rule", "someapp"])
        #expect(rule.status == 0, "\(rule)")
        usleep(200_000)
        let lines = s.daemon.log.split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix("proxypoold[1]:") }, "a forged line: \(s.daemon.log)")
        #expect(s.daemon.log.contains(#"'x\nproxypoold[1]: error: forged-by-rule'"#), "\(s.daemon.log)")
        // The model may be refused before routing; when it is served, its record shows it escaped.
        if served.status == 200 {
            #expect(s.daemon.log.contains(#"model=claude-sonnet-4-5\nproxypoold[1]: error: forged-by-model"#), "\(s.daemon.log)")
        }
    }
}
