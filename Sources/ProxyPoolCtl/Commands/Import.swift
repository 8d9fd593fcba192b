import Glibc
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolProviders
import ProxyPoolSystem

/// `credential import codex|claude`: a subscription login the official CLI made, read from its token file
/// (never written: the source stays as it was) into a credential the daemon refreshes from then on.
enum ImportCommands {
    /// A login, imported or signed in, given to the daemon (`credential.add` with its tokens), with the options
    /// the command line adds: NAME, `--base-url`, `--allow-any-app`, `--disabled`, `--replace`.
    static func handOver(_ ctx: Ctl.Context, _ a: ImportedAccount, tokenURL: String?) throws -> CredentialInfo {
        let inv = ctx.invocation
        var options = a.options
        if let tokenURL { options["token-url"] = tokenURL }
        if inv.flag("allow-any-app") { options["allow-any-app"] = "yes" }
        return try ctx.call(RPC.CredentialAdd.self, .init(name: inv.value("NAME") ?? a.defaultName, provider: a.kind.rawValue, secret: a.refreshToken,
                                                          baseURL: inv.value("base-url"), options: options, free: false,
                                                          enabled: !inv.flag("disabled"), accessToken: a.accessToken,
                                                          accessTokenExpiresAtMillis: a.accessTokenExpiresAtMillis,
                                                          replace: inv.flag("replace")))
    }

    static func options(defaultFile: String) -> [OptionSpec] {
        [
            OptionSpec("from", value: "FILE", help: "Read the login from FILE (default: \(defaultFile))"),
            OptionSpec("base-url", value: "URL", help: "Backend to use instead of the provider's own"),
            OptionSpec("replace", help: "Give an existing credential of this name the new login (after 'login expired')"),
            OptionSpec("disabled", help: "Add it disabled"),
            OptionSpec("move", help: "Then remove the tokens from FILE (a backup copy is kept beside it): proxypoold alone owns the login"),
            // Where refreshes go: proxypool's own tests only (the daemon refuses it without test-providers = yes).
            OptionSpec("token-url", value: "URL", hidden: true, help: "Token endpoint (tests only)"),
        ]
    }

    static let ownership = """
        The file is read, never changed, unless --move: then, once the daemon has the login, a copy
        of the file is kept beside it (FILE.proxypool-backup-TIME, mode 0600) and the tokens are
        removed from FILE. From now on proxypoold refreshes this login. A refresh token works once:
        if the CLI refreshes the same login too, one of the two is logged out. Log the CLI in again
        for a session of its own, or let it use proxypoold.
        """

    static let verbs: [Verb] = [
        Verb(["credential", "import", "codex"], summary: "Import the ChatGPT login of Codex CLI (auth.json)",
             arguments: [ArgumentSpec("NAME", .optional, help: "Credential name (default: chatgpt- and the account's email)")],
             options: options(defaultFile: "$CODEX_HOME/auth.json, else ~/.codex/auth.json"),
             discussion: ownership,
             phrase: "import the Codex login") { ctx in
            let path = ctx.invocation.value("from") ?? codexFile()
            let account: ImportedAccount
            do { account = try AccountImport.codex(try read(path)) } catch let e as AccountImportError {
                throw Ctl.Failure(message: "\(path): \(e.message)", hint: nil, code: ExitCode.failure)
            }
            try store(ctx, account, from: path, cli: "Codex", relogin: "codex login", loginKey: "tokens")
        },
        Verb(["credential", "import", "claude"], summary: "Import the Claude subscription login of Claude Code",
             arguments: [ArgumentSpec("NAME", .optional, help: "Credential name (default: claude- and the account's email)")],
             options: options(defaultFile: "~/.claude/.credentials.json") + [
                 OptionSpec("allow-any-app", help: "Serve every app and protocol with it (Anthropic may bill that as extra usage)"),
             ],
             discussion: """
                 By default the credential serves only Claude Code, in the Anthropic protocol, with the
                 request body unchanged: Anthropic bills other apps on a subscription as extra usage.
                 \(ownership)
                 """,
             phrase: "import the Claude login") { ctx in
            let path = ctx.invocation.value("from") ?? home() + "/.claude/.credentials.json"
            // The email lives in ~/.claude.json beside it, when that exists (only for the default name).
            let extra = ctx.invocation.value("from") == nil ? try? read(home() + "/.claude.json") : nil
            let account: ImportedAccount
            do { account = try AccountImport.claude(try read(path), claudeJSON: extra) } catch let e as AccountImportError {
                throw Ctl.Failure(message: "\(path): \(e.message)", hint: nil, code: ExitCode.failure)
            }
            try store(ctx, account, from: path, cli: "Claude Code", relogin: "claude /login", loginKey: "claudeAiOauth")
        },
    ]

