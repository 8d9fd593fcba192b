/// A small declarative command-line parser. Each command is declared once (words, arguments, options, help);
/// parsing and `--help` both read the same declarations, so the help cannot drift from what is accepted.
public struct OptionSpec: Sendable {
    public var long: String
    public var short: Character?
    /// The value's placeholder (`PATH`); nil for a flag that takes no value.
    public var value: String?
    public var help: String
    public var repeatable: Bool
    /// Accepted but left out of `--help` (options for proxypool's own tests).
    public var hidden: Bool
    /// The value may be left out (`--adc` or `--adc=FILE`): given only after `=`, as getopt's optional
    /// arguments are, so a following word is never taken for it.
    public var optionalValue: Bool

    public init(_ long: String, short: Character? = nil, value: String? = nil, optionalValue: Bool = false, repeatable: Bool = false,
                hidden: Bool = false, help: String) {
        self.long = long; self.short = short; self.value = value; self.help = help; self.repeatable = repeatable; self.hidden = hidden
        self.optionalValue = optionalValue && value != nil
    }

    var display: String {
        (short.map { "-\($0), " } ?? "") + "--\(long)" + (value.map { optionalValue ? "[=\($0)]" : " \($0)" } ?? "")
    }
}

public struct ArgumentSpec: Sendable {
    public enum Arity: Sendable { case required, optional, oneOrMore }
    public var name: String
    public var arity: Arity
    public var help: String
    public init(_ name: String, _ arity: Arity = .required, help: String) { self.name = name; self.arity = arity; self.help = help }

    var display: String {
        switch arity {
        case .required: return name
        case .optional: return "[\(name)]"
        case .oneOrMore: return "\(name) [\(name)…]"
        }
    }
}

public struct CommandSpec: Sendable {
    public var words: [String]
    public var summary: String
    public var arguments: [ArgumentSpec]
    public var options: [OptionSpec]
    public var discussion: String?

    public init(_ words: [String], summary: String, arguments: [ArgumentSpec] = [], options: [OptionSpec] = [],
                discussion: String? = nil) {
        self.words = words; self.summary = summary; self.arguments = arguments; self.options = options; self.discussion = discussion
    }

    public var name: String { words.joined(separator: " ") }
    var synopsis: String { ([name] + arguments.map(\.display)).filter { !$0.isEmpty }.joined(separator: " ") }
}

/// The outcome of parsing: values by argument name or option long name.
public struct Invocation: Sendable {
    public var command: CommandSpec
    public var values: [String: [String]] = [:]
    public var flags: Set<String> = []

    public func value(_ name: String) -> String? { values[name]?.last }
    public func all(_ name: String) -> [String] { values[name] ?? [] }
    public func flag(_ name: String) -> Bool { flags.contains(name) }
}

public struct UsageError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// The command whose help would explain the mistake.
    public var command: String?
    public init(_ message: String, command: String? = nil) { self.message = message; self.command = command }
    public var description: String { message }
}

public enum ParseOutcome: Sendable {
    case run(Invocation)
    case help(String)
    case version
}

public struct CommandLineSpec: Sendable {
    public var program: String
    public var summary: String
    public var globalOptions: [OptionSpec]
    public var commands: [CommandSpec]
    /// Words of the command run when none is given (`status`); nil: the program has no commands.
    public var defaultCommand: [String]?
    public var footer: String

    public init(program: String, summary: String, globalOptions: [OptionSpec], commands: [CommandSpec],
                defaultCommand: [String]?, footer: String) {
        self.program = program; self.summary = summary; self.globalOptions = globalOptions
        self.commands = commands; self.defaultCommand = defaultCommand; self.footer = footer
    }

    static let builtin: [OptionSpec] = [
        OptionSpec("help", short: "h", help: "Show this help and exit"),
        OptionSpec("version", help: "Show the version and exit"),
    ]

    // MARK: Parsing

