import Foundation
import Glibc
import Testing

/// Issue 12 items 3 and 9: a request whose translation for Gemini would cost far more than its size, against
/// the real daemon. A small tool schema whose `$defs` form a DAG used to be inlined 2^n-fold on the event loop
/// (everything else stalled); a request naming hundreds of image URLs started a 20 MiB fetch for each.
@Suite struct HostileClientSchemaTests {
    final class Box: @unchecked Sendable { var result: HTTPResult?; var error: Error?; var seconds = 0.0 }

    static func chatHeaders(_ s: ProxySetup) -> [(String, String)] {
        [("Authorization", "Bearer \(s.key)"), ("Content-Type", "application/json"), ("X-Proxypool-App", "tool")]
    }

    /// `levels` defs; each one's properties `a` and `b` both refer to the next: 2^levels leaves once inlined.
    static func dagSchema(levels: Int) -> String {
        var defs: [String] = []
        for k in 0..<levels {
            let next = k + 1 < levels ? ##"{"$ref":"#/$defs/d\##(k + 1)"}"## : #"{"type":"string"}"#
            defs.append(#""d\#(k)":{"type":"object","properties":{"a":\#(next),"b":\#(next)},"required":["a","b"]}"#)
        }
        return ##"{"type":"object","properties":{"root":{"$ref":"#/$defs/d0"}},"$defs":{\##(defs.joined(separator: ","))}}"##
    }

    /// The hostile request goes from a second thread; /healthz is asked from this one meanwhile.
    @Test func anExponentialSchemaIsRefusedPromptlyAndTheDaemonKeepsServing() throws {
        let s = try ProxySetup(credentials: [("g", "gemini", "fake-ok~g")], assign: ["tool": ["g"]])
        let schema = Self.dagSchema(levels: 25)
        #expect(schema.utf8.count < 4096)
        let body = #"{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":\#(schema)}}]}"#
        let port = s.port, headers = Self.chatHeaders(s)
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let start = Date()
            do { box.result = try http(port: port, "POST", "/v1/chat/completions", headers: headers, body: body, timeout: 10) } catch { box.error = error }
            box.seconds = Date().timeIntervalSince(start)
            done.signal()
        }
        usleep(20_000)
        let healthStart = Date()
        let health = try? http(port: port, "GET", "/healthz", timeout: 5)
        let healthSeconds = Date().timeIntervalSince(healthStart)
        #expect(done.wait(timeout: .now() + 15) == .success)

        #expect(health?.status == 200 && healthSeconds < 1, "/healthz answered in \(healthSeconds) s; \(s.daemon.log.suffix(2000))")
        let r = try #require(box.result, "no answer: \(box.error.map { "\($0)" } ?? "")")
        #expect(r.status == 400 && box.seconds < 2, "status \(r.status) after \(box.seconds) s")
        let j = try JSONSerialization.jsonObject(with: Data(r.content.utf8)) as? [String: Any]
        let e = j?["error"] as? [String: Any]
        #expect(e?["type"] as? String == "invalid_request_error", "OpenAI's error format: \(r.content.prefix(500))")
        let message = e?["message"] as? String ?? ""
        #expect(message.contains("1 MiB") && message.contains("$ref"), Comment(rawValue: message))
        #expect(try s.fake.requests().isEmpty, "nothing went upstream")
        #expect(try http(port: port, "GET", "/healthz", timeout: 5).status == 200)
    }

