import ProxyPoolCore

/// The canonical conversation: our own model of a chat request and response, not any one vendor's wire
/// format. Every codec decodes its protocol into these types and encodes them back out, so N protocols need
/// N codecs, not N² translators.

// A provider-specific payload carries the `Family` (Core) it came from: thinking signatures and encrypted
// reasoning are only valid when sent back to the same family, and are dropped (documented) when a request
// crosses families.

public enum Role: String, Sendable, Equatable {
    case user, assistant
}

/// Where an image or document's bytes are.
public enum MediaSource: Sendable, Equatable {
    /// Base64 data (no `data:` prefix) and its media type, e.g. `image/png`.
    case base64(mediaType: String, data: String)
    /// An http(s) URL. Codecs whose target only takes inline data turn it into `.base64` via a fetch step
    /// before encoding (see `MediaFetching`), never silently.
    case url(String, mediaType: String?)
    /// A provider-side file reference (OpenAI `file_id`, Gemini `fileData.fileUri` on Google's file API).
    case fileReference(id: String, mediaType: String?, family: Family)
}

public struct ToolCall: Sendable, Equatable {
    /// The call id. Gemini has none: its codec synthesizes a stable one and recovers the name from history.
    public var id: String
    public var name: String
    /// The arguments as JSON text (an object), exactly as the model produced them.
    public var arguments: String
    /// Gemini's `thoughtSignature` on a function call part, carried back on the next turn to Gemini.
    public var signature: String?
    public init(id: String, name: String, arguments: String, signature: String? = nil) {
        self.id = id; self.name = name; self.arguments = arguments; self.signature = signature
    }
}

public struct ToolResult: Sendable, Equatable {
    public var callID: String
    /// The tool's name when the protocol says it (Gemini needs it; others find it from the call).
    public var name: String?
    /// Text and image blocks.
    public var content: [ContentBlock]
    public var isError: Bool
    public init(callID: String, name: String? = nil, content: [ContentBlock], isError: Bool = false) {
        self.callID = callID; self.name = name; self.content = content; self.isError = isError
    }
}

/// Thinking / reasoning produced by the model.
public struct ReasoningBlock: Sendable, Equatable {
    /// Readable thinking or a reasoning summary; may be empty when only an encrypted payload exists.
    public var text: String
    /// Anthropic's thinking `signature` or Gemini's `thoughtSignature`.
    public var signature: String?
    /// OpenAI Responses' `encrypted_content`, or Anthropic `redacted_thinking` data.
    public var encrypted: String?
    /// OpenAI Responses reasoning item id (`rs_…`), needed to send the item back.
    public var itemID: String?
    /// True for Anthropic `redacted_thinking`.
    public var redacted: Bool
    /// Which family made `signature` / `encrypted`; they are only sent back to that family.
    public var family: Family?
    public init(text: String, signature: String? = nil, encrypted: String? = nil, itemID: String? = nil, redacted: Bool = false,
                family: Family? = nil) {
        self.text = text; self.signature = signature; self.encrypted = encrypted; self.itemID = itemID; self.redacted = redacted
        self.family = family
    }
}

public indirect enum ContentBlock: Sendable, Equatable {
    case text(String)
    case image(MediaSource)
    /// A document such as a PDF; `title` where the protocol carries one.
    case document(MediaSource, title: String?)
    case toolCall(ToolCall)
    case toolResult(ToolResult)
    case reasoning(ReasoningBlock)
}

public struct Message: Sendable, Equatable {
    public var role: Role
    public var content: [ContentBlock]
    public init(role: Role, content: [ContentBlock]) { self.role = role; self.content = content }
}

public struct ToolDefinition: Sendable, Equatable {
    public var name: String
    public var description: String?
    /// JSON Schema of the arguments object.
    public var parameters: JSONNode
    public var strict: Bool?
    /// How the client's protocol shaped this tool when the canonical form cannot say it; set and read only by
    /// the client's own codec, to map calls back into its form. Never sent upstream.
    public var origin: ToolOrigin?
    public init(name: String, description: String? = nil, parameters: JSONNode, strict: Bool? = nil, origin: ToolOrigin? = nil) {
        self.name = name; self.description = description; self.parameters = parameters; self.strict = strict
        self.origin = origin
    }
}

