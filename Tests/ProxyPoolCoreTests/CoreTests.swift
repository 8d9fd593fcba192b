import Testing
@testable import ProxyPoolCore

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Two-block message from FIPS 180-4's examples.
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func accessKeysHaveFormatAndEntropy() {
        let a = AccessKeys.generate(), b = AccessKeys.generate()
        #expect(a.hasPrefix("ppk_") && a.count == 47 && a != b)
        #expect(a.dropFirst(4).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(AccessKeys.hash(a).count == 64 && AccessKeys.hash(a) != AccessKeys.hash(b))
        #expect(AccessKeys.newID().count == 9)
    }
}

@Suite struct ValidationTests {
    @Test(arguments: ["openai-main", "azure-key-1", "a", "A.b_c-1", String(repeating: "x", count: 64)])
    func goodNames(_ n: String) throws { try Validation.name(n, what: "name") }

    @Test(arguments: ["", "-lead", ".hidden", "has space", "slash/x", "ünï", "semi;colon", String(repeating: "x", count: 65)])
    func badNames(_ n: String) { #expect(throws: RPCError.self) { try Validation.name(n, what: "name") } }

    @Test(arguments: ["https://api.openai.com/v1", "http://127.0.0.1:8080", "https://r.openai.azure.com/openai/v1"])
    func goodURLs(_ u: String) throws { try Validation.baseURL(u) }

    @Test(arguments: ["ftp://x", "api.openai.com", "https://", "https://user:pw@host/v1", "https://h/v1?x=1", "https://h/a b", "https://h/#f"])
    func badURLs(_ u: String) { #expect(throws: RPCError.self) { try Validation.baseURL(u) } }

    @Test func trimmingHandlesLoneNewlinesAndCRLF() {
        #expect("  key\n".trimming(" \t\r\n") == "key")
        #expect("key\r\n".trimming(" \t\r\n") == "key")
        #expect("\tkey".trimming(" \t\r\n") == "key")
    }
}

@Suite struct RedactionTests {
    @Test(arguments: [
        ("sk-proj-abcdefghijklmnopqrstuvwxyz1234", "sk-proj-…1234"),
        ("sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-wxyz", "sk-ant-api03-…wxyz"),
        ("AIzaSyA1234567890abcdefghijklmnopQRST", "AIza…QRST"),
        ("0123456789abcdef0123", "…0123"),
        ("short", "…"),
        ("sk-12345678", "…"),
    ])
    func redactsToPrefixAndLastFour(secret: String, expected: String) {
        #expect(Redaction.redact(secret) == expected)
    }

    @Test func neverShowsTheSecretBody() {
        let secret = "sk-or-v1-" + String(repeating: "Q", count: 40) + "Zz99"
        let r = Redaction.redact(secret)
        #expect(!r.contains("QQQQ") && r.hasSuffix("Zz99"))
        let json = #"{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----MIIEv...","client_email":"a@b"}"#
        #expect(!Redaction.redact(json).contains("PRIVATE"))
    }
}

@Suite struct ListenAddressTests {
    @Test func parsesAndClassifies() throws {
        let a = try ListenAddress(parsing: "127.0.0.1:8081")
        #expect(a.port == 8081 && a.isLoopback && a.description == "127.0.0.1:8081")
        #expect(try ListenAddress(parsing: "localhost:9000").host == "127.0.0.1")
        #expect(try ListenAddress(parsing: "[::1]:8081").isLoopback)
        #expect(try ListenAddress(parsing: "127.9.9.9:1").isLoopback)
        #expect(try !ListenAddress(parsing: "0.0.0.0:8081").isLoopback)
        #expect(try !ListenAddress(parsing: "[::]:8081").isLoopback)
        #expect(try !ListenAddress(parsing: "192.0.2.1:8081").isLoopback)
        #expect(try ListenAddress(parsing: "[::ffff:127.0.0.1]:1").isLoopback)
    }

    @Test(arguments: ["8081", "host:8081", "127.0.0.1", "127.0.0.1:99999", "::1:8081", "[::1]8081", "127.0.0.1:x"])
    func rejects(_ s: String) { #expect(throws: ConfigError.self) { try ListenAddress(parsing: s) } }
}

@Suite struct DaemonConfigTests {
    @Test func parsesFileWithComments() throws {
        var c = DaemonConfig()
        try DaemonConfig.parseFile("""
            # comment
            ; also a comment
            listen = 127.0.0.1:9999
              log-level=debug
            shutdown-timeout = 3

            """, into: &c, source: "t.conf")
        #expect(c.listen.port == 9999 && c.logLevel == .debug && c.shutdownTimeout == 3)
        #expect(c.refusal() == nil)
    }

    @Test func unknownKeyNamesTheLine() {
        var c = DaemonConfig()
        #expect(throws: ConfigError("t.conf:2: unknown key 'lisen' (known: \(DaemonConfig.Key.allCases.map(\.rawValue).joined(separator: ", ")))")) {
            try DaemonConfig.parseFile("log-level = info\nlisen = 1.2.3.4:5\n", into: &c, source: "t.conf")
        }
        #expect(throws: ConfigError.self) { try DaemonConfig.parseFile("state-dir = relative/path", into: &c, source: "t") }
        #expect(throws: ConfigError.self) { try DaemonConfig.parseFile("no equals sign", into: &c, source: "t") }
        #expect(throws: ConfigError.self) { try DaemonConfig.parseFile("allow-non-loopback = maybe", into: &c, source: "t") }
    }

    @Test func nonLoopbackNeedsExplicitConsent() throws {
        var c = DaemonConfig()
        try c.set(.listen, "0.0.0.0:8081")
        #expect(c.refusal()?.contains("allow-non-loopback = yes") == true)
        try c.set(.allowNonLoopback, "yes")
        #expect(c.refusal() == nil)
    }
}

@Suite struct TimestampTests {
    @Test func formatsUTC() {
        #expect(Timestamp.iso8601(0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.iso8601(1_795_000_000) == "2026-11-18T11:06:40Z")   // date -u -d @1795000000
    }
}
