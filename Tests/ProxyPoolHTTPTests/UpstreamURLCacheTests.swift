import Testing
import ProxyPoolSystem
@testable import ProxyPoolUpstream

/// `Upstreams` keeps the URL it parsed last beside its table of parsed URLs: whatever the order of look-ups,
/// each URL must come back parsed as itself (never the previous one's target or port), and a URL our client
/// leaves to curl stays nil.
@Suite struct UpstreamURLCacheTests {
    @Test func eachLookUpGivesItsOwnURL() {
        let upstreams = Upstreams(loop: EventLoop())
        let urls = ["http://127.0.0.1:9/v1/chat/completions", "http://127.0.0.1:9/v1/responses", "https://h.invalid/x?y=1",
                    "ftp://127.0.0.1/", "http://127.0.0.1:9/v1/chat/completions"]
        for round in 0..<3 {
            for u in urls + urls.reversed() + [urls[round], urls[round]] {
                #expect(upstreams.url(u) == UpstreamURL(u), "\(u)")
            }
        }
        #expect(upstreams.url("http://127.0.0.1:9/v1/responses")?.target == "/v1/responses")
        #expect(upstreams.url("http://127.0.0.1:9/v1/responses")?.target == "/v1/responses")
        #expect(upstreams.url("ftp://127.0.0.1/") == nil)
        #expect(upstreams.url("http://127.0.0.1:10/v1/responses")?.port == 10)
    }
}

/// The upstream request's bytes: each header line once, a curl-style "Name:" (no value) left out, and nothing at
/// all when a line is empty or holds a line break (either would end the head early).
@Suite struct UpstreamRequestBytesTests {
    static func bytes(_ headers: [String], method: String = "POST", body: String = "{}") -> String? {
        let url = UpstreamURL("http://127.0.0.1:9/v1/x?q=1")!
        let r = UpstreamRequest(url: "http://127.0.0.1:9/v1/x?q=1", method: method, headers: headers, body: Array(body.utf8))
        return HTTP1Client.serialize(r, url).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func headerLinesGoOutAsWritten() {
        #expect(Self.bytes(["Content-Type: application/json", "Expect:", "X-Long: " + String(repeating: "v", count: 300)])
                == "POST /v1/x?q=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nContent-Type: application/json\r\nX-Long: "
                + String(repeating: "v", count: 300) + "\r\nContent-Length: 2\r\n\r\n{}")
        #expect(Self.bytes([], method: "GET", body: "") == "GET /v1/x?q=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n")
    }

    @Test func anEmptyLineOrALineBreakSendsNothing() {
        #expect(Self.bytes(["A: b", ""]) == nil)
        #expect(Self.bytes(["A: b\rc"]) == nil)
        #expect(Self.bytes(["A: b\nc"]) == nil)
        #expect(Self.bytes(["A: b", "C: d"]) != nil)
    }
}
