import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolProviders

/// `credential …`: add, list, show, remove, enable, disable and test credentials.
enum CredentialCommands {
    static let keyOptions: [OptionSpec] = [
        OptionSpec("key-stdin", help: "Read the secret from standard input"),
        OptionSpec("key-file", value: "FILE", help: "Read the secret from FILE"),
        OptionSpec("key-env", value: "VAR", help: "Read the secret from environment variable VAR"),
    ]

    /// Provider settings, each a flag of its own; `Provider.allowedOptions` (ProxyPoolProviders) says which kinds take which.
    static let providerOptions: [OptionSpec] = [
        OptionSpec("organization", value: "ORG", help: "openai: OpenAI-Organization header"),
        OptionSpec("project", value: "PROJECT", help: "openai: OpenAI-Project header; vertex: Google Cloud project"),
        OptionSpec("deployment", value: "NAME", help: "azure-openai: deployment name"),
        OptionSpec("api-version", value: "VERSION", help: "azure-openai: api-version query parameter"),
        OptionSpec("location", value: "REGION", help: "vertex: region, for example us-central1, or global"),
        OptionSpec("anthropic-version", value: "DATE", help: "anthropic: anthropic-version header to send"),
        OptionSpec("api", value: "chat|responses",
                   help: "openai, azure-openai, openai-compatible: send every request in this API (translated if need be)"),
        OptionSpec("ca-file", value: "FILE", help: "Trust the CA certificates in FILE for this upstream"),
        OptionSpec("max-output-tokens", value: "N", help: "Ask this upstream for at most N output tokens (translated requests)"),
    ]

    static let verbs: [Verb] = [
        Verb(["credential", "add"], summary: "Add a credential",
             arguments: [ArgumentSpec("NAME", help: "Name to refer to it by (letters, digits, '-', '_', '.')")],
             options: [
                 OptionSpec("provider", value: "KIND", help: "One of: \(ProviderKind.names)"),
                 OptionSpec("base-url", value: "URL", help: "Endpoint (required for azure-openai and openai-compatible)"),
             ] + keyOptions + [
                 OptionSpec("adc", value: "FILE", optionalValue: true,
                            help: "vertex: the secret is an Application Default Credentials file, gcloud's unless FILE is given (copied now)"),
                 OptionSpec("region", value: "REGION", help: "vertex: same as --location"),
             ] + providerOptions + [
                 OptionSpec("free", help: "Mark it as a free endpoint, for free-model routing"),
                 OptionSpec("disabled", help: "Add it disabled"),
             ],
             discussion: """
                 The secret is never taken on the command line. Without --key-stdin, --key-file or --key-env,
                 proxypoolctl asks for it on the terminal without echo. For vertex the secret is a service-account
                 JSON key, an authorized_user ADC file (--adc reads gcloud's, --adc=FILE another) or an API key.
                 """,
             phrase: "add credential") { try add($0) },
        Verb(["credential", "update"], summary: "Change a credential's secret, endpoint, options or free mark in place",
             arguments: [ArgumentSpec("NAME", help: "Credential name")],
             options: [
                 OptionSpec("new-secret", help: "Replace the secret: read it like add does (terminal prompt, or a --key-… option)"),
             ] + keyOptions + [
                 OptionSpec("adc", value: "FILE", optionalValue: true, help: "vertex: the new secret is an ADC file, gcloud's unless FILE is given"),
                 OptionSpec("base-url", value: "URL", help: "New endpoint"),
                 OptionSpec("default-base-url", help: "Go back to the provider's default endpoint"),
                 OptionSpec("region", value: "REGION", help: "vertex: same as --location"),
             ] + providerOptions + [
                 OptionSpec("unset", value: "OPTION", repeatable: true, help: "Remove a provider option (for example --unset organization)"),
                 OptionSpec("free", help: "Mark it as a free endpoint"),
                 OptionSpec("not-free", help: "Clear the free mark"),
             ],
             discussion: """
                 Only what is given changes; the name, kind, assignments, usage and enabled state stay. A new secret
                 is never taken on the command line. A new secret or endpoint drops the token obtained with the old
                 one and the last test's result. A subscription account's tokens change by signing in again.
                 """,
             phrase: "update credential") { try update($0) },
        Verb(["credential", "list"], summary: "List credentials (secrets redacted)",
             phrase: "list credentials") { try list($0) },
        Verb(["credential", "show"], summary: "Show one credential (secret redacted)",
             arguments: [ArgumentSpec("NAME", help: "Credential name")],
             phrase: "show credential") { ctx in
            let c = try ctx.call(RPC.CredentialShow.self, .init(name: ctx.invocation.value("NAME")!))
            ctx.json ? Output.json(c) : Output.out(describe(c))
        },
        Verb(["credential", "remove"], summary: "Remove a credential",
             arguments: [ArgumentSpec("NAME", help: "Credential name")],
             options: [OptionSpec("force", help: "Also remove it from the assignment chains that name it")],
             phrase: "remove credential") { ctx in
            let inv = ctx.invocation
            let r = try ctx.call(RPC.CredentialRemove.self, .init(name: inv.value("NAME")!, force: inv.flag("force")))
            if ctx.json { Output.json(r) } else {
                Output.out("Removed credential \(r.name).\n")
                if !r.unassignedFrom.isEmpty { Output.out("It was removed from the chains of: \(r.unassignedFrom.joined(separator: ", ")).\n") }
            }
        },
        Verb(["credential", "enable"], summary: "Enable a credential",
             arguments: [ArgumentSpec("NAME", help: "Credential name")],
             phrase: "enable credential") { try setEnabled($0, true) },
        Verb(["credential", "disable"], summary: "Disable a credential (kept, but never used)",
             arguments: [ArgumentSpec("NAME", help: "Credential name")],
             phrase: "disable credential") { try setEnabled($0, false) },
        Verb(["credential", "test"], summary: "Check a credential's key against its upstream (clears 'auth failed')",
             arguments: [ArgumentSpec("NAME", help: "Credential name")],
             phrase: "test credential") { ctx in
            let c = try ctx.call(RPC.CredentialTest.self, .init(name: ctx.invocation.value("NAME")!))
            let t = c.lastTest
            if ctx.json { Output.json(c) } else { Output.out("Credential \(c.name): \(t?.ok == true ? "ok" : "FAILED"), \(t?.message ?? "no result").\n") }
            if t?.ok != true { throw Ctl.Failure(message: "credential \(c.name) failed its test", hint: nil, code: ExitCode.failure) }
        },
    ]

