import Foundation
import Testing

/// `proxypoolctl credential update`: a credential changed in place keeps its name, chains and usage, and the
/// proxy uses what it holds now from the next request on.
@Suite struct CredentialUpdateTests {
    @Test func aNewSecretAndEndpointServeTheNextRequest() throws {
        let s = try ProxySetup(credentials: [("main", "anthropic", "fake-ok~OLD")], assign: ["claude-code": ["main"]])
        let cc = [("X-Proxypool-App", "claude-code")]
        #expect(try s.messages(headers: cc).status == 200)
        let r = s.daemon.ctl(["credential", "update", "main", "--key-stdin"], stdin: "fake-ok~NEW\n")
        #expect(r.status == 0 && r.stdout.contains("Updated credential main") && !r.stdout.contains("fake-ok~NEW"), Comment(rawValue: r.stderr))
        #expect(try s.messages(headers: cc).status == 200)
        #expect(try s.fake.keysSeen() == ["fake-ok~OLD", "fake-ok~NEW"], "the next request carries the new key")
        // The chain and the kind stay; the log names what changed, never the secret.
        let info = try JSONSerialization.jsonObject(with: Data(s.daemon.ctl(["credential", "show", "main", "--json"]).stdout.utf8)) as! [String: Any]
        #expect(info["assignedTo"] as? [String] == ["claude-code"] && info["provider"] as? String == "anthropic")
        #expect(s.daemon.log.contains("credential main updated (secret)") && !s.daemon.log.contains("fake-ok~NEW"))

        // Another endpoint: a second fake; then back to the first.
        let other = try FakeUpstream()
        #expect(s.daemon.ctl(["credential", "update", "main", "--base-url", other.url]).status == 0)
        #expect(try s.messages(headers: cc).status == 200)
        #expect(try other.keysSeen() == ["fake-ok~NEW"] && (try s.fake.keysSeen().count) == 2)
        #expect(s.daemon.ctl(["credential", "update", "main", "--base-url", s.fake.url, "--free"]).status == 0)
        #expect(try s.messages(headers: cc).status == 200)
        #expect(try s.fake.keysSeen().count == 3)
        #expect(s.daemon.ctl(["credential", "list"]).stdout.contains("yes"), "the free mark is set")
    }

    @Test func optionsAreSetAndUnsetAndBadInputIsRefusedUnchanged() throws {
        let s = try ProxySetup(credentials: [("oa", "openai", "fake-ok~OA")])
        #expect(s.daemon.ctl(["credential", "update", "oa", "--organization", "org-1", "--project", "p-1"]).status == 0)
        func options() throws -> [String: String] {
            let j = try JSONSerialization.jsonObject(with: Data(s.daemon.ctl(["credential", "show", "oa", "--json"]).stdout.utf8)) as! [String: Any]
            return j["options"] as? [String: String] ?? [:]
        }
        #expect(try options() == ["organization": "org-1", "project": "p-1"])
        #expect(s.daemon.ctl(["credential", "update", "oa", "--unset", "organization"]).status == 0)
        #expect(try options() == ["project": "p-1"])
        // Refused, and nothing changed.
        let wrongOption = s.daemon.ctl(["credential", "update", "oa", "--deployment", "d"])
        #expect(wrongOption.status != 0 && wrongOption.stderr.contains("does not apply to openai"), Comment(rawValue: wrongOption.stderr))
        let nothing = s.daemon.ctl(["credential", "update", "oa"])
        #expect(nothing.status != 0 && nothing.stderr.contains("nothing to change"), Comment(rawValue: nothing.stderr))
        let badURL = s.daemon.ctl(["credential", "update", "oa", "--base-url", "ftp://x"])
        #expect(badURL.status != 0, Comment(rawValue: badURL.stderr))
        let missing = s.daemon.ctl(["credential", "update", "nope", "--free"])
        #expect(missing.status != 0 && missing.stderr.contains("nope"))
        #expect(try options() == ["project": "p-1"])
    }
}
