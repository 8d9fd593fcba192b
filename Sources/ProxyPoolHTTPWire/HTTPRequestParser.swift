import Glibc

/// A parsed request head. Header names keep their case; look-ups are case-insensitive. Immutable, and a class:
/// it is handed from the parser to the connection, the handler, the response writer and the exchange, and a
/// struct of strings and arrays would be copied (a dozen reference counts) at each step.
public final class HTTPRequestHead: Sendable {
    public let method: String
    /// The request target as sent: path plus optional `?query`.
    public let target: String
    /// The target's path and query, split once.
    public let path: Substring
    public let query: Substring?
    public let minorVersion: Int
    public let headers: [(name: String, value: String)]
    /// Lower-cased names, computed once: look-ups happen a dozen times per request.
    public let lowerNames: [String]
    /// Whether the connection stays open after this exchange (asked several times per request).
    public let keepAlive: Bool

    public convenience init(method: String, target: String, minorVersion: Int, headers: [(name: String, value: String)]) {
        self.init(method: method, target: target, minorVersion: minorVersion, headers: headers, lowerNames: headers.map { asciiLowercased($0.name) })
    }

    /// `queryStart` and `connection`, when the parser knows them (the UTF-8 offset of `?` in the target, or nil
    /// for none; the first Connection header's value), spare a search.
    init(method: String, target: String, minorVersion: Int, headers: [(name: String, value: String)], lowerNames: [String],
         queryStart: Int?? = .none, connection known: String?? = .none) {
        self.method = method; self.target = target; self.minorVersion = minorVersion; self.headers = headers
        self.lowerNames = lowerNames
        switch queryStart {
        case .none: (path, query) = Self.split(target)
        case .some(nil): (path, query) = (target[...], nil)
        case .some(let q?):
            let u = target.utf8, i = u.index(u.startIndex, offsetBy: q)
            (path, query) = (target[..<i], target[u.index(after: i)...])
        }
        var connection: String?
        if case .some(let c) = known { connection = c } else {
            for i in lowerNames.indices where lowerNames[i] == "connection" { connection = headers[i].value; break }
        }
        var c = connection?.lowercased() ?? ""
        // HTTP/1.0 stays open only when asked (a "keep-alive" token), 1.1 unless told to close (RFC 9112 §9.3).
        let http10 = minorVersion == 0
        keepAlive = c.withUTF8 { b in
            let raw = UnsafeRawBufferPointer(b)
            let asked = headerTokens(raw).contains { equalsLowercase(UnsafeRawBufferPointer(rebasing: raw[$0]), http10 ? "keep-alive" : "close") }
            return http10 ? asked : !asked
        }
    }

    static func split(_ target: String) -> (Substring, Substring?) {
        guard let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (target[...], nil) }
        return (target[..<q], target[target.utf8.index(after: q)...])
    }

    /// The first value of a header; `name` must be lower-case.
    public func header(_ name: String) -> String? {
        // Called a dozen times per request (Host, Origin, the session and app headers, ...): most names differ
        // in length, which costs a word compare instead of a string comparison.
        let n = name.utf8.count
        for i in lowerNames.indices where lowerNames[i].utf8.count == n && lowerNames[i] == name { return headers[i].value }
        return nil
    }
}

public struct HTTPLimits: Sendable, Equatable {
    public var maxHeaderBytes = 64 * 1024
    public var maxHeaderCount = 128
    public var maxBodyBytes = 64 * 1024 * 1024
    public init() {}
}

/// Why a request was refused, with the status to answer.
public struct HTTPParseError: Error, Equatable, Sendable {
    public var status: Int
    public var message: String
    /// The head, when the error was found after it parsed (an oversized body): the answer can use its dialect.
    public var head: HTTPRequestHead?
    public init(_ status: Int, _ message: String) { self.status = status; self.message = message }
    public static func == (a: HTTPParseError, b: HTTPParseError) -> Bool { a.status == b.status && a.message == b.message }
}

