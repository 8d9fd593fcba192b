import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolControl

/// `chat`: talk to a credential, an app's route or the pool through the proxy's own route, the terminal's
/// "does this credential work" check. It signs in to the dashboard's API as the dashboard does (a one-time
/// link from the control socket, so only someone who may use the socket can chat) and streams the answer.
enum ChatCommands {
    static let verbs: [Verb] = [
        Verb(["chat"], summary: "Chat with a credential, an app's route or the pool (streamed)",
             arguments: [ArgumentSpec("PROMPT", .optional, help: "A one-shot prompt; without it, the prompt is read from standard input, or asked for interactively on a terminal")],
             options: [OptionSpec("credential", value: "NAME", help: "Send to this credential only"),
                       OptionSpec("app", value: "APP", help: "Send by this app's route"),
                       OptionSpec("model", value: "MODEL", help: "The model (default: the standard tier's)"),
                       OptionSpec("system", value: "TEXT", help: "A system prompt"),
                       OptionSpec("image", value: "FILE", help: "Attach an image (PNG, JPEG, GIF or WebP) to the first message"),
                       OptionSpec("verbose", short: "v", help: "Print the route, reasoning and token usage on standard error")],
             discussion: "The answer streams to standard output as it arrives. Interactively, each line is a message and /exit (or end of input) ends the chat. The exit status is 1, with the proxy's reason, when the route fails.",
             phrase: "chat") { ctx in try run(ctx) },
    ]

    static func run(_ ctx: Ctl.Context) throws {
        let inv = ctx.invocation
        let credential = inv.value("credential"), app = inv.value("app")
        guard credential == nil || app == nil else { throw Ctl.usage("give --credential or --app, not both") }
        let verbose = inv.flag("verbose")
        var image: [String: JSONValue]?
        if let path = inv.value("image") { image = try imagePart(path) }
        let model = try inv.value("model") ?? defaultModel(ctx, credential: credential)
        let status = try ctx.call(RPC.Status.self)
        guard let http = LoopbackHTTP(listen: status.listen) else { throw LoopbackHTTP.failure("cannot read proxypoold's address '\(status.listen)'") }
        let session = try signIn(ctx, http)
        if verbose { Output.err("chat: \(credential.map { "credential \($0)" } ?? app.map { "app \($0)" } ?? "the pool"), model \(model), via \(http.authority)\n") }

        var messages: [JSONValue] = []
        if let system = inv.value("system") { messages.append(.object(["role": .string("system"), "content": .string(system)])) }
        func turn(_ text: String) throws {
            var content: JSONValue = .string(text)
            if let part = image {
                content = .array([.object(["type": .string("text"), "text": .string(text)]), .object(part)])
                image = nil
            }
            messages.append(.object(["role": .string("user"), "content": content]))
            let answer = try send(http, session, credential: credential, app: app, model: model, messages: messages, verbose: verbose)
            messages.append(.object(["role": .string("assistant"), "content": .string(answer)]))
        }
        if let prompt = inv.value("PROMPT") { return try turn(prompt) }
        if isatty(0) == 0 {
            let text = readAll()
            guard !text.isEmpty else { throw Ctl.usage("no prompt: give one as an argument or on standard input") }
            return try turn(text)
        }
        Output.err("Chatting with \(credential ?? app.map { "app \($0)" } ?? "the pool") (\(model)); /exit ends.\n")
        while true {
            Output.err("> ")
            guard let line = readLine(), line != "/exit" else { Output.err("\n"); return }
            if line.allSatisfy({ $0 == " " }) { continue }
            do { try turn(line) } catch let f as Ctl.Failure {
                Output.err("error: \(f.message)\n")   // the conversation goes on; the failed turn is not kept
                messages.removeLast()
            }
        }
    }

    struct Session { let cookie: String; let csrf: String }

    /// A dashboard session for this chat, from a one-time link.
    static func signIn(_ ctx: Ctl.Context, _ http: LoopbackHTTP) throws -> Session {
        let link = try ctx.call(RPC.DashboardLink.self)
        let url = Array(link.url.utf8)
        guard let start = url.firstRange(ofBytes: Array("/ui/login?".utf8))?.lowerBound else { throw LoopbackHTTP.failure("an unexpected sign-in link") }
        let login = try http.send("GET", String(decoding: url[start...], as: UTF8.self))
        guard login.status == 303, let set = login.header("set-cookie"), let value = set.split(separator: ";").first,
              value.hasPrefix("proxypool_session=") else { throw LoopbackHTTP.failure("proxypoold refused the sign-in (HTTP \(login.status))") }
        let cookie = String(value)
        var page: [UInt8] = []
        _ = try http.send("GET", "/", headers: [("Cookie", cookie)], received: { page += $0 })
        let marker = Array("name=\"csrf\" content=\"".utf8)
        guard let at = page.firstRange(ofBytes: marker)?.lowerBound, page.count >= at + marker.count + 64 else { throw LoopbackHTTP.failure("the dashboard page holds no CSRF token") }
        return Session(cookie: cookie, csrf: String(decoding: page[(at + marker.count)..<(at + marker.count + 64)], as: UTF8.self))
    }

