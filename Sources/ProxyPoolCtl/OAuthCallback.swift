import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolProviders
internal import CShims

/// The browser's way back from a provider's sign-in page: a listener on 127.0.0.1 only (never a wildcard
/// address: nobody else on the network may hand us a code), for at most five minutes, that takes the first
/// callback whose `state` matches, answers it, and closes. A callback with another state is refused (400) and
/// the wait goes on, as Codex does (codex-rs/login/src/server.rs, "State mismatch"); once a code was taken the
/// listener is gone, so a second callback finds nobody.
final class OAuthCallback {
    let fd: Int32
    let port: UInt16
    private let path: String
    private let state: String

    static let waitMillis: Int64 = 5 * 60_000

    /// Bound to the first of `ports` that is free (0: any, for tests).
    init(ports: [UInt16], path: String, state: String) throws(Ctl.Failure) {
        var lastError = ""
        for p in ports {
            do {
                let fd = try TCPSocket.listen(try! ListenAddress(parsing: "127.0.0.1:\(p)"), backlog: 8)
                self.fd = fd
                self.port = TCPSocket.localPort(fd) ?? p
                self.path = path
                self.state = state
                return
            } catch {
                lastError = "\(error)"
            }
        }
        throw Ctl.Failure(message: "cannot listen for the sign-in callback on 127.0.0.1 port \(ports.map(String.init).joined(separator: " or ")): \(lastError)",
                          hint: "is another login (or the official CLI's) running? Or use --paste" , code: ExitCode.failure)
    }

    deinit { close(fd) }

    /// Wait for the callback; `exchange(code)` turns its code into a login (or a failure), and the browser is
    /// told which. Returns what `exchange` returned.
    func wait<T>(exchange: (String) throws -> T) throws -> T {
        let deadline = Posix.monotonicMillis() + Self.waitMillis
        while true {
            let left = deadline - Posix.monotonicMillis()
            guard left > 0 else {
                throw Ctl.Failure(message: "no sign-in callback came within 5 minutes", hint: "run the login again; on a machine without a browser use --paste or --device", code: ExitCode.failure)
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&p, 1, Int32(min(left, 1000)))
            if n <= 0 { continue }
            let conn = cshims_accept(fd, 0)
            if conn < 0 { continue }
            defer { close(conn) }
            UnixSocket.setTimeouts(conn, seconds: 10)
            guard let target = Self.readTarget(conn) else {
                Self.respond(conn, 400, "Bad Request")
                continue
            }
            let query = target.firstIndex(of: "?")
            guard target[..<(query ?? target.endIndex)] == path else {
                Self.respond(conn, 404, "Not Found")
                continue
            }
            switch AccountLogin.callback(String(target)) {
            case nil:
                Self.respond(conn, 400, "Missing authorization code")
            case .code(_, let s) where s != state:
                Self.respond(conn, 400, "State mismatch")
            case .error(let e):
                // The provider's own refusal (the user declined, say): the login ends.
                let message = String(e.prefix(300))
                Self.respond(conn, 400, "Sign-in failed: \(message)")
                throw Ctl.Failure(message: "the provider refused the sign-in: \(message)", hint: nil, code: ExitCode.failure)
            case .code(let code, _):
                do {
                    let r = try exchange(code)
                    Self.respond(conn, 200, "Signed in. proxypool has the login; you may close this tab.")
                    return r
                } catch {
                    Self.respond(conn, 500, "Sign-in could not be completed; see the terminal.")
                    throw error
                }
            }
        }
    }

    /// The request target of a GET (at most 8 KiB of head), or nil.
    static func readTarget(_ conn: Int32) -> Substring? {
        var head: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 2048)
        while head.count < 8192 {
            let n = Glibc.read(conn, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            head += buf[0..<n]
            if head.firstRange(ofBytes: [13, 10, 13, 10]) != nil { break }   // the whole head: closing on unread bytes would reset the answer
        }
        guard let end = head.firstRange(ofBytes: [13, 10]) else { return nil }
        let parts = String(decoding: head[..<end.lowerBound], as: UTF8.self).split(separator: " ")
        guard parts.count == 3, parts[0] == "GET", parts[2].hasPrefix("HTTP/1.") else { return nil }
        return parts[1]
    }

    static func respond(_ conn: Int32, _ status: Int, _ text: String) {
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"][status] ?? "Error"
        let body = "<!doctype html><meta charset=utf-8><title>proxypool</title><p>\(text.replacingEvery("<", with: "&lt;"))</p>\n"
        let head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        try? Posix.writeAll(conn, Array((head + body).utf8))
    }
}
