import Testing
import ProxyPoolCore
import ProxyPoolControl

/// The protocol's methods, pinned: PackagingTests checks the doc against `RPC.allNames`, and this keeps a method
/// from disappearing from both unnoticed.
@Test func documentedMethodListMatchesTheProtocol() {
    #expect(RPC.allNames.sorted() == ["alias.list", "alias.remove", "alias.set", "app-rule.add", "app-rule.list", "app-rule.remove", "app.list", "assign", "assignment.list", "configure.apply", "configure.preview", "credential.add", "credential.list", "credential.remove",
                                      "credential.set-enabled", "credential.show", "credential.test", "credential.update", "dashboard.link", "dashboard.logout-all", "key.create", "key.list", "key.revoke",
                                      "settings.get", "settings.set", "status", "tier-rule.add", "tier-rule.list", "tier-rule.remove",
                                      "tier.classify", "tier.list", "tier.set", "unassign", "usage"])
}
