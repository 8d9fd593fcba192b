import Foundation
import Glibc
import Testing

/// The Python fake upstream (Tests/FakeUpstream): behaviour is chosen by the key a credential holds.
final class FakeUpstream {
    let child: Child
    let port: UInt16
    let dir = makeTempDir("fake")

    init() throws {
        let portFile = dir + "/port"
        child = try Child("/usr/bin/env", ["python3", Repo.root + "/Tests/FakeUpstream/fake_upstream.py", "--port-file", portFile],
                          env: baseEnvironment, stderr: dir + "/log")
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let s = try? String(contentsOfFile: portFile, encoding: .utf8), let p = UInt16(s.trimmingCharacters(in: .whitespacesAndNewlines)) {
                port = p
                return
            }
            usleep(20_000)
        }
        throw HarnessError("fake upstream did not start: \((try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? "")")
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Recorded requests, each with its "key".
    func requests() throws -> [[String: Any]] {
        let r = try http(port: port, "GET", "/__requests", headers: [("Host", "127.0.0.1")])
        return (try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [[String: Any]]) ?? []
    }

    func keysSeen() throws -> [String] { try requests().compactMap { $0["key"] as? String } }

    func aborted() throws -> Int {
        let r = try http(port: port, "GET", "/__aborted", headers: [("Host", "127.0.0.1")])
        return ((try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])?["aborted"] as? Int) ?? -1
    }

    deinit { child.signal(SIGKILL); _ = child.wait() }
}

struct HTTPResult {
    var status: Int
    var headers: [(String, String)]
    var body: String
    /// The body as received (for binary bodies, which `body` would decode lossily).
    var bodyBytes: [UInt8] = []
    func header(_ n: String) -> String? { headers.last { $0.0.lowercased() == n }?.1 }

    /// The body with chunk framing removed when the response is chunked (strict: a malformed frame
    /// yields what was decoded so far plus a marker, so a test comparing content fails visibly).
    var content: String {
        guard header("transfer-encoding")?.lowercased() == "chunked" else { return body }
        let bytes = Array(body.utf8)
        var i = 0, out: [UInt8] = []
        func line() -> String? {
            guard let e = (i..<max(i, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else { return nil }
            defer { i = e + 2 }
            return String(decoding: bytes[i..<e], as: UTF8.self)
        }
        while let sizeLine = line() {
            guard let size = Int(sizeLine, radix: 16) else { return String(decoding: out, as: UTF8.self) + "<bad chunk>" }
            if size == 0 { return String(decoding: out, as: UTF8.self) }
            guard bytes.count >= i + size + 2 else { return String(decoding: out, as: UTF8.self) + "<truncated chunk>" }
            out += bytes[i..<(i + size)]
            i += size + 2
        }
        return String(decoding: out, as: UTF8.self) + "<no last chunk>"
    }
}

/// One HTTP/1.1 exchange with Connection: close; the body is returned raw (chunk framing included).
/// `receiveBuffer` and `readPause` make a slow reader: a small socket buffer, and a pause after each read, so the
/// daemon has to hold the answer back.
func http(port: UInt16, _ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil,
          raw: [UInt8]? = nil, timeout: Int = 20, receiveBuffer: Int32? = nil, readPause: useconds_t = 0) throws -> HTTPResult {
    let fd = try tcpConnect(port, timeout: timeout, receiveBuffer: receiveBuffer)
    defer { close(fd) }
    var req = raw ?? Array("\(method) \(path) HTTP/1.1\r\n".utf8)
    if raw == nil {
        var h = headers
        if !h.contains(where: { $0.0.lowercased() == "host" }) { h.insert(("Host", "127.0.0.1:\(port)"), at: 0) }
        h.append(("Connection", "close"))
        if let body { h.append(("Content-Length", String(body.utf8.count))) }
        for (k, v) in h { req += Array("\(k): \(v)\r\n".utf8) }
        req += Array("\r\n".utf8)
        if let body { req += Array(body.utf8) }
    }
    _ = req.withUnsafeBytes { send(fd, $0.baseAddress, req.count, Int32(MSG_NOSIGNAL)) }
    var out: [UInt8] = [], buf = [UInt8](repeating: 0, count: receiveBuffer == nil ? 65536 : 16384)
    while case let n = recv(fd, &buf, buf.count, 0), n > 0 {
        out += buf[0..<n]
        if readPause > 0 { usleep(readPause) }
    }
    return parseResponse(out)
}

func parseResponse(_ out: [UInt8]) -> HTTPResult {
    let text = String(decoding: out, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { return HTTPResult(status: 0, headers: [], body: text) }
    let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
    let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
    let headers = lines.dropFirst().compactMap { l -> (String, String)? in
        guard let c = l.firstIndex(of: ":") else { return nil }
        return (String(l[..<c]), l[l.index(after: c)...].trimmingCharacters(in: .whitespaces))
    }
    let headEnd = (0..<max(0, out.count - 3)).first { out[$0] == 13 && out[$0 + 1] == 10 && out[$0 + 2] == 13 && out[$0 + 3] == 10 }
    return HTTPResult(status: status, headers: headers, body: String(text[split.upperBound...]),
                      bodyBytes: headEnd.map { Array(out[($0 + 4)...]) } ?? [])
}

/// `receiveBuffer` is set before connecting (the window is agreed then).
func tcpConnect(_ port: UInt16, timeout: Int, receiveBuffer: Int32? = nil) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
    var sin = sockaddr_in()
    sin.sin_family = sa_family_t(AF_INET)
    sin.sin_port = port.bigEndian
    sin.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard rc == 0 else { close(fd); throw HarnessError("connect :\(port) errno \(errno)") }
    var tv = timeval(tv_sec: timeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    return fd
}

/// A daemon with credentials pointing at a fake upstream, and an access key.
struct ProxySetup {
    let daemon: DaemonProcess
    let fake: FakeUpstream
    let key: String
    let port: UInt16

    init(args: [String] = [], credentials: [(name: String, provider: String, secret: String)], assign: [String: [String]] = [:],
         keyApp: String? = nil, daemon existing: DaemonProcess? = nil, fake existingFake: FakeUpstream? = nil) throws {
        fake = try existingFake ?? FakeUpstream()
        daemon = try existing ?? DaemonProcess(args: args)
        for c in credentials {
            let base = c.provider == "openai" || c.provider == "openai-compatible" ? fake.url + "/v1" : fake.url
            let r = daemon.ctl(["credential", "add", c.name, "--provider", c.provider, "--base-url", base, "--key-stdin"], stdin: c.secret)
            guard r.status == 0 else { throw HarnessError("credential add: \(r.stderr)") }
        }
        for (app, chain) in assign { _ = daemon.ctl(["assign", app] + chain) }
        let k = daemon.ctl(["key", "create"] + (keyApp.map { ["--app", $0] } ?? []))
        key = k.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        port = try daemon.proxyPort
    }

    func messages(stream: Bool = false, key: String? = nil, headers: [(String, String)] = [], model: String = "claude-sonnet-4-5") throws -> HTTPResult {
        try http(port: port, "POST", "/v1/messages", headers: [("x-api-key", key ?? self.key), ("anthropic-version", "2023-06-01"),
                                                               ("Content-Type", "application/json")] + headers,
                 body: #"{"model":"\#(model)","max_tokens":64,"stream":\#(stream),"messages":[{"role":"user","content":"hello"}]}"#)
    }
}
