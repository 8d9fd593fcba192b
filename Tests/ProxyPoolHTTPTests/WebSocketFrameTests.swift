import Testing
import ProxyPoolHTTPWire

/// A client frame as RFC 6455 §5.2 lays it out, masked with `mask` (nil: unmasked, which a server must refuse).
func clientFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, mask: [UInt8]? = [0x37, 0xFA, 0x21, 0x3D], rsv: UInt8 = 0,
                 lengthForm: Int? = nil) -> [UInt8] {
    var f: [UInt8] = [(fin ? 0x80 : 0) | rsv << 4 | opcode]
    let m: UInt8 = mask == nil ? 0 : 0x80
    let n = payload.count
    switch lengthForm ?? (n < 126 ? 7 : (n <= 0xFFFF ? 16 : 64)) {
    case 7: f.append(m | UInt8(n))
    case 16: f += [m | 126, UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
    default: f.append(m | 127); for i in (0..<8).reversed() { f.append(UInt8(truncatingIfNeeded: UInt64(n) >> (UInt64(i) * 8))) }
    }
    guard let mask else { return f + payload }
    return f + mask + payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
}

private func feedAll(_ bytes: [UInt8], max: Int = 1 << 20, split: Int? = nil) -> Result<[WebSocketEvent], WebSocketProtocolError> {
    var p = WebSocketFrameParser(maxMessageBytes: max)
    var events: [WebSocketEvent] = []
    do throws(WebSocketProtocolError) {
        if let split {
            var i = 0
            while i < bytes.count { events += try p.feed(bytes[i..<min(bytes.count, i + split)]); i += split }
        } else {
            events = try p.feed(bytes)
        }
    } catch { return .failure(error) }
    if let f = p.failure { return .failure(f) }
    return .success(events)
}

private func closeCode(_ r: Result<[WebSocketEvent], WebSocketProtocolError>) -> UInt16? {
    if case .failure(let e) = r { return e.closeCode }
    return nil
}

@Suite struct WebSocketFrameParserTests {
    let hello = Array("Hello".utf8)

    @Test func maskedTextFrameFromRFCExample() {
        // RFC 6455 §5.7: a single-frame masked text message "Hello".
        let bytes: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        #expect(feedAll(bytes) == .success([.text(hello)]))
        #expect(clientFrame(1, hello) == bytes)
    }

    @Test func everySplitGivesTheSameEvents() {
        let stream = clientFrame(1, Array("héllo wörld €".utf8), fin: false) + clientFrame(9, [1, 2]) + clientFrame(0, Array(" and more".utf8))
            + clientFrame(2, [UInt8](repeating: 7, count: 300)) + clientFrame(1, [UInt8](repeating: 65, count: 70_000))
        let whole = feedAll(stream)
        guard case .success(let events) = whole else { Issue.record("\(whole)"); return }
        #expect(events.count == 4)
        #expect(events[0] == .ping([1, 2]), "a control frame between fragments comes out at once")
        #expect(events[1] == .text(Array("héllo wörld € and more".utf8)))
        for split in [1, 2, 3, 7, 125, 4096] { #expect(feedAll(stream, split: split) == whole, "split \(split)") }
    }

    @Test func unmaskedClientFrameIsAProtocolError() {
        #expect(closeCode(feedAll(clientFrame(1, hello, mask: nil))) == 1002)
    }

    @Test func reservedBitsAndUnknownOpcodesAreRefused() {
        #expect(closeCode(feedAll(clientFrame(1, hello, rsv: 4))) == 1002)   // RSV1: permessage-deflate was never agreed
        #expect(closeCode(feedAll(clientFrame(3, hello))) == 1002)
        #expect(closeCode(feedAll(clientFrame(0xB, []))) == 1002)
    }

    @Test func controlFramesAreSmallAndWhole() {
        #expect(closeCode(feedAll(clientFrame(9, [UInt8](repeating: 0, count: 126)))) == 1002)
        #expect(closeCode(feedAll(clientFrame(9, [1], fin: false))) == 1002)
        #expect(feedAll(clientFrame(9, [UInt8](repeating: 3, count: 125))) == .success([.ping([UInt8](repeating: 3, count: 125))]))
        #expect(feedAll(clientFrame(0xA, [9])) == .success([.pong([9])]))
    }

    @Test func fragmentationRules() {
        #expect(closeCode(feedAll(clientFrame(0, hello))) == 1002, "continuation without a message")
        #expect(closeCode(feedAll(clientFrame(1, hello, fin: false) + clientFrame(1, hello))) == 1002, "a new message inside a fragmented one")
        #expect(feedAll(clientFrame(1, [], fin: false) + clientFrame(0, [], fin: false) + clientFrame(0, hello)) == .success([.text(hello)]))
    }

    @Test func lengthsInTheirShortestFormOnly() {
        #expect(closeCode(feedAll(clientFrame(1, hello, lengthForm: 16))) == 1002)
        #expect(closeCode(feedAll(clientFrame(1, hello, lengthForm: 64))) == 1002)
        #expect(closeCode(feedAll(clientFrame(2, [UInt8](repeating: 0, count: 200), lengthForm: 64))) == 1002)
        #expect(feedAll(clientFrame(2, [UInt8](repeating: 0, count: 200), lengthForm: 16)) == .success([.binary([UInt8](repeating: 0, count: 200))]))
    }

    @Test func hugeDeclaredLengthsAreRefusedBeforeAnyPayload() {
        // 2^63 - 1 and 2^63: the header alone is enough to refuse; nothing is allocated for the payload.
        for top: UInt8 in [0x7F, 0x80, 0xFF] {
            let head: [UInt8] = [0x82, 0xFF, top, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
            let code = closeCode(feedAll(head))
            #expect(code == (top >= 0x80 ? 1002 : 1009), "top byte \(top)")
        }
        #expect(closeCode(feedAll(Array(clientFrame(2, [UInt8](repeating: 0, count: 2000)).prefix(8)), max: 1000)) == 1009)
    }

    @Test func messageCapCountsEveryFragment() {
        let part = [UInt8](repeating: 65, count: 600)
        #expect(closeCode(feedAll(clientFrame(1, part, fin: false) + clientFrame(0, part), max: 1000)) == 1009)
        #expect(feedAll(clientFrame(1, part, fin: false) + clientFrame(0, Array(part.prefix(400))), max: 1000) == .success([.text(part + part.prefix(400))]))
    }

    @Test func badUTF8IsRefusedAtOnceAndAcrossFragments() {
        #expect(closeCode(feedAll(clientFrame(1, [0xC0, 0x80]))) == 1007, "overlong")
        #expect(closeCode(feedAll(clientFrame(1, [0xED, 0xA0, 0x80]))) == 1007, "surrogate")
        #expect(closeCode(feedAll(clientFrame(1, [0xF4, 0x90, 0x80, 0x80]))) == 1007, "above U+10FFFF")
        #expect(closeCode(feedAll(clientFrame(1, [0xE2, 0x82]))) == 1007, "cut at the end of the message")
        // "€" split between two fragments is fine; a bad byte in the first fragment fails before the second comes.
        #expect(feedAll(clientFrame(1, [0xE2, 0x82], fin: false) + clientFrame(0, [0xAC])) == .success([.text([0xE2, 0x82, 0xAC])]))
        #expect(closeCode(feedAll(clientFrame(1, [0x61, 0xFF], fin: false))) == 1007)
        #expect(feedAll(clientFrame(2, [0xFF, 0xFE])) == .success([.binary([0xFF, 0xFE])]), "binary is not checked")
    }

    @Test func closeFrames() {
        #expect(feedAll(clientFrame(8, [])) == .success([.close(code: nil, reason: [])]))
        #expect(feedAll(clientFrame(8, [0x03, 0xE8] + Array("bye".utf8))) == .success([.close(code: 1000, reason: Array("bye".utf8))]))
        #expect(closeCode(feedAll(clientFrame(8, [0x03]))) == 1002)
        #expect(closeCode(feedAll(clientFrame(8, [0x03, 0xED]))) == 1002, "1005 may not be sent")
        #expect(closeCode(feedAll(clientFrame(8, [0x03, 0xE8, 0xFF]))) == 1007)
        // Nothing is read after a close.
        #expect(feedAll(clientFrame(8, [0x03, 0xE8]) + clientFrame(1, hello)) == .success([.close(code: 1000, reason: [])]))
    }

    @Test func afterAnErrorNothingMoreIsParsed() {
        var p = WebSocketFrameParser(maxMessageBytes: 100)
        #expect(throws: WebSocketProtocolError.self) { try p.feed(clientFrame(1, hello, mask: nil)) }
        #expect(p.finished && p.failure?.closeCode == 1002)
        #expect((try? p.feed(clientFrame(1, hello))) == nil, "the refusal stands")
        #expect(p.heldBytes == 0)
    }

    @Test func eventsBeforeAViolationAreDeliveredWithIt() throws {
        // However the bytes are split: the message and the ping ahead of the bad frame come out, then the refusal.
        let bytes = clientFrame(1, hello) + clientFrame(9, [7]) + clientFrame(1, hello, mask: nil) + clientFrame(1, hello)
        var p = WebSocketFrameParser(maxMessageBytes: 100)
        #expect(try p.feed(bytes) == [.text(hello), .ping([7])])
        #expect(p.failure?.closeCode == 1002 && p.heldBytes == 0)
    }
}

@Suite struct WebSocketEncoderTests {
    @Test func serverFramesAreUnmaskedWithShortestLengths() {
        #expect(WebSocketFrameEncoder.frame(.text, Array("Hello".utf8)) == [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])   // RFC 6455 §5.7
        let f126 = WebSocketFrameEncoder.frame(.binary, [UInt8](repeating: 0, count: 256))
        #expect(Array(f126.prefix(4)) == [0x82, 0x7E, 0x01, 0x00])   // §5.7: 256 bytes in the 16-bit form
        // 126 and 127 are lengths of the 16-bit form, not markers, once read from it.
        #expect(Array(WebSocketFrameEncoder.frame(.text, [UInt8](repeating: 65, count: 126)).prefix(4)) == [0x81, 0x7E, 0x00, 0x7E])
        #expect(Array(WebSocketFrameEncoder.frame(.text, [UInt8](repeating: 65, count: 127)).prefix(4)) == [0x81, 0x7E, 0x00, 0x7F])
        for n in [125, 126, 127, 65535] {
            #expect(feedAll(clientFrame(1, [UInt8](repeating: 65, count: n))) == .success([.text([UInt8](repeating: 65, count: n))]), "\(n) bytes")
        }
        let f64 = WebSocketFrameEncoder.frame(.binary, [UInt8](repeating: 0, count: 65536))
        #expect(Array(f64.prefix(10)) == [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0] && f64.count == 65546)
    }

    @Test func closeReasonIsCutAtACharacter() {
        let p = WebSocketFrameEncoder.closePayload(1002, String(repeating: "é", count: 100))
        #expect(p.count <= 125 && Array(p.prefix(2)) == [0x03, 0xEA])
        #expect(UTF8Validator.isValid(p.dropFirst(2)))
    }
}

@Suite struct WebSocketHandshakeTests {
    func head(_ headers: [(String, String)], method: String = "GET", minor: Int = 1) -> HTTPRequestHead {
        HTTPRequestHead(method: method, target: "/v1/responses", minorVersion: minor, headers: headers.map { (name: $0.0, value: $0.1) })
    }
    let good = [("Host", "127.0.0.1"), ("Connection", "keep-alive, Upgrade"), ("Upgrade", "WebSocket"), ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]

    @Test func acceptsAProperHandshake() {
        #expect(WebSocketHandshake.isUpgrade(head(good)))
        #expect(WebSocketHandshake.problem(head(good)) == nil)
    }

    @Test func refusesWhatIsMissingOrWrong() {
        #expect(WebSocketHandshake.problem(head(good.filter { $0.0 != "Connection" }))?.status == 400)
        #expect(WebSocketHandshake.problem(head(good.filter { $0.0 != "Sec-WebSocket-Version" }))?.status == 426)
        #expect(WebSocketHandshake.problem(head(good.map { $0.0 == "Sec-WebSocket-Version" ? ($0.0, "8") : $0 }))?.status == 426)
        #expect(WebSocketHandshake.problem(head(good.map { $0.0 == "Sec-WebSocket-Key" ? ($0.0, "short") : $0 }))?.status == 400)
        #expect(WebSocketHandshake.problem(head(good, minor: 0))?.status == 400)
        #expect(WebSocketHandshake.problem(head(good, method: "POST"))?.status == 400)
        #expect(!WebSocketHandshake.isUpgrade(head([("Upgrade", "h2c")])))
    }

    @Test func keysAreSixteenBytesOfBase64() {
        #expect(WebSocketHandshake.isValidKey("dGhlIHNhbXBsZSBub25jZQ=="))
        #expect(!WebSocketHandshake.isValidKey("dGhlIHNhbXBsZSBub25jZR=="), "17 bits in the last group")
        #expect(!WebSocketHandshake.isValidKey("dGhlIHNhbXBsZSBub25j*Q=="))
        #expect(!WebSocketHandshake.isValidKey("dGhlIHNhbXBsZSBub25jZQ="))
    }
}