    static func add(_ ctx: Ctl.Context) throws {
        let inv = ctx.invocation
        guard let provider = inv.value("provider") else { throw Ctl.usage("credential add needs --provider KIND (one of: \(ProviderKind.names))") }
        var options: [String: String] = [:]
        for o in providerOptions { if let v = inv.value(o.long) { options[o.long] = v } }
        if let region = inv.value("region") {
            if let l = options["location"], l != region { throw Ctl.usage("--region and --location name the same setting: give one") }
            options["location"] = region
        }
        let secret = try SecretInput.read(ctx, name: inv.value("NAME")!)
        let c = try ctx.call(RPC.CredentialAdd.self, .init(name: inv.value("NAME")!, provider: provider, secret: secret,
                                                           baseURL: inv.value("base-url"), options: options.isEmpty ? nil : options,
                                                           free: inv.flag("free"), enabled: !inv.flag("disabled")))
        ctx.json ? Output.json(c) : Output.out("Added credential \(c.name) (\(c.provider.rawValue), secret \(c.secretRedacted)).\n")
    }

    static func update(_ ctx: Ctl.Context) throws {
        let inv = ctx.invocation, name = inv.value("NAME")!
        var options: [String: String] = [:]
        for o in providerOptions { if let v = inv.value(o.long) { options[o.long] = v } }
        if let region = inv.value("region") {
            if let l = options["location"], l != region { throw Ctl.usage("--region and --location name the same setting: give one") }
            options["location"] = region
        }
        for o in inv.all("unset") {
            guard providerOptions.contains(where: { $0.long == o }) else {
                throw Ctl.usage("--unset \(o): not a provider option; one of: \(providerOptions.map(\.long).joined(separator: ", "))")
            }
            guard options[o] == nil else { throw Ctl.usage("--\(o) and --unset \(o) contradict each other") }
            options[o] = ""
        }
        if inv.value("base-url") != nil && inv.flag("default-base-url") { throw Ctl.usage("give --base-url URL or --default-base-url, not both") }
        if inv.flag("free") && inv.flag("not-free") { throw Ctl.usage("give --free or --not-free, not both") }
        let keyGiven = inv.flag("key-stdin") || inv.value("key-file") != nil || inv.value("key-env") != nil || inv.flag("adc") || inv.value("adc") != nil
        let secret = inv.flag("new-secret") || keyGiven ? try SecretInput.read(ctx, name: name) : nil
        let baseURL = inv.flag("default-base-url") ? "" : inv.value("base-url")
        let free: Bool? = inv.flag("free") ? true : (inv.flag("not-free") ? false : nil)
        guard secret != nil || baseURL != nil || !options.isEmpty || free != nil else {
            throw Ctl.usage("nothing to change: give --new-secret (or a --key-… option), --base-url, a provider option, --unset or --free")
        }
        let c = try ctx.call(RPC.CredentialUpdate.self, .init(name: name, secret: secret, baseURL: baseURL, options: options.isEmpty ? nil : options, free: free))
        ctx.json ? Output.json(c) : Output.out("Updated credential \(c.name) (\(c.provider.rawValue), secret \(c.secretRedacted)).\n")
    }