/// A client-side tool shape with no canonical equivalent (OpenAI Responses `namespace` members and freeform
/// `custom` tools), kept so the client codec can answer in the client's own form.
public struct ToolOrigin: Sendable, Equatable {
    /// The namespace the tool was declared in; the canonical name is then `namespace__name`.
    public var namespace: String?
    /// The tool's own name (inside its namespace).
    public var name: String
    /// A freeform tool: canonically a function with one string argument `input`; calls go back as the
    /// client's freeform call with that string.
    public var freeform: Bool
    public init(namespace: String? = nil, name: String, freeform: Bool = false) {
        self.namespace = namespace; self.name = name; self.freeform = freeform
    }
}

public enum ToolChoice: Sendable, Equatable {
    case auto, none, required
    case tool(String)
}

public enum ReasoningEffort: String, Sendable, Equatable, CaseIterable {
    case minimal, low, medium, high
}

public struct ReasoningConfig: Sendable, Equatable {
    /// False when the client turned reasoning off explicitly.
    public var enabled: Bool
    public var effort: ReasoningEffort?
    /// A thinking budget in tokens (Anthropic `budget_tokens`, Gemini `thinkingBudget`).
    public var budgetTokens: Int?
    /// The client wants readable thinking / summaries back.
    public var includeThoughts: Bool
    public init(enabled: Bool = true, effort: ReasoningEffort? = nil, budgetTokens: Int? = nil, includeThoughts: Bool = true) {
        self.enabled = enabled; self.effort = effort; self.budgetTokens = budgetTokens; self.includeThoughts = includeThoughts
    }
}

public enum ResponseFormat: Sendable, Equatable {
    case text
    case jsonObject
    case jsonSchema(name: String, schema: JSONNode, strict: Bool?)
}

public struct ChatRequest: Sendable, Equatable {
    public var model: String
    /// System and developer instructions, in order (text only).
    public var system: [String]
    public var messages: [Message]
    public var tools: [ToolDefinition]
    public var toolChoice: ToolChoice?
    public var parallelToolCalls: Bool?
    public var maxOutputTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var stopSequences: [String]
    public var reasoning: ReasoningConfig?
    public var responseFormat: ResponseFormat?
    public var stream: Bool
    /// The client asked for usage at the end of its stream (OpenAI Chat `stream_options.include_usage`).
    public var streamUsage: Bool
    /// A user / end-user identifier, where the protocol has one (OpenAI `user`, Anthropic `metadata.user_id`).
    public var user: String?
    /// Fields of the client's request that were dropped because no target can use them and dropping them
    /// changes nothing the client can see (e.g. `store`). Logged at debug level.
    public var dropped: [String]
    /// OpenAI's `prompt_cache_key` (Chat Completions and Responses): requests that share it share a prompt cache.
    /// The client's own, or one the proxy derives from the session (`PromptCaching`).
    public var promptCacheKey: String?
    /// Prompt-cache breakpoints the client placed (`cache_control` on OpenAI Chat content parts, as clients of
    /// Anthropic-backed gateways send it); nil when the client's protocol caches on its own (OpenAI, Gemini), so
    /// an Anthropic target gets breakpoints of the proxy's choosing (`CacheBreakpoints.automatic`).
    public var cacheBreakpoints: CacheBreakpoints?

    public init(model: String, system: [String] = [], messages: [Message] = [], tools: [ToolDefinition] = [],
                toolChoice: ToolChoice? = nil, parallelToolCalls: Bool? = nil, maxOutputTokens: Int? = nil,
                temperature: Double? = nil, topP: Double? = nil, topK: Int? = nil, stopSequences: [String] = [],
                reasoning: ReasoningConfig? = nil, responseFormat: ResponseFormat? = nil, stream: Bool = false,
                streamUsage: Bool = false, user: String? = nil, dropped: [String] = []) {
        self.model = model; self.system = system; self.messages = messages; self.tools = tools; self.toolChoice = toolChoice
        self.parallelToolCalls = parallelToolCalls; self.maxOutputTokens = maxOutputTokens; self.temperature = temperature
        self.topP = topP; self.topK = topK; self.stopSequences = stopSequences; self.reasoning = reasoning
        self.responseFormat = responseFormat; self.stream = stream; self.streamUsage = streamUsage; self.user = user; self.dropped = dropped
    }
}

