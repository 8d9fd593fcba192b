import Testing
@testable import ProxyPoolUpstream
@testable import ProxyPoolHTTPWire

/// What a parse of a whole response produced.
private struct Parsed: Equatable {
    var status = 0
    var headers: [String] = []
    var body: [UInt8] = []
    var complete = false
    var keepAlive = false
}

/// Feeds `raw` in pieces cut at `cuts`, then the close if `closeAtEnd`.
private func parse(_ raw: [UInt8], cuts: [Int] = [], method: String = "POST", closeAtEnd: Bool = false) throws -> Parsed {
    var p = HTTPResponseParser(requestMethod: method)
    var out = Parsed()
    var bounds = [0] + cuts.filter { $0 > 0 && $0 < raw.count } + [raw.count]
    bounds = Array(Set(bounds)).sorted()
    for (a, b) in zip(bounds, bounds.dropFirst()) {
        let piece = Array(raw[a..<b])
        try piece.withUnsafeBytes { (buf: UnsafeRawBufferPointer) throws in
            var off = 0
            loop: while true {
                switch try p.next(buf, &off) {
                case .head(let s, let h, let lower):
                    out.status = s
                    out.headers = zip(h, lower).map { "\($1)=\($0.1)" }
                case .body(let bytes): out.body += bytes
                case .end: out.complete = true; break loop
                case .needMore: break loop
                }
            }
        }
        if out.complete { break }
    }
    if closeAtEnd && !out.complete { out.complete = p.closed() }
    out.keepAlive = p.keepAlive
    return out
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct ResponseParserTests {
    static let chunked = bytes("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                               + "7\r\ndata: a\r\n" + "A;ext=1\r\n0123456789\r\n" + "1f\r\n" + String(repeating: "x", count: 31) + "\r\n"
                               + "0\r\nX-Trailer: t\r\n\r\n")

    @Test func chunkedBodyInEveryTwoPieceSplit() throws {
        let whole = try parse(Self.chunked)
        #expect(whole.status == 200)
        #expect(whole.headers == ["content-type=text/event-stream", "transfer-encoding=chunked"])
        #expect(whole.body == bytes("data: a0123456789" + String(repeating: "x", count: 31)))
        #expect(whole.complete && whole.keepAlive)
        for cut in 1..<Self.chunked.count { #expect(try parse(Self.chunked, cuts: [cut]) == whole, "cut at \(cut)") }
        // And byte by byte.
        #expect(try parse(Self.chunked, cuts: Array(1..<Self.chunked.count)) == whole)
    }

    @Test func contentLengthBodyAndWhatFollowsIsLeft() throws {
        let raw = bytes("HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhelloEXTRA")
        var p = HTTPResponseParser(requestMethod: "POST")
        var body: [UInt8] = []
        var offset = 0
        var ended = false
        try raw.withUnsafeBytes { buf throws in
            while !ended {
                switch try p.next(buf, &offset) {
                case .body(let b): body += b
                case .end: ended = true
                case .head(let s, _, _): #expect(s == 201)
                case .needMore: Issue.record("asked for more"); return
                }
            }
        }
        #expect(body == bytes("hello"))
        #expect(offset == raw.count - 5, "bytes after the response are not consumed")
        for cut in 1..<raw.count - 5 { #expect(try parse(Array(raw.prefix(raw.count - 5)), cuts: [cut]).body == bytes("hello")) }
    }

    @Test func interimResponsesAreSkipped() throws {
        let raw = bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        for cut in [0, 10, 25, 30, 60, 90] {
            let r = try parse(raw, cuts: [cut])
            #expect(r.status == 200 && r.body == bytes("ok") && r.complete && r.headers == ["content-length=2"])
        }
    }

    @Test func noBodyFor204AndHEAD() throws {
        let r = try parse(bytes("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"))
        #expect(r.complete && r.body.isEmpty && r.keepAlive)
        let h = try parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"), method: "HEAD")
        #expect(h.complete && h.body.isEmpty)
        let zero = try parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
        #expect(zero.complete && zero.body.isEmpty)
    }

    @Test func bodyUntilCloseIsNotReused() throws {
        let raw = bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
        let open = try parse(raw)
        #expect(!open.complete && open.body == bytes("all of it") && !open.keepAlive)
        #expect(try parse(raw, closeAtEnd: true).complete)
        // A cut-off length-delimited body is not completed by the close.
        #expect(try !parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"), closeAtEnd: true).complete)
        #expect(try !parse(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"), closeAtEnd: true).complete)
    }

    @Test func connectionReuseFollowsVersionAndHeader() throws {
        #expect(try !parse(bytes("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")).keepAlive)
        #expect(try !parse(bytes("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")).keepAlive)
        #expect(try parse(bytes("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")).keepAlive)
    }

    /// RFC 9112 §6.3: Transfer-Encoding wins over Content-Length; the length is not passed on (a client framing
    /// the de-chunked body by it would read what follows as its next response) and the connection is not reused.
    @Test func chunkedWinsOverContentLengthWhichIsDropped() throws {
        let smuggled = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno"
        let raw = bytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5\r\nhello\r\n" + String(smuggled.utf8.count, radix: 16) + "\r\n" + smuggled + "\r\n0\r\n\r\n")
        let whole = try parse(raw)
        #expect(whole.body == bytes("hello" + smuggled) && whole.complete && !whole.keepAlive)
        #expect(whole.headers == ["content-type=application/json", "transfer-encoding=chunked"])
        for cut in stride(from: 1, to: raw.count, by: 7) { #expect(try parse(raw, cuts: [cut]) == whole, "cut at \(cut)") }
        // Either order, and for a body-less answer too.
        let reversed = try parse(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
        #expect(reversed.body == bytes("hello") && reversed.headers == ["transfer-encoding=chunked"] && !reversed.keepAlive)
        let head = try parse(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"), method: "HEAD")
        #expect(head.complete && head.headers == ["transfer-encoding=chunked"] && !head.keepAlive)
        // Chunks from an HTTP/1.0 server (which cannot send them) are read, and the connection is not reused.
        let old = try parse(bytes("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"))
        #expect(old.body == bytes("hi") && old.complete && !old.keepAlive)
    }

    @Test func codingsAndConnectionTokensInAnyCaseAndSpacing() throws {
        let r = try parse(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding:\t CHUNKED \r\nConnection: Upgrade, KEEP-alive\r\n\r\n2\r\nhi\r\n0\r\n\r\n"))
        #expect(r.body == bytes("hi") && r.complete && r.keepAlive)
        #expect(try !parse(bytes("HTTP/1.1 200 OK\r\nconnection: foo,  Close\r\nContent-Length: 0\r\n\r\n")).keepAlive)
        #expect(try parse(bytes("HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n")).keepAlive)
    }

    @Test func bareLineFeedsAreAccepted() throws {
        let r = try parse(bytes("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n"))
        #expect(r.status == 200 && r.body == bytes("abc") && r.complete)
    }

    @Test(arguments: [
        ("HTTP/2 200\r\n\r\n", "status line"),
        ("HTTP/1.1 20 OK\r\n\r\n", "status line"),
        ("ICY 200 OK\r\n\r\n", "status line"),
        ("HTTP/1.1 200 OK\r\n folded\r\n\r\n", "folded"),
        ("HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", "header line"),
        ("HTTP/1.1 200 OK\r\nBad name: x\r\n\r\n", "header name"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "two different"),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n", "Content-Length"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", "chunk size"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n", "longer than its size"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", "too large"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc", "too large"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1" + String(repeating: "0", count: 15) + "\r\n", "too large"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n", "chunk size"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n", "chunk size"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 garbage\r\nhello\r\n", "chunk size"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", "Content-Length"),
        // Transfer codings other than chunked alone: nothing undoes them, and the client would never know.
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "other than chunked"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n", "not passed on: chunked, identity"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "other than chunked"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nhi", "other than chunked"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "other than chunked"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n", "other than chunked"),
        // Control characters in a value: a bare CR (a line end to some clients), NUL, DEL, others.
        ("HTTP/1.1 200 OK\r\nX-Evil: a\rInjected: yes\r\nContent-Length: 0\r\n\r\n", "control character in the value of X-Evil"),
        ("HTTP/1.1 200 OK\r\nX-Evil: a\r\r\nContent-Length: 0\r\n\r\n", "control character"),
        ("HTTP/1.1 200 OK\r\nX-Evil: a\u{0}b\r\n\r\n", "control character"),
        ("HTTP/1.1 200 OK\r\nX-Evil: a\u{7f}b\r\n\r\n", "control character"),
        ("HTTP/1.1 200 OK\r\nX-Evil: a\u{1b}[2Jb\r\n\r\n", "control character"),
        ("HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched protocols"),
    ])
    func malformedIsRefused(raw: String, expected: String) {
        do {
            _ = try parse(bytes(raw))
            Issue.record("accepted: \(raw.debugDescription)")
        } catch {
            let message = (error as? HTTPResponseParser.Failure)?.message ?? "\(error)"
            #expect(message.contains(expected), "\(message)")
        }
    }

    @Test func refusalsDoNotEchoTheValue() {
        do {
            _ = try parse(bytes("HTTP/1.1 200 OK\r\nX-Evil: a\rInjected: yes\r\n\r\n"))
            Issue.record("accepted")
        } catch {
            #expect(!"\(error)".contains("Injected"), "\(error)")
        }
    }

    @Test func tabsInValuesAndLeadingZerosInChunkSizesAreFine() throws {
        let r = try parse(bytes("HTTP/1.1 200 OK\r\nX-Tabbed: a\tb\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + String(repeating: "0", count: 40) + "5 \t;ext=1\r\nhello\r\n00000\r\n\r\n"))
        #expect(r.headers.first == "x-tabbed=a\tb" && r.body == bytes("hello") && r.complete)
        // The largest size taken (15 hex digits) is parsed without overflow: the body is simply cut off.
        #expect(try !parse(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\nabc"), closeAtEnd: true).complete)
    }

    @Test func headerCountLimit() throws {
        func head(_ n: Int) -> [UInt8] {
            bytes("HTTP/1.1 200 OK\r\n" + (0..<(n - 1)).map { "X-Pad-\($0): p\r\n" }.joined() + "Content-Length: 0\r\n\r\n")
        }
        #expect(try parse(head(100)).headers.count == 100)
        #expect(throws: HTTPResponseParser.Failure("the upstream sent more than 100 header fields")) {
            try parse(head(101))
        }
        // A head just under 64 KiB of the tiniest lines fails on the count as well (its lines are not all
        // collected first), whole or in pieces, and so does one with a malformed line past the cap.
        let tiny = bytes("HTTP/1.1 200 OK\r\n" + String(repeating: "a:\r\n", count: 16_000) + "\r\n")
        for cuts in [[], [1000, 30_000]] {
            #expect(throws: HTTPResponseParser.Failure("the upstream sent more than 100 header fields")) { try parse(tiny, cuts: cuts) }
        }
        #expect(throws: HTTPResponseParser.Failure("the upstream sent more than 100 header fields")) {
            try parse(bytes("HTTP/1.1 200 OK\r\n" + String(repeating: "a:\r\n", count: 101) + "no colon\r\n\r\n"))
        }
    }

    /// An upstream's bad Content-Length is echoed in the error only up to 80 characters.
    @Test func invalidContentLengthIsEchoedCapped() throws {
        let long = String(repeating: "9", count: 40) + String(repeating: "x", count: 2000)
        #expect(throws: HTTPResponseParser.Failure("the upstream sent an invalid Content-Length: " + String(long.prefix(80)))) {
            try parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: \(long)\r\n\r\n"))
        }
        #expect(throws: HTTPResponseParser.Failure("the upstream sent an invalid Content-Length: 1,2")) {
            try parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 1,2\r\n\r\n"))
        }
    }

    /// A status outside 100-599 is no status: 099 is not skipped as if it were a 1xx, 600 is not an answer.
    @Test func statusOutsideTheRangeIsRefused() throws {
        for code in ["099", "000", "600", "999"] {
            #expect(throws: HTTPResponseParser.Failure("the upstream sent a status outside 100-599: \(Int(code)!)")) {
                try parse(bytes("HTTP/1.1 \(code) X\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
            }
        }
        #expect(try parse(bytes("HTTP/1.1 599 X\r\nContent-Length: 0\r\n\r\n")).status == 599)
    }

    @Test func sameVerdictInPieces() throws {
        // A failure does not depend on where the reads were split.
        let raw = bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcdEF\r\n")
        for cut in 1..<raw.count {
            #expect(throws: HTTPResponseParser.Failure.self) { try parse(raw, cuts: [cut]) }
        }
    }

    @Test func headLimit() throws {
        let big = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Pad: " + String(repeating: "p", count: 1000) + "\r\n", count: 70)
        #expect(throws: HTTPResponseParser.Failure.self) { try parse(bytes(big + "\r\n")) }
        #expect(throws: HTTPResponseParser.Failure.self) { try parse(bytes(big), cuts: Array(stride(from: 100, to: big.utf8.count, by: 700))) }
    }

    @Test(arguments: [
        ("http://127.0.0.1:8080/v1/chat/completions?x=1", ["127.0.0.1"], 8080, "127.0.0.1:8080", "/v1/chat/completions?x=1"),
        ("HTTP://localhost:11434", ["127.0.0.1", "::1"], 11434, "localhost:11434", "/"),
        ("http://[::1]:9000/v1?q", ["::1"], 9000, "[::1]:9000", "/v1?q"),
        ("http://10.1.2.3/p#frag", ["10.1.2.3"], 80, "10.1.2.3", "/p"),
        ("http://127.0.0.1:9?a=b", ["127.0.0.1"], 9, "127.0.0.1:9", "/?a=b"),
        ("https://api.anthropic.com/v1/messages?beta=true", [], 443, "api.anthropic.com", "/v1/messages?beta=true"),
        ("https://127.0.0.1:8443", ["127.0.0.1"], 8443, "127.0.0.1:8443", "/"),
        ("http://ollama.lan_1:11434/v1", [], 11434, "ollama.lan_1:11434", "/v1"),
    ])
    func upstreamURLs(url: String, addresses: [String], port: Int, host: String, target: String) throws {
        let u = try #require(UpstreamURL(url))
        #expect(u.addresses == addresses && u.port == port && u.hostHeader == host && u.target == target)
        #expect(u.isTLS == url.hasPrefix("https"))
    }

    @Test(arguments: ["http://user:pw@127.0.0.1/", "http://bad%host/", "http://127.0.0.1:0/",
                      "http://127.0.0.1:99999/", "http://256.1.1.1/", "http://1.2.3/", "http://127.0.0.1/a b", "http://[::1/",
                      "http://127.0.0.1/\r\nX: y", "ftp://127.0.0.1/", "http://"])
    func urlsLeftToCurl(url: String) {
        #expect(UpstreamURL(url) == nil)
    }

    @Test func requestBytes() {
        var r = UpstreamRequest(url: "http://127.0.0.1:81/v1/messages", method: "POST", headers: ["x-api-key: k", "Expect:", "Accept: text/event-stream"], body: Array("{}".utf8))
        r.idleTimeoutSeconds = 1
        let wire = String(decoding: HTTP1Client.serialize(r, UpstreamURL(r.url)!) ?? [], as: UTF8.self)
        #expect(wire == "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:81\r\nx-api-key: k\r\nAccept: text/event-stream\r\nContent-Length: 2\r\n\r\n{}")
        let get = UpstreamRequest(url: "http://[::1]/v1/models", method: "GET", headers: [], body: [])
        #expect(String(decoding: HTTP1Client.serialize(get, UpstreamURL(get.url)!) ?? [], as: UTF8.self) == "GET /v1/models HTTP/1.1\r\nHost: [::1]\r\n\r\n")
        // A line break anywhere in a header (value or name, CR or LF, first or last) gives no bytes at all.
        for bad in ["x: a\r\nInjected: 1", "x: a\nb", "x: a\r", "\nx: a", "x\r: a"] {
            let b = UpstreamRequest(url: "http://127.0.0.1:81/v1/messages", method: "POST", headers: ["ok: 1", bad], body: [])
            #expect(HTTP1Client.serialize(b, UpstreamURL(b.url)!) == nil, Comment(rawValue: bad.debugDescription))
        }
    }
}
