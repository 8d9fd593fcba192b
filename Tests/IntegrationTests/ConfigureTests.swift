import Foundation
import Glibc
import Testing

/// `proxypoolctl configure` and the dashboard's `configure.*` against the real binaries, on a temp HOME: each
/// tool's file written with the keys it needs, the user's comments and other settings kept, backups made,
/// `--undo` restoring byte for byte, a file that does not parse refused untouched, the key bound to the app.
@Suite struct ConfigureTests {
    /// What the user had before, per tool: comments and settings of their own.
    static let before: [(tool: String, path: String, text: String)] = [
        ("codex", "codex-home/config.toml", """
            # my Codex settings
            model = "gpt-5.5"   # the one I like
            approval_policy = "never"

            [features]
            plugins = false # keep this off

            [model_providers.other]
            name = "Other"
            base_url = "https://other.example/v1"
            env_key = "OTHER_KEY"

            """),
        ("claude-code", "home/.claude/settings.json", """
            {
              "theme": "dark",
              "env": {
                "DISABLE_TELEMETRY": "1",
                "ANTHROPIC_AUTH_TOKEN": "sk-ant-oat01-REAL-ACCOUNT-TOKEN-0001"
              },
              "permissions": {"allow": ["Bash(ls:*)"]}
            }

            """),
        ("gemini-cli", "home/.gemini/.env", "# Gemini CLI\nGEMINI_MODEL=gemini-2.5-pro\nexport GEMINI_API_KEY=\"AIzaSyREAL-UPSTREAM-KEY-0002\"\n"),
        ("openclaw", "home/.openclaw/openclaw.json", """
            // OpenClaw config (JSON5)
            {
              gateway: { port: 18789, },   // my gateway
              models: {
                providers: {
                  mine: { baseUrl: 'http://10.0.0.2:8000/v1', apiKey: 'sk-mine-REAL-0003', api: 'openai-completions', models: [], },
                },
              },
            }

            """),
    ]

