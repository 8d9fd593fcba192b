import Glibc
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolProviders
import ProxyPoolSystem
import ProxyPoolUpstream

/// `login chatgpt|claude [NAME]`: sign in to a subscription the way the official CLI does (AccountLogin says
/// where every URL and parameter comes from) and hand the tokens to the daemon over the control socket. No
/// token is ever printed or put on a command line; the code and the PKCE verifier live only in this process.
enum LoginCommands {
    static func options(device: Bool) -> [OptionSpec] {
        [
            OptionSpec("open", help: "Open the sign-in page in a browser (xdg-open)"),
            OptionSpec("paste", help: "No browser here: paste the address the browser was sent to (or the code shown)"),
        ] + (device ? [OptionSpec("device", help: "No browser here: sign in on another device with a one-time code")] : []) + [
            OptionSpec("base-url", value: "URL", help: "Backend to use instead of the provider's own"),
            OptionSpec("replace", help: "Give an existing credential of this name the new login (after 'login expired')"),
            OptionSpec("disabled", help: "Add it disabled"),
            // The sign-in and token endpoints under one base, and the callback port: proxypool's own tests only.
            OptionSpec("auth-base", value: "URL", hidden: true, help: "Sign-in and token endpoints' base (tests only)"),
            OptionSpec("callback-port", value: "PORT", hidden: true, help: "Callback port (tests only)"),
        ]
    }

    static let verbs: [Verb] = [
        Verb(["login", "chatgpt"], summary: "Sign in to a ChatGPT subscription (as 'codex login' does) into a credential",
             arguments: [ArgumentSpec("NAME", .optional, help: "Credential name (default: chatgpt- and the account's email)")],
             options: options(device: true),
             discussion: """
                 Prints the sign-in address and waits up to 5 minutes for the browser to come back to
                 http://localhost:1455/auth/callback (a listener on 127.0.0.1 only). Without a browser on this
                 machine use --device (enter a one-time code on another device) or --paste. proxypoold
                 refreshes the login from then on.
                 """,
             phrase: "log in to ChatGPT") { try login($0, .chatGPTAccount) },
        Verb(["login", "claude"], summary: "Sign in to a Claude subscription (as 'claude /login' does) into a credential",
             arguments: [ArgumentSpec("NAME", .optional, help: "Credential name (default: claude- and the account's email)")],
             options: options(device: false) + [
                 OptionSpec("allow-any-app", help: "Serve every app and protocol with it (Anthropic may bill that as extra usage)"),
             ],
             discussion: """
                 Prints the sign-in address and waits up to 5 minutes for the browser to come back to
                 http://localhost:54545/callback (a listener on 127.0.0.1 only). Without a browser on this
                 machine use --paste: the page then shows a code to paste here. By default the credential
                 serves only Claude Code, its requests unchanged.
                 """,
             phrase: "log in to Claude") { try login($0, .claudeAccount) },
    ]

    static func login(_ ctx: Ctl.Context, _ kind: ProviderKind) throws {
        let inv = ctx.invocation
        if inv.flag("paste") && inv.flag("device") { throw Ctl.usage("give --paste or --device, not both") }
        let endpoints = AccountLogin.endpoints(kind, base: inv.value("auth-base"))
        var ports = AccountLogin.callbackPorts(kind)
        if let p = inv.value("callback-port") {
            guard let n = UInt16(p) else { throw Ctl.usage("--callback-port must be a port number") }
            ports = [n]
        }
        // The daemon first: better to learn it is down before the user signs in.
        _ = try ctx.call(RPC.Status.self)
        let json = ctx.json
        let say: (String) -> Void = { json ? Output.err($0) : Output.out($0) }

        let account: ImportedAccount
        if inv.flag("device") {
            account = try device(kind, endpoints, say: say)
        } else {
            let pkce = PKCE.make(), state = PKCE.state()
            if inv.flag("paste") {
                let redirect = kind == .chatGPTAccount ? AccountLogin.redirectURI(kind, port: ports[0]) : AccountLogin.claudePasteRedirect
                let url = AccountLogin.authorizeURL(kind, endpoints, redirectURI: redirect, pkce: pkce, state: state)
                say("Open this address in a browser and sign in:\n\n  \(url)\n\n")
                say(kind == .chatGPTAccount ? "Then paste the address the browser was sent to (it fails to load: that is expected): "
                                            : "Then paste the code the page shows: ")
                guard let line = readLine(strippingNewline: true) else { throw Ctl.usage("nothing was pasted") }
                switch AccountLogin.callback(line) {
                case nil: throw Ctl.usage("that holds no authorization code")
                case .error(let e): throw Ctl.Failure(message: "the provider refused the sign-in: \(String(e.prefix(300)))", hint: nil, code: ExitCode.failure)
                case .code(_, let s) where s != state:
                    throw Ctl.Failure(message: "the pasted code is not from this sign-in (state mismatch): refused", hint: "paste the code of the address printed above", code: ExitCode.failure)
                case .code(let code, _):
                    account = try exchange(kind, endpoints, code: code, verifier: pkce.verifier, redirectURI: redirect, state: state)
                }
            } else {
                let listener = try OAuthCallback(ports: ports, path: AccountLogin.callbackPath(kind), state: state)
                let redirect = AccountLogin.redirectURI(kind, port: listener.port)
                let url = AccountLogin.authorizeURL(kind, endpoints, redirectURI: redirect, pkce: pkce, state: state)
                say("Open this address in a browser and sign in (waiting 5 minutes for it to come back to 127.0.0.1:\(listener.port)):\n\n  \(url)\n\n")
                if inv.flag("open") { openBrowser(url) }
                account = try listener.wait { code in
                    try exchange(kind, endpoints, code: code, verifier: pkce.verifier, redirectURI: redirect, state: state)
                }
            }
        }
        try store(ctx, account, tokenURL: inv.value("auth-base") == nil ? nil : endpoints.token)
    }

