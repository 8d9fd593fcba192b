import ProxyPoolCore

/// Every verb of proxypoolctl, declared once in its noun's file under Commands/: parsing, `--help` and the
/// man-page check all read this table.
public enum CtlCommandLine {
    /// Every verb, in the order `--help` lists them.
    static let verbs: [Verb] = StatusCommands.verbs + CredentialCommands.verbs + ImportCommands.verbs + LoginCommands.verbs
        + AssignCommands.verbs + KeyCommands.verbs
        + AppCommands.verbs + UsageCommands.verbs + TierCommands.models + AliasCommands.verbs + TierCommands.rules
        + SettingsCommands.verbs + DashboardCommands.verbs + ChatCommands.verbs + ConfigureCommands.verbs

    public static let spec = CommandLineSpec(
        program: "proxypoolctl",
        summary: "control the proxypool daemon",
        globalOptions: [
            OptionSpec("socket", value: "PATH", help: "Control socket of the daemon (env PROXYPOOL_SOCKET)"),
            OptionSpec("json", help: "Print machine-readable JSON"),
        ],
        commands: verbs.map(\.spec),
        defaultCommand: ["status"],
        footer: """
            Run 'proxypoolctl COMMAND --help' for a command's options. See proxypoolctl(1).
            Exit status: 0 ok, 1 failure, 64 usage, 69 daemon unreachable, 77 permission denied.
            """)

    /// The verb a parsed command line names.
    static func verb(for command: CommandSpec) -> Verb? { verbs.first { $0.spec.words == command.words } }
}

/// sysexits-style exit codes, documented in proxypoolctl(1).
public enum ExitCode {
    public static let ok: Int32 = 0
    public static let failure: Int32 = 1
    public static let usage: Int32 = 64
    public static let unavailable: Int32 = 69
    public static let permission: Int32 = 77
}