    public func parse(_ args: [String]) throws(UsageError) -> ParseOutcome {
        // Split the words of the command from everything else, allowing global options before it.
        var rest = args[...]
        var leading: [String] = []
        while let a = rest.first, a.hasPrefix("-"), a != "-", a != "--" {
            leading.append(a); rest = rest.dropFirst()
            if let opt = findOption(a, in: globalOptions), opt.value != nil, !opt.optionalValue, !a.contains("=") {
                guard let v = rest.first else { throw UsageError("option --\(opt.long) needs a value (\(opt.value!))") }
                leading.append(v); rest = rest.dropFirst()
            }
        }
        var command: CommandSpec?
        var matchedWords: [String] = []
        let words = Array(rest.prefix(while: { !$0.hasPrefix("-") }))
        for c in commands where !c.words.isEmpty && words.starts(with: c.words) && c.words.count > matchedWords.count {
            command = c; matchedWords = c.words
        }
        if command == nil {
            if commands.count == 1 && commands[0].words.isEmpty {
                command = commands[0]
            } else if let w = words.first {
                let group = commands.filter { $0.words.first == w && $0.words.count > 1 }
                if !group.isEmpty {
                    if args.contains("--help") || args.contains("-h") { return .help(groupHelp(w)) }
                    let subs = group.map { $0.words.dropFirst().joined(separator: " ") }.joined(separator: ", ")
                    let got = words.count > 1 ? "unknown subcommand '\(words[1])'" : "missing subcommand"
                    throw UsageError("\(w): \(got); use one of: \(subs)", command: w)
                }
                throw UsageError("unknown command '\(w)'")
            } else if let d = defaultCommand {
                // `prog --help` with no command is a request for the overview, not for the default command's help.
                if args.contains("--help") || args.contains("-h") { return .help(overview()) }
                command = commands.first { $0.words == d }
            }
        }
        guard let cmd = command else { throw UsageError("no command given") }
        let tail = leading + Array(rest.dropFirst(matchedWords.count))
        return try parse(tail, for: cmd)
    }

    private func parse(_ args: [String], for cmd: CommandSpec) throws(UsageError) -> ParseOutcome {
        var inv = Invocation(command: cmd)
        var positionals: [String] = []
        let options = cmd.options + globalOptions + Self.builtin
        var i = 0
        var onlyPositionals = false
        while i < args.count {
            let a = args[i]; i += 1
            if onlyPositionals || !a.hasPrefix("-") || a == "-" { positionals.append(a); continue }
            if a == "--" { onlyPositionals = true; continue }
            guard let opt = findOption(a, in: options) else {
                throw UsageError("unknown option '\(a.split(separator: "=").first!)'" + (cmd.name.isEmpty ? "" : " for '\(cmd.name)'"),
                                 command: cmd.name)
            }
            if opt.long == "help" { return .help(help(for: cmd)) }
            if opt.long == "version" { return .version }
            let inline: String? = a.firstIndex(of: "=").map { String(a[a.index(after: $0)...]) }
            if opt.value == nil || (opt.optionalValue && inline == nil) {
                guard inline == nil else { throw UsageError("option --\(opt.long) takes no value", command: cmd.name) }
                inv.flags.insert(opt.long)
                continue
            }
            if opt.optionalValue, inline?.isEmpty == true {
                throw UsageError("option --\(opt.long)= needs a value after '=' (\(opt.value!)), or none at all", command: cmd.name)
            }
            let v: String
            if let inline { v = inline } else {
                guard i < args.count else { throw UsageError("option --\(opt.long) needs a value (\(opt.value!))", command: cmd.name) }
                v = args[i]; i += 1
            }
            if inv.values[opt.long] != nil && !opt.repeatable {
                throw UsageError("option --\(opt.long) given more than once", command: cmd.name)
            }
            inv.values[opt.long, default: []].append(v)
        }
        var p = positionals[...]
        for (n, arg) in cmd.arguments.enumerated() {
            switch arg.arity {
            case .required:
                guard let v = p.popFirst() else { throw UsageError("missing argument \(arg.name)", command: cmd.name) }
                inv.values[arg.name] = [v]
            case .optional:
                // An optional argument before required ones ("[PROVIDER] TIER MODEL") takes a value only when
                // there are more values than the required arguments after it need.
                let requiredAfter = cmd.arguments[(n + 1)...].filter { $0.arity != .optional }.count
                if p.count > requiredAfter, let v = p.popFirst() { inv.values[arg.name] = [v] }
            case .oneOrMore:
                guard !p.isEmpty else { throw UsageError("missing argument \(arg.name)", command: cmd.name) }
                assert(n == cmd.arguments.count - 1, "a variadic argument must come last")
                inv.values[arg.name] = Array(p); p = []
            }
        }
        if let extra = p.first { throw UsageError("unexpected argument '\(extra)'", command: cmd.name) }
        return .run(inv)
    }

