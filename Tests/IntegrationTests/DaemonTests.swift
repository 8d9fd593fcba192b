import Foundation
import Glibc
import Testing
import ProxyPoolStore

@Suite struct LifecycleTests {
    @Test func notifiesReadyWatchdogReloadingAndStopping() throws {
        let notify = NotifyListener()
        let d = try DaemonProcess(env: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "300000"], wait: false)
        let ready = notify.waitFor("READY=1")
        #expect(ready != nil, "no READY=1; log: \(d.log)")
        #expect(ready?.contains("STATUS=0 credentials (0 enabled), 0 apps assigned; proxy on 127.0.0.1:") == true)
        // READY=1 is sent only once both sockets accept: the control socket answers right away.
        #expect(d.ctl(["status"]).status == 0)
        #expect(notify.waitFor("WATCHDOG=1", timeout: 3) != nil)
        // A change publishes a new STATUS line.
        _ = d.ctl(["credential", "add", "a", "--provider", "openai", "--key-stdin"], stdin: "sk-proj-0123456789abcdef\n")
        #expect(notify.waitFor("STATUS=1 credentials (1 enabled), 0 apps assigned; proxy on 127.0.0.1:\(try d.proxyPort)") != nil)
        kill(d.pid, SIGHUP)
        #expect(notify.waitFor("RELOADING=1") != nil)
        #expect(notify.waitFor("READY=1") != nil)
        #expect(d.log.contains("configuration reloaded"))
        kill(d.pid, SIGTERM)
        #expect(notify.waitFor("STOPPING=1") != nil)
        #expect(d.stop() == 0, "SIGTERM exits 0")
        #expect(!FileManager.default.fileExists(atPath: d.socket), "the control socket is removed on exit")
    }

    /// The test-only fault switch of packaging/e2e-systemd.sh: with the event loop stalled the watchdog is not
    /// pinged (there systemd then restarts the daemon); without the variable it is (the test above).
    @Test func stalledEventLoopStopsTheWatchdogPings() throws {
        let notify = NotifyListener()
        let d = try DaemonProcess(env: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "300000", "PROXYPOOL_TEST_STALL_EVENT_LOOP": "1"],
                                  wait: false)
        defer { d.stop(SIGKILL) }   // SIGTERM would wait on the stalled loop
        #expect(notify.waitFor("READY=1") != nil, "no READY=1; log: \(d.log)")
        // A ping or two may still go out while the loop's last turn is younger than the interval (300 ms): let
        // them pass, then none may follow.
        _ = notify.waitFor("nothing-sends-this", timeout: 0.8)
        #expect(notify.waitFor("WATCHDOG=1", timeout: 2) == nil, "a stalled loop must not ping the watchdog")
        #expect(d.log.contains("stalling the event loop"))
    }

    /// SIGTERM while a stream is under way: the daemon stops taking requests, lets the stream finish, then exits 0.
    @Test func sigtermLetsAStreamInFlightFinish() throws {
        let s = try ProxySetup(credentials: [("slow", "anthropic", "fake-slow-stream-100")], assign: ["claude-code": ["slow"]])
        let port = s.port, key = s.key
        final class Box: @unchecked Sendable { var result: HTTPResult?; var error: Error? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do {
                box.result = try http(port: port, "POST", "/v1/messages",
                                      headers: [("x-api-key", key), ("anthropic-version", "2023-06-01"), ("X-Proxypool-App", "claude-code")],
                                      body: #"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hello"}]}"#)
            } catch { box.error = error }
            done.signal()
        }
        // Wait until the stream has started upstream, then ask the daemon to stop.
        for _ in 0..<100 where ((try? s.fake.requests().count) ?? 0) == 0 { usleep(20_000) }
        usleep(200_000)
        let started = Date()
        kill(s.daemon.pid, SIGTERM)
        #expect(done.wait(timeout: .now() + 20) == .success)
        #expect(box.error == nil)
        #expect(box.result?.status == 200 && box.result?.content.hasSuffix("event: message_stop\ndata: {\"type\": \"message_stop\"}\n\n") == true,
                Comment(rawValue: String(box.result?.content.suffix(200) ?? "")))
        #expect(Date().timeIntervalSince(started) > 0.5, "the stream was still running when the signal came")
        #expect(s.daemon.stop() == 0)
        #expect(!s.daemon.log.contains("did not finish"))
        // Stopped: nothing listens any more.
        #expect((try? http(port: port, "GET", "/healthz")) == nil)
    }

    @Test func sigintStopsCleanlyToo() throws {
        let d = try DaemonProcess()
        #expect(d.stop(SIGINT) == 0)
        #expect(d.log.contains("stopping on signal SIGINT"))
    }

    @Test func proxyPortAnswersHealthz() throws {
        let d = try DaemonProcess()
        let health = try http(port: try d.proxyPort, "GET", "/healthz")
        #expect(health.status == 200 && health.body == #"{"status":"ok"}"#)
        let wrong = try http(port: try d.proxyPort, "GET", "/v1/messages")
        #expect(wrong.status == 405 && wrong.body.contains("use POST"))
    }

    @Test func socketActivationUsesPassedSockets() throws {
        let activate = "/usr/bin/systemd-socket-activate"
        guard FileManager.default.isExecutableFile(atPath: activate) else {
            Issue.record("systemd-socket-activate is missing: install the systemd package"); return
        }
        let dir = makeTempDir("activate")
        let sock = dir + "/control.sock"
        let port = 20000 + UInt16(getpid() % 20000)
        let log = dir + "/log"
        let p = try Child(activate, ["-l", "127.0.0.1:\(port)", "-l", sock, "--fdname=proxy:control", "-E", "PATH",
                                     Repo.daemon, "--state-dir", dir + "/state", "--control-socket", dir + "/unused.sock", "--config", "/dev/null"],
                          env: baseEnvironment, stderr: log)
        defer { p.signal(SIGTERM); p.wait() }
        var r = RunResult(status: -1, stdout: "", stderr: "")
        for _ in 0..<100 {
            r = run(Repo.ctl, ["--socket", sock, "status", "--json"])
            if r.status == 0 { break }
            usleep(50_000)
        }
        #expect(r.status == 0, "\(r.stderr) \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(r.stdout.contains("\"listen\" : \"127.0.0.1:\(port)\""))
        #expect(!FileManager.default.fileExists(atPath: dir + "/unused.sock"), "with passed sockets nothing is bound")
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.contains("using socket passed by systemd") && text.contains("(control)") && text.contains("(proxy)"))
    }
}

