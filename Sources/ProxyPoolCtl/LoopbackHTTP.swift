import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolHTTPWire

/// A small blocking HTTP/1.1 client for the daemon's own port on loopback (`proxypoolctl chat`): one request
/// per connection, the body handed on piece by piece as it arrives, so a stream prints as it comes.
/// The daemon's address comes from its `status` (never from a user-given host: nothing here leaves the machine).
struct LoopbackHTTP {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
    }

    let host: String
    let port: UInt16

    /// `listen` as `status` reports it (`127.0.0.1:8081`, `[::1]:8081`); a wildcard address is reached on loopback.
    init?(listen: String) {
        guard let address = try? ListenAddress(parsing: listen).reachable else { return nil }
        host = address.host
        port = address.port
        authority = address.description
    }

    let authority: String

    /// Send one request; `received(bytes)` gets the response body as it arrives (chunk framing removed).
    func send(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
              timeoutSeconds: Int = 300, onHead: (Response) -> Void = { _ in },
              received onBody: (UnsafeRawBufferPointer) -> Void = { _ in }) throws(Ctl.Failure) -> Response {
        let fd = try connect(timeoutSeconds)
        defer { close(fd) }
        var req = "\(method) \(path) HTTP/1.1\r\nHost: \(authority)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { req += "\(k): \(v)\r\n" }
        let wire = Array((req + "\r\n").utf8) + body
        do { try Posix.writeAll(fd, wire) } catch { throw Self.failure("cannot send to proxypoold on \(authority): \(error)") }
        var parser = HTTPResponseParser(requestMethod: method)
        var response: Response?
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = Posix.uninterrupted { recv(fd, &buf, buf.count, 0) }
            if n < 0 { throw Self.failure("reading from proxypoold failed: \(String(cString: strerror(errno)))") }
            if n == 0 {
                if parser.closed(), let response { return response }
                throw Self.failure("proxypoold closed the connection before the answer was complete")
            }
            var done = false
            var malformed: String?
            buf.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let input = UnsafeRawBufferPointer(rebasing: raw[0..<n])
                var offset = 0
                parsing: while true {
                    let piece: HTTPResponseParser.Piece
                    do throws(HTTPResponseParser.Failure) { piece = try parser.next(input, &offset) } catch { malformed = error.message; break parsing }
                    switch piece {
                    case .head(let status, let headers, _):
                        let r = Response(status: status, headers: headers)
                        response = r
                        onHead(r)
                    case .body(let bytes): onBody(bytes)
                    case .end: done = true; break parsing
                    case .needMore: break parsing
                    }
                }
            }
            if let malformed { throw Self.failure("a malformed answer from proxypoold: \(malformed)") }
            if done, let response { return response }
        }
    }

    private func connect(_ timeoutSeconds: Int) throws(Ctl.Failure) -> Int32 {
        let v6 = host.contains(":")
        let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Self.failure("socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var rc: Int32 = -1
        if v6 {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            _ = inet_pton(AF_INET6, host, &a.sin6_addr)
            rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            _ = inet_pton(AF_INET, host, &a.sin_addr)
            rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard rc == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw Ctl.Failure(message: "cannot connect to proxypoold's proxy port \(authority): \(why)", hint: nil, code: ExitCode.unavailable)
        }
        return fd
    }

    static func failure(_ m: String) -> Ctl.Failure { Ctl.Failure(message: m, hint: nil, code: ExitCode.failure) }
}
