import ProxyPoolCore

/// Usage adds up numbers upstreams report: each request's counts are held to 0…10^12 (`Saturating.tokens`) and
/// every sum saturates at Int64.max, so no report, however large, and no number of them can trap the daemon.
/// Inlinable: the daemon calls them per request.
extension Store.UsageDelta {
    /// One more request.
    @inlinable public mutating func add(error: Bool, input: Int64, output: Int64, cached: Int64) {
        requests = Saturating.add(requests, 1)
        if error { errors = Saturating.add(errors, 1) }
        self.input = Saturating.add(self.input, Saturating.tokens(input))
        self.output = Saturating.add(self.output, Saturating.tokens(output))
        self.cached = Saturating.add(self.cached, Saturating.tokens(cached))
    }

    /// Another delta of the same day, app, credential and models.
    @inlinable public mutating func merge(_ d: Store.UsageDelta) {
        requests = Saturating.add(requests, d.requests); errors = Saturating.add(errors, d.errors)
        input = Saturating.add(input, d.input); output = Saturating.add(output, d.output); cached = Saturating.add(cached, d.cached)
    }
}