/// Strict HTTP/1.1 request parsing (RFC 9112): anything malformed or ambiguous is refused, never guessed at —
/// duplicate or invalid Content-Length, Content-Length with Transfer-Encoding, codings other than chunked,
/// bad chunk sizes, obsolete line folding, bare LF, whitespace before a colon, missing or repeated Host.
/// Feed bytes; it reports the head once complete (so `Expect: 100-continue` can be answered), then the body.
public struct HTTPRequestParser: Sendable {
    public enum Event: Sendable {
        case head(HTTPRequestHead)
        /// The whole body (requests are buffered: the proxy must see it whole to route and to retry).
        case complete(body: [UInt8])
    }

    enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case done
    }

    public let limits: HTTPLimits
    private var state: State = .head
    private var buffer: [UInt8] = []
    private var body: [UInt8] = []
    private var trailerBytes = 0
    /// The head of the request whose body is being read (for errors found in the body).
    private var currentHead: HTTPRequestHead?
    /// How many bytes from the start of the unconsumed input were already searched for the end of the head, a
    /// chunk-size line or a trailer line, and for bare LFs: the next read searches only what is new. Without it a
    /// head sent in small pieces was rescanned whole on every read, O(n²) in its size (the fuzzer's piecewise
    /// reads ran at 24 inputs/s because of it).
    private var scanned = 0

    /// The previous head's lines on this connection (HeaderLineCache): nil parses every line afresh.
    private let lineCache: HeaderLineCache?

    public init(limits: HTTPLimits = HTTPLimits(), cachingLines: Bool = true) {
        self.limits = limits
        lineCache = cachingLines ? HeaderLineCache() : nil
    }

    /// Bytes received but not yet consumed (a pipelined next request stays here).
    public var leftover: [UInt8] { buffer }
    public var isIdle: Bool { if case .head = state { return buffer.isEmpty }; return false }

    /// Start on the next request of a keep-alive connection, keeping pipelined bytes.
    public mutating func reset() {
        state = .head
        body = []
        trailerBytes = 0
        scanned = 0
        currentHead = nil
    }

    public mutating func feed(_ bytes: some Collection<UInt8>) throws(HTTPParseError) -> [Event] {
        do { return try feedBytes(bytes) } catch {
            // An error in the body still answers in the client's dialect, which the head tells.
            var e = error
            if e.head == nil { e.head = currentHead }
            throw e
        }
    }

    private mutating func feedBytes(_ bytes: some Collection<UInt8>) throws(HTTPParseError) -> [Event] {
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        events.reserveCapacity(2)   // a head and its body, at most: one allocation, not two
        var pos = 0
        defer { if pos > 0 { buffer.removeFirst(pos) } }
        loop: while true {
            switch state {
            case .done:
                break loop
            case .head:
                guard let end = findHeadEnd(from: pos + max(0, scanned - 3)) else {
                    // A bare LF can never end a head we accept: refuse now rather than wait for the timeout.
                    var i = pos + scanned
                    while i < buffer.count {
                        if buffer[i] == 10 && (i == pos || buffer[i - 1] != 13) { throw HTTPParseError(400, "bare LF in request head; lines must end with CRLF") }
                        i += 1
                    }
                    scanned = buffer.count - pos
                    // Up to 3 of these bytes may begin the blank line that ends the head, which is not counted
                    // (without the 3, a head just under the limit was refused when read in pieces: fuzzer).
                    if buffer.count - pos - 3 > limits.maxHeaderBytes { throw HTTPParseError(431, "request header section is larger than \(limits.maxHeaderBytes) bytes") }
                    break loop
                }
                scanned = 0
                if end - pos > limits.maxHeaderBytes { throw HTTPParseError(431, "request header section is larger than \(limits.maxHeaderBytes) bytes") }
                let (head, bodyHeaders) = try parseHead(buffer[pos..<end])
                currentHead = head
                pos = end + 4
                events.append(.head(head))
                do { state = try bodyState(head, bodyHeaders) } catch {
                    var e = error
                    e.head = head
                    throw e
                }
                if case .done = state { events.append(.complete(body: [])); break loop }
                // The body is appended without growing (each growth copied what had come: a 60 KB body was copied
                // once more). This runs before the head is checked (Host, key), and reused heap memory is resident:
                // a declared length alone reserves at most 64 KiB; longer bodies grow as their bytes arrive.
                if case .fixedBody(let declared) = state { body.reserveCapacity(min(declared, 64 << 10)) }
            case .fixedBody(let remaining):
                let n = min(remaining, buffer.count - pos)
                body.append(contentsOf: buffer[pos..<pos + n])
                pos += n
                if remaining - n == 0 { state = .done; events.append(.complete(body: body)); body = []; break loop }
                state = .fixedBody(remaining: remaining - n)
                break loop
            case .chunkSize:
                let lineEnd: Int
                switch findCRLF(from: pos, limit: 1024) {
                case .found(let e): lineEnd = e
                case .needMore: break loop
                case .tooLong: throw HTTPParseError(400, "chunk size line too long")
                case .bareCR: throw HTTPParseError(400, "bare CR in a chunk size line; lines must end with CRLF")
                case .bareLF: throw HTTPParseError(400, "bare LF in a chunk size line; lines must end with CRLF")
                }
                let size = try parseChunkSize(buffer[pos..<lineEnd])
                pos = lineEnd + 2
                if size == 0 { state = .trailers; continue }
                guard body.count + size <= limits.maxBodyBytes else { throw HTTPParseError(413, "request body is larger than \(limits.maxBodyBytes) bytes") }
                state = .chunkData(remaining: size)
            case .chunkData(let remaining):
                let n = min(remaining, buffer.count - pos)
                body.append(contentsOf: buffer[pos..<pos + n])
                pos += n
                if remaining - n == 0 { state = .chunkDataEnd; continue }
                state = .chunkData(remaining: remaining - n)
                break loop
            case .chunkDataEnd:
                guard buffer.count - pos >= 2 else { break loop }
                guard buffer[pos] == 13 && buffer[pos + 1] == 10 else { throw HTTPParseError(400, "chunk data is not followed by CRLF") }
                pos += 2
                state = .chunkSize
            case .trailers:
                let lineEnd: Int
                switch findCRLF(from: pos, limit: limits.maxHeaderBytes) {
                case .found(let e): lineEnd = e
                case .needMore: break loop
                case .tooLong: throw HTTPParseError(431, "trailer section too large")
                case .bareCR: throw HTTPParseError(400, "bare CR in the trailer section; lines must end with CRLF")
                case .bareLF: throw HTTPParseError(400, "bare LF in the trailer section; lines must end with CRLF")
                }
                let empty = lineEnd == pos
                trailerBytes += lineEnd - pos + 2
                if trailerBytes > limits.maxHeaderBytes { throw HTTPParseError(431, "trailer section too large") }
                pos = lineEnd + 2
                if empty { state = .done; events.append(.complete(body: body)); body = []; break loop }
                // Trailer fields are read and ignored (none of them may change how the request is routed).
            }
        }
        return events
    }

    // MARK: Head

    private func findHeadEnd(from: Int) -> Int? {
        buffer.withUnsafeBufferPointer { p -> Int? in
            guard let base = p.baseAddress else { return nil }
            var i = from
            // memchr to each CR, then the three bytes after it.
            while i + 3 < p.count {
                guard let cr = memchr(base + i, 13, p.count - 3 - i) else { return nil }
                i = base.distance(to: cr.assumingMemoryBound(to: UInt8.self))
                if p[i + 1] == 10 && p[i + 2] == 13 && p[i + 3] == 10 { return i }
                i += 1
            }
            return nil
        }
    }

    private enum LineEnd { case found(Int), needMore, tooLong, bareCR, bareLF }

    /// The CRLF ending the line that starts at `from`, when the line (CRLF excluded) is at most `limit` bytes.
    /// Searches only past what an earlier read searched. The verdict does not depend on how the bytes were split
    /// into reads (before, a line just under the limit was refused when its CR came last in a read: the same
    /// mistake the fuzzer found for the head). A CR not followed by LF, or an LF on its own, is reported at once:
    /// such a line never ends the way this parser reads it, and the client would otherwise wait for the timeout.
    private mutating func findCRLF(from: Int, limit: Int) -> LineEnd {
        var i = from + max(0, scanned - 1)
        while i + 1 < buffer.count {
            if i - from > limit { return .tooLong }
            // Every byte before `i` was looked at: a CR among them was followed by its LF and ended the search.
            if buffer[i] == 13 { if buffer[i + 1] == 10 { scanned = 0; return .found(i) }; return .bareCR }
            if buffer[i] == 10 { return .bareLF }
            i += 1
        }
        if i < buffer.count, buffer[i] == 10 { return .bareLF }
        // No CRLF yet: the line is at least buffer.count - from - 1 bytes (the last byte may be its CR).
        if buffer.count - from - 1 > limit { return .tooLong }
        scanned = max(0, buffer.count - from)
        return .needMore
    }

    /// What the head says about its body, gathered while it is parsed (no second pass over the names).
    struct BodyHeaders {
        var lengths = 0, encodings = 0
        var length: String?, encoding: String?
    }

    private func parseHead(_ raw: ArraySlice<UInt8>) throws(HTTPParseError) -> (HTTPRequestHead, BodyHeaders) {
        let limits = self.limits, cache = self.lineCache
        let result = raw.withUnsafeBufferPointer { p -> Result<(HTTPRequestHead, BodyHeaders), HTTPParseError> in
            do throws(HTTPParseError) { return .success(try Self.parseHead(p, limits: limits, cache: cache)) } catch { return .failure(error) }
        }
        switch result {
        case .success(let head): return head
        case .failure(let error): throw error
        }
    }

    /// The head's bytes read through a pointer with integer positions: slices of the array would each retain
    /// its storage (a third of the daemon's reference counting per request went here).
    private static func parseHead(_ p: UnsafeBufferPointer<UInt8>, limits: HTTPLimits, cache: HeaderLineCache?) throws(HTTPParseError) -> (HTTPRequestHead, BodyHeaders) {
        let n = p.count
        guard n > 0, let base = p.baseAddress else { throw HTTPParseError(400, "malformed request line") }
        func at(_ q: UnsafeMutableRawPointer) -> Int { base.distance(to: q.assumingMemoryBound(to: UInt8.self)) }
        // A bare CR, a bare LF or a NUL anywhere is refused before anything else (the first one in the head).
        var bad = n, why = ""
        if let z = memchr(base, 0, n) { bad = at(z); why = "NUL in request head" }
        var i = 0
        while i < bad, let c = memchr(base + i, 13, bad - i) {
            let k = at(c)
            if k + 1 >= n || p[k + 1] != 10 { bad = k; why = "bare CR in request head"; break }
            i = k + 2
        }
        i = 0
        while i < bad, let l = memchr(base + i, 10, bad - i) {
            let k = at(l)
            if k == 0 || p[k - 1] != 13 { bad = k; why = "bare LF in request head; lines must end with CRLF"; break }
            i = k + 1
        }
        if bad < n { throw HTTPParseError(400, why) }
        // Lines, one by one (no array of them): every CR now ends a line.
        var lineStart = 0
        func nextLine() -> (start: Int, end: Int)? {
            guard lineStart <= n else { return nil }
            guard let c = memchr(base + lineStart, 13, n - lineStart) else {
                defer { lineStart = n + 1 }
                return (lineStart, n)
            }
            let k = at(c)
            defer { lineStart = k + 2 }
            return (lineStart, k)
        }
        func find(_ byte: UInt8, _ from: Int, _ to: Int) -> Int? {
            guard from < to, let q = memchr(base + from, Int32(byte), to - from) else { return nil }
            return at(q)
        }
        func text(_ from: Int, _ to: Int) -> String { String(decoding: UnsafeBufferPointer(rebasing: p[from..<to]), as: UTF8.self) }
        guard let line = nextLine() else { throw HTTPParseError(400, "empty request") }
        // method SP target SP version: exactly two spaces.
        guard let sp1 = find(0x20, line.start, line.end), let sp2 = find(0x20, sp1 + 1, line.end),
              find(0x20, sp2 + 1, line.end) == nil else { throw HTTPParseError(400, "malformed request line") }
        guard sp1 > line.start, sp2 > sp1 + 1 else { throw HTTPParseError(400, "malformed request line") }
        for i in line.start..<sp1 where !isTokenChar(p[i]) { throw HTTPParseError(400, "invalid method") }
        let v0 = sp2 + 1
        guard line.end - v0 == 8, p[v0] == 0x48, p[v0 + 1] == 0x54, p[v0 + 2] == 0x54, p[v0 + 3] == 0x50, p[v0 + 4] == 0x2F,
              p[v0 + 5] == 0x31, p[v0 + 6] == 0x2E, p[v0 + 7] == 0x30 || p[v0 + 7] == 0x31 else {
            throw HTTPParseError(505, "only HTTP/1.0 and HTTP/1.1 are supported")
        }
        for i in (sp1 + 1)..<sp2 where !(p[i] > 0x20 && p[i] < 0x7F) { throw HTTPParseError(400, "invalid characters in request target") }
        let method = sp1 - line.start == 4 && p[line.start] == 0x50 && p[line.start + 1] == 0x4F && p[line.start + 2] == 0x53
            && p[line.start + 3] == 0x54 ? "POST" : sp1 - line.start == 3 && p[line.start] == 0x47 && p[line.start + 1] == 0x45
            && p[line.start + 2] == 0x54 ? "GET" : text(line.start, sp1)
        let target = text(sp1 + 1, sp2)
        let queryStart = find(UInt8(ascii: "?"), sp1 + 1, sp2).map { $0 - sp1 - 1 }
        guard p[sp1 + 1] == UInt8(ascii: "/") || (method == "OPTIONS" && target == "*") else {
            throw HTTPParseError(400, "request target must be an absolute path")
        }
        var headers: [(name: String, value: String)] = []
        var lowerNames: [String] = []
        headers.reserveCapacity(16)
        lowerNames.reserveCapacity(16)
        var hosts = 0
        var body = BodyHeaders()
        var connection: String?
        while let line = nextLine() {
            let lineBytes = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: p[line.start..<line.end]))
            let slot = headers.count
            let name: String, lower: String, value: String, known: KnownHeader?
            if let e = cache?.entry(slot, lineBytes) {
                // The same bytes as this line last time, which passed every check below (HeaderLineCache).
                (name, lower, value, known) = (e.name, e.lower, e.value, e.known)
            } else {
                if line.end > line.start && (p[line.start] == 0x20 || p[line.start] == 0x09) {
                    throw HTTPParseError(400, "obsolete header line folding is not accepted")
                }
                guard let colon = find(UInt8(ascii: ":"), line.start, line.end) else { throw HTTPParseError(400, "header line without a colon") }
                var upper = false
                for i in line.start..<colon {
                    let c = p[i]
                    guard isTokenChar(c) else { throw HTTPParseError(400, "invalid header name (no whitespace is allowed before the colon)") }
                    if c >= 65 && c <= 90 { upper = true }
                }
                guard colon > line.start else { throw HTTPParseError(400, "invalid header name (no whitespace is allowed before the colon)") }
                var vs = colon + 1, ve = line.end
                while vs < ve && (p[vs] == 0x20 || p[vs] == 0x09) { vs += 1 }
                while ve > vs && (p[ve - 1] == 0x20 || p[ve - 1] == 0x09) { ve -= 1 }
                if hasValueControlCharacter(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: p[vs..<ve]))) {
                    throw HTTPParseError(400, "control character in a header value")
                }
                // Names most clients send are literals (recognised by their bytes, length first), both as sent and
                // lower-cased: two Strings fewer per header, and no string compares to find Host or the framing.
                let nameBytes = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: p[line.start..<colon]))
                known = KnownHeader(nameBytes)
                if let known {
                    lower = known.lowerName
                    name = equalsExactly(nameBytes, known.usualName) ? known.usualName : !upper ? lower : text(line.start, colon)
                } else {
                    name = text(line.start, colon)
                    lower = upper ? asciiLowercased(nameBytes) : name
                }
                value = text(vs, ve)
                cache?.keep(slot, lineBytes, .init(name: name, lower: lower, value: value, known: known,
                                                   valueStart: vs - line.start, valueEnd: ve - line.start))
            }
            // What depends on the other lines too: counted for every line, kept or not.
            switch known {
            case .host: hosts += 1
            case .contentLength: body.lengths += 1; body.length = value
            case .transferEncoding: body.encodings += 1; body.encoding = value
            case .connection: if connection == nil { connection = value }
            default: break
            }
            headers.append((name, value))
            lowerNames.append(lower)
            if headers.count > limits.maxHeaderCount { throw HTTPParseError(431, "more than \(limits.maxHeaderCount) header fields") }
        }
        let minor = Int(p[v0 + 7] - 0x30)
        if minor == 1 && hosts != 1 {
            throw HTTPParseError(400, hosts == 0 ? "missing Host header" : "more than one Host header")
        }
        let head = HTTPRequestHead(method: method, target: target, minorVersion: minor, headers: headers, lowerNames: lowerNames,
                                   queryStart: .some(queryStart), connection: .some(connection))
        return (head, body)
    }

    private func bodyState(_ head: HTTPRequestHead, _ body: BodyHeaders) throws(HTTPParseError) -> State {
        let (lengths, encodings, length, encoding) = (body.lengths, body.encodings, body.length, body.encoding)
        if let encoding {
            guard lengths == 0 else { throw HTTPParseError(400, "both Content-Length and Transfer-Encoding are present") }
            guard head.minorVersion == 1 else { throw HTTPParseError(400, "Transfer-Encoding in an HTTP/1.0 request") }
            guard encodings == 1, encoding.lowercased() == "chunked" else {
                throw HTTPParseError(501, "only 'Transfer-Encoding: chunked' is supported")
            }
            return .chunkSize
        }
        guard lengths <= 1 else { throw HTTPParseError(400, "more than one Content-Length header") }
        guard let text = length else { return .done }
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(text) else {
            throw HTTPParseError(400, "invalid Content-Length")
        }
        guard n <= limits.maxBodyBytes else { throw HTTPParseError(413, "request body is larger than \(limits.maxBodyBytes) bytes") }
        return n == 0 ? .done : .fixedBody(remaining: n)
    }

    private func parseChunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        // chunk-size [ ; extensions ]: extensions are skipped, but hold only HTAB, SP and visible characters
        // (RFC 9112 §7.1.1: tokens and quoted strings); the size is 1–15 hex digits, nothing else.
        let sizePart = line.prefix { $0 != UInt8(ascii: ";") }
        for c in line[sizePart.endIndex...] where c != 0x09 && (c < 0x20 || c == 0x7F) {
            throw HTTPParseError(400, "control character in a chunk extension")
        }
        guard !sizePart.isEmpty, sizePart.count <= 15 else { throw HTTPParseError(400, "invalid chunk size") }
        var n = 0
        for c in sizePart {
            let d: Int
            switch c {
            case 0x30...0x39: d = Int(c - 0x30)
            case 0x41...0x46: d = Int(c - 0x41 + 10)
            case 0x61...0x66: d = Int(c - 0x61 + 10)
            default: throw HTTPParseError(400, "invalid chunk size")
            }
            n = n * 16 + d
        }
        return n
    }
}
