/// One server-sent event: the `event:` name (nil when absent) and its `data:` lines joined with "\n".
public struct SSEEvent: Sendable, Equatable {
    public var event: String?
    public var data: String
    public init(event: String? = nil, data: String) { self.event = event; self.data = data }
}

/// An incremental parser for text/event-stream (WHATWG HTML §9.2): bytes go in as they arrive, whole events
/// come out. Lines end in CRLF, LF or CR (a CRLF split across two reads counts once); comments and `id:` /
/// `retry:` are ignored; an event is dispatched on a blank line. An event over `maxEventBytes` is an error, so
/// a hostile upstream cannot grow it without bound.
public struct SSEParser: Sendable {
    public struct TooLarge: Error, Equatable {}

    public var maxEventBytes: Int
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var eventName: String?
    private var lastWasCR = false

    public init(maxEventBytes: Int = 16 << 20) { self.maxEventBytes = maxEventBytes }

    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(TooLarge) -> [SSEEvent] {
        var out: [SSEEvent] = []
        for c in bytes {
            if lastWasCR {
                lastWasCR = false
                if c == 0x0A { continue }
            }
            if c == 0x0A || c == 0x0D {
                lastWasCR = c == 0x0D
                if let e = endLine() { out.append(e) }
                continue
            }
            line.append(c)
            if line.count + data.count > maxEventBytes { throw TooLarge() }
        }
        return out
    }

    /// At end of stream: an event not followed by a blank line is still delivered (upstreams that close right
    /// after the last `data:` line exist); a partial line is processed first.
    public mutating func finish() -> SSEEvent? {
        if !line.isEmpty, let e = endLine() { return e }
        return dispatch()
    }

    private mutating func endLine() -> SSEEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line[0] == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.count
        var valueStart = min(colon + 1, line.count)
        if valueStart < line.count, line[valueStart] == 0x20 { valueStart += 1 }
        let name = line[0..<colon]
        let value = line[valueStart...]
        if name.elementsEqual("data".utf8) {
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        } else if name.elementsEqual("event".utf8) {
            eventName = String(decoding: value, as: UTF8.self)
        }
        return nil
    }

    private mutating func dispatch() -> SSEEvent? {
        defer { data.removeAll(keepingCapacity: true); hasData = false; eventName = nil }
        guard hasData else { return nil }
        return SSEEvent(event: eventName, data: String(decoding: data, as: UTF8.self))
    }
}

/// Writing events: one `data:` line per line of data (ours are compact JSON, so one), then a blank line.
public enum SSEWriter {
    public static func event(_ name: String?, _ json: JSONNode, into out: inout [UInt8]) {
        if let name { out.append(contentsOf: "event: ".utf8); out.append(contentsOf: name.utf8); out.append(0x0A) }
        out.append(contentsOf: "data: ".utf8)
        JSONWriter.write(json, into: &out)
        out.append(contentsOf: [0x0A, 0x0A])
    }

    public static func event(_ name: String?, data: String, into out: inout [UInt8]) {
        if let name { out.append(contentsOf: "event: ".utf8); out.append(contentsOf: name.utf8); out.append(0x0A) }
        for l in data.split(separator: "\n", omittingEmptySubsequences: false) {
            out.append(contentsOf: "data: ".utf8); out.append(contentsOf: l.utf8); out.append(0x0A)
        }
        out.append(0x0A)
    }
}
