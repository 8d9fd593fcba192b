import ProxyPoolCore

/// One proxypoolctl verb, declared once in its noun's file under Commands/: how it is parsed and helped (the
/// spec that parsing, `--help` and the man-page test read), what a failure says, and what it does.
struct Verb: Sendable {
    let spec: CommandSpec
    /// The failure message's verb: "Failed to <phrase>: …".
    let phrase: String
    /// Take the arguments from the context's invocation, call the daemon, print.
    let run: @Sendable (Ctl.Context) throws -> Void

    init(_ words: [String], summary: String, arguments: [ArgumentSpec] = [], options: [OptionSpec] = [], discussion: String? = nil,
         phrase: String, run: @escaping @Sendable (Ctl.Context) throws -> Void) {
        spec = CommandSpec(words, summary: summary, arguments: arguments, options: options, discussion: discussion)
        self.phrase = phrase
        self.run = run
    }
}
