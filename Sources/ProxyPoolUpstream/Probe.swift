internal import CCurl
import Glibc
import ProxyPoolSystem

/// One blocking GET (a POST when given a body: a token request), for `credential test`: it runs on a control connection's own thread, never on the proxy's
/// event loop. At most 10 s, no proxy from the environment, no redirects, the first 4 KiB of the body kept
/// (`maxBody`: more for a token endpoint's answer, whose JWTs outgrow that).
public enum Probe {
    public struct Result: Sendable, Equatable {
        /// 0 when no HTTP answer came (`error` says why).
        public var status: Int
        public var body: [UInt8]
        public var error: String?
        public var millis: Int
    }

    public static func get(url: String, headers: [String], caFile: String?, timeoutMillis: Int = 10_000, postBody: [UInt8]? = nil,
                           maxBody: Int = 4096) -> Result {
        if let why = Curl.load() { return Result(status: 0, body: [], error: why, millis: 0) }
        guard let easy = ccurl_easy_init() else { return Result(status: 0, body: [], error: "curl_easy_init failed", millis: 0) }
        defer { ccurl_easy_cleanup(easy) }
        var list: UnsafeMutablePointer<curl_slist>?
        for h in headers { list = ccurl_slist_append(list, h) }
        defer { ccurl_slist_free_all(list) }
        let sink = ProbeSink(limit: maxBody)
        let start = Posix.monotonicMillis()
        _ = ccurl_setopt_str(easy, CURLOPT_URL, url)
        _ = ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_str(easy, CURLOPT_PROXY, "")
        _ = ccurl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        _ = ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, min(5_000, timeoutMillis))
        _ = ccurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, timeoutMillis)
        _ = ccurl_setopt_slist(easy, CURLOPT_HTTPHEADER, list)
        if let caFile { _ = ccurl_setopt_str(easy, CURLOPT_CAINFO, caFile) }
        if var body = postBody {
            // Copied by curl (COPYPOSTFIELDS), its size set first: the bytes need not outlive this call.
            _ = ccurl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            _ = body.withUnsafeMutableBytes { ccurl_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
        }
        _ = ccurl_setopt_data_cb(easy, CURLOPT_WRITEFUNCTION, probeWrite)
        let rc = withExtendedLifetime(sink) { () -> CURLcode in
            _ = ccurl_setopt_ptr(easy, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
            return ccurl_easy_perform(easy)
        }
        let millis = Int(Posix.monotonicMillis() - start)
        var code = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
        if rc != CURLE_OK {
            return Result(status: 0, body: [], error: String(cString: ccurl_easy_strerror(rc)), millis: millis)
        }
        return Result(status: code, body: sink.bytes, error: nil, millis: millis)
    }
}

private final class ProbeSink {
    var bytes: [UInt8] = []
    let limit: Int
    init(limit: Int) { self.limit = limit }
}

private func probeWrite(_ ptr: UnsafeMutablePointer<CChar>?, _ size: Int, _ n: Int, _ userp: UnsafeMutableRawPointer?) -> Int {
    let sink = Unmanaged<ProbeSink>.fromOpaque(userp!).takeUnretainedValue()
    let count = size * n
    if let ptr, sink.bytes.count < sink.limit {
        ptr.withMemoryRebound(to: UInt8.self, capacity: count) { sink.bytes += UnsafeBufferPointer(start: $0, count: min(count, sink.limit - sink.bytes.count)) }
    }
    return count
}
