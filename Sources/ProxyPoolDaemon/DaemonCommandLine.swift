import ProxyPoolCore

/// proxypoold's flags. Each flag is also a config-file key (`DaemonConfig.Key`), except --config itself.
public enum DaemonCommandLine {
    public static let version = ProxyPoolVersion.string

    public static let spec = CommandLineSpec(
        program: "proxypoold",
        summary: "the proxypool daemon: one local endpoint for every AI coding tool",
        globalOptions: [],
        commands: [CommandSpec([], summary: "Run the daemon in the foreground", options: [
            OptionSpec("listen", value: "HOST:PORT", help: "Proxy listen address (default 127.0.0.1:8081; loopback only unless the config allows more)"),
            OptionSpec("state-dir", value: "DIR", help: "Where the store lives (default: $STATE_DIRECTORY, /var/lib/proxypool as root, else $XDG_STATE_HOME/proxypool)"),
            OptionSpec("control-socket", value: "PATH", help: "Control socket (default: $RUNTIME_DIRECTORY/control.sock, /run/proxypool/control.sock as root, else $XDG_RUNTIME_DIR/proxypool/control.sock)"),
            OptionSpec("config", value: "FILE", help: "Config file (default /etc/proxypool/proxypoold.conf as root, else $XDG_CONFIG_HOME/proxypool/proxypoold.conf; a missing default file is fine)"),
            OptionSpec("log-level", value: "LEVEL", help: "error, warning, notice, info (default) or debug"),
        ], discussion: """
            Logs go to the journal when run by systemd, else to stderr. SIGHUP reloads the config file;
            SIGTERM and SIGINT stop the daemon after in-flight work finishes. See proxypoold(8) and proxypoold.conf(5).
            """)],
        defaultCommand: nil,
        footer: "Manage it with proxypoolctl(1).")
}
