import ProxyPoolCore

/// Every verb of proxypoolctl, declared once: parsing, `--help` and the man-page check all read this table.
public enum CtlCommandLine {
    static let keyOptions: [OptionSpec] = [
        OptionSpec("key-stdin", help: "Read the secret from standard input"),
        OptionSpec("key-file", value: "FILE", help: "Read the secret from FILE"),
        OptionSpec("key-env", value: "VAR", help: "Read the secret from environment variable VAR"),
    ]

    /// Provider settings, each a flag of its own; `ProviderKind.allowedOptions` says which kinds take which.
    static let providerOptions: [OptionSpec] = [
        OptionSpec("organization", value: "ORG", help: "openai: OpenAI-Organization header"),
        OptionSpec("project", value: "PROJECT", help: "openai: OpenAI-Project header; vertex: Google Cloud project"),
        OptionSpec("deployment", value: "NAME", help: "azure-openai: deployment name"),
        OptionSpec("api-version", value: "VERSION", help: "azure-openai: api-version query parameter"),
        OptionSpec("location", value: "REGION", help: "vertex: region, for example us-central1"),
        OptionSpec("anthropic-version", value: "DATE", help: "anthropic: anthropic-version header to send"),
        OptionSpec("api", value: "chat|responses",
                   help: "openai, azure-openai, openai-compatible: send every request in this API (translated if need be)"),
        OptionSpec("ca-file", value: "FILE", help: "Trust the CA certificates in FILE for this upstream"),
        OptionSpec("max-output-tokens", value: "N", help: "Ask this upstream for at most N output tokens (translated requests)"),
    ]

