import Foundation
import Testing

/// The layering the folder tree promises, read from the `import` lines under Sources/: the no-I/O modules
/// (Core, Translation, the HTTP wire parsers, Providers) import no I/O module and no C library, Providers no
/// translation, and the CLI never reaches the store.
@Suite struct ImportBoundaryTests {
    /// The modules with sockets, files, threads or a C library behind them.
    static let ioModules: Set<String> = ["ProxyPoolSystem", "ProxyPoolHTTP", "ProxyPoolUpstream", "ProxyPoolStore",
                                         "ProxyPoolControl", "ProxyPoolDaemon", "ProxyPoolCtl",
                                         "CShims", "CCurl", "CSQLite", "CSystemd"]

    struct Rule: CustomStringConvertible {
        var module: String
        var forbidden: Set<String>
        /// A module that does not exist yet is skipped rather than failed (Providers arrives with issue 18).
        var mayBeAbsent = false
        var description: String { module }
    }

    static let rules: [Rule] = [
        Rule(module: "ProxyPoolCore", forbidden: ioModules.union(["ProxyPoolTranslation", "ProxyPoolHTTPWire", "ProxyPoolProviders"])),
        Rule(module: "ProxyPoolTranslation", forbidden: ioModules),
        Rule(module: "ProxyPoolHTTPWire", forbidden: ioModules),
        // Providers describe requests and tokens; the daemon carries them out. No I/O, and no translation either.
        Rule(module: "ProxyPoolProviders", forbidden: ioModules.union(["ProxyPoolTranslation"])),
        Rule(module: "ProxyPoolCtl", forbidden: ["ProxyPoolStore", "ProxyPoolDaemon"]),
    ]

    static let sources: String = {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir.deleteLastPathComponent() }   // Tests/ProxyPoolCoreTests/<file> → the repository
        return dir.appendingPathComponent("Sources").path
    }()

    /// The module each `import` line of a Swift source names (`import X`, `internal import X`,
    /// `@testable import X`, `import struct X.Y`, …), with the line number.
    static func imports(in text: String) -> [(line: Int, module: String)] {
        let kinds: Set<Substring> = ["struct", "class", "enum", "protocol", "typealias", "func", "var", "let"]
        let attributes: Set<Substring> = ["public", "package", "internal", "fileprivate", "private"]
        var out: [(Int, String)] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var words = raw.split(whereSeparator: { $0 == " " || $0 == "\t" })[...]
            while let w = words.first, w.hasPrefix("@") || attributes.contains(w) { words = words.dropFirst() }
            guard words.first == "import" else { continue }
            words = words.dropFirst()
            if let w = words.first, kinds.contains(w) { words = words.dropFirst() }
            guard let name = words.first?.split(separator: ".").first else { continue }
            out.append((n + 1, String(name)))
        }
        return out
    }

    @Test func theCheckerSeesEveryFormOfImport() {
        let text = """
            import Glibc
            internal import CCurl
              @testable import ProxyPoolStore
            public import struct ProxyPoolSystem.Mutex
            // import ProxyPoolDaemon (a comment)
            let important = 1
            """
        #expect(Self.imports(in: text).map(\.module) == ["Glibc", "CCurl", "ProxyPoolStore", "ProxyPoolSystem"])
        #expect(Self.imports(in: text).map(\.line) == [1, 2, 3, 4])
    }

    @Test(arguments: rules) func noForbiddenImport(_ rule: Rule) throws {
        let dir = Self.sources + "/" + rule.module
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            #expect(rule.mayBeAbsent, "Sources/\(rule.module) is missing: the rule would check nothing")
            return
        }
        let files = (FileManager.default.subpaths(atPath: dir) ?? []).filter { $0.hasSuffix(".swift") }
        #expect(!files.isEmpty, "no Swift sources under Sources/\(rule.module)")
        for file in files {
            let text = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
            for (line, module) in Self.imports(in: text) where rule.forbidden.contains(module) {
                Issue.record("Sources/\(rule.module)/\(file):\(line) imports \(module), which \(rule.module) must not")
            }
        }
    }

    /// Foundation is not linked into the binaries: its JSON coders were a third of the daemon's loaded bytes and
    /// idle memory (issue 12), and ProxyPoolCore/JSONCodable/ does their work. Tests may use it.
    @Test func noSourceImportsFoundation() throws {
        let foundation: Set<String> = ["Foundation", "FoundationEssentials", "FoundationInternationalization", "FoundationNetworking"]
        let files = (FileManager.default.subpaths(atPath: Self.sources) ?? []).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 100, "found only \(files.count) Swift sources under \(Self.sources)")
        for file in files {
            let text = try String(contentsOfFile: Self.sources + "/" + file, encoding: .utf8)
            for (line, module) in Self.imports(in: text) where foundation.contains(module) {
                Issue.record("Sources/\(file):\(line) imports \(module)")
            }
        }
    }
}
