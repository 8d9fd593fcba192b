import ProxyPoolSystem

public struct UpstreamRequest: Sendable {
    public var url: String
    public var method: String
    /// "Name: value" lines.
    public var headers: [String]
    public var body: [UInt8]
    public var caFile: String?
    public var connectTimeoutMillis = 10_000
    /// Give up when the response head has not arrived in this time.
    public var firstByteTimeoutMillis: Int64 = 600_000
    /// Give up when a started response sends nothing for this long.
    public var idleTimeoutSeconds = 300
    /// A cap on the whole transfer (URL fetches); nil for none (streams may last long).
    public var totalTimeoutMillis: Int?
    /// Connect only to public addresses, checked after DNS (for URLs a client named: no SSRF).
    public var publicAddressesOnly = false

    public init(url: String, method: String, headers: [String], body: [UInt8], caFile: String? = nil) {
        self.url = url; self.method = method; self.headers = headers; self.body = body; self.caFile = caFile
    }
}

/// Receives one upstream response, on the loop thread. Never called from inside `Upstreams.start`.
public protocol UpstreamDelegate: AnyObject {
    /// The final status and headers (1xx are skipped).
    func upstreamHead(_ transfer: UpstreamTransfer, status: Int, headers: [(String, String)], lowerNames: [String])
    /// A piece of the body, as it arrived (de-chunked). Return true to pause the transfer (resume with `resume`).
    func upstreamBody(_ transfer: UpstreamTransfer, _ bytes: UnsafeRawBufferPointer) -> Bool
    /// The transfer ended: nil on success, else why.
    func upstreamComplete(_ transfer: UpstreamTransfer, error: UpstreamError?)
}

public struct UpstreamError: Error, Sendable, CustomStringConvertible {
    /// `localResources`: this process could not open a socket (out of descriptors or memory); says nothing
    /// about the upstream.
    public enum Kind: Sendable { case connect, timeout, firstByteTimeout, reset, refusedAddress, localResources, other }
    public var kind: Kind
    public var message: String
    public var description: String { message }
    public init(kind: Kind, message: String) { self.kind = kind; self.message = message }
}

/// One request upstream, whichever client runs it. What the two clients share lives here.
public class UpstreamTransfer {
    /// Strong until the transfer ends: every end (complete, fail, cancel) sets it to nil, which breaks the
    /// delegate ↔ transfer cycle. (A weak reference would give each delegate a side table and slow ARC.)
    var delegate: UpstreamDelegate?
    public internal(set) var headDelivered = false
    public internal(set) var bytesReceived = 0
    /// Inside a delegate call: a cancel then takes effect when the call returns.
    var inCallback = false
    var cancelled = false
    var paused = false
    let startedAt: Int64
    let firstByteDeadline: Int64

    init(delegate: UpstreamDelegate, startedAt: Int64, firstByteTimeoutMillis: Int64) {
        self.delegate = delegate; self.startedAt = startedAt; firstByteDeadline = startedAt + firstByteTimeoutMillis
    }

    var firstByteTimeoutError: UpstreamError {
        UpstreamError(kind: .firstByteTimeout, message: "the upstream sent no response within \((firstByteDeadline - startedAt) / 1000) s")
    }
}

/// Every upstream request of the daemon, on the loop thread. Proxied requests go through our own HTTP/1.1
/// client (curl opens its TLS connections and looks up host names); URLs our client does not take go through
/// libcurl's multi interface. URL fetches for clients, with their address policy checked after DNS, go through
/// a multi interface of their own, never sharing a connection with credential traffic.
public final class Upstreams {
    public let curl: CurlMulti
    public let http1: HTTP1Client
    /// URL fetches (images, documents a client named): a connection cache apart from credential traffic's, and
    /// no connection kept or reused, so every fetch connects anew and its address is checked.
    public let fetches: CurlMulti

    public init(loop: EventLoop) {
        curl = CurlMulti(loop: loop)
        http1 = HTTP1Client(loop: loop)
        fetches = CurlMulti(loop: loop, isolated: true)
    }

    /// Fetch a URL a client named, on a connection of its own (`r.publicAddressesOnly` applies to it).
    public func fetch(_ r: UpstreamRequest, delegate: UpstreamDelegate) -> UpstreamTransfer {
        fetches.start(r, delegate: delegate)
    }

    /// Parsed URLs (a credential's few endpoints recur on every request); nil: left to curl.
    private var parsed: [String: UpstreamURL?] = [:]

    public func start(_ r: UpstreamRequest, delegate: UpstreamDelegate) -> UpstreamTransfer {
        if !r.publicAddressesOnly, let target = url(r.url) {
            return http1.start(r, target: target, delegate: delegate)
        }
        return curl.start(r, delegate: delegate)
    }

    /// The URL looked up last: a tool's requests mostly go to one endpoint in a row, and comparing a URL costs
    /// far less than hashing it (~400 instructions of SipHash for a 40-byte URL, callgrind).
    private var last: (url: String, parsed: UpstreamURL?)?

    func url(_ s: String) -> UpstreamURL? {
        if let last, last.url == s { return last.parsed }
        let u: UpstreamURL?
        if let cached = parsed[s] { u = cached } else {
            if parsed.count >= 1024 { parsed.removeAll(keepingCapacity: true) }
            u = UpstreamURL(s)
            parsed[s] = u
        }
        last = (s, u)
        return u
    }

    /// Abort a transfer (the client went away). Safe inside a delegate call: it then takes effect on return.
    public func cancel(_ t: UpstreamTransfer) {
        if let h = t as? HTTP1Transfer { http1.cancel(h) } else if let c = t as? CurlTransfer { c.multi.cancel(c) }
    }

    /// Resume a transfer its delegate paused.
    public func resume(_ t: UpstreamTransfer) {
        if let h = t as? HTTP1Transfer { http1.resume(h) } else if let c = t as? CurlTransfer { c.multi.resume(c) }
    }
}
