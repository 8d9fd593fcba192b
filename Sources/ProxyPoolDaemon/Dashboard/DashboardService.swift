import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolHTTP
import ProxyPoolHTTPWire
import ProxyPoolControl

/// The dashboard on the proxy port: the page (`/`, `/ui/…`), its sign-in (`/ui/login?token=…`) and its API
/// (`POST /api/v0/<method>`, the control socket's methods and types). The proxy's Host and Origin checks have
/// run before a request gets here (ProxyService.admit); access keys do not apply, sessions do.
///
/// API calls run the control plane's handler on a thread of their own (they write SQLite, and `credential.test`
/// waits on an upstream) and answer back on the loop: a dashboard never holds up proxying.
/// Confined to the loop thread.
final class DashboardService {
    static let cookieName = "proxypool_session"
    /// Bigger bodies are refused: no control method takes more (a credential's secret is the largest field).
    static let maxAPIBody = 1 << 20

    let loop: EventLoop
    let sessions: DashboardSessions
    let logger: Logger
    /// The control plane's methods; set once they are made (the proxy starts first). Until then the API is 503.
    var handlers: ControlHandlers?
    let liveLog: LiveLog
    /// The proxy, for chats through its own route.
    weak var proxy: ProxyService?

    init(loop: EventLoop, sessions: DashboardSessions, logger: Logger) {
        self.loop = loop; self.sessions = sessions; self.logger = logger
        liveLog = LiveLog(loop: loop, sessions: sessions)
    }

    /// Whether a path is the dashboard's (everything else goes to the proxy's endpoints).
    /// Asked of every request: the API paths (`/v1…`) are told apart by their second byte before any string
    /// comparison.
    static func owns(_ path: Substring) -> Bool {
        let u = path.utf8
        guard let first = u.first, first == UInt8(ascii: "/") else { return false }
        if u.count == 1 { return true }
        let second = u[u.index(after: u.startIndex)]
        guard second == UInt8(ascii: "u") || second == UInt8(ascii: "a") else { return false }
        return path.hasPrefix("/ui/") || path.hasPrefix("/api/v0/")
    }

    func handle(_ request: HTTPRequest, _ response: HTTPResponseWriter) {
        let head = request.head
        let path = head.path
        let now = Timestamp.nowMillis()
        let presented = cookie(head.header("cookie"))
        let session = presented.flatMap { sessions.session(cookie: $0, nowMillis: now) }
        if path == "/api/v0/live" { return live(request, session, presented, response) }
        if path.hasPrefix("/api/v0/") { return api(String(path.dropFirst("/api/v0/".count)), request, session, response) }
        switch (head.method, path) {
        case ("GET", "/"), ("HEAD", "/"):
            // HEAD / is also the connectivity probe of clients (Claude Code): 200, no body.
            let body = head.method == "HEAD" ? [] : (session.map { DashboardPage.html(csrf: $0.csrf) } ?? DashboardPage.signIn)
            response.respond(status: 200, headers: Self.pageHeaders("text/html; charset=utf-8"), body: body)
        case ("GET", "/ui/login"):
            signIn(head.query, now, response)
        case ("GET", "/ui/app.js"):
            response.respond(status: 200, headers: Self.pageHeaders("text/javascript; charset=utf-8"), body: DashboardPage.script)
        case ("GET", "/ui/app.css"):
            response.respond(status: 200, headers: Self.pageHeaders("text/css; charset=utf-8"), body: DashboardPage.style)
        case (_, "/"), (_, "/ui/login"), (_, "/ui/app.js"), (_, "/ui/app.css"):
            response.respond(status: 405, headers: Self.pageHeaders("text/plain; charset=utf-8") + [("Allow", "GET")],
                             body: Array("method \(head.method) is not allowed here; use GET\n".utf8))
        default:
            response.respond(status: 404, headers: Self.pageHeaders("text/plain; charset=utf-8"), body: Array("no such page\n".utf8))
        }
    }

