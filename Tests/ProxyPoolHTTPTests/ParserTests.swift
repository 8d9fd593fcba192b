import Testing
@testable import ProxyPoolHTTP
@testable import ProxyPoolHTTPWire

func parseAll(_ text: String, limits: HTTPLimits = HTTPLimits(), split: Int? = nil) throws(HTTPParseError) -> (HTTPRequestHead?, [UInt8]?) {
    var p = HTTPRequestParser(limits: limits)
    let bytes = Array(text.utf8)
    var head: HTTPRequestHead?
    var body: [UInt8]?
    let step = split ?? bytes.count
    var i = 0
    while i < bytes.count {
        for e in try p.feed(bytes[i..<min(bytes.count, i + max(step, 1))]) {
            switch e {
            case .head(let h): head = h
            case .complete(let b): body = b
            }
        }
        i += max(step, 1)
    }
    return (head, body)
}

func status(_ text: String, limits: HTTPLimits = HTTPLimits()) -> Int? {
    do { _ = try parseAll(text, limits: limits); return nil } catch { return error.status }
}

@Suite struct ParserTests {
    @Test func contentLengthBodyInAnyFragmentation() throws {
        let req = "POST /v1/messages?beta=true HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"bc\"}\n"
        for split in [1, 2, 7, 1000] {
            let (head, body) = try parseAll(req, split: split)
            #expect(head?.method == "POST" && head?.path == "/v1/messages" && head?.query == "beta=true")
            #expect(head?.header("content-type") == "application/json")
            #expect(body == Array("{\"a\":\"bc\"}\n".utf8))
        }
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() throws {
        let req = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: y\r\n\r\n"
        for split in [1, 3, 1000] {
            let (_, body) = try parseAll(req, split: split)
            #expect(body.map { String(decoding: $0, as: UTF8.self) } == "Wikipedia in\r\n\r\nchunks.")
        }
    }

    /// A chunk size or trailer line that ends in a bare LF or CR never ends as this parser reads lines: it is
    /// refused as soon as the byte after it is in (before, the parser waited for a CRLF until the body timeout),
    /// in every fragmentation, and the error keeps the head so the answer is in the client's dialect.
    @Test func bareLineEndsAndControlCharactersInChunkLinesAreRefusedAtOnce() {
        let head = "POST /v1/messages HTTP/1.1\r\nHost: h\r\nanthropic-version: 2023-06-01\r\nTransfer-Encoding: chunked\r\n\r\n"
        let cases: [(String, String)] = [
            ("5\nhello\n0\n\n", "bare LF in a chunk size line"), ("5\rhello", "bare CR in a chunk size line"),
            ("5;a=b\n", "bare LF"), ("5\r\nhello\r\n0\n", "bare LF in a chunk size line"),
            ("5\r\nhello\r\n0\r\nX-T: y\n", "bare LF in the trailer section"), ("0\r\nX: 1\rZ", "bare CR in the trailer section"),
            ("0\r\n\n", "bare LF in the trailer"), ("5;ext=\u{1}\r\nhello\r\n0\r\n\r\n", "control character in a chunk extension"),
            ("5;ext=\"a\u{7F}\"\r\n", "control character in a chunk extension"), ("5;a\rb\r\n", "bare CR"),
        ]
        for (body, words) in cases {
            for split in [1, 2, 5, 1000] {
                do {
                    _ = try parseAll(head + body, split: split)
                    Issue.record("accepted: \(body.debugDescription) split \(split)")
                } catch {
                    #expect(error.status == 400 && error.message.contains(words), "\(body.debugDescription) split \(split): \(error.message)")
                    #expect(error.head?.header("anthropic-version") == "2023-06-01", "the head comes with the error")
                }
            }
        }
        // Extensions of visible characters and tabs are still fine.
        #expect(status(head + "5;a=b;\tc=\"d e\"\r\nhello\r\n0\r\n\r\n") == nil)
    }

    @Test func requestWithoutBodyAndKeepAlive() throws {
        let (head, body) = try parseAll("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(body == [] && head?.keepAlive == true)
        #expect(try parseAll("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").0?.keepAlive == false)
        #expect(try parseAll("GET / HTTP/1.0\r\n\r\n").0?.keepAlive == false)
        #expect(try parseAll("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").0?.keepAlive == true)
    }

    @Test func pipelinedRequestStaysBuffered() throws {
        var p = HTTPRequestParser()
        let two = Array("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n".utf8)
        let first = try p.feed(two)
        #expect(first.count == 2)
        p.reset()
        let second = try p.feed([UInt8]())
        guard case .head(let h)? = second.first else { Issue.record("no second request"); return }
        #expect(h.target == "/b")
    }

    @Test(arguments: [
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400),   // duplicate CL
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),   // CL + TE
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1,1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),      // bad chunk size
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1234567890abcdef0\r\n", 400),   // overflow
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY", 400),  // no CRLF after data
        ("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n folded\r\n\r\n", 400),                       // obs-fold
        ("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),                                            // space before colon
        ("GET / HTTP/1.1\nHost: h\n\n", 400),                                                  // bare LF
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400),                                   // bare CR
        ("GET / HTTP/1.1\r\n\r\n", 400),                                                       // no Host
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),                                  // two Hosts
        ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),                                            // double space
        ("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        ("GET http://evil/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),                                  // absolute-form
        ("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nBad\u{01}: x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400),
        ("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    ])
    func malformedOrAmbiguousIsRefused(request: String, expected: Int) {
        #expect(status(request) == expected, "\(request.debugDescription)")
    }

    @Test func limits() {
        var small = HTTPLimits()
        small.maxHeaderBytes = 100
        small.maxBodyBytes = 10
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\nX: \(String(repeating: "a", count: 200))\r\n\r\n", limits: small) == 431)
        // Too large even before the head ends: no unbounded buffering.
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\nX: \(String(repeating: "a", count: 200))", limits: small) == 431)
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits: small) == 413)
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n", limits: small) == 413)
        var few = HTTPLimits()
        few.maxHeaderCount = 3
        #expect(status("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits: few) == 431)
        #expect(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\(String(repeating: "0", count: 2000))") == 400)
    }
}
