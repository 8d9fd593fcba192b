import Testing
@testable import ProxyPoolCore

@Suite struct HostHeaderTests {
    static let ours: Set<String> = ["localhost", "127.0.0.1", "[::1]", "proxy.lan", "box:9000"]

    @Test(arguments: [
        ("localhost", "localhost", nil),
        ("LOCALHOST", "localhost", nil),
        ("LocalHost:8081", "localhost", 8081),
        ("127.0.0.1:1", "127.0.0.1", 1),
        ("127.0.0.1:65535", "127.0.0.1", 65535),
        ("[::1]", "[::1]", nil),
        ("[::1]:8081", "[::1]", 8081),
        ("[0:0:0:0:0:0:0:1]", "[0:0:0:0:0:0:0:1]", nil),
        ("[FE80::AbCd]:80", "[fe80::abcd]", 80),
        ("[::]", "[::]", nil),
        ("[1::]", "[1::]", nil),
        ("[::ffff:127.0.0.1]", "[::ffff:127.0.0.1]", nil),
        ("[1:2:3:4:5:6:1.2.3.4]", "[1:2:3:4:5:6:1.2.3.4]", nil),
        ("my-host_1.example~x", "my-host_1.example~x", nil),
        ("a!$&'()*+,;=b", "a!$&'()*+,;=b", nil),
        ("ex%41mple", "ex%41mple", nil),
        ("localhost:08081", "localhost", 8081),
    ] as [(String, String, UInt16?)])
    func parsesWellFormedHosts(value: String, host: String, port: UInt16?) {
        #expect(HostHeader.parse(value) == HostHeader.Parsed(host: host, port: port))
    }

    @Test(arguments: [
        "", ":", ":8081", "localhost:", "localhost:0", "localhost:65536", "localhost:123456", "localhost:80a", "localhost:+80",
        "localhost:evil.example", "localhost:8081:1", "localhost:8081 ", " localhost", "local host", "localhost\t",
        "localhost\r\nX: y", "localhost\u{0}", "loc@lhost", "user@localhost", "localhost/", "localhost/x", "localhost?x",
        "localhost#x", "local[host", "ex%4mple", "ex%zzample", "ex%", "lоcalhost" /* Cyrillic о */, "localhost\u{7F}",
        "[::1]evil.example", "[::1]:", "[::1]:0", "[::1]:8081x", "[::1]x:8081", "[::1", "::1", "[]", "[:]", "[:::]",
        "[1:2:3:4:5:6:7:8:9]", "[1:2:3:4:5:6:7]", "[1::2::3]", "[12345::1]", "[g::1]", "[::1%25eth0]", "[::1%eth0]",
        "[v1.fe]", "[::1.2.3.4.5]", "[::256.1.1.1]", "[::01.2.3.4]", "[1.2.3.4::]", "[::1.2.3]", "[1:2:3:4:5:6:7:1.2.3.4]",
        "[[::1]]", "[::1]]", "[ ::1]",
    ])
    func refusesEverythingElse(value: String) {
        #expect(HostHeader.parse(value) == nil, "\(value.debugDescription) should not parse")
        #expect(!HostHeader.isAllowed(value, allowed: Self.ours), "\(value.debugDescription) should not be allowed")
    }

    @Test func refusesOverlongValues() {
        #expect(HostHeader.parse(String(repeating: "a", count: HostHeader.maxLength)) != nil)
        #expect(HostHeader.parse(String(repeating: "a", count: HostHeader.maxLength + 1)) == nil)
    }

    @Test(arguments: [
        ("localhost", true), ("localhost:8081", true), ("LOCALHOST:1", true), ("127.0.0.1:8081", true), ("[::1]:8081", true),
        ("[::1]", true), ("proxy.lan:443", true), ("box:9000", true), ("box:9001", false), ("box", false),
        ("[0:0:0:0:0:0:0:1]", false), ("localhost.", false), ("127.0.0.2", false), ("evil.example", false),
        ("localhost.evil.example", false), ("evil.example:localhost", false), ("[::1]evil.example", false),
        ("localhost:evil.example", false), ("127.0.0.1:8081@evil.example", false),
    ])
    func allowsOnlyOurNames(value: String, allowed: Bool) {
        #expect(HostHeader.isAllowed(value, allowed: Self.ours) == allowed, "\(value)")
    }
}