    /// Deep but small requests: the codecs recurse over them on the event loop thread, whose stack was 512 KiB
    /// (a 62-level tool schema, 2 KB, overflowed it in a debug build). Allowed depths are answered, deeper
    /// schemas refused, and the daemon stays up. A schema of n levels nests the body 2n + 5 deep: 61 levels is
    /// the deepest body the request check lets through (128), 70 is refused there.
    @Test func deeplyNestedRequestsDoNotOverflowTheLoopStack() throws {
        let s = try ProxySetup(credentials: [("g", "gemini", "fake-ok~g")], assign: ["tool": ["g"]])
        func nested(_ levels: Int) -> String {
            var schema = #"{"type":"string"}"#
            for _ in 0..<levels { schema = #"{"type":"object","properties":{"a":\#(schema)}}"# }
            return schema
        }
        let deepArgs = #"{\"v\":"# + String(repeating: "[", count: 190) + "1" + String(repeating: "]", count: 190) + "}"
        func body(_ schema: String) -> String {
            #"{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"},"#
                + #"{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"\#(deepArgs)"}}]},"#
                + #"{"role":"tool","tool_call_id":"c1","content":"ok"}],"tools":[{"type":"function","function":{"name":"f","parameters":\#(schema)}}]}"#
        }
        let ok = try http(port: s.port, "POST", "/v1/chat/completions", headers: Self.chatHeaders(s), body: body(nested(61)), timeout: 10)
        #expect(ok.status == 200, Comment(rawValue: String(ok.content.prefix(300))))
        let refused = try http(port: s.port, "POST", "/v1/chat/completions", headers: Self.chatHeaders(s), body: body(nested(70)), timeout: 10)
        #expect(refused.status == 400 && refused.content.contains("nests deeper than 128 levels"), Comment(rawValue: String(refused.content.prefix(300))))
        #expect(s.daemon.process.isRunning)
        #expect(try http(port: s.port, "GET", "/healthz", timeout: 5).status == 200)
    }

    func imageStats(_ fake: FakeUpstream) throws -> (served: Int, peak: Int) {
        let r = try http(port: fake.port, "GET", "/__image-stats", headers: [("Host", "127.0.0.1")])
        let j = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any]
        return (j?["served"] as? Int ?? -1, j?["peak"] as? Int ?? -1)
    }

