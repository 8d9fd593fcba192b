import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolHTTP

/// One finished request, as the dashboard's live log shows it (the journal record's facts, no secrets).
struct LiveLogEntry: Codable, Sendable {
    var at: String
    var method: String
    var path: String
    var app: String
    var model: String
    var upstreamModel: String
    var credential: String
    var attempts: Int
    var status: Int
    var latencyMs: Int64
    var inputTokens: Int64
    var outputTokens: Int64
    var error: String?
}

/// The dashboard's live log: finished requests as server-sent events (`GET /api/v0/live`) to the pages that
/// have it open. Nobody watching costs the proxy one emptiness check per request. Each watcher's backlog is
/// bounded: events for a watcher that does not keep up are dropped and counted, never queued without end.
/// A watcher whose session ended (logout, expiry) is closed at the next keep-alive. Loop thread only.
final class LiveLog {
    static let maxWatchers = 8
    static let keepAliveMillis: Int64 = 15_000

    final class Watcher: HTTPResponseProducer {
        let writer: HTTPResponseWriter
        let cookie: String
        var dropped = 0
        weak var log: LiveLog?
        init(writer: HTTPResponseWriter, cookie: String) { self.writer = writer; self.cookie = cookie }
        func clientGone() { log?.remove(self) }
        func drained() {}
    }

    private(set) var watchers: [Watcher] = []
    private var nextKeepAlive = Int64.max
    let sessions: DashboardSessions

    init(loop: EventLoop, sessions: DashboardSessions) {
        self.sessions = sessions
        loop.addTicker { [unowned self] now in tick(now) }
    }

    var isEmpty: Bool { watchers.isEmpty }

    /// Start streaming to a signed-in page. Returns false when too many pages watch already.
    func watch(_ writer: HTTPResponseWriter, cookie: String, now: Int64) -> Bool {
        guard watchers.count < Self.maxWatchers else { return false }
        let w = Watcher(writer: writer, cookie: cookie)
        w.log = self
        writer.producer = w
        watchers.append(w)
        writer.startStream(status: 200, headers: DashboardService.pageHeaders("text/event-stream") + [("X-Accel-Buffering", "no")])
        writer.write(Array(": live log of proxypoold\n\n".utf8))
        nextKeepAlive = min(nextKeepAlive, now + Self.keepAliveMillis)
        return true
    }

    func publish(_ entry: LiveLogEntry) {
        guard !watchers.isEmpty, let json = try? JSON.encode(entry) else { return }
        var event = Array("event: request\ndata: ".utf8)
        event += json
        event += Array("\n\n".utf8)
        for w in watchers {
            if w.writer.overHighWater { w.dropped += 1; continue }
            if w.dropped > 0 {
                w.writer.write(Array("event: dropped\ndata: {\"count\":\(w.dropped)}\n\n".utf8))
                w.dropped = 0
            }
            w.writer.write(event)
        }
    }

    func remove(_ w: Watcher) { watchers.removeAll { $0 === w } }

    /// End every stream (the daemon is stopping).
    func closeAll() {
        let all = watchers
        watchers.removeAll()
        for w in all { w.writer.finish() }
    }

    private func tick(_ now: Int64) -> Int {
        guard !watchers.isEmpty else { nextKeepAlive = Int64.max; return 1000 }
        guard now >= nextKeepAlive else { return Int(min(1000, nextKeepAlive - now)) }
        nextKeepAlive = now + Self.keepAliveMillis
        let wall = Timestamp.nowMillis()
        for w in watchers {
            if sessions.session(cookie: w.cookie, nowMillis: wall) == nil {
                remove(w)
                w.writer.finish()
            } else {
                w.writer.write(Array(": keep-alive\n\n".utf8))
            }
        }
        return 1000
    }
}