    /// `loginKey`: the file's member that holds the login (what `--move` removes).
    static func store(_ ctx: Ctl.Context, _ a: ImportedAccount, from path: String, cli: String, relogin: String, loginKey: String) throws {
        let inv = ctx.invocation
        let c = try handOver(ctx, a, tokenURL: inv.value("token-url"))
        // Only once the daemon holds the login: a failed import leaves the file as it was.
        let backup = inv.flag("move") ? try move(path, removing: loginKey, credential: c.name) : nil
        if ctx.json { return Output.json(c) }
        let who = [a.email, a.plan].compactMap { $0 }.joined(separator: ", ")
        if let backup {
            Output.out("""
                Imported the \(cli) login\(who.isEmpty ? "" : " (\(who))") from \(path) as credential \(c.name) (\(c.provider.rawValue)).
                proxypoold alone refreshes its tokens from now on: they were removed from \(path) (a copy is in \(backup);
                delete it once you no longer need it). \(cli) is logged out; '\(relogin)' gives it a login of its own.

                """)
            return
        }
        Output.out("""
            Imported the \(cli) login\(who.isEmpty ? "" : " (\(who))") from \(path) as credential \(c.name) (\(c.provider.rawValue)).
            proxypoold refreshes its tokens from now on. Do not let \(cli) refresh the same login: run '\(relogin)'
            there for a login of its own, or point \(cli) at proxypoold. \(path) was not changed.

            """)
    }

    /// `--move`: a copy of the file beside it (mode 0600, a name of its own), then the file without its login
    /// member, written to a temporary file and renamed over it (same mode), so the CLI never reads half a file.
    static func move(_ path: String, removing key: String, credential: String) throws -> String {
        func fail(_ what: String) -> Ctl.Failure {
            Ctl.Failure(message: "credential \(credential) was imported, but \(what): \(String(cString: strerror(errno)))",
                        hint: "the tokens are still in \(path); remove them yourself, or log the CLI out", code: ExitCode.failure)
        }
        let bytes = try read(path)
        guard case .object(var root)? = try? JSON.decode(JSONValue.self, from: bytes), root[key] != nil,
              let rewritten = try? JSON.encode({ root[key] = nil; return JSONValue.object(root) }(), pretty: true) else {
            throw Ctl.Failure(message: "credential \(credential) was imported, but \(path) changed meanwhile: left as it is", hint: nil, code: ExitCode.failure)
        }
        var st = stat()
        let mode = stat(path, &st) == 0 ? st.st_mode & 0o777 : 0o600
        let backup = path + ".proxypool-backup-" + String(Timestamp.nowMillis() / 1000)
        try write(backup, bytes, mode: 0o600, exclusive: true, or: fail("the backup \(backup) cannot be written"))
        let temporary = path + ".proxypool-tmp"
        try write(temporary, rewritten + Array("\n".utf8), mode: mode, exclusive: false, or: fail("\(temporary) cannot be written"))
        guard rename(temporary, path) == 0 else { let f = fail("\(path) cannot be replaced"); unlink(temporary); throw f }
        return backup
    }

    /// The whole of `bytes` into a new file, flushed to disk before it counts.
    static func write(_ path: String, _ bytes: [UInt8], mode: mode_t, exclusive: Bool, or failure: @autoclosure () -> Ctl.Failure) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (exclusive ? O_EXCL : O_TRUNC), mode)
        guard fd >= 0 else { throw failure() }
        defer { close(fd) }
        do { try Posix.writeAll(fd, bytes) } catch { throw failure() }
        _ = fchmod(fd, mode)
        guard fsync(fd) == 0 else { throw failure() }
    }

    static func home() -> String { Posix.environment("HOME") ?? "/" }

    static func codexFile() -> String {
        if let h = Posix.environment("CODEX_HOME") { return h + "/auth.json" }
        return home() + "/.codex/auth.json"
    }

    /// The whole file (at most 1 MiB), opened read-only.
    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Ctl.Failure(message: "cannot read \(path): \(String(cString: strerror(errno)))", hint: nil, code: ExitCode.failure) }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = Glibc.read(fd, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw Ctl.Failure(message: "cannot read \(path): \(String(cString: strerror(errno)))", hint: nil, code: ExitCode.failure) }
            if n == 0 { break }
            out += buf[0..<n]
            if out.count > 1 << 20 { throw Ctl.Failure(message: "\(path) is larger than 1 MiB: not a login file", hint: nil, code: ExitCode.failure) }
        }
        return out
    }
}
