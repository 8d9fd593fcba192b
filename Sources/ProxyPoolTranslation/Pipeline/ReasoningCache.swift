import ProxyPoolCore

/// Provider reasoning kept across turns for clients whose protocol has nowhere to carry it.
///
/// Gemini signs its function calls (`thoughtSignature`) and Anthropic signs its thinking blocks; both want them
/// back on the next turn of a tool loop. A Chat Completions client (or an Anthropic client talking to Gemini,
/// or a Gemini client talking to Anthropic) drops them. The daemon remembers them here, keyed by tool call id,
/// when a translated answer with tool calls comes back, and puts them back on the assistant turns of a later
/// request that goes to the same family through the same credential, when the client did not carry its own.
/// Pure value type: the daemon owns one on its event loop and passes the clock in.
public struct ReasoningCache {
    /// What one tool call needs back.
    public struct Memo: Sendable, Equatable {
        public var family: Family
        public var credential: String
        /// Gemini: the call's own `thoughtSignature`.
        public var callSignature: String?
        /// Signed (or redacted / encrypted) reasoning of the same family that came right before the call, after
        /// the previous call of its turn.
        public var reasoning: [ReasoningBlock]
        public init(family: Family, credential: String, callSignature: String? = nil, reasoning: [ReasoningBlock] = []) {
            self.family = family; self.credential = credential; self.callSignature = callSignature; self.reasoning = reasoning
        }

        /// Roughly what the entry holds, for the byte bound.
        var bytes: Int {
            64 + credential.utf8.count + (callSignature?.utf8.count ?? 0)
                + reasoning.reduce(0) { $0 + 32 + $1.text.utf8.count + ($1.signature?.utf8.count ?? 0) + ($1.encrypted?.utf8.count ?? 0) }
        }
    }

    private struct Entry {
        var memo: Memo
        var bytes: Int
        var at: Int64
        var seq: Int
    }

    public let maxEntries: Int
    public let maxBytes: Int
    public let ttlMillis: Int64
    private var entries: [String: Entry] = [:]
    /// Insertion order (id, seq) for FIFO eviction; stale pairs (re-inserted or removed ids) are skipped.
    private var order: [(id: String, seq: Int)] = []
    private var head = 0
    private var seq = 0
    public private(set) var totalBytes = 0
    public var count: Int { entries.count }

    public init(maxEntries: Int = 4096, maxBytes: Int = 32 << 20, ttlMillis: Int64 = 6 * 3600 * 1000) {
        self.maxEntries = maxEntries; self.maxBytes = maxBytes; self.ttlMillis = ttlMillis
    }

    /// The memos an answer's content yields, by call id: for each tool call, the family's signed reasoning
    /// since the previous call and (Gemini) the call's signature. Calls with nothing to keep are left out.
    public static func memos(from content: [ContentBlock], family: Family, credential: String) -> [(id: String, memo: Memo)] {
        guard family == .gemini || family == .anthropic else { return [] }
        var out: [(String, Memo)] = []
        var pending: [ReasoningBlock] = []
        for b in content {
            switch b {
            case .reasoning(let r) where r.family == family && r.isSigned:
                pending.append(r)
            case .toolCall(let c):
                let sig = family == .gemini ? c.signature : nil
                if sig != nil || !pending.isEmpty {
                    out.append((c.id, Memo(family: family, credential: credential, callSignature: sig, reasoning: pending)))
                }
                pending = []
            default: break
            }
        }
        return out
    }

    /// Remember what an upstream answer (whole, or collected from its stream) needs on the next turn.
    public mutating func remember(_ content: [ContentBlock], family: Family, credential: String, now: Int64) {
        for (id, memo) in Self.memos(from: content, family: family, credential: credential) { insert(id, memo, now: now) }
    }

    public mutating func insert(_ id: String, _ memo: Memo, now: Int64) {
        let bytes = memo.bytes + id.utf8.count
        guard bytes <= maxBytes else { return }
        remove(id)
        seq += 1
        entries[id] = Entry(memo: memo, bytes: bytes, at: now, seq: seq)
        order.append((id, seq))
        totalBytes += bytes
        evict(now: now)
    }