    static func list(_ ctx: Ctl.Context) throws {
        let all = try ctx.call(RPC.CredentialList.self)
        defer {
            // Subscription accounts' usage windows, under the table (raw numbers in --json).
            let now = Timestamp.nowMillis()
            let q = all.compactMap { c in c.quota.flatMap { $0.isEmpty ? nil : "  \(c.name): " + AccountQuota.describe($0, nowMillis: now)
                + (c.credits.map { ", " + $0.description } ?? "") } }
            if !ctx.json && !q.isEmpty { Output.out("\nQuota:\n" + q.joined(separator: "\n") + "\n") }
        }
        Output.list(ctx, all,
                    empty: "No credentials. Add one with: proxypoolctl credential add NAME --provider KIND --key-stdin",
                    header: ["NAME", "PROVIDER", "SECRET", "STATE", "FREE", "ASSIGNED TO", "BASE URL"]) {
            [$0.name, $0.provider.rawValue, $0.secretRedacted, $0.enabled ? "enabled" : "disabled", $0.free ? "yes" : "no",
             $0.assignedTo.isEmpty ? "-" : $0.assignedTo.joined(separator: ","), $0.baseURL ?? "(default)"]
        }
    }

    static func setEnabled(_ ctx: Ctl.Context, _ on: Bool) throws {
        let c = try ctx.call(RPC.CredentialSetEnabled.self, .init(name: ctx.invocation.value("NAME")!, enabled: on))
        ctx.json ? Output.json(c) : Output.out("Credential \(c.name) \(on ? "enabled" : "disabled").\n")
    }

    static func describe(_ c: CredentialInfo) -> String {
        var lines = [
            ("name", c.name), ("provider", c.provider.rawValue), ("secret", c.secretRedacted),
            ("base URL", c.baseURL ?? "(default: \(Providers.of(c.provider).defaultBaseURL ?? "none"))"),
            ("state", c.enabled ? "enabled" : "disabled"), ("free", c.free ? "yes" : "no"),
            ("assigned to", c.assignedTo.isEmpty ? "-" : c.assignedTo.joined(separator: ", ")),
            ("created", c.createdAt), ("updated", c.updatedAt),
            ("last test", c.lastTest.map { "\($0.at) \($0.ok ? "ok" : "failed"): \($0.message)" } ?? "never"),
        ]
        for (k, v) in c.options.sorted(by: { $0.key < $1.key }) { lines.append((k, v)) }
        let w = lines.map { $0.0.count }.max()! + 1
        return lines.map { "\($0.0):" + String(repeating: " ", count: w - $0.0.count + 1) + $0.1 }.joined(separator: "\n") + "\n"
    }
}
