import Foundation
import Glibc
import Testing
import ProxyPoolCore
import ProxyPoolControl

/// The units, man pages and protocol document are part of the product: check them like code.
@Suite struct PackagingTests {
    /// Copies of the units with ExecStart pointing at the built binary (verify insists that it exists).
    func unitCopies(_ names: [String]) throws -> String {
        let dir = makeTempDir("units")
        for n in names {
            let text = try String(contentsOfFile: Repo.root + "/systemd/" + n, encoding: .utf8)
            try text.replacingOccurrences(of: "/usr/bin/proxypoold", with: Repo.daemon)
                .write(toFile: dir + "/" + (n as NSString).lastPathComponent, atomically: true, encoding: .utf8)
        }
        return dir
    }

    func requireTool(_ path: String) -> Bool {
        if FileManager.default.isExecutableFile(atPath: path) { return true }
        Issue.record("\(path) is missing; .ci/run installs it")
        return false
    }

    @Test func systemUnitsVerifyWithoutAnyOutput() throws {
        guard requireTool("/usr/bin/systemd-analyze") else { return }
        let names = ["proxypoold.service", "proxypoold.socket", "proxypoold-control.socket"]
        let dir = try unitCopies(names)
        // verify exits 0 on most mistakes (unknown keys, bad values), so any output at all is a failure.
        // --man=no: the man pages are checked below, and are not installed on a build machine.
        let r = run("/usr/bin/systemd-analyze", ["verify", "--man=no"] + names.map { dir + "/" + $0 })
        #expect(r.status == 0 && r.stdout.isEmpty && r.stderr.isEmpty, "\(r.stdout)\(r.stderr)")
    }

    @Test func userUnitsVerifyWithoutAnyOutput() throws {
        guard requireTool("/usr/bin/systemd-analyze") else { return }
        let names = ["user/proxypoold.service", "user/proxypoold.socket", "user/proxypoold-control.socket"]
        let dir = try unitCopies(names)
        let runtime = makeTempDir("xdg")
        let r = run("/usr/bin/systemd-analyze", ["--user", "verify", "--man=no"] + names.map { dir + "/" + ($0 as NSString).lastPathComponent },
                    env: ["XDG_RUNTIME_DIR": runtime])
        #expect(r.status == 0 && r.stdout.isEmpty && r.stderr.isEmpty, "\(r.stdout)\(r.stderr)")
    }

    @Test func systemServiceExposureIsAtMost2() throws {
        guard requireTool("/usr/bin/systemd-analyze") else { return }
        let dir = try unitCopies(["proxypoold.service"])
        let r = run("/usr/bin/systemd-analyze", ["security", "--offline=yes", dir + "/proxypoold.service"])
        let line = r.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") } ?? ""
        // "→ Overall exposure level for proxypoold.service: 1.4 OK :-)" (the smiley is an emoji on a terminal)
        let score = line.components(separatedBy: "proxypoold.service: ").last?.split(separator: " ").first.flatMap { Double($0) }
        #expect(score != nil && score! <= 2.0, "\(line)\(r.stderr)")
    }

    /// One version: the man pages' headers name the one both binaries print (ProxyPoolVersion).
    @Test func manPagesCarryTheVersion() throws {
        for page in ["proxypoolctl.1", "proxypoold.8", "proxypoold.conf.5"] {
            let text = try String(contentsOfFile: Repo.root + "/man/" + page, encoding: .utf8)
            let th = text.split(separator: "\n").first { $0.hasPrefix(".TH ") } ?? ""
            #expect(th.contains("\"proxypool \(ProxyPoolVersion.string)\""), "\(page): \(th)")
        }
    }

    @Test func manPagesLintClean() throws {
        guard requireTool("/usr/bin/mandoc") else { return }
        for page in ["proxypoolctl.1", "proxypoold.8", "proxypoold.conf.5"] {
            let r = run("/usr/bin/mandoc", ["-T", "lint", "-W", "warning", Repo.root + "/man/" + page])
            #expect(r.status == 0 && r.stdout.isEmpty && r.stderr.isEmpty, "\(page): \(r.stdout)\(r.stderr)")
        }
    }

    @Test func everyVerbOfTheHelpIsInTheManPage() throws {
        guard requireTool("/usr/bin/mandoc") else { return }
        let page = run("/usr/bin/mandoc", ["-T", "utf8", Repo.root + "/man/proxypoolctl.1"]).stdout
            .replacingOccurrences(of: "\u{8}.", with: "", options: .regularExpression)   // drop overstrike bold/underline
        let help = run(Repo.ctl, ["--help"]).stdout
        let commandLines = help.components(separatedBy: "Commands:\n")[1].components(separatedBy: "\n\n")[0]
            .split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("    ") }
        #expect(commandLines.count >= 19)
        for line in commandLines {
            // The verb: the words before the first upper-case argument or bracket.
            let verb = line.split(separator: " ").prefix { $0.first!.isLowercase }.joined(separator: " ")
            #expect(page.contains(verb), "proxypoolctl(1) does not document '\(verb)'")
        }
        for option in ["--socket", "--json", "--key-stdin", "--key-file", "--key-env", "--force", "--app", "--free"] {
            #expect(page.contains(option), "proxypoolctl(1) does not document \(option)")
        }
        for code in ["64", "69", "77"] { #expect(page.contains(code)) }
    }

    @Test func everyControlMethodIsDocumented() throws {
        let doc = try String(contentsOfFile: Repo.root + "/docs/control-protocol.md", encoding: .utf8)
        // The protocol's own list (ProtocolDocMethodsTests pins it), so a new method fails here until documented.
        let methods = RPC.allNames
        for m in methods { #expect(doc.contains("### `\(m)`"), "docs/control-protocol.md lacks \(m)") }
        let documented = doc.split(separator: "\n").filter { $0.hasPrefix("### `") }.count
        #expect(documented == methods.count, "the doc lists a method the daemon does not have, or misses one")
        for name in ["parse-error", "invalid-request", "method-not-found", "invalid-params", "permission-denied", "not-found",
                     "already-exists", "in-use", "too-large", "busy", "store-failure", "read-only", "internal-error"] {
            #expect(doc.contains(name), "the error \(name) is not documented")
        }
    }

    @Test func everyConfigKeyIsDocumented() throws {
        let page = try String(contentsOfFile: Repo.root + "/man/proxypoold.conf.5", encoding: .utf8)
        for key in DaemonConfig.Key.allCases.map(\.rawValue) {
            #expect(page.contains(key.replacingOccurrences(of: "-", with: "\\-")) || page.contains(key), "proxypoold.conf(5) lacks \(key)")
        }
    }
}
