import Glibc
import ProxyPoolCore

/// A record written from typed values straight into the logger's buffer, in the form it leaves in (a journal
/// datagram or a line on stderr): no `String` and no `Logger.Field` per value. The request record, one per
/// proxied request, is built this way (`Logger.record`); what it writes is byte for byte what `Logger.log`
/// writes for the same message and fields (`JournalRecord`, `LogLine`).
///
/// Use: message parts first (`literal`, `text`, `number`), then fields (`field`); the first field ends the message.
public struct LogRecord {
    enum Form { case journal, line }
    let form: Form
    var out: [UInt8]
    private let level: LogLevel
    /// The logger's identifier (a few bytes).
    private let identifier: [UInt8]
    private let event: StaticString
    /// Journal: where the message's bytes begin (after `MESSAGE=`).
    private var messageStart = 0
    private var messageEnded = false

    private let linePrefix: [UInt8]
    /// Bytes not yet in `out` (the record is `out` followed by them): written with plain copies and moved to
    /// `out` in one append when full, before `out` itself is written to, and at the end. Each Array append is a
    /// call with uniqueness, capacity and exclusivity checks; a request record made ~30 of them (callgrind).
    private var scratch = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    private var scratchCount = 0

    /// Whether the record leaves as a line on stderr (else as a journal datagram): a line's reader sees the
    /// message, so a field that only repeats it can be left out there.
    public var isLine: Bool { form == .line }

    init(form: Form, level: LogLevel, identifier: [UInt8], linePrefix: [UInt8], event: StaticString) {
        self.form = form; self.level = level; self.identifier = identifier; self.linePrefix = linePrefix; self.event = event
        out = []
    }

    /// Writes go to `buffer` until `end()` (the caller keeps it alive until then).
    mutating func useScratch(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        flushScratch()
        scratch = buffer
    }

