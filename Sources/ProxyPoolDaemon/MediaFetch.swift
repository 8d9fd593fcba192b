import ProxyPoolCore
import ProxyPoolUpstream

/// One image or document URL fetched for an upstream that takes only inline data. Public addresses only
/// (unless fetch-private-urls), no redirects, http(s) only, size and time capped; runs on the loop like any
/// upstream transfer, but on a connection of its own (`Upstreams.fetch`): one reused from credential traffic
/// would skip the address check, which runs when a connection is opened.
final class MediaFetch: UpstreamDelegate {
    static let maxBytes = 20 << 20
    static let timeoutMillis = 20_000

    let url: String
    private let done: (MediaFetch, Result<(mediaType: String, base64: String), FetchError>) -> Void
    private var status = 0
    private var contentType: String?
    private var data: [UInt8] = []
    private var tooLarge = false
    var transfer: UpstreamTransfer?

    struct FetchError: Error { var message: String }

    init(url: String, done: @escaping (MediaFetch, Result<(mediaType: String, base64: String), FetchError>) -> Void) {
        self.url = url; self.done = done
    }

    func start(_ upstreams: Upstreams, allowPrivate: Bool) {
        var r = UpstreamRequest(url: url, method: "GET", headers: ["Accept: image/*, application/pdf", "User-Agent: proxypoold"], body: [])
        r.totalTimeoutMillis = Self.timeoutMillis
        r.firstByteTimeoutMillis = Int64(Self.timeoutMillis)
        r.connectTimeoutMillis = 10_000
        r.publicAddressesOnly = !allowPrivate
        transfer = upstreams.fetch(r, delegate: self)
    }

    func upstreamHead(_ t: UpstreamTransfer, status: Int, headers: [(String, String)], lowerNames: [String]) {
        self.status = status
        for i in headers.indices where lowerNames[i] == "content-type" { contentType = headers[i].1 }
        for i in headers.indices where lowerNames[i] == "content-length" { if let n = Int(headers[i].1), n > Self.maxBytes { tooLarge = true } }
    }

    func upstreamBody(_ t: UpstreamTransfer, _ bytes: UnsafeRawBufferPointer) -> Bool {
        if tooLarge || data.count + bytes.count > Self.maxBytes { tooLarge = true; return false }
        data.append(contentsOf: bytes)
        return false
    }

    func upstreamComplete(_ t: UpstreamTransfer, error: UpstreamError?) {
        transfer = nil
        if let error { return done(self, .failure(FetchError(message: "fetching \(url) failed: \(error.message)"))) }
        guard (200..<300).contains(status) else {
            let why = (300..<400).contains(status) ? "redirects are not followed" : "answered \(status)"
            return done(self, .failure(FetchError(message: "fetching \(url) failed: the server \(why)")))
        }
        guard !tooLarge else { return done(self, .failure(FetchError(message: "\(url) is larger than \(Self.maxBytes >> 20) MiB"))) }
        guard let type = MediaType.fromHeader(contentType) ?? MediaType.sniff(data) else {
            return done(self, .failure(FetchError(message: "\(url) is not an image or PDF (Content-Type: \(contentType ?? "none"))")))
        }
        done(self, .success((type, Base64.encode(data))))
    }
}
