/// Splits a byte stream into newline-terminated frames, refusing any frame longer than `maxLine`.
public struct LineFramer: Sendable {
    public enum Event: Equatable, Sendable { case line([UInt8]); case tooLong }
    public let maxLine: Int
    private var buffer: [UInt8] = []
    private var discarding = false

    public init(maxLine: Int) { self.maxLine = maxLine }

    /// Feed received bytes; returns the complete frames (without the newline; a trailing CR is dropped).
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [Event] {
        var events: [Event] = []
        for b in bytes {
            if b == 0x0A {
                if discarding { discarding = false }
                else {
                    if buffer.last == 0x0D { buffer.removeLast() }
                    events.append(.line(buffer))
                }
                buffer.removeAll(keepingCapacity: true)
            } else if !discarding {
                buffer.append(b)
                if buffer.count > maxLine {
                    buffer.removeAll()
                    discarding = true
                    events.append(.tooLong)
                }
            }
        }
        return events
    }

    /// Bytes held that are not yet a full line.
    public var pending: Int { buffer.count }
}
