import Glibc

/// An HTTP/1.1 response as it arrives from an upstream: the status line and headers, then the body by its
/// framing (Content-Length, chunked, or until the connection closes). No I/O: the caller hands in what it read
/// and gets back one piece at a time; body pieces point into the caller's bytes (no copy).
///
/// Strict where a mistake would corrupt what the client gets (framing: conflicting lengths, bad chunk sizes,
/// transfer codings other than chunked, folded headers, control characters in a value, which a client may read
/// as a line end), lenient where nothing is at stake (a bare LF ending a line, any reason phrase).
public struct HTTPResponseParser {
    public enum Piece {
        /// The final head (1xx heads are skipped).
        case head(status: Int, headers: [(String, String)], lowerNames: [String])
        /// Body bytes (chunk framing removed), a slice of the input.
        case body(UnsafeRawBufferPointer)
        /// The response is complete.
        case end
        /// Everything given has been used; more input is needed.
        case needMore
    }

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
        public init(_ m: String) { message = m }
    }

    enum Framing: Equatable { case none, length, chunked, untilClose }
    enum ChunkState { case size, sizeSpace, sizeLF, extensions, data, dataCR, dataLF, trailerLineStart, trailerLine, trailerLF }

    public static let maxHeadBytes = 64 * 1024
    /// Header fields in one head: real upstreams send a few dozen.
    public static let maxHeaderCount = 100

    /// Whether the connection can carry another request once this response is complete.
    public private(set) var keepAlive = true
    public private(set) var status = 0
    /// Any byte of a response seen (a reused connection that closes before this may be retried).
    public private(set) var sawBytes = false
    private var inHead = true
    private var done = false
    private var framing = Framing.none
    private var remaining = 0
    private var chunk = ChunkState.size
    private var sizeDigits = 0
    private var significantDigits = 0
    private var trailerBytes = 0
    /// Head bytes kept between calls, and how far they were searched for the blank line.
    private var head: [UInt8] = []
    private var searched = 0
    private let isHeadRequest: Bool

    /// The connection's previous head, parsed by line (HeaderLineCache); nil parses every line afresh.
    private let lineCache: HeaderLineCache?

    public init(requestMethod: String, lineCache: HeaderLineCache? = nil) {
        isHeadRequest = requestMethod == "HEAD"
        self.lineCache = lineCache
    }

    public var isComplete: Bool { done }

    /// The connection closed. Returns whether that completes the response (a body delimited by the close).
    public mutating func closed() -> Bool {
        if !done && !inHead && framing == .untilClose { done = true }
        return done
    }

    /// The next piece from `input`, starting at `offset` (advanced past what was used).
    public mutating func next(_ input: UnsafeRawBufferPointer, _ offset: inout Int) throws(Failure) -> Piece {
        while true {
            if done { return .end }
            if inHead {
                guard offset < input.count, let piece = try takeHead(input, &offset) else { return .needMore }
                if case .head = piece { return piece }
                continue   // a 1xx head: the real one follows
            }
            switch framing {
            case .none:
                done = true
                return .end
            case .length:
                if remaining == 0 { done = true; return .end }
                guard offset < input.count else { return .needMore }
                let n = min(remaining, input.count - offset)
                remaining -= n
                defer { offset += n }
                return .body(UnsafeRawBufferPointer(rebasing: input[offset..<offset + n]))
            case .untilClose:
                guard offset < input.count else { return .needMore }
                let n = input.count - offset
                defer { offset += n }
                return .body(UnsafeRawBufferPointer(rebasing: input[offset..<offset + n]))
            case .chunked:
                return try takeChunked(input, &offset)
            }
        }
    }

    // MARK: Head

    /// A head from the input (kept across calls until whole): the final head, or `.needMore` as a marker for a
    /// skipped 1xx head; nil when more input is needed.
    private mutating func takeHead(_ input: UnsafeRawBufferPointer, _ offset: inout Int) throws(Failure) -> Piece? {
        let start = offset
        if head.isEmpty, let end = Self.headEnd(input, lowerBound: start, searchFrom: start) {
            // The usual case: the whole head in one read, parsed where it lies.
            if end - start > Self.maxHeadBytes { throw Failure("the upstream's response head is larger than \(Self.maxHeadBytes / 1024) KiB") }
            sawBytes = true
            offset = end
            return try parseHead(UnsafeRawBufferPointer(rebasing: input[start..<end]))
        }
        // A head in pieces: keep them, and search only what is new (a line end may straddle two reads).
        let kept = head.count
        head.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start...]))
        sawBytes = sawBytes || !head.isEmpty
        let from = searched
        guard let end = head.withUnsafeBytes({ Self.headEnd($0, lowerBound: 0, searchFrom: from) }) else {
            if head.count > Self.maxHeadBytes { throw Failure("the upstream's response head is larger than \(Self.maxHeadBytes / 1024) KiB") }
            searched = head.count
            offset = input.count
            return nil
        }
        if end > Self.maxHeadBytes { throw Failure("the upstream's response head is larger than \(Self.maxHeadBytes / 1024) KiB") }
        offset = start + (end - kept)   // what follows the head is the body's, left in the input
        let bytes = head
        head = []
        searched = 0
        let result = bytes.withUnsafeBytes { b -> Result<Piece, Failure> in
            do throws(Failure) { return .success(try parseHead(UnsafeRawBufferPointer(rebasing: b[0..<end]))) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// The index just past the blank line ending a head in `b[lowerBound...]`, looking at line feeds from
    /// `searchFrom` on (CRLF CRLF, or bare LF LF).
    static func headEnd(_ b: UnsafeRawBufferPointer, lowerBound: Int, searchFrom: Int) -> Int? {
        guard let base = b.baseAddress else { return nil }
        var k = searchFrom
        while k < b.count {
            guard let p = memchr(base + k, 10, b.count - k) else { return nil }
            k = base.distance(to: UnsafeRawPointer(p))
            if k - 1 >= lowerBound && b[k - 1] == 10 { return k + 1 }
            if k - 2 >= lowerBound && b[k - 1] == 13 && b[k - 2] == 10 { return k + 1 }
            k += 1
        }
        return nil
    }

    private mutating func parseHead(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> Piece {
        // Lines found with memchr, one at a time (no array of them), CR of CRLF left out. The head ends at its
        // first blank line, so only the last line is empty; lines past the header cap are never looked at (the
        // cap fails first).
        guard let base = bytes.baseAddress, let firstLF = memchr(base, 10, bytes.count) else {
            throw Failure("the upstream sent an empty response head")
        }
        var lineEnd = base.distance(to: UnsafeRawPointer(firstLF))
        var lineStart = lineEnd + 1
        // "HTTP/1.x SSS reason"
        let s = UnsafeRawBufferPointer(start: base, count: lineEnd > 0 && bytes[lineEnd - 1] == 13 ? lineEnd - 1 : lineEnd)
        guard s.count >= 12, s[0] == 72, s[1] == 84, s[2] == 84, s[3] == 80, s[4] == 47, s[5] == 49, s[6] == 46,
              s[7] == 48 || s[7] == 49, s[8] == 32,
              s[9] >= 48 && s[9] <= 57, s[10] >= 48 && s[10] <= 57, s[11] >= 48 && s[11] <= 57, s.count == 12 || s[12] == 32
        else { throw Failure("the upstream sent a malformed status line: \(Self.printable(s))") }
        let code = Int(s[9] - 48) * 100 + Int(s[10] - 48) * 10 + Int(s[11] - 48)
        // RFC 9110 §15: 100-599 only. A 099 would otherwise be skipped like a 1xx (as curl's transport refuses it).
        guard code >= 100 && code <= 599 else { throw Failure("the upstream sent a status outside 100-599: \(code)") }
        let http10 = s[7] == 48
        var headers: [(String, String)] = []
        var lower: [String] = []
        headers.reserveCapacity(12)
        lower.reserveCapacity(12)
        var framingRules = ResponseFraming()
        var connectionClose = false
        var connectionKeepAlive = false
        while lineStart < bytes.count {
            guard let lf = memchr(base + lineStart, 10, bytes.count - lineStart) else { break }
            lineEnd = base.distance(to: UnsafeRawPointer(lf))
            var e = lineEnd
            if e > lineStart && bytes[e - 1] == 13 { e -= 1 }
            let line = UnsafeRawBufferPointer(start: base + lineStart, count: e - lineStart)
            lineStart = lineEnd + 1
            if line.isEmpty { continue }
            let slot = headers.count
            let name: String, lowerName: String, valueText: String, known: KnownHeader?, value: UnsafeRawBufferPointer
            if let e = lineCache?.entry(slot, line) {
                // The same bytes as this line last time, which passed every check below (HeaderLineCache).
                if headers.count == Self.maxHeaderCount { throw Failure("the upstream sent more than \(Self.maxHeaderCount) header fields") }
                (name, lowerName, valueText, known) = (e.name, e.lower, e.value, e.known)
                value = UnsafeRawBufferPointer(rebasing: line[e.valueStart..<e.valueEnd])
            } else {
                if line[0] == 32 || line[0] == 9 { throw Failure("the upstream sent a folded header line") }
                guard let colonAt = memchr(line.baseAddress!, 58, line.count) else {
                    throw Failure("the upstream sent a malformed header line: \(Self.printable(line))")
                }
                let colon = line.baseAddress!.distance(to: UnsafeRawPointer(colonAt))
                guard colon > 0 else { throw Failure("the upstream sent a malformed header line: \(Self.printable(line))") }
                let nameBytes = UnsafeRawBufferPointer(start: line.baseAddress!, count: colon)
                var upper = false
                for c in nameBytes {
                    guard isTokenChar(c) else { throw Failure("the upstream sent a malformed header name: \(Self.printable(nameBytes))") }
                    if c >= 65 && c <= 90 { upper = true }
                }
                var v = colon + 1, ve = line.count
                while v < ve && (line[v] == 32 || line[v] == 9) { v += 1 }
                while ve > v && (line[ve - 1] == 32 || line[ve - 1] == 9) { ve -= 1 }
                value = UnsafeRawBufferPointer(rebasing: line[v..<ve])
                // A bare CR ends a line for some clients (a header of the upstream's choosing); NUL and the other
                // controls have no place in a value either (RFC 9110 §5.5). The value is not echoed.
                if Self.hasControlCharacter(value) {
                    throw Failure("the upstream sent a control character in the value of \(Self.printable(nameBytes))")
                }
                if headers.count == Self.maxHeaderCount { throw Failure("the upstream sent more than \(Self.maxHeaderCount) header fields") }
                // Names upstreams send on nearly every answer are literals (no String made, none lower-cased);
                // framing headers are told apart by that, not by comparing strings.
                known = KnownHeader(nameBytes)
                if let known {
                    lowerName = known.lowerName
                    name = equalsExactly(nameBytes, known.usualName) ? known.usualName
                        : !upper ? lowerName : String(decoding: nameBytes, as: UTF8.self)
                } else {
                    name = String(decoding: nameBytes, as: UTF8.self)
                    lowerName = upper ? asciiLowercased(nameBytes) : name
                }
                valueText = String(decoding: value, as: UTF8.self)
                lineCache?.keep(slot, line, .init(name: name, lower: lowerName, value: valueText, known: known, valueStart: v, valueEnd: ve))
            }
            // Framing and Connection are read on every message: they depend on the other lines too.
            switch known {
            case .contentLength:
                try framingRules.contentLength(value)
            case .transferEncoding:
                framingRules.transferEncoding(value)
            case .connection:
                forEachHeaderToken(value) { t in
                    let token = UnsafeRawBufferPointer(rebasing: value[t])
                    if equalsLowercase(token, "close") { connectionClose = true }
                    else if equalsLowercase(token, "keep-alive") { connectionKeepAlive = true }
                }
            default: break
            }
            headers.append((name, valueText))
            lower.append(lowerName)
        }
        try framingRules.check(headers, lower)
        if code < 200 {
            if code == 101 { throw Failure("the upstream switched protocols (101), which a proxied request never asks for") }
            return .needMore   // 100 Continue, 103 Early Hints: the real head follows
        }
        status = code
        inHead = false
        keepAlive = !connectionClose && (!http10 || connectionKeepAlive)
        if framingRules.hasTransferEncoding && (framingRules.contentLength != nil || http10) {
            // RFC 9112 §6.1, §6.3: Transfer-Encoding overrides Content-Length, and the length is removed before the
            // head goes on (a client framing the body by it would take what follows for another response). Such
            // framing, or chunks from an HTTP/1.0 server, may be an attempt at smuggling: the connection is not
            // reused.
            keepAlive = false
            ResponseFraming.dropContentLength(&headers, &lower)
        }
        if isHeadRequest || code == 204 || code == 304 {
            framing = .none
        } else if framingRules.hasTransferEncoding {
            framing = .chunked
        } else if let n = framingRules.contentLength {
            framing = .length
            remaining = n
        } else {
            framing = .untilClose
        }
        if framing == .untilClose { keepAlive = false }
        return .head(status: code, headers: headers, lowerNames: lower)
    }

    // MARK: Chunked body

    private mutating func takeChunked(_ input: UnsafeRawBufferPointer, _ offset: inout Int) throws(Failure) -> Piece {
        while offset < input.count {
            let b = input[offset]
            switch chunk {
            case .size:
                if let d = Self.hexValue(b) {
                    // Leading zeros do not count toward the cap: 15 significant hex digits stay far below
                    // Int.max, so the size never overflows.
                    sizeDigits += 1
                    if remaining > 0 || d > 0 { significantDigits += 1 }
                    guard significantDigits <= 15, sizeDigits <= 4096 else { throw Failure("the upstream sent a chunk size that is too large") }
                    remaining = remaining * 16 + d
                    offset += 1
                } else {
                    guard sizeDigits > 0 else { throw Failure("the upstream sent a malformed chunk size") }
                    offset += 1
                    switch b {
                    case 59: chunk = .extensions
                    case 32, 9: chunk = .sizeSpace   // whitespace, then an extension or the line end
                    case 13: chunk = .sizeLF
                    case 10: try endOfSizeLine()
                    default: throw Failure("the upstream sent a malformed chunk size")
                    }
                }
            case .sizeSpace:
                offset += 1
                switch b {
                case 32, 9: continue
                case 59: chunk = .extensions
                case 13: chunk = .sizeLF
                case 10: try endOfSizeLine()
                default: throw Failure("the upstream sent a malformed chunk size")
                }
            case .extensions:
                offset += 1
                if b == 10 { try endOfSizeLine() } else if b == 13 { chunk = .sizeLF }
                else if trailerBytes > 4096 { throw Failure("the upstream sent an over-long chunk extension") } else { trailerBytes += 1 }
            case .sizeLF:
                guard b == 10 else { throw Failure("the upstream sent a malformed chunk size line") }
                offset += 1
                try endOfSizeLine()
            case .data:
                let n = min(remaining, input.count - offset)
                remaining -= n
                if remaining == 0 { chunk = .dataCR }
                defer { offset += n }
                return .body(UnsafeRawBufferPointer(rebasing: input[offset..<offset + n]))
            case .dataCR:
                offset += 1
                if b == 13 { chunk = .dataLF } else if b == 10 { startChunkSize() }
                else { throw Failure("the upstream sent chunk data longer than its size") }
            case .dataLF:
                guard b == 10 else { throw Failure("the upstream sent chunk data longer than its size") }
                offset += 1
                startChunkSize()
            case .trailerLineStart:
                offset += 1
                if b == 10 { done = true; return .end }
                if b == 13 { chunk = .trailerLF } else { chunk = .trailerLine; try countTrailer() }
            case .trailerLine:
                offset += 1
                try countTrailer()
                if b == 10 { chunk = .trailerLineStart }
            case .trailerLF:
                guard b == 10 else { throw Failure("the upstream sent a malformed trailer") }
                offset += 1
                done = true
                return .end
            }
        }
        return .needMore
    }

    private mutating func startChunkSize() {
        chunk = .size
        sizeDigits = 0
        significantDigits = 0
        remaining = 0
    }

    private mutating func endOfSizeLine() throws(Failure) {
        trailerBytes = 0
        if remaining == 0 { chunk = .trailerLineStart } else { chunk = .data }
    }

    private mutating func countTrailer() throws(Failure) {
        trailerBytes += 1
        if trailerBytes > Self.maxHeadBytes { throw Failure("the upstream sent trailers larger than \(Self.maxHeadBytes / 1024) KiB") }
    }

    // MARK: Bytes

    /// Whether a header value holds a control character other than HTAB (CR, LF, NUL, DEL…).
    public static func hasControlCharacter(_ v: UnsafeRawBufferPointer) -> Bool { hasValueControlCharacter(v) }

    static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 48...57: return Int(b - 48)
        case 65...70: return Int(b - 55)
        case 97...102: return Int(b - 87)
        default: return nil
        }
    }

    public static func printable(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes.prefix(80).map { $0 >= 32 && $0 < 127 ? $0 : 63 }, as: UTF8.self)
    }
}