    private func findOption(_ arg: String, in options: [OptionSpec]) -> OptionSpec? {
        if arg.hasPrefix("--") {
            let name = arg.dropFirst(2).split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            return options.first { $0.long == name }
        }
        guard arg.count == 2, let c = arg.last else { return nil }
        return options.first { $0.short == c }
    }

    // MARK: Help

    public func overview() -> String {
        var out = "\(program) — \(summary)\n\n"
        if commands.count == 1 && commands[0].words.isEmpty { return help(for: commands[0]) }
        out += "Usage: \(program) [OPTIONS] COMMAND [ARGS…]\n\nCommands:\n"
        let width = min(34, (commands.map { $0.synopsis.count }.max() ?? 0) + 2)
        for c in commands { out += row(c.synopsis, c.summary, width: width) }
        out += "\nOptions:\n" + table(globalOptions + Self.builtin)
        if !footer.isEmpty { out += "\n" + footer + "\n" }
        return out
    }

    public func help(for cmd: CommandSpec) -> String {
        if cmd.words.isEmpty && commands.count == 1 {
            var out = "\(program) — \(summary)\n\nUsage: \(program) [OPTIONS]\n"
            if let d = cmd.discussion { out += "\n" + d + "\n" }
            out += "\nOptions:\n" + table(cmd.options + globalOptions + Self.builtin)
            if !footer.isEmpty { out += "\n" + footer + "\n" }
            return out
        }
        let opts = cmd.options.isEmpty ? "" : " [OPTIONS]"
        var out = "Usage: \(program) \(cmd.synopsis)\(opts)\n\n\(cmd.summary).\n"
        if let d = cmd.discussion { out += "\n" + d + "\n" }
        if !cmd.arguments.isEmpty {
            out += "\nArguments:\n"
            let width = max(16, (cmd.arguments.map { $0.name.count }.max() ?? 0) + 4)
            for a in cmd.arguments { out += row(a.name, a.help, width: width) }
        }
        if !cmd.options.isEmpty { out += "\nOptions:\n" + table(cmd.options) }
        out += "\nGlobal options:\n" + table(globalOptions + Self.builtin)
        return out
    }

    func groupHelp(_ word: String) -> String {
        let group = commands.filter { $0.words.first == word }
        var out = "Usage: \(program) \(word) SUBCOMMAND [ARGS…]\n\nSubcommands:\n"
        let width = min(34, (group.map { $0.synopsis.count }.max() ?? 0) + 2)
        for c in group { out += row(c.synopsis, c.summary, width: width) }
        out += "\nRun '\(program) \(word) SUBCOMMAND --help' for a subcommand's options.\n"
        return out
    }

    public func command(named words: [String]) -> CommandSpec? { commands.first { $0.words == words } }

    private func table(_ all: [OptionSpec]) -> String {
        let options = all.filter { !$0.hidden }
        let width = max(24, (options.map { $0.display.count }.max() ?? 0) + 4)
        return options.map { row($0.display, $0.help, width: width) }.joined()
    }

    private func row(_ left: String, _ right: String, width: Int) -> String {
        let pad = left.count + 2 > width ? "\n" + String(repeating: " ", count: width + 2) : String(repeating: " ", count: width - left.count)
        return "  \(left)\(pad)\(right)\n"
    }
}
