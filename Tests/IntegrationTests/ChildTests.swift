import Foundation
import Glibc
import Testing

/// The harness's own promise: a daemon under test gets stdin, stdout and stderr, and nothing else of the test
/// process. The tests share one process, so an inherited socket of another test's fake server would keep
/// that test's connection open after its server closed it.
@Suite struct ChildTests {
    @Test func aChildInheritsNoDescriptorButTheStandardThree() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)   // deliberately without O_CLOEXEC, like the fake servers' sockets
        defer { close(fds[0]); close(fds[1]) }
        let out = makeTempDir("child") + "/out"
        let child = try Child("/bin/sh", ["-c", "for f in 0 1 2 \(fds[0]) \(fds[1]); do [ -e /proc/$$/fd/$f ] && echo $f; done; true"],
                              env: [:], stdout: out)
        #expect(child.wait() == 0)
        let open = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(open == ["0", "1", "2"], "the child saw descriptors \(open) of the test process")
    }
}
