import Foundation
import Testing
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolStore
import ProxyPoolControl
@testable import ProxyPoolDaemon

/// `RPC.all` is the one list of control methods: the daemon handles each, and docs/control-protocol.md
/// describes each (PackagingTests) and names the changing ones.
@Suite struct ControlMethodTableTests {
    @Test func everyMethodHasAHandlerAndNoHandlerIsUnlisted() throws {
        let store = try Store(directory: makeTempDir("methods"))
        let handlers = ControlMethods.make(store: store, logger: Logger(identifier: "test", level: .error),
                                           status: { throw RPCError.internalError("not in this test") }, changed: { _ in })
        #expect(handlers.methods == RPC.allNames.sorted())
    }

    @Test func namesAreUnique() {
        #expect(Set(RPC.allNames).count == RPC.allNames.count)
    }

    @Test func docNamesExactlyTheMethodsThatChangeState() throws {
        let doc = try String(contentsOfFile: Repo.root + "/docs/control-protocol.md", encoding: .utf8)
        // "Methods that change state (`credential.add`, …, `tier-rule.remove`) do so in one store transaction"
        let paragraph = doc.components(separatedBy: "Methods that change state (").dropFirst().first?.components(separatedBy: ")").first ?? ""
        let listed = paragraph.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        #expect(listed.sorted() == RPC.mutatingNames.sorted(), "docs/control-protocol.md's list of methods that change state")
    }
}
