import Foundation
import Glibc
import Testing
import ProxyPoolCore
@testable import ProxyPoolDaemon

/// The dashboard's configure.* edit files only for the daemon's own user: the caller must be that uid, and so
/// must the owner of each file (or its nearest existing directory).
@Suite struct ConfigureOwnerTests {
    func refusal(_ tool: ConfigurableTool, _ home: ToolHome, caller: UInt32?, daemon: uid_t) -> String? {
        do { try ConfigureControl.checkOwner(tool, home, caller: caller, daemon: daemon); return nil } catch {
            #expect(error.name == "permission-denied" && error.data?.hint?.contains("proxypoolctl configure \(tool.rawValue) --write") == true)
            return error.message
        }
    }

    @Test func anUnknownOrOtherCallerIsRefused() {
        let home = ToolHome(home: NSTemporaryDirectory())
        #expect(refusal(.codex, home, caller: nil, daemon: geteuid())?.contains("user is unknown") == true)
        #expect(refusal(.codex, home, caller: geteuid() &+ 1, daemon: geteuid())?.contains("this request comes from uid \(geteuid() &+ 1)") == true)
    }

    @Test func filesOfAnotherUidAreRefusedAndOwnFilesPass() throws {
        // "/" belongs to root: a daemon of another uid may not write under it.
        let notRoot: uid_t = 4_000_000
        #expect(refusal(.geminiCLI, ToolHome(home: "/nonexistent-home"), caller: notRoot, daemon: notRoot)?.contains("belongs to uid 0") == true)
        let dir = NSTemporaryDirectory() + "/configure-owner-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(refusal(.openclaw, ToolHome(home: dir), caller: geteuid(), daemon: geteuid()) == nil)
    }
}

/// A session remembers the uid that asked for its link: whose files the Configure buttons are for.
@Test func aSessionKnowsWhoAskedForItsLink() throws {
    let s = DashboardSessions()
    let (_, mine) = try #require(s.redeem(s.newLink(nowMillis: 1000, by: 1234), nowMillis: 2000))
    #expect(mine.openedBy == 1234)
    #expect(s.session(id: mine.id, nowMillis: 3000)?.openedBy == 1234)
    let (_, unknown) = try #require(s.redeem(s.newLink(nowMillis: 1000), nowMillis: 2000))
    #expect(unknown.openedBy == nil)
    #expect(s.session(id: mine.id, nowMillis: 2000 + DashboardSessions.sessionLifetimeMillis) == nil, "an ended session is no one's")
}
