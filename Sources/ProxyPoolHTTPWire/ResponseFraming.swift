/// The framing rules an upstream's response head must keep (RFC 9112 §6), in one place for both transports: our
/// HTTP/1.1 client's parser applies them while it reads a head, the libcurl transport to the head curl hands over
/// (curl would pass on what we refuse here). Fed the Content-Length and Transfer-Encoding values in order, then
/// checked once the head is whole.
public struct ResponseFraming {
    public typealias Failure = HTTPResponseParser.Failure

    /// The body length the head declares, if any.
    public private(set) var contentLength: Int?
    /// Whether any Transfer-Encoding line came (a body framed by chunks, once `check` passed).
    public private(set) var hasTransferEncoding = false
    /// Transfer codings over every Transfer-Encoding line, and whether the only one is chunked.
    private var codings = 0
    private var chunked = false

    public init() {}

    /// A Content-Length value (spaces trimmed): digits only, and the same on every line that has one.
    public mutating func contentLength(_ value: UnsafeRawBufferPointer) throws(Failure) {
        // At most 15 digits: the value never overflows (no String made to parse it).
        var n = value.isEmpty || value.count > 15 ? -1 : 0
        for c in value where n >= 0 {
            guard c >= 48 && c <= 57 else { n = -1; break }
            n = n * 10 + Int(c - 48)
        }
        guard n >= 0 else {
            throw Failure("the upstream sent an invalid Content-Length: \(HTTPResponseParser.printable(value))")
        }
        if let c = contentLength, c != n { throw Failure("the upstream sent two different Content-Lengths") }
        contentLength = n
    }

    /// A Transfer-Encoding value (spaces trimmed).
    public mutating func transferEncoding(_ value: UnsafeRawBufferPointer) {
        hasTransferEncoding = true
        forEachHeaderToken(value) { t in
            codings += 1
            chunked = codings == 1 && equalsLowercase(UnsafeRawBufferPointer(rebasing: value[t]), "chunked")
        }
    }

    /// Once the head is whole. Only chunked alone is taken: no other coding is undone, and the body goes on with
    /// its framing removed, so a client told nothing would take gzip bytes (say) for the answer.
    public func check(_ headers: [(String, String)], _ lowerNames: [String]) throws(Failure) {
        if hasTransferEncoding && !(chunked && codings == 1) {
            let values = lowerNames.indices.filter { lowerNames[$0] == "transfer-encoding" }.map { headers[$0].1 }
            throw Failure("the upstream sent a Transfer-Encoding other than chunked, which is not passed on: \(String(values.joined(separator: ", ").prefix(80)))")
        }
    }

    /// With Transfer-Encoding, Content-Length is removed before the head goes on (RFC 9112 §6.1, §6.3): a client
    /// framing the body by it would take what follows for another response.
    public static func dropContentLength(_ headers: inout [(String, String)], _ lowerNames: inout [String]) {
        for i in lowerNames.indices.reversed() where lowerNames[i] == "content-length" { headers.remove(at: i); lowerNames.remove(at: i) }
    }
}
