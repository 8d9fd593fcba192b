/// RFC 6455 on the wire, no I/O: the incremental parser of a client's frames and the encoder of the server's.
///
/// What a client may send is read strictly (RFC 6455 §5): every client frame masked, no reserved bits (no
/// extension is ever negotiated: `permessage-deflate` offered by Codex is declined by not echoing it), known
/// opcodes only, lengths in their shortest form with the 64-bit form's top bit clear, control frames of at most
/// 125 bytes and never fragmented (but allowed between the fragments of a message, §5.4), continuation frames only
/// inside a message, text valid UTF-8 as it arrives (a message is refused at its first bad byte, across
/// fragments too), and every message under a size cap checked against the declared length before its bytes are
/// held. A violation ends the connection with the close code the RFC names (§7.4.1): 1002 protocol error, 1007
/// bad UTF-8, 1009 too big.
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA
    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// Close codes this server sends (RFC 6455 §7.4.1, 1013 from the IANA registry).
public enum WebSocketCloseCode {
    public static let normal: UInt16 = 1000
    public static let goingAway: UInt16 = 1001
    public static let protocolError: UInt16 = 1002
    public static let unsupportedData: UInt16 = 1003
    public static let invalidPayload: UInt16 = 1007
    public static let policyViolation: UInt16 = 1008
    public static let tooBig: UInt16 = 1009
    public static let internalError: UInt16 = 1011
    public static let tryAgainLater: UInt16 = 1013

    /// Codes a peer may put in a close frame (§7.4.1-2): 1000-1003, 1007-1011 (1012-1014 registered since),
    /// and the 3000-4999 ranges for libraries and applications. 1004-1006 and 1015 must never be sent.
    public static func isValidReceived(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
}

/// What the parser hands over: whole messages (fragments joined) and each control frame.
public enum WebSocketEvent: Equatable, Sendable {
    case text([UInt8])
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// The peer's close frame: its code (nil when it sent none) and its reason (UTF-8 checked).
    case close(code: UInt16?, reason: [UInt8])
}

/// Why the connection must end, and the close code that says so.
public struct WebSocketProtocolError: Error, Equatable, Sendable {
    public let closeCode: UInt16
    public let message: String
    public init(_ closeCode: UInt16, _ message: String) { self.closeCode = closeCode; self.message = message }
}

/// UTF-8 checked a byte at a time (RFC 3629 §4: no overlong forms, no surrogates, nothing above U+10FFFF), so a
/// text message split across frames is checked as it arrives, without holding its bytes for it.
public struct UTF8Validator: Sendable, Equatable {
    /// Continuation bytes still expected for the character at hand.
    private var needed = 0
    /// The range the next continuation byte must be in (narrower after E0, ED, F0, F4).
    private var low: UInt8 = 0x80, high: UInt8 = 0xBF
    public init() {}

    /// False at the first byte that cannot be UTF-8 here.
    public mutating func take(_ b: UInt8) -> Bool {
        if needed > 0 {
            guard b >= low && b <= high else { return false }
            needed -= 1; low = 0x80; high = 0xBF
            return true
        }
        switch b {
        case 0x00...0x7F: return true
        case 0xC2...0xDF: needed = 1
        case 0xE0: needed = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: needed = 2
        case 0xED: needed = 2; high = 0x9F
        case 0xF0: needed = 3; low = 0x90
        case 0xF1...0xF3: needed = 3
        case 0xF4: needed = 3; high = 0x8F
        default: return false
        }
        return true
    }

    public mutating func take(_ bytes: some Sequence<UInt8>) -> Bool {
        for b in bytes where !take(b) { return false }
        return true
    }

    /// No character is cut off (a message may end here).
    public var isComplete: Bool { needed == 0 }

    public static func isValid(_ bytes: some Sequence<UInt8>) -> Bool {
        var v = UTF8Validator()
        return v.take(bytes) && v.isComplete
    }
}

/// The client side of a connection after the handshake, parsed incrementally: `feed` takes bytes as they come
/// (any split) and returns the events they complete. After an error, or after the peer's close frame, it
/// takes nothing more (a close is the last frame a peer sends, §5.5.1).
public struct WebSocketFrameParser: Sendable {
    /// The largest message (text or binary, all fragments together) a client may send.
    public let maxMessageBytes: Int
    /// Bytes received and not yet parsed: at most one frame header plus one frame's payload (the payload of a
    /// data frame is checked against the cap before it is held).
    private var buffer: [UInt8] = []
    private var start = 0
    /// The message being received in fragments: its opcode, its bytes so far, its UTF-8 state.
    private var messageOpcode: WebSocketOpcode?
    private var message: [UInt8] = []
    private var utf8 = UTF8Validator()
    public private(set) var finished = false

    public init(maxMessageBytes: Int) { self.maxMessageBytes = max(0, maxMessageBytes) }

    /// Bytes this parser holds (unparsed input and the message in fragments), for the server's accounting.
    public var heldBytes: Int { buffer.count - start + message.count }

    /// The refusal that ended parsing, once there is one.
    public private(set) var failure: WebSocketProtocolError?

