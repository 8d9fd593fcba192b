import ProxyPoolCore

/// Prometheus counters and summaries, kept on the loop thread.
final class Metrics {
    private var counters: [String: [String: Double]] = [:]
    /// What every proxied request counts, kept per (app, credential) in fields: rendering into label strings
    /// happens when /metrics is read, not five times per request.
    private struct SeriesKey: Hashable { let app, credential: String }
    private final class RequestSeries {
        var byStatus: [Int: Double] = [:]
        var durationSum = 0.0, durationCount = 0.0, ttfbSum = 0.0, ttfbCount = 0.0, errors = 0.0, failovers = 0.0
    }
    private var series: [SeriesKey: RequestSeries] = [:]
    private var last: (key: SeriesKey, series: RequestSeries)?

    /// `labels` is the rendered label set, `a="x",b="y"` (names in alphabetical order).
    func count(_ name: String, _ labels: String, _ by: Double = 1) {
        counters[name, default: [:]][labels, default: 0] += by
    }

    /// One proxied request: requests by status, duration, time to first byte, failovers, errors.
    func request(app: String, credential: String, status: Int, seconds: Double, ttfbSeconds: Double?, failovers: Int, error: Bool) {
        let key = SeriesKey(app: app, credential: credential)
        let s: RequestSeries
        // Requests come in runs for the same app and credential: their strings compare equal at once (shared
        // storage), where a look-up would hash both.
        if let last, last.key == key { s = last.series }
        else if let found = series[key] { s = found; last = (key, found) }
        else { s = RequestSeries(); series[key] = s; last = (key, s) }
        s.byStatus[status, default: 0] += 1
        s.durationSum += seconds
        s.durationCount += 1
        if let t = ttfbSeconds { s.ttfbSum += t; s.ttfbCount += 1 }
        if failovers > 0 { s.failovers += Double(failovers) }
        if error { s.errors += 1 }
    }

    /// The per-request series as label sets, merged into the other counters.
    private func allCounters() -> [String: [String: Double]] {
        var all = counters
        func add(_ name: String, _ labels: String, _ v: Double) { all[name, default: [:]][labels, default: 0] += v }
        for (k, s) in series {
            let cl = "credential=\"\(k.credential)\""
            for (code, n) in s.byStatus { add("proxypool_requests_total", "app=\"\(k.app)\",code=\"\(code)\",\(cl)", n) }
            add("proxypool_request_duration_seconds_sum", cl, s.durationSum)
            add("proxypool_request_duration_seconds_count", cl, s.durationCount)
            if s.ttfbCount > 0 {
                add("proxypool_upstream_ttfb_seconds_sum", cl, s.ttfbSum)
                add("proxypool_upstream_ttfb_seconds_count", cl, s.ttfbCount)
            }
            if s.failovers > 0 { add("proxypool_failovers_total", "app=\"\(k.app)\"", s.failovers) }
            if s.errors > 0 { add("proxypool_errors_total", "app=\"\(k.app)\",\(cl)", s.errors) }
        }
        return all
    }

    func render() -> String {
        var out = ""
        for (name, series) in allCounters().sorted(by: { $0.key < $1.key }) {
            let type = name.hasSuffix("_total") || name.hasSuffix("_sum") || name.hasSuffix("_count") ? "counter" : "gauge"
            out += "# TYPE \(name) \(type)\n"
            for (l, v) in series.sorted(by: { $0.key < $1.key }) {
                out += "\(name){\(l)} \(v == v.rounded() ? String(Int64(v)) : String(v))\n"
            }
        }
        return out
    }
}