    /// ChatGPT's device code: a code to enter on another device, polled until it is used (15 minutes at most).
    static func device(_ kind: ProviderKind, _ e: AccountLogin.Endpoints, say: (String) -> Void) throws -> ImportedAccount {
        guard kind == .chatGPTAccount else { throw Ctl.usage("--device is for ChatGPT; for Claude use --paste") }
        let d = try check { () throws(AccountImportError) in
            let r = try send(AccountLogin.deviceCodeRequest(e), what: "the device code request")
            return try AccountLogin.deviceCode(e, status: r.status, body: r.body)
        }
        say("On any device, open\n\n  \(d.verificationURL)\n\nand enter this one-time code (it expires in 15 minutes; never share it):\n\n  \(d.userCode)\n\n")
        let deadline = Posix.monotonicMillis() + AccountLogin.deviceMaxWaitMillis
        while Posix.monotonicMillis() < deadline {
            let poll = try check { () throws(AccountImportError) in
                let r = try send(AccountLogin.devicePollRequest(e, d), what: "the device login")
                return try AccountLogin.devicePoll(e, status: r.status, body: r.body)
            }
            if case .authorized(let code, let verifier, let redirect) = poll {
                return try exchange(kind, e, code: code, verifier: verifier, redirectURI: redirect, state: "")
            }
            usleep(UInt32(d.interval) * 1_000_000)
        }
        throw Ctl.Failure(message: "the device code was not used within 15 minutes", hint: "run 'proxypoolctl login chatgpt --device' again", code: ExitCode.failure)
    }

    static func exchange(_ kind: ProviderKind, _ e: AccountLogin.Endpoints, code: String, verifier: String, redirectURI: String,
                         state: String) throws -> ImportedAccount {
        try check { () throws(AccountImportError) in
            let request = AccountLogin.exchangeRequest(kind, e, code: code, verifier: verifier, redirectURI: redirectURI, state: state)
            let r = try send(request, what: "the token endpoint")
            return try AccountLogin.exchangeResult(kind, status: r.status, body: r.body, nowMillis: Timestamp.nowMillis())
        }
    }

    /// One POST (30 s at most, the answer up to 64 KiB: JWTs are large), blocking: this is a CLI.
    static func send(_ t: TokenRequest, what: String) throws(AccountImportError) -> Probe.Result {
        let r = Probe.get(url: t.url, headers: t.headers, caFile: nil, timeoutMillis: 30_000, postBody: t.body, maxBody: 65536)
        if r.status == 0 { throw AccountImportError("\(what) did not answer: \(r.error ?? "unknown error")") }
        return r
    }

    static func check<T>(_ body: () throws(AccountImportError) -> T) throws -> T {
        do { return try body() } catch { throw Ctl.Failure(message: error.message, hint: nil, code: ExitCode.failure) }
    }

    static func store(_ ctx: Ctl.Context, _ a: ImportedAccount, tokenURL: String?) throws {
        let c = try ImportCommands.handOver(ctx, a, tokenURL: tokenURL)
        if ctx.json { return Output.json(c) }
        let who = [a.email, a.plan].compactMap { $0 }.joined(separator: ", ")
        Output.out("Signed in\(who.isEmpty ? "" : " (\(who))") as credential \(c.name) (\(c.provider.rawValue)). proxypoold refreshes its tokens from now on.\n")
    }

    /// xdg-open with the address as its one argument (no shell); a failure only means the user opens it.
    static func openBrowser(_ url: String) {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("xdg-open"), strdup(url), nil]
        defer { argv.forEach { free($0) } }
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0)
        if posix_spawnp(&pid, "xdg-open", &fa, nil, argv, environ) != 0 {
            Output.err("Could not start xdg-open: open the address yourself.\n")
        }
    }
}
