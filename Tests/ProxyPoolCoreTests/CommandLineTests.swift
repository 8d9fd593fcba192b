import Testing
@testable import ProxyPoolCore
@testable import ProxyPoolCtl

@Suite struct CommandLineSpecTests {
    let spec = CtlCommandLine.spec

    func run(_ args: [String]) throws -> Invocation {
        guard case .run(let inv) = try spec.parse(args) else { throw UsageError("not a run") }
        return inv
    }

    @Test func defaultCommandIsStatus() throws {
        #expect(try run([]).command.name == "status")
        #expect(try run(["--json"]).flag("json"))
    }

    @Test func globalOptionsBeforeAndAfterTheVerb() throws {
        let a = try run(["--socket", "/s", "credential", "list"])
        let b = try run(["credential", "list", "--socket=/s", "--json"])
        #expect(a.value("socket") == "/s" && b.value("socket") == "/s" && b.flag("json"))
        #expect(a.command.name == "credential list")
    }

    @Test func anOptionalValueIsTakenOnlyAfterAnEqualsSign() throws {
        let bare = try run(["credential", "add", "gcp", "--adc", "--provider", "vertex"])
        #expect(bare.flag("adc") && bare.value("adc") == nil && bare.value("provider") == "vertex")
        let given = try run(["credential", "add", "gcp", "--adc=/tmp/adc.json", "--provider", "vertex"])
        #expect(!given.flag("adc") && given.value("adc") == "/tmp/adc.json")
        // A following word is the next argument, never the option's value.
        #expect(throws: UsageError.self) { try run(["credential", "add", "--adc", "gcp", "extra"]) }
        #expect(try run(["credential", "add", "--adc", "gcp"]).value("NAME") == "gcp")
        #expect(throws: UsageError.self) { try run(["credential", "add", "gcp", "--adc="]) }
        guard case .help(let h) = try spec.parse(["credential", "add", "--help"]) else { Issue.record("no help"); return }
        #expect(h.contains("--adc[=FILE]"), Comment(rawValue: h))
    }

    @Test func argumentsAndOptions() throws {
        let inv = try run(["credential", "add", "az", "--provider", "azure-openai", "--base-url=https://x", "--api-version", "v", "--free"])
        #expect(inv.value("NAME") == "az" && inv.value("provider") == "azure-openai" && inv.value("base-url") == "https://x")
        #expect(inv.value("api-version") == "v" && inv.flag("free") && !inv.flag("disabled"))
        #expect(try run(["assign", "codex", "a", "b", "c"]).all("CRED") == ["a", "b", "c"])
        #expect(try run(["credential", "show", "--", "--odd-name"]).value("NAME") == "--odd-name", "-- ends options")
    }

    @Test(arguments: [
        (["bogus"], "unknown command 'bogus'"),
        (["credential"], "credential: missing subcommand; use one of: add, update, list, show, remove, enable, disable, test, import codex, import claude"),
        (["credential", "frob"], "credential: unknown subcommand 'frob'; use one of: add, update, list, show, remove, enable, disable, test, import codex, import claude"),
        (["credential", "add"], "missing argument NAME"),
        (["credential", "show", "a", "b"], "unexpected argument 'b'"),
        (["status", "--nope"], "unknown option '--nope' for 'status'"),
        (["credential", "add", "x", "--provider"], "option --provider needs a value (KIND)"),
        (["credential", "add", "x", "--free=yes"], "option --free takes no value"),
        (["credential", "add", "x", "--provider", "a", "--provider", "b"], "option --provider given more than once"),
        (["assign", "codex"], "missing argument CRED"),
    ])
    func usageErrors(args: [String], message: String) {
        #expect(throws: UsageError.self) { try spec.parse(args) }
        do { _ = try spec.parse(args) } catch { #expect(error.message == message) }
    }

    @Test func secretIsNeverAnOption() {
        let add = spec.command(named: ["credential", "add"])!
        #expect(!add.options.contains { ["key", "secret", "api-key", "token"].contains($0.long) })
        #expect(throws: UsageError.self) { try spec.parse(["credential", "add", "x", "--provider", "openai", "--key", "sk-1"]) }
    }

    @Test func helpListsEveryDeclaredOptionAndCommand() throws {
        for cmd in spec.commands {
            guard case .help(let text) = try spec.parse(cmd.words + ["--help"]) else { Issue.record("no help for \(cmd.name)"); continue }
            #expect(text.hasPrefix("Usage: proxypoolctl \(cmd.name)"))
            for o in cmd.options { #expect(text.contains("--\(o.long)") != o.hidden, "\(cmd.name) help lacks --\(o.long), or shows a hidden one") }
            for a in cmd.arguments { #expect(text.contains(a.name)) }
        }
        guard case .help(let top) = try spec.parse(["--help"]) else { Issue.record("no overview"); return }
        #expect(top.contains("Commands:") && top == spec.overview(), "bare --help shows every command, not status's help")
        let overview = spec.overview()
        for cmd in spec.commands { #expect(overview.contains(cmd.name)) }
        guard case .help(let group) = try spec.parse(["credential", "--help"]) else { Issue.record("no group help"); return }
        #expect(group.contains("credential add") && group.contains("credential remove"))
        guard case .version = try spec.parse(["status", "--version"]) else { Issue.record("no version"); return }
    }
}

@Suite struct CtlFailureTests {
    @Test func readOnlyRefusalExitsAsPermissionDenied() {
        #expect(Ctl.failure(.rpc(.readOnly("credential.add")), socketPath: "/s").code == ExitCode.permission)
        #expect(Ctl.failure(.rpc(.notFound("x")), socketPath: "/s").code == ExitCode.failure)
    }

    @Test func everyVerbIsInTheSpecOnceWithItsOwnPhrase() {
        #expect(CtlCommandLine.spec.commands.map(\.words) == CtlCommandLine.verbs.map(\.spec.words))
        #expect(Set(CtlCommandLine.verbs.map(\.spec.name)).count == CtlCommandLine.verbs.count)
        #expect(Set(CtlCommandLine.verbs.map(\.phrase)).count == CtlCommandLine.verbs.count)
    }
}