    static func imagesBody(_ urls: [String]) -> String {
        let parts = urls.map { #"{"type":"image_url","image_url":{"url":"\#($0)"}}"# }.joined(separator: ",")
        return #"{"model":"gemini-2.5-flash","messages":[{"role":"user","content":[\#(parts),{"type":"text","text":"what are these? FAKE-TEXT-ONLY"}]}]}"#
    }

    func privateFetchSetup() throws -> ProxySetup {
        let dir = makeTempDir("conf")
        try "fetch-private-urls = yes\n".write(toFile: dir + "/p.conf", atomically: true, encoding: .utf8)
        return try ProxySetup(args: ["--config", dir + "/p.conf"], credentials: [("g", "gemini", "fake-ok~g")], assign: ["tool": ["g"]])
    }

    /// 400 distinct image URLs: refused before any fetch, saying how many may be fetched.
    @Test func tooManyImageURLsAreRefusedBeforeAnyFetch() throws {
        let s = try privateFetchSetup()
        let urls = (0..<400).map { s.fake.url + "/__image.png?n=\($0)" }
        let r = try http(port: s.port, "POST", "/v1/chat/completions", headers: Self.chatHeaders(s), body: Self.imagesBody(urls), timeout: 30)
        #expect(r.status == 400, Comment(rawValue: String(r.content.prefix(500))))
        let e = (try JSONSerialization.jsonObject(with: Data(r.content.utf8)) as? [String: Any])?["error"] as? [String: Any]
        let message = e?["message"] as? String ?? ""
        #expect(message.contains("400 image or document URLs") && message.contains("at most 16"), Comment(rawValue: message))
        #expect(e?["type"] as? String == "invalid_request_error")
        let stats = try imageStats(s.fake)
        #expect(stats.served <= 16, "the fake served \(stats.served) images")
        #expect(try s.fake.requests().isEmpty, "nothing went upstream")
    }

    /// 16 slow URLs (the cap) are all fetched and inlined, at most 4 at a time.
    @Test func aRequestFetchesAFewAtATime() throws {
        let s = try privateFetchSetup()
        let urls = (0..<16).map { s.fake.url + "/__image.png?delay_ms=200&n=\($0)" }
        let r = try http(port: s.port, "POST", "/v1/chat/completions", headers: Self.chatHeaders(s), body: Self.imagesBody(urls), timeout: 30)
        #expect(r.status == 200, Comment(rawValue: String(r.content.prefix(500))))
        let stats = try imageStats(s.fake)
        #expect(stats.served == 16 && stats.peak <= 4, "served \(stats.served), at most \(stats.peak) at once")
        #expect(stats.peak >= 2, "they do overlap")
        let up = try #require(try s.fake.requests().last)
        let parts = (((up["body"] as? [String: Any])?["contents"] as? [[String: Any]])?.first?["parts"] as? [[String: Any]]) ?? []
        #expect(parts.filter { $0["inlineData"] != nil }.count == 16)
    }

    /// One URL answers 404 at once while the others are slow: the request is refused at once, naming it, and
    /// the other fetches are cancelled rather than waited for.
    @Test func aFailedFetchEndsTheRequestAndCancelsTheRest() throws {
        let s = try privateFetchSetup()
        let urls = [s.fake.url + "/__missing.png"] + (0..<3).map { s.fake.url + "/__image.png?delay_ms=3000&n=\($0)" }
        let start = Date()
        let r = try http(port: s.port, "POST", "/v1/chat/completions", headers: Self.chatHeaders(s), body: Self.imagesBody(urls), timeout: 30)
        let seconds = Date().timeIntervalSince(start)
        #expect(r.status == 400 && r.content.contains("/__missing.png failed: the server answered 404"), Comment(rawValue: String(r.content.prefix(400))))
        #expect(seconds < 2, "answered after \(seconds) s")
        #expect(try s.fake.requests().isEmpty, "nothing went upstream")
    }

    /// Ten such requests at once: the daemon has at most 32 fetches under way, and every request is answered.
    @Test func theDaemonCapsFetchesAcrossRequests() throws {
        let s = try privateFetchSetup()
        let port = s.port, headers = Self.chatHeaders(s), fakeURL = s.fake.url
        let boxes = (0..<10).map { _ in Box() }
        let done = DispatchSemaphore(value: 0)
        for (i, box) in boxes.enumerated() {
            let body = Self.imagesBody((0..<8).map { fakeURL + "/__image.png?delay_ms=300&r=\(i)&n=\($0)" })
            Thread.detachNewThread {
                do { box.result = try http(port: port, "POST", "/v1/chat/completions", headers: headers, body: body, timeout: 30) } catch { box.error = error }
                done.signal()
            }
        }
        for _ in boxes { #expect(done.wait(timeout: .now() + 40) == .success) }
        #expect(boxes.allSatisfy { $0.result?.status == 200 }, "\(boxes.map { $0.result?.status ?? -1 })")
        let stats = try imageStats(s.fake)
        #expect(stats.served == 80 && stats.peak <= 32, "served \(stats.served), at most \(stats.peak) at once")
        #expect(stats.peak > 4, "requests do fetch side by side")
    }

    /// Four 17 MiB images (each under the 20 MiB cap) pass 64 MiB together: the request is refused, naming why.
    @Test func aRequestsFetchedBytesAreCapped() throws {
        let s = try privateFetchSetup()
        let urls = (0..<4).map { s.fake.url + "/__image.png?pad_kib=\(17 * 1024)&n=\($0)" }
        let r = try http(port: s.port, "POST", "/v1/chat/completions", headers: Self.chatHeaders(s), body: Self.imagesBody(urls), timeout: 60)
        #expect(r.status == 400, Comment(rawValue: String(r.content.prefix(500))))
        #expect(r.content.contains("more than 64 MiB together"), Comment(rawValue: String(r.content.prefix(500))))
        #expect(try s.fake.requests().isEmpty, "nothing went upstream")
        let h = try http(port: s.port, "GET", "/healthz", timeout: 5)
        #expect(h.status == 200 && s.daemon.process.isRunning, "healthz \(h.status); daemon log: \(s.daemon.log.suffix(3000))")
    }
}
