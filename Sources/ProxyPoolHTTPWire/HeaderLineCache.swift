import Glibc

/// The header lines of the previous message on one connection, parsed, by their position in the head.
///
/// A keep-alive client or upstream sends mostly the same lines each time: its user agent, its key, the content
/// type, the API version; an upstream its server name, content type and, within a second, its date. A line
/// byte for byte equal to the one at its position last time takes what parsing it gave then (its name, lower-
/// case name and value as Strings, its kind, where its value starts and ends) instead of being checked,
/// classified and copied into new Strings again: about 400 instructions a line, a tenth of a proxied request's
/// CPU time (callgrind, docs/performance.md).
///
/// What a line parses to depends on its bytes alone, so an entry is only ever reused for the same bytes, and only
/// lines that passed every check are kept; what depends on the other lines (how many Hosts, repeated lengths, the
/// header count) is still counted by the parser on every message. Bounded: the first `slots` lines of at most
/// `lineBytes` bytes each (about 4 KiB and their Strings per connection, allocated with the first line kept).
/// One connection's, used on its event loop only (a class, so the parser that holds it stays cheap to move).
public final class HeaderLineCache: @unchecked Sendable {
    struct Entry {
        var name: String
        var lower: String
        var value: String
        var known: KnownHeader?
        /// The value's bounds in the line (after the colon and whitespace, before trailing whitespace).
        var valueStart: Int
        var valueEnd: Int
    }

    static let slots = 24
    static let lineBytes = 160

    /// `slots` lines of `lineBytes` each, then their lengths (0: nothing kept at that position).
    private var arena: UnsafeMutableRawPointer?
    private var entries: ContiguousArray<Entry> = []

    public init() {}

    deinit { arena?.deallocate() }

    private var lengths: UnsafeMutablePointer<UInt16> {
        (arena! + Self.slots * Self.lineBytes).assumingMemoryBound(to: UInt16.self)
    }

    /// What the line at `slot` parsed to last time, if it had these bytes.
    @inline(__always) func entry(_ slot: Int, _ line: UnsafeRawBufferPointer) -> Entry? {
        guard slot < Self.slots, let arena, line.count > 0, Int(lengths[slot]) == line.count,
              memcmp(arena + slot * Self.lineBytes, line.baseAddress!, line.count) == 0 else { return nil }
        return entries[slot]
    }

    /// Keeps what `line`, which passed every check, parsed to.
    func keep(_ slot: Int, _ line: UnsafeRawBufferPointer, _ e: Entry) {
        guard slot < Self.slots, line.count > 0, line.count <= Self.lineBytes else {
            if slot < Self.slots, arena != nil { lengths[slot] = 0 }
            return
        }
        if arena == nil {
            let a = UnsafeMutableRawPointer.allocate(byteCount: Self.slots * Self.lineBytes + Self.slots * 2, alignment: 8)
            arena = a
            lengths.initialize(repeating: 0, count: Self.slots)
            entries = ContiguousArray(repeating: Entry(name: "", lower: "", value: "", known: nil, valueStart: 0, valueEnd: 0), count: Self.slots)
        }
        memcpy(arena! + slot * Self.lineBytes, line.baseAddress!, line.count)
        lengths[slot] = UInt16(line.count)
        entries[slot] = e
    }
}