    /// The memo for a call id, if it is fresh.
    public func memo(_ id: String, now: Int64) -> Memo? {
        guard let e = entries[id], now - e.at < ttlMillis else { return nil }
        return e.memo
    }

    private mutating func remove(_ id: String) {
        if let old = entries.removeValue(forKey: id) { totalBytes -= old.bytes }
    }

    /// Drop expired entries, then the oldest until both bounds hold.
    private mutating func evict(now: Int64) {
        while head < order.count {
            let (id, s) = order[head]
            guard let e = entries[id], e.seq == s else { head += 1; continue }   // stale
            guard now - e.at >= ttlMillis || entries.count > maxEntries || totalBytes > maxBytes else { break }
            remove(id)
            head += 1
        }
        if head > 1024, head * 2 > order.count { order.removeFirst(head); head = 0 }
    }

    /// Put remembered reasoning back into a request about to go to `family` through `credential`, on the
    /// assistant turns whose tool calls the client sent back without it. Returns how many calls got theirs.
    @discardableResult
    public mutating func restore(into request: inout ChatRequest, family: Family, credential: String, now: Int64) -> Int {
        guard family == .gemini || family == .anthropic, !entries.isEmpty else { return 0 }
        evict(now: now)
        var restored = 0
        for mi in request.messages.indices where request.messages[mi].role == .assistant {
            let content = request.messages[mi].content
            let ownReasoning = content.contains {
                if case .reasoning(let r) = $0 { return r.family == family && r.isSigned }
                return false
            }
            var out: [ContentBlock] = []
            var front: [ContentBlock] = []   // Anthropic: the turn's thinking goes first
            var changed = false
            for b in content {
                guard case .toolCall(var c) = b, let m = memo(c.id, now: now), m.family == family, m.credential == credential else {
                    out.append(b); continue
                }
                var used = false
                if !ownReasoning, !m.reasoning.isEmpty {
                    if family == .anthropic { front += m.reasoning.map { .reasoning($0) } } else { out += m.reasoning.map { .reasoning($0) } }
                    used = true
                }
                if family == .gemini, let s = m.callSignature, c.signature == nil || c.signature == Self.geminiSentinel {
                    c.signature = s
                    used = true
                }
                if used { restored += 1; changed = true }
                out.append(.toolCall(c))
            }
            if changed { request.messages[mi].content = front + out }
        }
        return restored
    }

    /// Google's documented placeholder signature; a real one replaces it.
    public static let geminiSentinel = "skip_thought_signature_validator"
}

/// Collects, from a canonical event stream, the reasoning and tool call blocks the reasoning cache keeps (text
/// and tool arguments are not kept).
public struct StreamReasoningCollector {
    private var blocks: [Int: ContentBlock] = [:]
    private var order: [Int] = []
    public init() {}

    public mutating func consume(_ e: StreamEvent) {
        switch e {
        case .blockStart(let i, .toolCall(let id, let name, let sig)):
            add(i, .toolCall(ToolCall(id: id, name: name, arguments: "", signature: sig)))
        case .blockStart(let i, .reasoning(let family, let itemID)):
            add(i, .reasoning(ReasoningBlock(text: "", itemID: itemID, family: family)))
        case .blockStart(let i, .encryptedReasoning(let r)):
            add(i, .reasoning(r))
        case .blockDelta(let i, let d):
            guard case .reasoning(var r)? = blocks[i] else { return }
            switch d {
            case .reasoning(let t): r.text += t
            case .reasoningSignature(let s): r.signature = (r.signature ?? "") + s
            case .reasoningEncrypted(let s): r.encrypted = (r.encrypted ?? "") + s
            default: return
            }
            blocks[i] = .reasoning(r)
        default: break
        }
    }

    private mutating func add(_ i: Int, _ b: ContentBlock) {
        if blocks[i] == nil { order.append(i) }
        blocks[i] = b
    }

    /// The collected blocks, in stream order.
    public var content: [ContentBlock] { order.compactMap { blocks[$0] } }
}

extension ReasoningBlock {
    /// It carries a provider payload (a non-empty signature, or encrypted / redacted data).
    var isSigned: Bool { signature?.isEmpty == false || encrypted?.isEmpty == false }
}
