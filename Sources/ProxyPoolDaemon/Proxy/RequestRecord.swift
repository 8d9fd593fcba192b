import ProxyPoolCore
import ProxyPoolSystem

extension Exchange {
    /// The request's journal record: a readable message, then one field per fact. Built straight into the
    /// logger's buffer (no String per field): at one record per request it is a measurable share of the
    /// request's CPU time (docs/performance.md).
    ///
    /// MESSAGE: `POST /v1/chat/completions app=A credential=C model=M [upstream_model=U] [translated=X>Y]
    /// status=200 attempts=1 12ms[: error]`; fields APP, CREDENTIAL, MODEL, STATUS, ATTEMPTS, LATENCY_MS,
    /// INPUT_TOKENS, OUTPUT_TOKENS, CACHED_TOKENS, then TTFB_MS, REASONING_RESTORED, UPSTREAM_MODEL,
    /// TRANSLATION and TRANSPORT when they apply. A line on stderr leaves out the first six, which its message
    /// says.
    func writeRecord(_ r: inout LogRecord, status: Int, error: String?, credential cred: String, latency: Int64,
                     input: Int64, output: Int64, cached: Int64) {
        let model = self.model ?? "-"
        let upstreamModel = plan.upstreamModel ?? self.model ?? "-"
        let translation = plan.translated ? (clientWire?.rawValue ?? "-", plan.upstreamWire?.rawValue ?? "-") : nil
        // A WebSocket turn reads "WS /v1/responses": the e2e tests tell it from an HTTP POST by this.
        r.text(overWebSocket ? "WS" : request.head.method); r.literal(" "); r.text(request.head.path)
        r.literal(" app="); r.text(app)
        r.literal(" credential="); r.text(cred)
        r.literal(" model="); r.text(model)
        if upstreamModel != model { r.literal(" upstream_model="); r.text(upstreamModel) }
        if let (from, to) = translation { r.literal(" translated="); r.text(from); r.literal(">"); r.text(to) }
        r.literal(" status="); r.number(status)
        r.literal(" attempts="); r.number(attempts)
        r.literal(" "); r.number(latency); r.literal("ms")
        if let error { r.literal(": "); r.text(error) }

        // A line on stderr is read as it is, and its message already says these six on every request: there the
        // fields that repeat them are left out (a third of the record's cost, callgrind). The journal keeps every
        // field, for `journalctl PROXYPOOL_APP=…` and the like.
        if !r.isLine {
            r.field(.app, app)
            r.field(.credential, cred)
            r.field(.model, self.model ?? "")
            r.field(.status, status)
            r.field(.attempts, attempts)
            r.field(.latencyMs, latency)
        }
        r.field(.inputTokens, input)
        r.field(.outputTokens, output)
        r.field(.cachedTokens, cached)
        if let fb = firstByte { r.field(.ttfbMs, fb - started) }
        if reasoningRestored > 0 { r.field(.reasoningRestored, reasoningRestored) }
        if upstreamModel != model { r.field(.upstreamModel, upstreamModel) }
        if let (from, to) = translation { r.field(.translation, from + ">" + to) }
        if overWebSocket { r.field(.transport, "websocket") }
    }
}

/// The record's keys, made once in both forms (`LogKey`): composing them per record was a third of its fields'
/// cost (callgrind).
extension LogKey {
    static var app: LogKey { LogKey(journal: "PROXYPOOL_APP", line: " app=") }
    static var credential: LogKey { LogKey(journal: "PROXYPOOL_CREDENTIAL", line: " credential=") }
    static var model: LogKey { LogKey(journal: "PROXYPOOL_MODEL", line: " model=") }
    static var status: LogKey { LogKey(journal: "PROXYPOOL_STATUS", line: " status=") }
    static var attempts: LogKey { LogKey(journal: "PROXYPOOL_ATTEMPTS", line: " attempts=") }
    static var latencyMs: LogKey { LogKey(journal: "PROXYPOOL_LATENCY_MS", line: " latency_ms=") }
    static var inputTokens: LogKey { LogKey(journal: "PROXYPOOL_INPUT_TOKENS", line: " input_tokens=") }
    static var outputTokens: LogKey { LogKey(journal: "PROXYPOOL_OUTPUT_TOKENS", line: " output_tokens=") }
    static var cachedTokens: LogKey { LogKey(journal: "PROXYPOOL_CACHED_TOKENS", line: " cached_tokens=") }
    static var ttfbMs: LogKey { LogKey(journal: "PROXYPOOL_TTFB_MS", line: " ttfb_ms=") }
    static var reasoningRestored: LogKey { LogKey(journal: "PROXYPOOL_REASONING_RESTORED", line: " reasoning_restored=") }
    static var upstreamModel: LogKey { LogKey(journal: "PROXYPOOL_UPSTREAM_MODEL", line: " upstream_model=") }
    static var translation: LogKey { LogKey(journal: "PROXYPOOL_TRANSLATION", line: " translation=") }
    static var transport: LogKey { LogKey(journal: "PROXYPOOL_TRANSPORT", line: " transport=") }

    /// Every key above, for the test that checks their two forms agree.
    static var requestRecordKeys: [LogKey] { [.app, .credential, .model, .status, .attempts, .latencyMs, .inputTokens, .outputTokens, .cachedTokens, .ttfbMs, .reasoningRestored, .upstreamModel, .translation, .transport] }
}
