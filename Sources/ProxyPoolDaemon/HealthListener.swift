import Glibc
import ProxyPoolCore
import ProxyPoolSystem

/// The proxy port as it stands in this foundation release: it accepts, answers `GET /healthz`, and tells any
/// other request that forwarding is not in this build yet (503). The epoll HTTP/1.1 server replaces it.
/// One thread; each connection gets 2 s to send its request head, so a stalled client cannot hold it long.
final class HealthListener: @unchecked Sendable {
    private let fd: Int32
    private let state = Mutex()
    private var stopping = false
    private var heartbeat = Posix.monotonicMillis()

    init(fd: Int32) { self.fd = fd }

    func start() { Threads.start { self.loop() } }
    func stop() { state.locked { stopping = true } }

    /// Milliseconds since the loop last went round: the watchdog pings only while this stays small.
    var sinceHeartbeat: Int64 { Posix.monotonicMillis() - state.locked { heartbeat } }

    private func loop() {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let now = Posix.monotonicMillis()
            if state.locked({ heartbeat = now; return stopping }) { break }
            guard poll(&pfd, 1, 200) > 0 else { continue }
            let c = cshimsAcceptTCP(fd)
            if c < 0 { continue }
            UnixSocket.setTimeouts(c, seconds: 2)
            answer(c)
            close(c)
        }
        close(fd)
    }

    static func hasHeadEnd(_ b: [UInt8]) -> Bool {
        guard b.count >= 4 else { return false }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return true }
        return false
    }

    private func answer(_ c: Int32) {
        var head: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while head.count < 16384 {
            let n = recv(c, &buf, buf.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            head.append(contentsOf: buf[0..<n])
            if Self.hasHeadEnd(head) { break }
        }
        let requestLine = head.prefix(while: { $0 != 13 && $0 != 10 })
        let parts = requestLine.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
        let status: String
        let body: String
        if parts.count == 3, parts[0] == "GET", parts[1] == "/healthz" {
            status = "200 OK"; body = #"{"status":"ok"}"#
        } else if parts.count != 3 || !parts[2].hasPrefix("HTTP/1.") {
            status = "400 Bad Request"; body = #"{"error":{"type":"invalid_request_error","message":"malformed HTTP request"}}"#
        } else {
            status = "503 Service Unavailable"
            body = #"{"error":{"type":"not_implemented","message":"proxypoold \#(ProxyPoolVersion.string) does not forward requests yet; only /healthz is served"}}"#
        }
        let response = "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        try? Posix.writeAll(c, Array(response.utf8))
    }
}


import CShims
private func cshimsAcceptTCP(_ fd: Int32) -> Int32 { cshims_accept(fd, 0) }