@Suite struct ConfigTests {
    @Test func refusesNonLoopbackWithoutConsent() throws {
        let dir = makeTempDir("cfg")
        let r = run(Repo.daemon, ["--listen", "0.0.0.0:0", "--state-dir", dir + "/s", "--control-socket", dir + "/c.sock", "--config", "/dev/null"])
        #expect(r.status == 78)
        #expect(r.stderr.contains("refusing to listen on 0.0.0.0:0, which is not a loopback address"))
        #expect(r.stderr.contains("allow-non-loopback = yes"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/c.sock"))
    }

    @Test func configFileIsReadAndFlagsWin() throws {
        let dir = makeTempDir("cfg")
        let conf = dir + "/p.conf"
        try "# test\nlisten = 127.0.0.1:1\nallow-non-loopback = yes\nlog-level = debug\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let d = try DaemonProcess(args: ["--config", conf], listen: "0.0.0.0:0")
        #expect((try d.status()["listen"] as? String)?.hasPrefix("0.0.0.0:") == true, "the flag overrides the file's listen")
        d.stop()
    }

    @Test func invalidConfigExits78AndReloadKeepsTheOldOne() throws {
        let dir = makeTempDir("cfg")
        let conf = dir + "/p.conf"
        try "lisen = 1\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let r = run(Repo.daemon, ["--config", conf, "--state-dir", dir + "/s", "--control-socket", dir + "/c.sock", "--listen", "127.0.0.1:0"])
        #expect(r.status == 78 && r.stderr.contains("p.conf:1: unknown key 'lisen'"))
        let missing = run(Repo.daemon, ["--config", dir + "/absent.conf", "--state-dir", dir + "/s", "--control-socket", dir + "/c.sock"])
        #expect(missing.status == 78 && missing.stderr.contains("cannot read"))

        try "log-level = info\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let d = try DaemonProcess(args: ["--config", conf])
        try "log-level = loud\n".write(toFile: conf, atomically: true, encoding: .utf8)
        kill(d.pid, SIGHUP)
        usleep(300_000)
        #expect(d.log.contains("reload failed, keeping the running configuration"))
        #expect(d.ctl(["status"]).status == 0, "still serving")
        try "control-group = wheel\n".write(toFile: conf, atomically: true, encoding: .utf8)
        kill(d.pid, SIGHUP)
        usleep(300_000)
        #expect(d.log.contains("control-group changed in the config file; it takes effect at the next restart"))
    }