    /// The scratch bytes, appended to `out`.
    private mutating func flushScratch() {
        guard scratchCount > 0 else { return }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[0..<scratchCount]))
        scratchCount = 0
    }

    /// Room for `n` more bytes in the scratch area, when it can have it.
    @inline(__always) private mutating func room(_ n: Int) -> Bool {
        if scratchCount + n <= scratch.count { return true }
        flushScratch()
        return n <= scratch.count
    }

    @inline(__always) private mutating func put(_ p: UnsafeBufferPointer<UInt8>) {
        guard let base = p.baseAddress, p.count > 0 else { return }
        guard room(p.count) else { out.append(contentsOf: p); return }
        (scratch.baseAddress! + scratchCount).update(from: base, count: p.count)
        scratchCount += p.count
    }

    @inline(__always) private mutating func put(_ b: UInt8) {
        guard room(1) else { out.append(b); return }
        scratch[scratchCount] = b
        scratchCount += 1
    }

    /// Whether a line shows `p` as it is (what `LogLine.appendEscaped` copies without a change).
    /// Eight bytes at a time: the tests for a byte below 0x20 and for a zero byte (after XOR with DEL, C2, E2)
    /// are exact about whether the word holds one.
    @inline(__always) private static func plain(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = p.baseAddress else { return true }
        let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZero(_ x: UInt64) -> Bool { (x &- ones) & ~x & high != 0 }
        var i = 0
        while i &+ 8 <= p.count {
            let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            if (w &- ones &* 0x20) & ~w & high != 0 || hasZero(w ^ (ones &* 0x7F)) || hasZero(w ^ (ones &* 0xC2))
                || hasZero(w ^ (ones &* 0xE2)) { return false }
            i &+= 8
        }
        while i < p.count {
            let b = p[i]
            if b < 0x20 || b == 0x7F || b == 0xC2 || b == 0xE2 { return false }
            i &+= 1
        }
        return true
    }

    /// Bytes from outside, escaped in a line.
    private mutating func putEscaped(_ p: UnsafeBufferPointer<UInt8>) {
        if Self.plain(p) { put(p); return }
        flushScratch()
        LogLine.appendEscaped(p, to: &out)
    }

    /// Start the record at the end of `out` (the logger hands its pending buffer in first).
    mutating func begin() {
        switch form {
        case .journal:
            literal("MESSAGE=")
            messageStart = out.count + scratchCount
        case .line:
            let prefix = linePrefix
            prefix.withUnsafeBufferPointer { put($0) }
            var l = level.rawValue
            l.withUTF8 { put($0) }
            literal(": ")
        }
    }

    // MARK: The message

    /// A part of the message that came from outside (a path, a model name): escaped in a line.
    public mutating func text(_ s: String) {
        var s = s
        s.withUTF8 { p in
            switch form {
            case .journal: put(p)
            case .line: putEscaped(p)
            }
        }
    }

    public mutating func text(_ s: Substring) {
        var s = s
        s.withUTF8 { p in
            switch form {
            case .journal: put(p)
            case .line: putEscaped(p)
            }
        }
    }

    /// A literal part of the message (ours: no control characters). Not an overload of `text`: a string
    /// literal would pick the String one, and be scanned for escapes.
    public mutating func literal(_ s: StaticString) { put(s) }

    public mutating func number(_ n: Int64) {
        guard room(Self.decimalRoom) else { flushScratch(); Self.appendDecimal(n, to: &out); return }
        // putDecimal builds the digits at the end of the buffer it is given: exactly the room, from here.
        let b = UnsafeMutableBufferPointer(rebasing: scratch[scratchCount..<scratchCount + Self.decimalRoom])
        var i = 0
        Self.putDecimal(n, b, &i)
        scratchCount += i
    }

    public mutating func number(_ n: Int) { number(Int64(n)) }

    // MARK: Fields

    /// `KEY=value`: keys are ours, upper-case ASCII (PROXYPOOL_KEY in the journal, key=value in a line).
    public mutating func field(_ key: StaticString, _ value: String) {
        startField(key)
        putValue(value)
    }

    /// The same with the key in both forms made beforehand: one copy of the key instead of composing it.
    public mutating func field(_ key: LogKey, _ value: String) {
        endMessage()
        put(form == .journal ? key.journal : key.line)
        putValue(value)
    }

    private mutating func putValue(_ value: String) {
        var value = value
        value.withUTF8 { p in
            switch form {
            case .journal:
                // A value holding a newline takes the length-prefixed form (`JournalRecord.appendValue`).
                if let base = p.baseAddress, memchr(base, 0x0A, p.count) != nil {
                    flushScratch(); JournalRecord.appendValue(p, to: &out)
                } else {
                    put(UInt8(ascii: "=")); put(p)
                }
            case .line: putEscaped(p)
            }
        }
        if form == .journal { put(0x0A) }
    }

    public mutating func field(_ key: StaticString, _ value: Int64) {
        endMessage()
        // Key, separator, digits and the journal's newline composed in a scratch buffer and appended at once:
        // each append is a call, and a field made of five of them cost more than its bytes (callgrind).
        let k = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        let journal = form == .journal
        // Room for the prefix, the key, `=`, a sign, 20 digits and the newline.
        let need = k.count + 12 + Self.decimalRoom
        func compose(_ buf: UnsafeMutableBufferPointer<UInt8>) -> Int {
            var n = 0
            Self.putKey(k, journal: journal, buf, &n)
            if journal { buf[n] = UInt8(ascii: "="); n += 1 }
            // The digits are made at the end of what is given: the room for them, right after the key.
            var d = 0
            let digits = UnsafeMutableBufferPointer(rebasing: buf[n..<n + Self.decimalRoom])
            Self.putDecimal(value, digits, &d)
            n += d
            if journal { buf[n] = 0x0A; n += 1 }
            return n
        }
        if room(need) {
            scratchCount += compose(UnsafeMutableBufferPointer(rebasing: scratch[scratchCount..<scratchCount + need]))
        } else {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: need) { buf in
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[0..<compose(buf)]))
            }
        }
    }

    /// The same with the key made beforehand: the request record's nine numbers cost a third less (callgrind).
    public mutating func field(_ key: LogKey, _ value: Int64) {
        endMessage()
        let journal = form == .journal
        let k = journal ? key.journal : key.line
        let keyCount = k.utf8CodeUnitCount
        let count = journal ? keyCount + 1 : keyCount   // the journal's `=`
        let need = count + Self.decimalRoom + 1
        guard room(need) else {
            put(k); if journal { put(UInt8(ascii: "=")) }
            number(value); if journal { put(0x0A) }
            return
        }
        let at = scratch.baseAddress! + scratchCount
        at.update(from: k.utf8Start, count: keyCount)
        if journal { at[keyCount] = UInt8(ascii: "=") }
        var n = count
        Self.putDecimal(value, UnsafeMutableBufferPointer(start: at, count: count + Self.decimalRoom), &n)
        if form == .journal { at[n] = 0x0A; n += 1 }
        scratchCount += n
    }

    public mutating func field(_ key: StaticString, _ value: Int) { field(key, Int64(value)) }
    public mutating func field(_ key: LogKey, _ value: Int) { field(key, Int64(value)) }

    @inline(__always) private mutating func put(_ s: StaticString) {
        put(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Called by the logger once the caller is done.
    mutating func end() {
        endMessage()
        if form == .line { literal("]\n") }
        flushScratch()
        scratch = UnsafeMutableBufferPointer(start: nil, count: 0)
    }

    /// A field's key and separator (`PROXYPOOL_KEY` then the value's `=` or length; ` key=` in a line), in one
    /// append.
    private mutating func startField(_ key: StaticString) {
        endMessage()
        let k = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        let journal = form == .journal
        if room(k.count + 12) {
            var n = 0
            Self.putKey(k, journal: journal, UnsafeMutableBufferPointer(rebasing: scratch[scratchCount..<scratchCount + k.count + 12]), &n)
            scratchCount += n
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: k.count + 12) { buf in
            var n = 0
            Self.putKey(k, journal: journal, buf, &n)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[0..<n]))
        }
    }

    /// `PROXYPOOL_KEY` (journal) or ` key=` (line: lower-cased, anything but a visible character shown as `?`)
    /// at `buf[n...]`.
    private static func putKey(_ k: UnsafeBufferPointer<UInt8>, journal: Bool, _ buf: UnsafeMutableBufferPointer<UInt8>, _ n: inout Int) {
        if journal {
            let prefix: StaticString = "PROXYPOOL_"
            for i in 0..<prefix.utf8CodeUnitCount { buf[n] = prefix.utf8Start[i]; n += 1 }
            for b in k { buf[n] = b; n += 1 }
        } else {
            buf[n] = 0x20; n += 1
            // Eight bytes at a time while none is below 0x21 or DEL: A-Z get 0x20 added (bit 7 of each byte
            // marks A-Z: at least 0x41, below 0x5B, and below 0x80; no sum carries into the next byte).
            var i = 0
            if let kb = k.baseAddress, let out = buf.baseAddress {
                let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080, low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
                while i &+ 8 <= k.count {
                    let w = UnsafeRawPointer(kb + i).loadUnaligned(as: UInt64.self)
                    let d = w ^ (ones &* 0x7F)
                    if (w &- ones &* 0x21) & ~w & high != 0 || (d &- ones) & ~d & high != 0 { break }
                    let upper = ((w & low7) &+ ones &* 0x3F) & ~((w & low7) &+ ones &* 0x25) & ~w & high
                    UnsafeMutableRawPointer(out + n).storeBytes(of: w &+ (upper >> 2), as: UInt64.self)
                    n &+= 8
                    i &+= 8
                }
            }
            while i < k.count {
                let b = k[i]
                buf[n] = b >= 0x41 && b <= 0x5A ? b + 0x20 : (b < 0x21 || b == 0x7F ? UInt8(ascii: "?") : b)
                n += 1
                i += 1
            }
            buf[n] = UInt8(ascii: "="); n += 1
        }
    }

    /// The message is complete: the journal's fixed fields follow it; a line opens its bracket.
    private mutating func endMessage() {
        guard !messageEnded else { return }
        messageEnded = true
        flushScratch()   // the journal's length prefix goes before the message in `out`
        let ev = UnsafeBufferPointer(start: event.utf8Start, count: event.utf8CodeUnitCount)
        switch form {
        case .journal:
            // A message holding a newline takes the length-prefixed form: `MESSAGE\n`, 64-bit LE length, bytes.
            let length = out.count - messageStart
            let hasNewline = out.withUnsafeBufferPointer { p in memchr(p.baseAddress! + messageStart, 0x0A, length) != nil }
            if hasNewline {
                out[messageStart - 1] = 0x0A
                var n = UInt64(length).littleEndian
                withUnsafeBytes(of: &n) { out.insert(contentsOf: $0, at: messageStart) }
            }
            // From here on, to the scratch area again (`out` holds the whole message).
            put(0x0A)
            literal("PRIORITY=")
            put(UInt8(ascii: "0") + UInt8(level.priority))
            put(0x0A)
            literal("SYSLOG_IDENTIFIER=")
            let id = identifier
            id.withUnsafeBufferPointer { put($0) }
            put(0x0A)
            literal("PROXYPOOL_EVENT=")
            put(ev)
            put(0x0A)
        case .line:
            literal(" [event=")
            put(ev)
        }
    }

    static func appendDecimal(_ n: Int64, to out: inout [UInt8]) {
        if n >= 0 && n < 10 { out.append(UInt8(ascii: "0") + UInt8(n)); return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: decimalRoom) { buf in
            var i = 0
            putDecimal(n, buf, &i)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[0..<i]))
        }
    }

    /// Room for any Int64: a sign and its digits (19 for Int64.min), and one to spare.
    static let decimalRoom = 21

    /// `n` in decimal at `buf[i...]` (at least `decimalRoom` bytes free there). The digits are made from the
    /// end of `buf` backwards, then moved up to `i`.
    static func putDecimal(_ n: Int64, _ buf: UnsafeMutableBufferPointer<UInt8>, _ i: inout Int) {
        // Magnitude as UInt64: Int64.min has none as Int64.
        var m = n < 0 ? UInt64(bitPattern: 0 &- n) : UInt64(n)
        if n < 0 { buf[i] = UInt8(ascii: "-"); i += 1 }
        var d = buf.count
        repeat { d -= 1; buf[d] = UInt8(ascii: "0") + UInt8(m % 10); m /= 10 } while m > 0
        while d < buf.count { buf[i] = buf[d]; i += 1; d += 1 }
    }
}

/// A field's key in the forms a record writes it, made once (at compile time) instead of for every record:
/// `PROXYPOOL_STATUS` for the journal, ` status=` for a line (what `LogRecord.field(StaticString, …)` composes).
/// Debug builds check that the forms agree.
public struct LogKey: Sendable {
    public let journal: StaticString
    public let line: StaticString

    public init(journal: StaticString, line: StaticString) {
        self.journal = journal; self.line = line
        assert(Self.agree(journal, line), "LogKey: \(journal) and \(line) disagree")
    }

    /// Whether `line` is what a line shows for the journal's key (upper-case letters, digits and `_` only).
    public static func agree(_ journal: StaticString, _ line: StaticString) -> Bool {
        let j = journal.description, l = line.description
        guard j.hasPrefix("PROXYPOOL_") else { return false }
        let key = j.dropFirst("PROXYPOOL_".count)
        return !key.isEmpty && key.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
            && l == " " + key.lowercased() + "="
    }
}