/// Where a prompt cache may end: after the tools, after the system text, after a message (by its index in
/// `messages`). `ttl` is Anthropic's (`"5m"`, `"1h"`), nil for its default.
public struct CacheBreakpoints: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var ttl: String?
        public init(ttl: String? = nil) { self.ttl = ttl }
    }
    public var tools: Point?
    public var system: Point?
    public var messages: [Int: Point]
    public init(tools: Point? = nil, system: Point? = nil, messages: [Int: Point] = [:]) {
        self.tools = tools; self.system = system; self.messages = messages
    }

    func with(system point: Point) -> CacheBreakpoints { var b = self; b.system = point; return b }
    func with(message i: Int, _ point: Point) -> CacheBreakpoints { var b = self; b.messages[i] = point; return b }

    /// For a client whose protocol caches by itself: the stable prefix (tools and system text) and the whole
    /// conversation so far, so that the next turn reads both — what OpenAI's automatic caching gives its clients.
    public static func automatic(_ r: ChatRequest) -> CacheBreakpoints {
        var b = CacheBreakpoints()
        if !r.system.isEmpty { b.system = Point() } else if !r.tools.isEmpty { b.tools = Point() }
        if !r.messages.isEmpty { b.messages[r.messages.count - 1] = Point() }
        return b
    }
}

/// A `prompt_cache_key` as sent upstream: a long one (a client's, or a session id) goes as a digest of itself,
/// so that what reaches the upstream is bounded and still the same for the same key.
public enum PromptCacheKey {
    public static func bounded(_ key: String) -> String {
        key.utf8.count <= 64 ? key : "pp-" + SHA256.hex(Array(key.utf8)).prefix(48)
    }
}

public enum StopReason: String, Sendable, Equatable, CaseIterable {
    case endTurn, maxTokens, toolUse, stopSequence, contentFilter, refusal, pauseTurn, error
}

/// Token counts. `input` is the whole prompt, cached part included (OpenAI's convention); `cachedInput` and
/// `cacheCreation` are parts of it. Anthropic's codec subtracts them for its `input_tokens`.
public struct Usage: Sendable, Equatable {
    public var input: Int
    public var output: Int
    public var cachedInput: Int
    public var cacheCreation: Int
    /// Reasoning tokens, a part of `output`.
    public var reasoning: Int
    public init(input: Int = 0, output: Int = 0, cachedInput: Int = 0, cacheCreation: Int = 0, reasoning: Int = 0) {
        self.input = input; self.output = output; self.cachedInput = cachedInput; self.cacheCreation = cacheCreation
        self.reasoning = reasoning
    }
}

public struct ChatResponse: Sendable, Equatable {
    public var id: String
    public var model: String
    /// Assistant content: text, reasoning and tool calls, in order.
    public var content: [ContentBlock]
    public var stopReason: StopReason
    public var stopSequence: String?
    public var usage: Usage
    public init(id: String, model: String, content: [ContentBlock], stopReason: StopReason, stopSequence: String? = nil,
                usage: Usage = Usage()) {
        self.id = id; self.model = model; self.content = content; self.stopReason = stopReason; self.stopSequence = stopSequence
        self.usage = usage
    }
}

/// An error from an upstream or from translation, in protocol-neutral terms.
public struct ErrorInfo: Sendable, Equatable {
    /// Why it failed, in the one vocabulary every client protocol's errors are written from (ErrorVocabulary.swift).
    public typealias Kind = ErrorCause
    public var kind: Kind
    public var message: String
    /// The HTTP status to answer with.
    public var status: Int
    public init(kind: Kind, message: String, status: Int) { self.kind = kind; self.message = message; self.status = status }
}