    @Test func usageErrorsExit64() {
        let r = run(Repo.daemon, ["--bogus"])
        #expect(r.status == 64 && r.stderr == "proxypoold: unknown option '--bogus'\nTry 'proxypoold --help'.\n")
        #expect(run(Repo.daemon, ["--version"]).stdout.hasPrefix("proxypoold 0.1.0 (libcurl/"))
        #expect(run(Repo.daemon, ["--help"]).stdout.contains("--control-socket PATH"))
    }
}

@Suite struct ControlSocketTests {
    @Test func socketModeAndStaleSocketHandling() throws {
        let d = try DaemonProcess()
        var st = stat()
        stat(d.socket, &st)
        #expect(st.st_mode & 0o777 == (geteuid() == 0 ? 0o660 : 0o600))
        // A second daemon on the same live socket refuses, and leaves the first one working.
        let second = run(Repo.daemon, ["--state-dir", d.dir + "/state2", "--control-socket", d.socket, "--listen", "127.0.0.1:0", "--config", "/dev/null"])
        #expect(second.status == 1 && second.stderr.contains("another daemon is already listening on \(d.socket)"))
        #expect(d.ctl(["status"]).status == 0)
        // A socket file left by a killed daemon is replaced.
        #expect(d.stop(SIGKILL) == SIGKILL)
        #expect(FileManager.default.fileExists(atPath: d.socket))
        let again = try DaemonProcess(stateDir: d.stateDir, socket: d.socket)
        #expect(again.ctl(["status"]).status == 0)
    }

    @Test func badFramesGetNamedErrorsAndTheDaemonKeepsServing() throws {
        let d = try DaemonProcess()
        let c = try RawControl(d.socket)
        #expect(errorName(try c.call("this is not json")) == "parse-error")
        #expect(errorName(try c.call("[1,2]")) == "invalid-request")
        #expect(errorName(try c.call(#"{"jsonrpc":"2.0","id":1}"#)) == "invalid-request")
        #expect(errorName(try c.call(#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#)) == "method-not-found")
        let wrongType = try c.call(#"{"jsonrpc":"2.0","id":2,"method":"credential.set-enabled","params":{"name":"a","enabled":"yes"}}"#)
        #expect(errorName(wrongType) == "invalid-params" && wrongType["id"] as? Int == 2)
        #expect(errorName(try c.call(#"{"jsonrpc":"2.0","id":3,"method":"credential.show","params":{"name":"ghost"}}"#)) == "not-found")
        // A 2 MiB line is refused without taking the daemon down; the same connection resynchronises.
        c.send([UInt8](repeating: 0x7B, count: 2 << 20) + [0x0A])
        #expect(errorName(try c.reply()) == "too-large")
        c.send([0xff, 0xfe, 0x00, 0x0A])
        #expect(errorName(try c.reply()) == "parse-error")
        let ok = try c.call(#"{"jsonrpc":"2.0","id":4,"method":"status"}"#)
        #expect(ok["result"] != nil && ok["id"] as? Int == 4)
        // A notification gets no reply: the next reply is for the next request.
        c.send(#"{"jsonrpc":"2.0","method":"status"}"# + "\n")
        #expect(try c.call(#"{"jsonrpc":"2.0","id":5,"method":"status"}"#)["id"] as? Int == 5)
        #expect(d.ctl(["status"]).status == 0)
    }

    @Test func peerCredentialsRejectAnotherUID() throws {
        guard geteuid() == 0 else { Issue.record("needs root to run a client as another uid"); return }
        let d = try DaemonProcess()
        // Open the filesystem path so that only SO_PEERCRED stands between uid 65534 and the daemon.
        chmod(d.dir, 0o755); chmod(d.dir + "/run", 0o755); chmod(d.socket, 0o666)
        let r = run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Repo.ctl, "--socket", d.socket, "status"])
        #expect(r.status == 77, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("Failed to get status: permission denied: uid 65534 may not use this daemon's control socket\n"))
        #expect(r.stderr.contains("Hint: "))
        #expect(d.log.contains("control connection refused for uid 65534"))
        // Root still may.
        #expect(d.ctl(["status"]).status == 0)
    }
}

@Suite struct CtlTests {
    func golden(_ name: String, _ actual: String) throws {
        let path = Repo.root + "/Tests/IntegrationTests/Golden/" + name
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        #expect(actual == expected, "\(name) differs; run with UPDATE_GOLDEN=1 to accept:\n\(actual)")
    }

