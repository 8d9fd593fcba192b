import ProxyPoolCore

// The wire protocols themselves (`WireProtocol`) are Core's: clients, providers and codecs share them.

/// A request that cannot be translated faithfully. Answered with 400 in the client's own format; `field` names
/// the offending field as the client wrote it (e.g. `messages[2].content[0].type`).
public struct TranslationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String?
    public var message: String
    public init(field: String?, _ message: String) { self.field = field; self.message = message }
    public var description: String { field.map { "\($0): \(message)" } ?? message }
}

/// What the client side of a request says outside its body.
public struct ClientContext: Sendable, Equatable {
    /// Gemini puts the model in the path.
    public var pathModel: String?
    /// Gemini says "stream" with the method (`:streamGenerateContent`), not in the body.
    public var streamFromPath: Bool?
    /// Gemini's stream framing: `alt=sse` gives SSE, otherwise a JSON array written incrementally.
    public var geminiSSE: Bool
    public init(pathModel: String? = nil, streamFromPath: Bool? = nil, geminiSSE: Bool = true) {
        self.pathModel = pathModel; self.streamFromPath = streamFromPath; self.geminiSSE = geminiSSE
    }
}

/// One protocol's codec: both directions, because any protocol can be on either side of the proxy.
///
/// Client side: `decodeRequest`, `encodeResponse`, `makeStreamEncoder`, `encodeError`.
/// Upstream side: `encodeRequest`, `decodeResponse`, `makeStreamDecoder`, `decodeError`.
public protocol ProtocolCodec {
    static var wire: WireProtocol { get }

    static func decodeRequest(_ body: JSONNode, context: ClientContext) throws(TranslationError) -> ChatRequest
    /// `request` is what this codec decoded from the client (some protocols echo request fields back).
    static func encodeResponse(_ response: ChatResponse, for request: ChatRequest) -> JSONNode
    static func makeStreamEncoder(for request: ChatRequest, context: ClientContext) -> any StreamEncoder
    static func encodeError(_ error: ErrorInfo) -> JSONNode

    /// `request.model` is already the upstream's model name. Throws for what the target cannot carry.
    static func encodeRequest(_ request: ChatRequest) throws(TranslationError) -> JSONNode
    static func decodeResponse(_ body: JSONNode) throws(TranslationError) -> ChatResponse
    static func makeStreamDecoder() -> any StreamDecoder
    static func decodeError(status: Int, body: JSONNode?) -> ErrorInfo
}

/// Upstream stream → canonical events, one SSE event at a time. Holds typed state (open blocks, tool call
/// ids by index, usage so far).
public protocol StreamDecoder: AnyObject {
    func decode(_ event: SSEEvent) throws(TranslationError) -> [StreamEvent]
    /// The upstream closed the stream. Emits whatever is needed to end it properly (block stops,
    /// messageDelta, messageStop) if the upstream did not, or an `.error` if it ended mid-way.
    func finish() -> [StreamEvent]
}

/// Canonical events → the client's stream bytes, written as each event arrives (nothing is held back).
public protocol StreamEncoder: AnyObject {
    func encode(_ event: StreamEvent, into out: inout [UInt8])
    /// After the last event (e.g. OpenAI's `data: [DONE]`, the closing `]` of a Gemini JSON-array stream).
    func finish(into out: inout [UInt8])
}
