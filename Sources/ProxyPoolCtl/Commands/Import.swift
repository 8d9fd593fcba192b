import Glibc
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolProviders
import ProxyPoolSystem

/// `credential import codex|claude`: a subscription login the official CLI made, read from its token file
/// (never written: the source stays as it was) into a credential the daemon refreshes from then on.
enum ImportCommands {
    static func options(defaultFile: String) -> [OptionSpec] {
        [
            OptionSpec("from", value: "FILE", help: "Read the login from FILE (default: \(defaultFile))"),
            OptionSpec("base-url", value: "URL", help: "Backend to use instead of the provider's own"),
            OptionSpec("replace", help: "Give an existing credential of this name the new login (after 'login expired')"),
            OptionSpec("disabled", help: "Add it disabled"),
            // Where refreshes go: proxypool's own tests only (the daemon refuses it without test-providers = yes).
            OptionSpec("token-url", value: "URL", hidden: true, help: "Token endpoint (tests only)"),
        ]
    }

    static let ownership = """
        The file is read, never changed. From now on proxypoold refreshes this login. A refresh token
        works once: if the CLI refreshes the same login too, one of the two is logged out. Log the CLI in again for a separate session of its own, or
        let it use proxypoold.
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
            try store(ctx, account, from: path, cli: "Codex", relogin: "codex login")
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
            try store(ctx, account, from: path, cli: "Claude Code", relogin: "claude /login")
        },
    ]

    static func store(_ ctx: Ctl.Context, _ a: ImportedAccount, from path: String, cli: String, relogin: String) throws {
        let inv = ctx.invocation
        var options = a.options
        if let t = inv.value("token-url") { options["token-url"] = t }
        if inv.flag("allow-any-app") { options["allow-any-app"] = "yes" }
        let name = inv.value("NAME") ?? a.defaultName
        let c = try ctx.call(RPC.CredentialAdd.self, .init(name: name, provider: a.kind.rawValue, secret: a.refreshToken,
                                                           baseURL: inv.value("base-url"), options: options, free: false,
                                                           enabled: !inv.flag("disabled"), accessToken: a.accessToken,
                                                           accessTokenExpiresAtMillis: a.accessTokenExpiresAtMillis,
                                                           replace: inv.flag("replace")))
        if ctx.json { return Output.json(c) }
        let who = [a.email, a.plan].compactMap { $0 }.joined(separator: ", ")
        Output.out("""
            Imported the \(cli) login\(who.isEmpty ? "" : " (\(who))") from \(path) as credential \(c.name) (\(c.provider.rawValue)).
            proxypoold refreshes its tokens from now on. Do not let \(cli) refresh the same login: run '\(relogin)'
            there for a login of its own, or point \(cli) at proxypoold. \(path) was not changed.

            """)
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