    /// `/ui/login?token=T`: a live one-time token becomes a session cookie and a redirect to the page.
    private func signIn(_ query: Substring?, _ now: Int64, _ response: HTTPResponseWriter) {
        let token = Self.parameter("token", in: query) ?? ""
        guard let (cookie, session) = sessions.redeem(token, nowMillis: now) else {
            logger.warning("dashboard sign-in refused: the link is unknown, used or expired", event: "dashboard-signin-refused")
            return response.respond(status: 403, headers: Self.pageHeaders("text/html; charset=utf-8"), body: DashboardPage.linkRefused)
        }
        logger.notice("dashboard session \(session.id) signed in", event: "dashboard-signin", [.init("DASHBOARD_SESSION", session.id)])
        let maxAge = DashboardSessions.sessionLifetimeMillis / 1000
        response.respond(status: 303, headers: Self.pageHeaders("text/plain; charset=utf-8") + [
            ("Location", "/"),
            ("Set-Cookie", "\(Self.cookieName)=\(cookie); HttpOnly; SameSite=Strict; Path=/; Max-Age=\(maxAge)"),
        ], body: Array("signed in\n".utf8))
    }

    /// `POST /api/v0/<method>` with the params as a JSON object: the control method's JSON-RPC response object.
    private func api(_ method: String, _ request: HTTPRequest, _ session: DashboardSessions.Session?, _ response: HTTPResponseWriter) {
        let head = request.head
        func refuse(_ status: Int, _ error: RPCError) {
            let body = (try? JSON.encode(RPCResponse(id: .null, error: error))) ?? []
            response.respond(status: status, headers: Self.apiHeaders, body: body)
        }
        guard head.method == "POST" else {
            return refuse(405, .invalidRequest("the dashboard API takes POST with the method's params as a JSON object"))
        }
        guard let session else {
            return refuse(401, .permissionDenied("no dashboard session: run 'proxypoolctl dashboard' and open the link it prints"))
        }
        // A page of another site cannot set this header on a request to us, nor read the token to put in it.
        guard head.header("x-csrf-token") == session.csrf else {
            return refuse(403, .permissionDenied("missing or wrong X-CSRF-Token; reload the dashboard"))
        }
        // Browsers send Origin on every POST; ProxyService.admit has refused any that is not ours.
        guard head.header("origin") != nil else {
            return refuse(403, .permissionDenied("an API call without an Origin header is refused"))
        }
        if method == "chat" { return chat(request, session, response, refuse: refuse) }
        guard Self.validMethodName(method) else { return refuse(404, .methodNotFound(String(method.prefix(64)))) }
        guard request.body.count <= Self.maxAPIBody else { return refuse(413, .tooLarge("params over \(Self.maxAPIBody) bytes")) }
        let params: JSONValue
        if request.body.isEmpty {
            params = .object([:])
        } else {
            guard let v = try? JSON.decode(JSONValue.self, from: request.body), case .object = v else {
                return refuse(400, .invalidParams("the body must be the method's params as one JSON object"))
            }
            params = v
        }
        guard let handlers else { return refuse(503, .busy("the control plane is still starting; try again")) }
        guard let line = try? JSON.encode(RPCRequest(id: .number(1), method: method, params: params)) else {
            return refuse(400, .invalidParams("params cannot be encoded"))
        }
        let caller = ControlCaller(dashboardSession: session.id)
        let writer = Unchecked(response), loop = self.loop
        Threads.start {
            let reply = handlers.handle(line: line, caller: caller) ?? RPCResponse(id: .null, error: .internalError("no reply"))
            let status = reply.error.map(Self.status(for:)) ?? 200
            let body = (try? JSON.encode(reply)) ?? []
            loop.execute { writer.value.respond(status: status, headers: Self.apiHeaders, body: body) }
        }
    }

    /// `GET /api/v0/live?csrf=T`: the live log as server-sent events (EventSource cannot set headers, so the
    /// CSRF token comes in the query; a page of another origin can neither know it nor read the stream).
    private func live(_ request: HTTPRequest, _ session: DashboardSessions.Session?, _ cookie: String?, _ response: HTTPResponseWriter) {
        let head = request.head
        func refuse(_ status: Int, _ message: String) {
            response.respond(status: status, headers: Self.pageHeaders("text/plain; charset=utf-8"), body: Array((message + "\n").utf8))
        }
        guard head.method == "GET" else { return refuse(405, "the live log takes GET") }
        guard let session, let cookie else { return refuse(401, "no dashboard session: run 'proxypoolctl dashboard'") }
        let token = Self.parameter("csrf", in: head.query)
        guard token == session.csrf else { return refuse(403, "missing or wrong csrf parameter; reload the dashboard") }
        guard liveLog.watch(response, cookie: cookie, now: loop.now) else {
            return refuse(503, "\(LiveLog.maxWatchers) pages watch the live log already")
        }
    }

