import ProxyPoolCore
import ProxyPoolSystem

extension Exchange {
    /// The request's journal record: a readable message, then one field per fact. Built straight into the
    /// logger's buffer (no String per field): at one record per request it is a measurable share of the
    /// request's CPU time (docs/performance.md).
    ///
    /// MESSAGE: `POST /v1/chat/completions app=A credential=C model=M [upstream_model=U] [translated=X>Y]
    /// status=200 attempts=1 12ms[: error]`; fields APP, CREDENTIAL, MODEL, STATUS, ATTEMPTS, LATENCY_MS,
    /// INPUT_TOKENS, OUTPUT_TOKENS, CACHED_TOKENS, then TTFB_MS, REASONING_RESTORED, UPSTREAM_MODEL and
    /// TRANSLATION when they apply.
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

        r.field("APP", app)
        r.field("CREDENTIAL", cred)
        r.field("MODEL", self.model ?? "")
        r.field("STATUS", status)
        r.field("ATTEMPTS", attempts)
        r.field("LATENCY_MS", latency)
        r.field("INPUT_TOKENS", input)
        r.field("OUTPUT_TOKENS", output)
        r.field("CACHED_TOKENS", cached)
        if let fb = firstByte { r.field("TTFB_MS", fb - started) }
        if reasoningRestored > 0 { r.field("REASONING_RESTORED", reasoningRestored) }
        if upstreamModel != model { r.field("UPSTREAM_MODEL", upstreamModel) }
        if let (from, to) = translation { r.field("TRANSLATION", from + ">" + to) }
        if overWebSocket { r.field("TRANSPORT", "websocket") }
    }
}
