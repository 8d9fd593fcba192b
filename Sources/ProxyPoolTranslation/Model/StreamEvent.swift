import ProxyPoolCore

/// A response stream in canonical form. Every upstream stream decoder emits this sequence, and every client
/// stream encoder consumes it:
///
///     messageStart (blockStart blockDelta* blockStop)* messageDelta messageStop
///
/// with `error` possible at any point (and then nothing after it). Block indexes count from 0 in order of
/// `blockStart`; blocks do not interleave except tool calls, whose deltas may arrive for several open calls
/// (OpenAI streams parallel calls that way), so encoders key their state by index.
public enum StreamEvent: Sendable, Equatable {
    /// `usage` when the upstream reports input tokens up front (Anthropic does).
    case messageStart(id: String, model: String, usage: Usage?)
    case blockStart(index: Int, BlockStart)
    case blockDelta(index: Int, BlockDelta)
    case blockStop(index: Int)
    /// The end of the content: why it stopped, and the final usage.
    case messageDelta(stopReason: StopReason, stopSequence: String?, usage: Usage)
    case messageStop
    case error(ErrorInfo)
}

public enum BlockStart: Sendable, Equatable {
    case text
    case toolCall(id: String, name: String, signature: String?)
    case reasoning(family: Family?, itemID: String?)
    /// Anthropic `redacted_thinking` or an encrypted-only reasoning item: arrives whole.
    case encryptedReasoning(ReasoningBlock)
}

public enum BlockDelta: Sendable, Equatable {
    case text(String)
    /// A fragment of the tool call's JSON arguments.
    case toolArguments(String)
    case reasoning(String)
    /// The thinking block's signature (Anthropic `signature_delta`) or encrypted payload, arriving at its end.
    case reasoningSignature(String)
    case reasoningEncrypted(String)
}