    /// `POST /api/v0/chat` with `{"credential"?: NAME, "app"?: NAME, "request": {Chat Completions body}}`: the
    /// request goes through the proxy's own route (one credential, an app's route, or without either the
    /// pool), so the page tests exactly what the tools get, and streams back as they would get it. Closing the
    /// page's request (Stop) cancels the upstream request.
    private func chat(_ request: HTTPRequest, _ session: DashboardSessions.Session, _ response: HTTPResponseWriter,
                      refuse: (Int, RPCError) -> Void) {
        guard let proxy else { return refuse(503, .busy("the proxy is not running")) }
        guard case .object(let o)? = try? JSON.decode(JSONValue.self, from: request.body), case .object(let inner)? = o["request"] else {
            return refuse(400, .invalidParams("give {\"request\": {a Chat Completions body}} and optionally \"credential\" or \"app\""))
        }
        func name(_ key: String) -> String?? {
            guard let v = o[key] else { return .some(nil) }
            guard case .string(let s) = v, (try? Validation.name(s, what: key)) != nil else { return nil }
            return .some(s)
        }
        guard let credential = name("credential"), let app = name("app") else {
            return refuse(400, .invalidParams("'credential' and 'app' are names (letters, digits, '-', '_', '.')"))
        }
        guard credential == nil || app == nil else { return refuse(400, .invalidParams("give a credential or an app, not both")) }
        guard let body = try? JSON.encode(JSONValue.object(inner)) else { return refuse(400, .invalidParams("the request cannot be encoded")) }
        var headers: [(name: String, value: String)] = [("Host", request.head.header("host") ?? "127.0.0.1"), ("Content-Type", "application/json"),
                                                        ("Content-Length", String(body.count)), ("X-Proxypool-App", app ?? "dashboard")]
        if let ua = request.head.header("user-agent") { headers.append(("User-Agent", ua)) }
        let head = HTTPRequestHead(method: "POST", target: "/v1/chat/completions", minorVersion: 1, headers: headers)
        logger.info("dashboard session \(session.id) chat" + (credential.map { " with credential \($0)" } ?? app.map { " as app \($0)" } ?? " through the pool"),
                    event: "dashboard-chat", [.init("DASHBOARD_SESSION", session.id)])
        proxy.dashboardChat(HTTPRequest(head: head, body: body), response, pinned: credential)
    }

    /// The HTTP status for a control error, so the page (and a script) can tell failures apart.
    static func status(for e: RPCError) -> Int {
        switch e.name {
        case "parse-error", "invalid-request", "invalid-params": return 400
        case "permission-denied", "read-only": return 403
        case "not-found", "method-not-found": return 404
        case "already-exists", "in-use": return 409
        case "too-large": return 413
        case "busy": return 503
        default: return 500
        }
    }

    /// Method names are dotted lower-case words (`credential.set-enabled`): anything else is not looked up.
    static func validMethodName(_ m: String) -> Bool {
        !m.isEmpty && m.utf8.count <= 64 && m.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x2D }
    }

    /// A query parameter's value as sent (the dashboard's tokens are hex: nothing to decode).
    static func parameter(_ name: String, in query: Substring?) -> String? {
        query?.split(separator: "&").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.utf8.count + 1)) }
    }

    /// The session cookie's value from a Cookie header, if present.
    func cookie(_ header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let p = part.drop { $0 == " " }
            if p.hasPrefix(Self.cookieName + "=") { return String(p.dropFirst(Self.cookieName.count + 1)) }
        }
        return nil
    }

    /// No caching (pages hold the CSRF token), no framing, no referrer (the sign-in URL holds a token), and a
    /// policy that lets the page load only itself.
    static func pageHeaders(_ type: String) -> [(String, String)] {
        [("Content-Type", type), ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
         ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
         ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")]
    }

    static let apiHeaders: [(String, String)] = [("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]
}
