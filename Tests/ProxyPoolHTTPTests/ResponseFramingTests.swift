import Testing
@testable import ProxyPoolHTTPWire

/// The framing rules both transports apply to an upstream's head (HTTPResponseParser while it reads one, the
/// libcurl transport on the head curl hands over), checked on their own.
@Suite struct ResponseFramingTests {
    typealias Failure = ResponseFraming.Failure

    func feed(_ headers: [(String, String)]) throws(Failure) -> ResponseFraming {
        var rules = ResponseFraming()
        for (name, value) in headers {
            var v = value
            let failure = v.withUTF8 { b -> Failure? in
                let raw = UnsafeRawBufferPointer(b)
                switch name {
                case "content-length":
                    do throws(Failure) { try rules.contentLength(raw); return nil } catch { return error }
                default: rules.transferEncoding(raw); return nil
                }
            }
            if let failure { throw failure }
        }
        try rules.check(headers, headers.map(\.0))
        return rules
    }

    @Test func lengthsMustAgree() throws {
        #expect(try feed([("content-length", "5"), ("content-length", "005")]).contentLength == 5)
        #expect(throws: Failure("the upstream sent two different Content-Lengths")) {
            try feed([("content-length", "5"), ("content-length", "6")])
        }
        #expect(throws: Failure("the upstream sent an invalid Content-Length: 1,2")) { try feed([("content-length", "1,2")]) }
        #expect(throws: Failure("the upstream sent an invalid Content-Length: ")) { try feed([("content-length", "")]) }
        #expect(throws: Failure("the upstream sent an invalid Content-Length: 1234567890123456")) {
            try feed([("content-length", "1234567890123456")])
        }
    }

    @Test func onlyChunkedAloneIsTaken() throws {
        let chunked = try feed([("transfer-encoding", "Chunked")])
        #expect(chunked.hasTransferEncoding && chunked.contentLength == nil)
        for bad in [[("transfer-encoding", "gzip, chunked")], [("transfer-encoding", "chunked"), ("transfer-encoding", "chunked")],
                    [("transfer-encoding", "")], [("transfer-encoding", "identity")]] {
            #expect(throws: Failure.self) { try feed(bad) }
        }
        #expect(throws: Failure("the upstream sent a Transfer-Encoding other than chunked, which is not passed on: chunked, gzip")) {
            try feed([("transfer-encoding", "chunked"), ("transfer-encoding", "gzip")])
        }
    }

    @Test func contentLengthIsDroppedBesideChunked() {
        var headers = [("Content-Length", "5"), ("Transfer-Encoding", "chunked"), ("content-length", "5"), ("X", "y")]
        var lower = headers.map { $0.0.lowercased() }
        ResponseFraming.dropContentLength(&headers, &lower)
        #expect(lower == ["transfer-encoding", "x"] && headers.map(\.1) == ["chunked", "y"])
    }
}