    @Test func goldenHelp() throws {
        try golden("proxypoolctl-help.txt", run(Repo.ctl, ["--help"]).stdout)
        try golden("proxypoolctl-credential-add-help.txt", run(Repo.ctl, ["credential", "add", "--help"]).stdout)
        try golden("proxypoolctl-assign-help.txt", run(Repo.ctl, ["assign", "--help"]).stdout)
        try golden("proxypoold-help.txt", run(Repo.daemon, ["--help"]).stdout)
    }

    @Test func goldenErrorsAndExitCodes() throws {
        let gone = run(Repo.ctl, ["--socket", "/nonexistent/proxypool.sock"])
        #expect(gone.status == 69)
        try golden("proxypoolctl-unreachable.txt", gone.stderr)
        let unknown = run(Repo.ctl, ["frobnicate"])
        #expect(unknown.status == 64 && unknown.stderr == "proxypoolctl: unknown command 'frobnicate'\nTry 'proxypoolctl --help'.\n")
        let missing = run(Repo.ctl, ["credential", "add"])
        #expect(missing.status == 64 && missing.stderr == "proxypoolctl: missing argument NAME\nTry 'proxypoolctl credential add --help'.\n")

        let d = try DaemonProcess()
        let notFound = d.ctl(["credential", "show", "ghost"])
        #expect(notFound.status == 1)
        #expect(notFound.stderr == "Failed to show credential: no credential named 'ghost'; 'proxypoolctl credential list' shows them\n")
        let noSecret = d.ctl(["credential", "add", "x", "--provider", "openai"])
        #expect(noSecret.status == 64 && noSecret.stderr.contains("no secret given: use --key-stdin, --key-file FILE or --key-env VAR"))
        let twoWays = d.ctl(["credential", "add", "x", "--provider", "openai", "--key-stdin", "--key-env", "K"], stdin: "k")
        #expect(twoWays.status == 64)
        let badToggle = d.ctl(["free-models", "maybe"])
        #expect(badToggle.status == 64 && badToggle.stderr.contains("expected 'on' or 'off'"))
        #expect(d.ctl(["credential", "list"]).stdout.hasPrefix("No credentials."))
    }

    @Test func fullTourThroughTheDaemon() throws {
        let d = try DaemonProcess()
        let keyFile = d.dir + "/key"
        try "sk-ant-api03-FILEKEYFILEKEYFILEKEY-abcd\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        #expect(d.ctl(["credential", "add", "anthropic-main", "--provider", "anthropic", "--key-file", keyFile]).status == 0)
        #expect(d.ctl(["credential", "add", "openai-main", "--provider", "openai", "--key-env", "OPENAI_KEY"],
                      env: ["OPENAI_KEY": "sk-proj-ENVKEYENVKEYENVKEY-wxyz"]).status == 0)
        let azure = d.ctl(["credential", "add", "azure-key-1", "--provider", "azure-openai", "--base-url", "https://r.openai.azure.com",
                           "--api-version", "2024-10-21", "--deployment", "gpt-4o", "--key-stdin", "--free", "--disabled"], stdin: "0123456789abcdef0123")
        #expect(azure.status == 0 && azure.stdout == "Added credential azure-key-1 (azure-openai, secret …0123).\n")
        #expect(d.ctl(["credential", "enable", "azure-key-1"]).stdout == "Credential azure-key-1 enabled.\n")
        #expect(d.ctl(["assign", "codex", "azure-key-1", "openai-main"]).stdout == "codex → azure-key-1, openai-main\n")
        let list = d.ctl(["credential", "list"]).stdout
        #expect(list.contains("anthropic-main  anthropic     sk-ant-api03-…abcd"))
        #expect(list.contains("azure-key-1     azure-openai  …0123"))
        let key = d.ctl(["key", "create", "--app", "codex"])
        #expect(key.stdout.hasPrefix("ppk_") && key.stdout.count == 48 && key.stderr.contains("shown only this once"))
        #expect(d.ctl(["key", "list"]).stdout.contains("codex  ppk_…" + key.stdout.dropLast().suffix(4)))
        #expect(d.ctl(["tier", "set", "openai", "fast", "gpt-5-nano"]).stdout == "openai fast → gpt-5-nano\n")
        #expect(d.ctl(["tiers"]).stdout.contains("gpt-5-nano *"))
        #expect(d.ctl(["free-models", "on"]).stdout == "Free-model routing is now on.\n")
        #expect(d.ctl(["fallback"]).stdout == "Fallback to the pool is on.\n")
        let status = try d.status()
        #expect(status["credentials"] as? Int == 3 && status["apps"] as? Int == 1 && status["accessKeys"] as? Int == 1)
        #expect((status["settings"] as? [String: Any])?["freeModels"] as? Bool == true)

