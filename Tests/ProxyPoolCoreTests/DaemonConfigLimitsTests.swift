import Testing
@testable import ProxyPoolCore

/// The proxy's limits against hostile clients: defaults a slowloris cannot use, and the checks at start.
@Suite struct DaemonConfigLimitsTests {
    @Test func defaultsHoldSlowClientsToSeconds() {
        let c = DaemonConfig()
        #expect(c.idleTimeout == 10 && c.headerTimeout == 10 && c.bodyTimeout == 10 && c.bodyMinRate == 1024)
        #expect(c.sendTimeout == 60)
        #expect(c.maxBodyBytes == 32 << 20 && c.maxBufferedBytes == 256 << 20)
        #expect(c.refusal() == nil)
    }

    @Test func newKeysParseWithinTheirRanges() throws {
        var c = DaemonConfig()
        try DaemonConfig.parseFile("body-timeout = 5\nbody-min-rate = 0\nsend-timeout = 2\nmax-buffered-bytes = 1073741824\n", into: &c, source: "t")
        #expect(c.bodyTimeout == 5 && c.bodyMinRate == 0 && c.sendTimeout == 2 && c.maxBufferedBytes == 1 << 30)
        for bad in ["body-timeout = 0", "send-timeout = 0", "body-min-rate = -1", "max-buffered-bytes = 10", "send-timeout = x"] {
            #expect(throws: ConfigError.self, "\(bad)") { try DaemonConfig.parseFile(bad, into: &c, source: "t") }
        }
    }

    @Test func bufferedBytesBelowTheBodyLimitIsRefused() throws {
        var c = DaemonConfig()
        try c.set(.maxBufferedBytes, "1048576")
        #expect(c.refusal()?.contains("max-buffered-bytes (1048576) is smaller than max-body-bytes (33554432)") == true)
        try c.set(.maxBodyBytes, "1048576")
        #expect(c.refusal() == nil)
    }

    @Test func maxConnectionsMustFitTheOpenFilesLimit() throws {
        var c = DaemonConfig()
        try c.set(.maxConnections, "100")
        #expect(c.descriptorShortfall(limit: nil) == nil, "unlimited")
        #expect(c.descriptorShortfall(limit: 132) == nil, "100 connections and 32 more fit exactly")
        let why = c.descriptorShortfall(limit: 131)
        #expect(why?.hasPrefix("max-connections = 100 needs at least 132 open files, but the limit is 131") == true)
        #expect(why?.contains("LimitNOFILE=") == true)
    }
}
