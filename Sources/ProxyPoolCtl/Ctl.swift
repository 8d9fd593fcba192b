import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolControl

/// proxypoolctl: parse, call the daemon through the typed client, print. Nothing here writes protocol frames.
public enum Ctl {
    public static let version = ProxyPoolVersion.string

    struct Failure: Error {
        var message: String
        var hint: String?
        var code: Int32
    }

    public static func main(_ args: [String]) -> Int32 {
        cshimsLineBufferStdout()
        let inv: Invocation
        do {
            switch try CtlCommandLine.spec.parse(args) {
            case .help(let text): Output.out(text); return ExitCode.ok
            case .version: Output.out("proxypoolctl \(version)\n"); return ExitCode.ok
            case .run(let i): inv = i
            }
        } catch {
            let help = error.command.map { "proxypoolctl \($0) --help" } ?? "proxypoolctl --help"
            Output.err("proxypoolctl: \(error.message)\nTry '\(help)'.\n")
            return ExitCode.usage
        }
        // Parsing only yields commands of the table, so every invocation has its verb.
        guard let verb = CtlCommandLine.verb(for: inv.command) else { return ExitCode.usage }
        let ctx = Context(invocation: inv)
        do {
            try verb.run(ctx)
            return ExitCode.ok
        } catch let f as Failure {
            Output.err("Failed to \(verb.phrase): \(f.message)\n" + (f.hint.map { "Hint: \($0)\n" } ?? ""))
            return f.code
        } catch {
            Output.err("Failed to \(verb.phrase): \(error)\n")
            return ExitCode.failure
        }
    }

    /// What a verb needs: its arguments, the output mode and a connection made on first use.
    final class Context {
        let invocation: Invocation
        let json: Bool
        let socketPath: String
        private var client: ControlClient?

        init(invocation: Invocation) {
            self.invocation = invocation
            json = invocation.flag("json")
            socketPath = invocation.value("socket") ?? DefaultPaths.clientSocket()
        }

        func call<M: RPCMethod>(_ m: M.Type, _ params: M.Params) throws -> M.Result {
            do {
                if client == nil { client = try ControlClient(path: socketPath) }
                return try client!.call(m, params)
            } catch {
                throw Ctl.failure(error, socketPath: socketPath)
            }
        }

        func call<M: RPCMethod>(_ m: M.Type) throws -> M.Result where M.Params == NoParams { try call(m, NoParams()) }
    }

    static func failure(_ e: ControlClientError, socketPath: String) -> Failure {
        switch e {
        case .unreachable(let path, let reason):
            return Failure(message: "cannot reach proxypoold at \(path): \(reason)",
                           hint: "is proxypoold running? Start it with 'systemctl --user start proxypoold' (or 'make run' in the source tree), or point --socket or PROXYPOOL_SOCKET at its control socket.",
                           code: ExitCode.unavailable)
        case .permissionDenied(let path, let reason):
            return Failure(message: reason,
                           hint: path == "/run/proxypool/control.sock"
                               ? "only root and members of group 'proxypool' may use the system daemon's \(path); or run a daemon of your own: systemctl --user start proxypoold."
                               : "only root, the user running proxypoold and, for the system daemon, members of group 'proxypool' may use \(path).",
                           code: ExitCode.permission)
        case .untrusted:
            return Failure(message: e.description,
                           hint: "another user may have put it there to receive what you send; nothing was sent. Remove it if it is not yours, and use your daemon's socket ($XDG_RUNTIME_DIR/proxypool/control.sock in a login session), or point --socket or PROXYPOOL_SOCKET at it.",
                           code: ExitCode.permission)
        case .rpc(let r):
            // A read-only caller asking for a change is refused like any other permission (sysexits 77).
            return Failure(message: r.message, hint: r.data?.hint, code: r.name == "read-only" ? ExitCode.permission : ExitCode.failure)
        case .protocolError(let m):
            return Failure(message: m, hint: nil, code: ExitCode.failure)
        }
    }

    static func usage(_ message: String) -> Failure { Failure(message: message, hint: nil, code: ExitCode.usage) }
}

internal import CShims
private func cshimsLineBufferStdout() { cshims_line_buffer_stdout() }