        // Everything survives a restart.
        #expect(d.stop() == 0)
        let again = try DaemonProcess(stateDir: d.stateDir)
        #expect(again.ctl(["assignments"]).stdout.contains("codex  azure-key-1, openai-main"))
        #expect(again.ctl(["free-models"]).stdout == "Free-model routing is on.\n")
        #expect(again.ctl(["tiers", "--json"]).stdout.contains("gpt-5-nano"))
        let removed = again.ctl(["credential", "remove", "azure-key-1"])
        #expect(removed.status == 1 && removed.stderr.contains("Hint: unassign it first, or pass --force"))
        #expect(again.ctl(["credential", "remove", "azure-key-1", "--force"]).stdout.contains("removed from the chains of: codex"))
        let keyID = String(again.ctl(["key", "list"]).stdout.split(separator: "\n")[1].split(separator: " ")[0])
        #expect(again.ctl(["key", "revoke", keyID]).status == 0)
        #expect(again.ctl(["key", "list"]).stdout.hasPrefix("No access keys."))
    }
}

@Suite struct SecretsTests {
    /// Add credentials with recognisable secrets, drive every read path, and look for the secrets everywhere.
    @Test func secretsAppearInNoOutputNoReplyAndNoLogLine() throws {
        let d = try DaemonProcess(args: ["--log-level", "debug"])
        let secrets = ["sk-proj-SECRETBODYAAAAAAAAAAAA-1111", "sk-ant-api03-SECRETBODYBBBBBBBBBB-2222", "AIzaSECRETBODYCCCCCCCCCCCCCC3333"]
        let core = secrets.map { String($0.dropLast(5).suffix(12)) }   // the body, which must never be shown
        for (i, (provider, s)) in zip(["openai", "anthropic", "gemini"], secrets).enumerated() {
            let r = d.ctl(["credential", "add", "c\(i)", "--provider", provider, "--key-stdin"], stdin: s)
            #expect(r.status == 0, "\(r.stderr)")
        }
        _ = d.ctl(["assign", "app", "c0", "c1"])
        var outputs: [String] = []
        for args in [["status"], ["credential", "list"], ["credential", "show", "c1"], ["assignments"], ["key", "list"]] {
            for json in [false, true] {
                let r = d.ctl(args + (json ? ["--json"] : []))
                outputs += [r.stdout, r.stderr]
            }
        }
        let c = try RawControl(d.socket)
        for m in ["credential.list", "status", "assignment.list"] {
            c.send(#"{"jsonrpc":"2.0","id":1,"method":"\#(m)"}"# + "\n")
            outputs.append(String(describing: try c.reply()))
        }
        // A failing add must not echo the secret back either.
        let dup = d.ctl(["credential", "add", "c0", "--provider", "openai", "--key-stdin"], stdin: secrets[0])
        outputs += [dup.stdout, dup.stderr]
        d.stop()
        outputs.append(d.log)
        for text in outputs {
            for body in core { #expect(!text.contains(body), "a secret leaked into: \(text.prefix(300))") }
        }
        #expect(outputs.joined().contains("sk-ant-api03-…2222"), "the redacted form is what is shown")
        #expect(d.log.contains("credential c1 added (anthropic, sk-ant-api03-…2222)"))
    }
}

@Suite struct DurabilityTests {
    /// SIGKILL while a client is writing: every change the daemon acknowledged is there after a restart, and the
    /// database passes `PRAGMA integrity_check`.
    @Test func sigkillDuringWritesLosesNoCommittedChange() throws {
        let d = try DaemonProcess()
        let c = try RawControl(d.socket)
        var acknowledged: [String] = []
        let killAfter = 40 + Int(getpid() % 40)
        var killed = false
        for i in 0..<400 {
            let name = "cred-\(i)"
            c.send(#"{"jsonrpc":"2.0","id":\#(i),"method":"credential.add","params":{"name":"\#(name)","provider":"openai","secret":"sk-proj-0123456789abcdef\#(i)"}}"# + "\n")
            if i == killAfter {
                // Kill with a request in flight, before reading its reply.
                kill(d.pid, SIGKILL)
                killed = true
                break
            }
            guard let reply = try? c.reply(), reply["result"] != nil else { break }
            acknowledged.append(name)
        }
        #expect(killed && acknowledged.count >= 40)
        d.process.wait()
        let store = try Store(directory: d.stateDir)
        #expect(try store.integrityCheck() == "ok")
        let names = Set(try store.credentials().map(\.name))
        for n in acknowledged { #expect(names.contains(n), "acknowledged \(n) was lost") }
        let again = try DaemonProcess(stateDir: d.stateDir)
        #expect((try again.status()["credentials"] as? Int ?? 0) >= acknowledged.count)
    }

    @Test func looseModesAreRepairedWithAWarning() throws {
        let dir = makeTempDir("modes")
        do { _ = try Store(directory: dir + "/state") }
        chmod(dir + "/state", 0o755)
        chmod(dir + "/state/proxypool.db", 0o644)
        let d = try DaemonProcess(stateDir: dir + "/state")
        var st = stat()
        stat(dir + "/state", &st); #expect(st.st_mode & 0o777 == 0o700)
        stat(dir + "/state/proxypool.db", &st); #expect(st.st_mode & 0o777 == 0o600)
        #expect(d.log.contains("warning: state directory \(dir)/state had mode 0755; set it to 0700"))
    }
}

@Suite struct PromptTests {
    /// With no key option and a terminal on stdin, proxypoolctl asks on the terminal with echo off.
    @Test func promptsForTheSecretWithoutEcho() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { Issue.record("script(1) missing"); return }
        let d = try DaemonProcess()
        // script(1) gives the command a pseudo-terminal and copies our stdin into it; the secret is typed only
        // after the prompt is up, as a person would.
        let secret = "sk-proj-TYPEDATPROMPT0000-9999"
        let r = run("/bin/sh", ["-c", "(sleep 1; printf '%s\\n' \(secret)) | /usr/bin/script -qec '\(Repo.ctl) --socket \(d.socket) credential add typed --provider openai' /dev/null"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("Secret for typed (input hidden): "))
        #expect(!r.stdout.contains("TYPEDATPROMPT"), "the typed secret was echoed")
        #expect(r.stdout.contains("Added credential typed (openai, secret sk-proj-…9999)."))
    }
}

@Suite struct ClassifyTests {
    @Test func classifyAndTierRulesThroughTheDaemon() throws {
        let d = try DaemonProcess()
        #expect(d.ctl(["classify", "claude-haiku-4-5-20251001"]).stdout == "claude-haiku-4-5-20251001: fast (built-in: word 'haiku' → fast)\n")
        #expect(d.ctl(["classify", "gpt-5.1-codex"]).stdout == "gpt-5.1-codex: flagship (built-in: gpt 5 without a size word → flagship)\n")
        #expect(d.ctl(["classify", "claude-3-opus"]).stdout
                == "claude-3-opus: standard (built-in: word 'opus' → flagship; claude 3 is one generation before claude 4 → standard)\n")
        let add = d.ctl(["tier", "rule", "add", "codex", "reasoning"])
        #expect(add.status == 0 && add.stdout == "Added tier rule 1: 'codex' → reasoning\n")
        #expect(d.ctl(["tier", "rule", "add", "my-model-*", "flagship"]).status == 0)
        #expect(d.ctl(["classify", "gpt-5.1-codex"]).stdout == "gpt-5.1-codex: reasoning (user rule 1: word 'codex' → reasoning)\n")
        #expect(d.ctl(["classify", "my-model-mini"]).stdout.contains("flagship (user rule 2: prefix 'my-model-'"))
        let json = d.ctl(["classify", "openai/gpt-4o-mini", "--json"]).stdout
        #expect(json.contains("\"tier\" : \"fast\"") && json.contains("\"normalized\" : \"gpt-4o-mini\""))
        #expect(d.ctl(["tier", "rule", "list"]).stdout.contains("built-in  OpenAI o-series"))
        #expect(d.ctl(["tier", "rule", "list"]).stdout.contains("built-in  gpt/chatgpt before generation 5"))
        #expect(d.ctl(["tier", "rule", "add", "x", "huge"]).status == 1)
        #expect(d.ctl(["tier", "rule", "remove", "1"]).status == 0)
        #expect(d.ctl(["classify", "gpt-5.1-codex"]).stdout.contains(": flagship (built-in:"))
        // Rules persist.
        d.stop()
        let again = try DaemonProcess(stateDir: d.stateDir)
        #expect(again.ctl(["tier", "rule", "list", "--json"]).stdout.contains("my-model-*"))
    }
}