    public static let spec = CommandLineSpec(
        program: "proxypoolctl",
        summary: "control the proxypool daemon",
        globalOptions: [
            OptionSpec("socket", value: "PATH", help: "Control socket of the daemon (env PROXYPOOL_SOCKET)"),
            OptionSpec("json", help: "Print machine-readable JSON"),
        ],
        commands: [
            CommandSpec(["status"], summary: "Show the daemon's state (the default command)"),
            CommandSpec(["credential", "add"], summary: "Add a credential",
                        arguments: [ArgumentSpec("NAME", help: "Name to refer to it by (letters, digits, '-', '_', '.')")],
                        options: [
                            OptionSpec("provider", value: "KIND", help: "One of: \(ProviderKind.names)"),
                            OptionSpec("base-url", value: "URL", help: "Endpoint (required for azure-openai and openai-compatible)"),
                        ] + keyOptions + providerOptions + [
                            OptionSpec("free", help: "Mark it as a free endpoint, for free-model routing"),
                            OptionSpec("disabled", help: "Add it disabled"),
                        ],
                        discussion: """
                            The secret is never taken on the command line. Without --key-stdin, --key-file or --key-env,
                            proxypoolctl asks for it on the terminal without echo.
                            """),
            CommandSpec(["credential", "list"], summary: "List credentials (secrets redacted)"),
            CommandSpec(["credential", "show"], summary: "Show one credential (secret redacted)",
                        arguments: [ArgumentSpec("NAME", help: "Credential name")]),
            CommandSpec(["credential", "remove"], summary: "Remove a credential",
                        arguments: [ArgumentSpec("NAME", help: "Credential name")],
                        options: [OptionSpec("force", help: "Also remove it from the assignment chains that name it")]),
            CommandSpec(["credential", "enable"], summary: "Enable a credential",
                        arguments: [ArgumentSpec("NAME", help: "Credential name")]),
            CommandSpec(["credential", "disable"], summary: "Disable a credential (kept, but never used)",
                        arguments: [ArgumentSpec("NAME", help: "Credential name")]),
            CommandSpec(["credential", "test"], summary: "Check a credential's key against its upstream (clears 'auth failed')",
                        arguments: [ArgumentSpec("NAME", help: "Credential name")]),
            CommandSpec(["assign"], summary: "Give an app an ordered chain of credentials",
                        arguments: [ArgumentSpec("APP", help: "App name, for example codex or claude-code"),
                                    ArgumentSpec("CRED", .oneOrMore, help: "Credentials, tried in this order")]),
            CommandSpec(["unassign"], summary: "Remove an app's assignment", arguments: [ArgumentSpec("APP", help: "App name")]),
            CommandSpec(["assignments"], summary: "List app assignments"),
            CommandSpec(["key", "create"], summary: "Create a local access key (printed once)",
                        options: [OptionSpec("app", value: "APP", help: "Bind the key to an app")]),
            CommandSpec(["key", "list"], summary: "List local access keys"),
            CommandSpec(["key", "revoke"], summary: "Revoke a local access key", arguments: [ArgumentSpec("ID", help: "Key id from 'key list'")]),
            CommandSpec(["apps"], summary: "List the apps seen, with their last request and counts"),
            CommandSpec(["app", "rule", "add"], summary: "Recognise an app by a request header (tried before the built-in rules)",
                        arguments: [ArgumentSpec("HEADER", help: "Header name, for example User-Agent"),
                                    ArgumentSpec("MATCH", help: "prefix, contains or equals (case-insensitive)"),
                                    ArgumentSpec("VALUE", help: "Text to look for"), ArgumentSpec("APP", help: "App name to give the request")]),
            CommandSpec(["app", "rule", "list"], summary: "List your app-detection rules and the built-in ones"),
            CommandSpec(["app", "rule", "remove"], summary: "Remove one of your app-detection rules",
                        arguments: [ArgumentSpec("ID", help: "Rule id from 'app rule list'")]),
            CommandSpec(["usage"], summary: "Show requests and tokens per day, app, credential and model",
                        options: [OptionSpec("since", value: "YYYY-MM-DD", help: "First day to include (default: all)"),
                                  OptionSpec("by", value: "FIELD", help: "Sum by app, credential, model, upstream-model or day (default: every row)")]),
            CommandSpec(["tiers"], summary: "Show the model serving each tier, per provider"),
            CommandSpec(["tier", "set"], summary: "Set the model that serves a tier for a provider, or for one credential",
                        arguments: [ArgumentSpec("PROVIDER", .optional, help: "Provider kind (omit with --credential)"),
                                    ArgumentSpec("TIER", help: "One of: \(Tier.names)"), ArgumentSpec("MODEL", help: "Model name")],
                        options: [OptionSpec("credential", value: "NAME", help: "Set it for this credential only (wins over its provider's)")]),
            CommandSpec(["tier", "reset"], summary: "Go back to the default model for a tier",
                        arguments: [ArgumentSpec("PROVIDER", .optional, help: "Provider kind (omit with --credential)"),
                                    ArgumentSpec("TIER", help: "One of: \(Tier.names)")],
                        options: [OptionSpec("credential", value: "NAME", help: "Drop this credential's own model (its provider's applies)")]),
            CommandSpec(["alias", "set"], summary: "Serve requests for model NAME with MODEL, whatever credential they go to",
                        arguments: [ArgumentSpec("NAME", help: "The model name clients ask for"), ArgumentSpec("MODEL", help: "The model sent upstream")]),
            CommandSpec(["alias", "list"], summary: "List model aliases"),
            CommandSpec(["alias", "remove"], summary: "Remove a model alias", arguments: [ArgumentSpec("NAME", help: "The alias")]),
            CommandSpec(["classify"], summary: "Print the tier of a model name and the rule that decided it",
                        arguments: [ArgumentSpec("MODEL", help: "Model name, for example claude-haiku-4-5 or openai/gpt-4o-mini")]),
            CommandSpec(["tier", "rule", "add"], summary: "Classify model names by your own rule (tried before the built-in ones)",
                        arguments: [ArgumentSpec("PATTERN", help: "A word of the name (codex), or a prefix ending in '*' (my-model-*)"),
                                    ArgumentSpec("TIER", help: "One of: \(Tier.names)")]),
            CommandSpec(["tier", "rule", "list"], summary: "List your tier rules and the built-in ones"),
            CommandSpec(["tier", "rule", "remove"], summary: "Remove one of your tier rules",
                        arguments: [ArgumentSpec("ID", help: "Rule id from 'tier rule list'")]),
            CommandSpec(["free-models"], summary: "Turn routing of fast requests to free credentials on or off (default off)",
                        arguments: [ArgumentSpec("on|off|default", .optional, help: "Omit to show the current value; 'default' (with --app) drops the app's own setting")],
                        options: [OptionSpec("app", value: "APP", help: "Set it for one app only (wins over the default)")]),
            CommandSpec(["fallback"], summary: "Turn fallback from an app's chain to the whole pool on or off (default on)",
                        arguments: [ArgumentSpec("on|off", .optional, help: "Omit to show the current value")]),
            CommandSpec(["require-key"], summary: "Turn the local access key requirement on or off (default on)",
                        arguments: [ArgumentSpec("on|off", .optional, help: "Omit to show the current value")]),
        ],
        defaultCommand: ["status"],
        footer: """
            Run 'proxypoolctl COMMAND --help' for a command's options. See proxypoolctl(1).
            Exit status: 0 ok, 1 failure, 64 usage, 69 daemon unreachable, 77 permission denied.
            """)
}

/// sysexits-style exit codes, documented in proxypoolctl(1).
public enum ExitCode {
    public static let ok: Int32 = 0
    public static let failure: Int32 = 1
    public static let usage: Int32 = 64
    public static let unavailable: Int32 = 69
    public static let permission: Int32 = 77
}