    /// The events `bytes` complete. At a violation parsing ends: the events before it in these bytes are
    /// returned and `failure` is set (so that how the bytes were split never changes what is delivered); with
    /// none before it, the error is thrown. Once ended, nothing more is parsed.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(WebSocketProtocolError) -> [WebSocketEvent] {
        if let failure { throw failure }
        guard !finished else { return [] }
        buffer.append(contentsOf: bytes)
        var events: [WebSocketEvent] = []
        do throws(WebSocketProtocolError) {
            while let e = try nextFrame() {
                if let e { events.append(e) }
                if case .close = events.last { finished = true; break }
            }
        } catch {
            finished = true
            failure = error
            buffer = []; start = 0; message = []
            if events.isEmpty { throw error }
            return events
        }
        if finished { buffer = []; start = 0; message = [] }
        else if start == buffer.count { buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 16); start = 0 }
        else if start > 0 && start * 2 >= buffer.count { buffer.removeFirst(start); start = 0 }
        return events
    }

    /// One whole frame from the buffer: nil when more bytes are needed; `.some(nil)` for a frame that completes
    /// no event (a fragment).
    private mutating func nextFrame() throws(WebSocketProtocolError) -> WebSocketEvent?? {
        let avail = buffer.count - start
        guard avail >= 2 else { return nil }
        let b0 = buffer[start], b1 = buffer[start + 1]
        let fin = b0 & 0x80 != 0
        guard b0 & 0x70 == 0 else { throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "reserved bits set, but no extension was negotiated") }
        guard let opcode = WebSocketOpcode(rawValue: b0 & 0x0F) else {
            throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "unknown opcode \(b0 & 0x0F)")
        }
        guard b1 & 0x80 != 0 else { throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a client frame must be masked (RFC 6455 section 5.1)") }
        let short = Int(b1 & 0x7F)
        if opcode.isControl {
            guard fin else { throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a control frame must not be fragmented") }
            guard short <= 125 else { throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a control frame carries at most 125 bytes") }
        } else if opcode == .continuation {
            guard messageOpcode != nil else { throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a continuation frame outside a fragmented message") }
        } else if messageOpcode != nil {
            throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a new message began before the fragmented one ended")
        }
        // The length: 7 bits, or 16, or 64 (top bit clear), each in its shortest form (§5.2).
        var headerBytes = 2
        var length: UInt64 = UInt64(short)
        if short == 126 {
            guard avail >= 4 else { return nil }
            length = UInt64(buffer[start + 2]) << 8 | UInt64(buffer[start + 3])
            guard length >= 126 else { throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a frame length not in its shortest form") }
            headerBytes = 4
        } else if short == 127 {
            guard avail >= 10 else { return nil }
            length = 0
            for i in 0..<8 { length = length << 8 | UInt64(buffer[start + 2 + i]) }
            guard length >> 63 == 0 else { throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a frame length with its most significant bit set") }
            guard length > 0xFFFF else { throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a frame length not in its shortest form") }
            headerBytes = 10
        }
        // The cap, before a byte of the payload is held: what the message has so far plus this frame.
        if !opcode.isControl {
            let room = UInt64(max(0, maxMessageBytes - message.count))
            guard length <= room else {
                throw WebSocketProtocolError(WebSocketCloseCode.tooBig, "a message larger than \(maxMessageBytes) bytes")
            }
        }
        let payloadLength = Int(length)   // ≤ maxMessageBytes or ≤ 125 here
        let (total, overflow) = (headerBytes + 4).addingReportingOverflow(payloadLength)
        guard !overflow else { throw WebSocketProtocolError(WebSocketCloseCode.tooBig, "a frame too large") }
        guard avail >= total else { return nil }
        let maskAt = start + headerBytes
        let mask = (buffer[maskAt], buffer[maskAt + 1], buffer[maskAt + 2], buffer[maskAt + 3])
        let payloadAt = maskAt + 4
        var payload = [UInt8](repeating: 0, count: payloadLength)
        buffer.withUnsafeBufferPointer { src in
            payload.withUnsafeMutableBufferPointer { dst in
                for i in 0..<payloadLength {
                    let m: UInt8
                    switch i & 3 { case 0: m = mask.0; case 1: m = mask.1; case 2: m = mask.2; default: m = mask.3 }
                    dst[i] = src[payloadAt + i] ^ m
                }
            }
        }
        start += total

        switch opcode {
        case .ping: return .some(.ping(payload))
        case .pong: return .some(.pong(payload))
        case .close: return .some(try Self.closeEvent(payload))
        case .text, .binary, .continuation:
            let kind = opcode == .continuation ? messageOpcode! : opcode
            if kind == .text {
                guard utf8.take(payload) else { throw WebSocketProtocolError(WebSocketCloseCode.invalidPayload, "a text message that is not valid UTF-8") }
            }
            if fin {
                if kind == .text && !utf8.isComplete {
                    throw WebSocketProtocolError(WebSocketCloseCode.invalidPayload, "a text message that ends inside a UTF-8 character")
                }
                let whole: [UInt8]
                if message.isEmpty { whole = payload } else { message.append(contentsOf: payload); whole = message }
                message = []; messageOpcode = nil; utf8 = UTF8Validator()
                return .some(kind == .text ? .text(whole) : .binary(whole))
            }
            messageOpcode = kind
            message.append(contentsOf: payload)
            return .some(nil)
        }
    }

    /// A close frame's body: nothing, or a valid code and a UTF-8 reason (§5.5.1, §7.4).
    static func closeEvent(_ payload: [UInt8]) throws(WebSocketProtocolError) -> WebSocketEvent {
        if payload.isEmpty { return .close(code: nil, reason: []) }
        guard payload.count >= 2 else { throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a close frame with a one-byte body") }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard WebSocketCloseCode.isValidReceived(code) else { throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "close code \(code) may not be sent") }
        let reason = Array(payload[2...])
        guard UTF8Validator.isValid(reason) else { throw WebSocketProtocolError(WebSocketCloseCode.invalidPayload, "a close reason that is not valid UTF-8") }
        return .close(code: code, reason: reason)
    }
}

/// The server's frames: never masked (§5.1), never fragmented (a message goes as one frame).
public enum WebSocketFrameEncoder {
    public static func append(_ out: inout [UInt8], _ opcode: WebSocketOpcode, _ payload: some Collection<UInt8>) {
        let n = payload.count
        out.append(0x80 | opcode.rawValue)
        if n < 126 {
            out.append(UInt8(n))
        } else if n <= 0xFFFF {
            out.append(126); out.append(UInt8(n >> 8)); out.append(UInt8(n & 0xFF))
        } else {
            out.append(127)
            for i in (0..<8).reversed() { out.append(UInt8(truncatingIfNeeded: UInt64(n) >> (UInt64(i) * 8))) }
        }
        out.append(contentsOf: payload)
    }

    public static func frame(_ opcode: WebSocketOpcode, _ payload: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 10)
        append(&out, opcode, payload)
        return out
    }

    /// A close frame's body: the code, then a reason cut to fit 125 bytes at a character boundary.
    public static func closePayload(_ code: UInt16, _ reason: String) -> [UInt8] {
        var r = Array(reason.utf8)
        if r.count > 123 {
            r = Array(r.prefix(123))
            while let last = r.last, last & 0xC0 == 0x80 { r.removeLast() }   // continuation bytes of a cut character
            if let last = r.last, last >= 0xC0 { r.removeLast() }               // its lead byte
        }
        return [UInt8(code >> 8), UInt8(code & 0xFF)] + r
    }
}

/// The opening handshake, server side (RFC 6455 §4.2.1): what a request must carry to be upgraded.
public enum WebSocketHandshake {
    /// The GUID the accept value is made with (§1.3).
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Whether a request asks for a WebSocket at all (`Upgrade: websocket`): only then is it answered as one.
    public static func isUpgrade(_ head: HTTPRequestHead) -> Bool {
        guard let u = head.header("upgrade") else { return false }
        return hasToken(u, "websocket")
    }

    /// Why the upgrade request cannot be accepted (nil: it can), with the status to answer: 400, or 426 with
    /// `Sec-WebSocket-Version: 13` for another version (§4.4).
    public static func problem(_ head: HTTPRequestHead) -> (status: Int, message: String)? {
        guard head.method == "GET" else { return (400, "a WebSocket handshake must be a GET") }
        guard head.minorVersion >= 1 else { return (400, "a WebSocket handshake needs HTTP/1.1") }
        guard hasToken(head.header("connection") ?? "", "upgrade") else { return (400, "a WebSocket handshake needs 'Connection: Upgrade'") }
        guard head.header("sec-websocket-version")?.trimmingSpaces == "13" else {
            return (426, "only WebSocket version 13 (RFC 6455) is supported")
        }
        guard let key = head.header("sec-websocket-key")?.trimmingSpaces, isValidKey(key) else {
            return (400, "Sec-WebSocket-Key must be 16 bytes in base64")
        }
        return nil
    }

    /// A key is 16 random bytes in base64 (§4.1): 24 characters, the last two `==`.
    public static func isValidKey(_ key: String) -> Bool {
        let u = Array(key.utf8)
        guard u.count == 24, u[22] == UInt8(ascii: "="), u[23] == UInt8(ascii: "=") else { return false }
        for c in u[0..<22] {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "+"), UInt8(ascii: "/"): continue
            default: return false
            }
        }
        // 16 bytes leave the last character's low four bits zero: A, Q, g or w.
        return [UInt8(ascii: "A"), UInt8(ascii: "Q"), UInt8(ascii: "g"), UInt8(ascii: "w")].contains(u[21])
    }

    /// A comma-separated header holds `token` (case-insensitive), e.g. `Connection: keep-alive, Upgrade`.
    static func hasToken(_ value: String, _ token: String) -> Bool {
        value.split(separator: ",").contains { $0.trimmingSpaces.lowercased() == token }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