    func setUp() throws -> (DaemonProcess, String, [String: String]) {
        let d = try DaemonProcess()
        let root = makeTempDir("configure")
        for dir in ["home", "codex-home", "home/.claude", "home/.gemini", "home/.openclaw"] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        for b in Self.before { try b.text.write(toFile: root + "/" + b.path, atomically: false, encoding: .utf8) }
        return (d, root, ["HOME": root + "/home", "CODEX_HOME": root + "/codex-home"])
    }

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
    func backups(_ path: String) -> [String] {
        let dir = (path as NSString).deletingLastPathComponent, name = (path as NSString).lastPathComponent
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(name + ".proxypool-") }.sorted().map { dir + "/" + $0 }
    }

    @Test func eachToolIsWrittenKeptAndUndone() throws {
        let (d, root, env) = try setUp()
        let port = try d.proxyPort
        for b in Self.before {
            let path = root + "/" + b.path
            // The preview writes nothing, and shows no secret.
            let preview = d.ctl(["configure", b.tool], env: env)
            #expect(preview.status == 0, "\(b.tool): \(preview.stderr)")
            #expect(preview.stdout.contains("+++ "), "\(b.tool): \(preview.stdout)")
            #expect(!preview.stdout.contains("REAL"), "\(b.tool) preview shows a secret: \(preview.stdout)")
            #expect(read(path) == b.text && backups(path).isEmpty)

            let w = d.ctl(["configure", b.tool, "--write", "--default"].filter { $0 != "--default" || b.tool == "openclaw" }, env: env)
            #expect(w.status == 0, "\(b.tool): \(w.stderr)")
            #expect(!w.stdout.contains("REAL") && !w.stderr.contains("REAL") && !w.stdout.contains("ppk_" + "x"), "\(b.tool): \(w.stdout)")
            let after = try #require(read(path))
            // Every line of theirs is still there, in order, except what we replace.
            let kept = b.text.split(separator: "\n").filter { !$0.contains("REAL-ACCOUNT-TOKEN") && !$0.contains("GEMINI_API_KEY") }
            var rest = Substring(after)
            for line in kept {
                guard let r = rest.range(of: line) else { Issue.record("\(b.tool): lost \(line.debugDescription):\n\(after)"); break }
                rest = rest[r.upperBound...]
            }
            // The key the daemon made is in the file, bound to the tool's app; no upstream secret was added.
            let key = try #require(after.range(of: #"ppk_[0-9A-Za-z]{43}"#, options: .regularExpression).map { String(after[$0]) }
                                   ?? read(root + "/codex-home/.env").flatMap { e in e.range(of: #"ppk_[0-9A-Za-z]{43}"#, options: .regularExpression).map { String(e[$0]) } },
                                   "\(b.tool): no access key written")
            #expect(d.ctl(["key", "list"]).stdout.contains(b.tool + " "), "\(b.tool): no key bound to the app")
            let bak = backups(path)
            #expect(bak.count == 1 && bak[0].hasSuffix(".bak") && read(bak[0]) == b.text, "\(b.tool): \(bak)")
            var st = stat()
            #expect(stat(bak[0], &st) == 0 && st.st_mode & 0o777 == 0o600 && st.st_uid == geteuid())
            switch b.tool {
            case "codex":
                #expect(after.contains("model_provider = \"proxypool\"") && after.contains("[model_providers.proxypool]"))
                #expect(after.contains("base_url = \"http://127.0.0.1:\(port)/v1\"") && after.contains("wire_api = \"responses\""))
                #expect(read(root + "/codex-home/.env") == "PROXYPOOL_API_KEY=\(key)\n")
                #expect(read(root + "/home/.codex/config.toml") == nil, "CODEX_HOME is honoured")
            case "claude-code":
                #expect(after.contains("\"ANTHROPIC_BASE_URL\": \"http://127.0.0.1:\(port)\"") && after.contains("\"ANTHROPIC_API_KEY\": \"\(key)\""))
                #expect(!after.contains("ANTHROPIC_AUTH_TOKEN"), "exactly one of the two keys")
            case "gemini-cli":
                #expect(after.contains("GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:\(port)\n") && after.contains("GEMINI_API_KEY=\(key)\n"))
                #expect(!after.contains("AIzaSyREAL"))
            default:
                #expect(after.contains("\"primary\": \"proxypool/claude-sonnet-4-6\"") && after.contains("\"apiKey\": \"\(key)\""))
                #expect(after.contains("sk-mine-REAL-0003"), "another provider's own key stays where the user put it")
            }

            // Undo: the file as it was, byte for byte; the backup used is gone.
            let u = d.ctl(["configure", b.tool, "--undo"], env: env)
            #expect(u.status == 0, "\(b.tool): \(u.stderr)")
            #expect(read(path) == b.text, "\(b.tool): undo did not restore the file")
            #expect(backups(path).isEmpty)
            #expect(d.ctl(["configure", b.tool, "--undo"], env: env).status == 1, "nothing left to undo")
        }
        // Codex's .env did not exist: undo removed it.
        #expect(read(root + "/codex-home/.env") == nil)
    }

    @Test func aFileThatDoesNotParseIsRefusedUntouched() throws {
        let (d, root, env) = try setUp()
        let broken: [(String, String, String)] = [
            ("codex", "codex-home/config.toml", "model = \"o3\n[oops\n"),
            ("claude-code", "home/.claude/settings.json", "{\n  // JSON has no comments\n  \"env\": {}\n}\n"),
            ("gemini-cli", "home/.gemini/.env", "GEMINI_API_KEY='never closed\n"),
            ("openclaw", "home/.openclaw/openclaw.json", "{ models: { providers: { } }, oops }\n"),
        ]
        let keysBefore = d.ctl(["key", "list", "--json"]).stdout
        for (tool, rel, text) in broken {
            let path = root + "/" + rel
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            let r = d.ctl(["configure", tool, "--write"], env: env)
            #expect(r.status == 1 && r.stderr.contains("left unchanged") && r.stderr.contains("line "), "\(tool): \(r.stderr)")
            #expect(read(path) == text && backups(path).isEmpty, "\(tool): the file was touched")
        }
        #expect(d.ctl(["key", "list", "--json"]).stdout == keysBefore, "no key is made for a refused file")
        #expect(d.ctl(["configure", "vim"], env: env).status == 64)
        #expect(d.ctl(["configure", "codex", "--write", "--undo"], env: env).status == 64)
    }

    @Test func theDashboardPreviewsThenWritesInTheDaemonsHomeAndRefusesAnotherUsersFiles() throws {
        let (s, _) = try DashboardTests().signIn()
        let home = s.daemon.dir   // DaemonProcess gives the daemon HOME=dir
        try FileManager.default.createDirectory(atPath: home + "/.gemini", withIntermediateDirectories: true)
        let original = "# mine\nGEMINI_API_KEY=AIzaSyREAL-UPSTREAM-KEY-0004\n"
        try original.write(toFile: home + "/.gemini/.env", atomically: false, encoding: .utf8)
        let preview = try s.api("configure.preview", #"{"tool":"gemini-cli"}"#)
        #expect(preview.status == 200 && preview.body.contains("GOOGLE_GEMINI_BASE_URL") && !preview.body.contains("REAL"), "\(preview.body)")
        #expect(read(home + "/.gemini/.env") == original, "a preview writes nothing")
        let apply = try s.api("configure.apply", #"{"tool":"gemini-cli"}"#)
        #expect(apply.status == 200 && apply.body.contains("\"keyID\":\"k"), "\(apply.body)")
        #expect(apply.body.range(of: #"ppk_[0-9A-Za-z]{8}"#, options: .regularExpression) == nil, "the key itself never comes back: \(apply.body)")
        let written = try #require(read(home + "/.gemini/.env"))
        #expect(written.hasPrefix("# mine\n") && written.contains("GEMINI_API_KEY=ppk_") && written.contains("GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:\(s.port)"))
        #expect(backups(home + "/.gemini/.env").count == 1)
        #expect(s.daemon.log.contains("tool-configured") || s.daemon.log.contains("gemini-cli configured"), "\(s.daemon.log)")
        let bad = try s.api("configure.preview", #"{"tool":"nope"}"#)
        #expect(bad.status == 400 && bad.body.contains("invalid-params"))

        // Files of another user: the daemon edits only its own user's, and says how to do it instead.
        guard geteuid() == 0 else { return }
        try FileManager.default.createDirectory(atPath: home + "/.openclaw", withIntermediateDirectories: true)
        chown(home + "/.openclaw", 65534, 65534)
        let refused = try s.api("configure.apply", #"{"tool":"openclaw"}"#)
        #expect(refused.status == 403 && refused.body.contains("permission-denied") && refused.body.contains("belongs to uid 65534")
                && refused.body.contains("proxypoolctl configure openclaw --write"), "\(refused.body)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: home + "/.openclaw")) ?? []).isEmpty)
    }
}