    /// One turn: the request through `/api/v0/chat`, the answer printed as it streams; returns its text.
    static func send(_ http: LoopbackHTTP, _ s: Session, credential: String?, app: String?, model: String, messages: [JSONValue],
                     verbose: Bool) throws -> String {
        var params: [String: JSONValue] = ["request": .object(["model": .string(model), "stream": .bool(true), "messages": .array(messages),
                                                                "stream_options": .object(["include_usage": .bool(true)])])]
        if let credential { params["credential"] = .string(credential) }
        if let app { params["app"] = .string(app) }
        let body = try JSON.encode(JSONValue.object(params))
        var stream = SSELines(), answer = "", raw: [UInt8] = [], isStream = false, failure: String?
        var usage: (Int64, Int64)?
        let r = try http.send("POST", "/api/v0/chat", headers: [("Cookie", s.cookie), ("X-CSRF-Token", s.csrf), ("Origin", "http://\(http.authority)"),
                                                               ("Content-Type", "application/json")], body: body,
                              onHead: { isStream = $0.status == 200 && ($0.header("content-type") ?? "").hasPrefix("text/event-stream") },
                              received: { bytes in
            guard isStream else { raw += bytes; return }
            for data in stream.feed(bytes) where data != "[DONE]" && failure == nil {
                guard case .object(let chunk)? = try? JSON.decode(JSONValue.self, from: Array(data.utf8)) else { continue }
                if case .object(let e)? = chunk["error"] { failure = e["message"]?.stringValue ?? "the upstream failed mid-answer"; continue }
                if case .object(let u)? = chunk["usage"], case .int(let i)? = u["prompt_tokens"], case .int(let o)? = u["completion_tokens"] { usage = (i, o) }
                guard case .array(let choices)? = chunk["choices"], case .object(let c)? = choices.first, case .object(let delta)? = c["delta"] else { continue }
                if let t = delta["content"]?.stringValue { answer += t; Output.out(t) }
                if verbose, let t = delta["reasoning_content"]?.stringValue ?? delta["reasoning"]?.stringValue { Output.err(t) }
            }
        })
        if !isStream {
            let reply = try? JSON.decode(JSONValue.self, from: raw)
            let message = reply?["error"]?["message"]?.stringValue ?? String(decoding: raw.prefix(300), as: UTF8.self)
            throw LoopbackHTTP.failure("HTTP \(r.status): \(message)")
        }
        Output.out("\n")
        if let failure { throw LoopbackHTTP.failure(failure) }
        if verbose, let (i, o) = usage { Output.err("usage: \(i) input tokens, \(o) output tokens\n") }
        return answer
    }

    /// The standard tier's model of the credential's kind (or its own), else a standard-tier name that tier
    /// mapping turns into each credential's own.
    static func defaultModel(_ ctx: Ctl.Context, credential: String?) throws -> String {
        guard let credential else { return "gpt-5.1" }
        let c = try ctx.call(RPC.CredentialShow.self, .init(name: credential))
        let tiers = try ctx.call(RPC.TierList.self)
        let standard = tiers.filter { $0.tier == .standard }
        return standard.first { $0.credential == credential }?.model ?? standard.first { $0.credential == nil && $0.provider == c.provider }?.model ?? "gpt-5.1"
    }

    static func imagePart(_ path: String) throws -> [String: JSONValue] {
        let bytes: [UInt8]
        do { bytes = try Posix.readFile(path, limit: 20 << 20) } catch { throw LoopbackHTTP.failure("cannot read \(path): \(error)") }
        guard let type = MediaType.sniff(bytes), type.hasPrefix("image/") else { throw Ctl.usage("\(path) is not a PNG, JPEG, GIF or WebP image") }
        return ["type": .string("image_url"), "image_url": .object(["url": .string("data:\(type);base64,\(Base64.encode(bytes))")])]
    }

    static func readAll() -> String {
        var out: [UInt8] = [], buf = [UInt8](repeating: 0, count: 65536)
        while case let n = Posix.uninterrupted({ read(0, &buf, buf.count) }), n > 0, out.count < 8 << 20 { out += buf[0..<n] }
        return String(decoding: out, as: UTF8.self).trimmingSuffix { $0 == "\n" }
    }
}

/// Server-sent events cut into their `data:` payloads, across reads.
struct SSELines {
    private var pending: [UInt8] = []
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [String] {
        pending += bytes
        var out: [String] = []
        while let end = pending.firstRange(ofBytes: [0x0A, 0x0A]) {
            let event = String(decoding: pending[..<end.lowerBound], as: UTF8.self)
            pending.removeSubrange(..<end.upperBound)
            for line in event.split(separator: "\n") where line.hasPrefix("data: ") { out.append(String(line.dropFirst(6))) }
        }
        return out
    }
}

private extension String {
    func trimmingSuffix(while p: (Character) -> Bool) -> String {
        var s = self[...]
        while let last = s.last, p(last) { s = s.dropLast() }
        return String(s)
    }
}
