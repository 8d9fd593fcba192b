import Testing
import Glibc
@testable import ProxyPoolStore
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolProviders

func tempDir() -> String {
    var template = Array("/tmp/proxypool-store-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

func mode(_ path: String) -> mode_t {
    var st = stat()
    stat(path, &st)
    return st.st_mode & 0o777
}

func addParams(_ name: String, secret: String = "sk-proj-0123456789abcdefghij", provider: String = "openai") -> RPC.CredentialAdd.Params {
    .init(name: name, provider: provider, secret: secret)
}

@Suite struct StoreModeTests {
    @Test func createsPrivateDirectoryAndFile() throws {
        let dir = tempDir() + "/nested/state"
        let store = try Store(directory: dir)
        _ = try store.addCredential(addParams("a"))   // makes the WAL exist
        #expect(mode(dir) == 0o700)
        #expect(mode(store.path) == 0o600)
        #expect(mode(store.path + "-wal") == 0o600)
        #expect(store.openingNotes.isEmpty)
    }

    @Test func repairsLooseModesWithNotes() throws {
        let dir = tempDir()
        do { _ = try Store(directory: dir) }
        chmod(dir, 0o755)
        chmod(dir + "/proxypool.db", 0o644)
        let store = try Store(directory: dir)
        #expect(mode(dir) == 0o700 && mode(store.path) == 0o600)
        #expect(store.openingNotes.count == 2)
        #expect(store.openingNotes.contains { $0.contains("mode 0755") && $0.contains("0700") })
        #expect(store.openingNotes.contains { $0.contains("mode 0644") && $0.contains("0600") })
    }

    @Test func refusesAFileWhereTheDirectoryShouldBe() throws {
        let dir = tempDir() + "/file"
        close(open(dir, O_CREAT | O_WRONLY, 0o600))
        #expect(throws: RPCError.self) { try Store(directory: dir) }
    }
}

@Suite struct StoreMigrationTests {
    @Test func migratesOnceAndReopens() throws {
        let dir = tempDir()
        let s1 = try Store(directory: dir)
        #expect(s1.schemaVersion == Migrations.steps.count)
        _ = try s1.addCredential(addParams("kept"))
        let s2 = try Store(directory: dir)
        #expect(s2.schemaVersion == Migrations.steps.count)
        #expect(try s2.credentials().map(\.name) == ["kept"])
    }

    @Test func refusesANewerSchema() throws {
        let dir = tempDir()
        let db = try Database(path: dir + "/proxypool.db")
        try db.execute("PRAGMA user_version = 999")
        #expect(throws: RPCError.self) { try Store(directory: dir) }
        do { _ = try Store(directory: dir) } catch { #expect(error.message.contains("newer than this proxypool knows")) }
    }

    @Test func schemaHasForeignKeysAndWAL() throws {
        let store = try Store(directory: tempDir())
        let fk = try store.locked { () throws(RPCError) in try store.dbForTests.query("PRAGMA foreign_keys", [], { $0.int(0) }) }
        let jm = try store.locked { () throws(RPCError) in try store.dbForTests.query("PRAGMA journal_mode", [], { $0.text(0) }) }
        #expect(fk == [1] && jm == ["wal"])
    }
}

@Suite struct StoreCredentialTests {
    @Test func addListShowRemove() throws {
        let store = try Store(directory: tempDir())
        let c = try store.addCredential(.init(name: "az", provider: "azure-openai", secret: "  0123456789abcdef0123\n",
                                              baseURL: "https://r.openai.azure.com", options: ["api-version": "2024-10-21", "deployment": "d"],
                                              free: true))
        #expect(c.provider == .azureOpenAI && c.free && c.enabled && c.secretRedacted == "…0123" && c.options["deployment"] == "d")
        #expect(try store.routes().first { $0.name == "az" }?.secret == "0123456789abcdef0123", "the secret is stored trimmed")
        #expect(try store.credential("az") == c)
        #expect(throws: RPCError.alreadyExists("a credential named 'az' already exists; remove it first to replace its secret")) {
            try store.addCredential(addParams("az"))
        }
        #expect(try store.removeCredential("az", force: false) == [])
        #expect(try store.credentials().isEmpty)
        #expect(throws: RPCError.self) { try store.credential("az") }
    }

    @Test(arguments: [
        (RPC.CredentialAdd.Params(name: "x", provider: "nope", secret: "k"), "unknown provider"),
        (RPC.CredentialAdd.Params(name: "x", provider: "azure-openai", secret: "k"), "needs --base-url"),
        (RPC.CredentialAdd.Params(name: "x", provider: "openai-compatible", secret: "k"), "needs --base-url"),
        (RPC.CredentialAdd.Params(name: "x", provider: "vertex", secret: "k", options: ["project": "p"]), "needs --location"),
        (RPC.CredentialAdd.Params(name: "x", provider: "openai", secret: "k", options: ["deployment": "d"]), "does not apply to openai"),
        (RPC.CredentialAdd.Params(name: "x", provider: "azure-openai", secret: "k", baseURL: "https://r.openai.azure.com"), "needs --api-version"),
        (RPC.CredentialAdd.Params(name: "bad name", provider: "openai", secret: "k"), "may hold only"),
        (RPC.CredentialAdd.Params(name: "x", provider: "openai", secret: "   "), "empty"),
        (RPC.CredentialAdd.Params(name: "x", provider: "openai", secret: "k", options: ["api": "completions"]), "must be chat or responses"),
        (RPC.CredentialAdd.Params(name: "x", provider: "anthropic", secret: "k", options: ["api": "chat"]), "does not apply to anthropic"),
        (RPC.CredentialAdd.Params(name: "x", provider: "gemini", secret: "k", options: ["max-output-tokens": "0"]), "from 1 to 10000000"),
        (RPC.CredentialAdd.Params(name: "x", provider: "gemini", secret: "k", options: ["max-output-tokens": "4k"]), "from 1 to 10000000"),
        (RPC.CredentialAdd.Params(name: "x", provider: "openai", secret: "k", options: ["organization": "org-1\n"]), "option 'organization' must be one line"),
        (RPC.CredentialAdd.Params(name: "x", provider: "openai", secret: "k", options: ["project": "p\r\nX-Injected: 1"]), "option 'project' must be one line"),
        (RPC.CredentialAdd.Params(name: "x", provider: "anthropic", secret: "k", options: ["anthropic-version": "2023-06-01\t"]), "without control characters"),
        (RPC.CredentialAdd.Params(name: "x", provider: "gemini", secret: "k", options: ["ca-file": "/etc/ca\u{2028}.pem"]), "option 'ca-file' must be one line"),
        (RPC.CredentialAdd.Params(name: "x", provider: "gemini", secret: "k", options: ["ca-file": String(repeating: "a", count: 2049)]), "at most 2048"),
    ])
    func rejectsInvalidCredentials(params: RPC.CredentialAdd.Params, message: String) throws {
        let store = try Store(directory: tempDir())
        do { _ = try store.addCredential(params); Issue.record("accepted \(params.name)") } catch {
            #expect(error.name == "invalid-params" && error.message.contains(message), "\(error.message)")
        }
        #expect(try store.credentials().isEmpty, "nothing half-written")
    }

    @Test func azureV1FormNeedsNoAPIVersion() throws {
        let store = try Store(directory: tempDir())
        _ = try store.addCredential(.init(name: "az", provider: "azure-openai", secret: "k123456789", baseURL: "https://r.openai.azure.com/openai/v1"))
    }

    @Test func enableDisable() throws {
        let store = try Store(directory: tempDir())
        _ = try store.addCredential(addParams("a"))
        #expect(try store.setEnabled("a", false).enabled == false)
        #expect(try store.counts().enabled == 0)
        #expect(try store.setEnabled("a", true).enabled)
        #expect(throws: RPCError.self) { try store.setEnabled("missing", true) }
    }
}

@Suite struct StoreAssignmentTests {
    func storeWith(_ names: [String]) throws -> Store {
        let store = try Store(directory: tempDir())
        for n in names { _ = try store.addCredential(addParams(n)) }
        return store
    }

    @Test func keepsOrderAndReplaces() throws {
        let store = try storeWith(["a", "b", "c"])
        _ = try store.assign(Assignment(app: "codex", credentials: ["c", "a", "b"]))
        _ = try store.assign(Assignment(app: "claude-code", credentials: ["b"]))
        #expect(try store.assignments() == [Assignment(app: "claude-code", credentials: ["b"]), Assignment(app: "codex", credentials: ["c", "a", "b"])])
        _ = try store.assign(Assignment(app: "codex", credentials: ["b", "c"]))
        #expect(try store.assignments().first { $0.app == "codex" }?.credentials == ["b", "c"])
        #expect(try store.credential("b").assignedTo == ["claude-code", "codex"])
    }

    @Test func rejectsUnknownAndDuplicateWithoutChangingTheChain() throws {
        let store = try storeWith(["a", "b"])
        _ = try store.assign(Assignment(app: "codex", credentials: ["a"]))
        #expect(throws: RPCError.self) { try store.assign(Assignment(app: "codex", credentials: ["b", "ghost"])) }
        #expect(throws: RPCError.self) { try store.assign(Assignment(app: "codex", credentials: ["a", "a"])) }
        #expect(throws: RPCError.self) { try store.assign(Assignment(app: "codex", credentials: [])) }
        #expect(try store.assignments() == [Assignment(app: "codex", credentials: ["a"])], "a failed change rolls back")
    }

    @Test func removingAnAssignedCredentialNeedsForceAndKeepsChainsDense() throws {
        let store = try storeWith(["a", "b", "c"])
        _ = try store.assign(Assignment(app: "codex", credentials: ["a", "b", "c"]))
        do { _ = try store.removeCredential("b", force: false); Issue.record("removed an assigned credential") } catch {
            #expect(error.name == "in-use" && error.data?.hint?.contains("--force") == true)
        }
        #expect(try store.removeCredential("b", force: true) == ["codex"])
        #expect(try store.assignments() == [Assignment(app: "codex", credentials: ["a", "c"])])
        _ = try store.removeCredential("a", force: true)
        _ = try store.removeCredential("c", force: true)
        #expect(try store.assignments().isEmpty, "an app whose chain is empty has no assignment")
    }

    @Test func unassign() throws {
        let store = try storeWith(["a"])
        _ = try store.assign(Assignment(app: "codex", credentials: ["a"]))
        try store.unassign("codex")
        #expect(try store.assignments().isEmpty)
        #expect(throws: RPCError.self) { try store.unassign("codex") }
    }
}

@Suite struct StoreKeysTiersSettingsTests {
    @Test func keysAreStoredHashedOnly() throws {
        let dir = tempDir()
        let store = try Store(directory: dir)
        let k = try store.createKey(app: "codex")
        #expect(try store.keyHashes()[AccessKeys.hash(k.key)]?.app == "codex")
        #expect(try store.keyHashes()[AccessKeys.hash(k.key + "x")] == nil)
        #expect(try store.keys().map(\.id) == [k.id])
        #expect(try store.keys().first?.suffix == String(k.key.suffix(4)))
        // Neither the database nor its WAL holds the key itself.
        for f in [store.path, store.path + "-wal"] {
            let bytes = (try? readAll(f)) ?? []
            #expect(!contains(bytes, Array(k.key.utf8)), "\(f) holds the plain key")
            _ = bytes
        }
        try store.revokeKey(k.id)
        #expect(try store.keyHashes()[AccessKeys.hash(k.key)] == nil)
        #expect(throws: RPCError.self) { try store.revokeKey(k.id) }
    }

    @Test func tiersDefaultOverrideReset() throws {
        let store = try Store(directory: tempDir())
        let all = try store.tiers()
        #expect(all.count == ProviderKind.allCases.count * Tier.allCases.count)
        #expect(all.first { $0.provider == .anthropic && $0.tier == .fast }?.model == Providers.of(.anthropic).tierDefault(.fast))
        let set = try store.setTier(.init(provider: "anthropic", tier: "fast", model: "claude-haiku-9"))
        #expect(set.model == "claude-haiku-9" && set.source == .user)
        let reset = try store.setTier(.init(provider: "anthropic", tier: "fast", model: nil))
        #expect(reset.source == .builtin && reset.model == Providers.of(.anthropic).tierDefault(.fast))
        #expect(throws: RPCError.self) { try store.setTier(.init(provider: "nope", tier: "fast", model: "m")) }
        #expect(throws: RPCError.self) { try store.setTier(.init(provider: "openai", tier: "huge", model: "m")) }
        #expect(throws: RPCError.self) { try store.setTier(.init(provider: "openai", tier: "fast", model: "two words")) }
    }

    @Test func settingsDefaultsAndChanges() throws {
        let dir = tempDir()
        let store = try Store(directory: dir)
        #expect(try store.settings() == Settings(freeModels: false, fallbackToPool: true, requireAccessKey: true))
        _ = try store.setSetting(.freeModels, true)
        _ = try store.setSetting(.fallbackToPool, false)
        #expect(try Store(directory: dir).settings() == Settings(freeModels: true, fallbackToPool: false, requireAccessKey: true))
    }

    @Test func usageCountersAccumulate() throws {
        let store = try Store(directory: tempDir())
        func delta(_ errors: Int64, _ i: Int64, _ o: Int64, _ c: Int64) -> Store.UsageDelta {
            Store.UsageDelta(day: "2026-11-25", app: "codex", credential: "a", model: "m", upstreamModel: "m", requests: 1, errors: errors, input: i, output: o, cached: c)
        }
        for d in [delta(0, 10, 5, 2), delta(1, 1, 0, 0)] {
            try store.applyProxyBatch(cooldownsSet: [], cooldownsCleared: [], usage: [d], apps: [], keysUsed: [])
        }
        let rows = try store.locked { () throws(RPCError) in
            try store.dbForTests.query("SELECT requests, errors, input_tokens, output_tokens, cached_tokens FROM usage", [], { st in
                (0..<5).map { st.int(Int32($0)) ?? -1 }
            })
        }
        #expect(rows == [[2, 1, 11, 5, 2]])
    }
}

@Suite struct StoreConcurrencyTests {
    /// Two connections (as two processes would have) writing at once: every write lands, nothing is corrupted.
    @Test func concurrentWritersFromTwoConnections() throws {
        let dir = tempDir()
        let a = try Store(directory: dir), b = try Store(directory: dir)
        let done = Mutexed(0)
        let errors = Mutexed([String]())
        for (store, prefix) in [(a, "a"), (b, "b")] {
            spawnThread {
                for i in 0..<60 {
                    do { _ = try store.addCredential(addParams("\(prefix)-\(i)")) } catch { errors.update { $0.append("\(error)") } }
                }
                done.update { $0 += 1 }
            }
        }
        let deadline = time(nil) + 60
        while done.value < 2 && time(nil) < deadline { usleep(10_000) }
        #expect(errors.value.isEmpty, "\(errors.value.prefix(3))")
        #expect(try a.credentials().count == 120)
        #expect(try b.integrityCheck() == "ok")
    }
}

final class Mutexed<T>: @unchecked Sendable {
    private var v: T
    private var m = pthread_mutex_t()
    init(_ v: T) { self.v = v; pthread_mutex_init(&m, nil) }
    var value: T { pthread_mutex_lock(&m); defer { pthread_mutex_unlock(&m) }; return v }
    func update(_ f: (inout T) -> Void) { pthread_mutex_lock(&m); f(&v); pthread_mutex_unlock(&m) }
}

final class ThreadBody { let f: () -> Void; init(_ f: @escaping () -> Void) { self.f = f } }

func spawnThread(_ f: @escaping @Sendable () -> Void) {
    var t = pthread_t()
    let box = Unmanaged.passRetained(ThreadBody(f)).toOpaque()
    pthread_create(&t, nil, { p in Unmanaged<ThreadBody>.fromOpaque(p!).takeRetainedValue().f(); return nil }, box)
    pthread_detach(t)
}

func readAll(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var out: [UInt8] = [], buf = [UInt8](repeating: 0, count: 65536)
    while case let n = read(fd, &buf, buf.count), n > 0 { out += buf[0..<n] }
    return out
}

func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= hay.count else { return false }
    for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<i + needle.count]) == needle { return true }
    return false
}

@Suite struct StoreAppsTests {
    @Test func appsListTheirChainInOrder() throws {
        let store = try Store(directory: tempDir())
        for n in ["a", "b", "c"] { _ = try store.addCredential(addParams(n)) }
        _ = try store.assign(Assignment(app: "codex", credentials: ["c", "a", "b"]))
        try store.applyProxyBatch(cooldownsSet: [], cooldownsCleared: [], usage: [], apps: [(app: "codex", requests: 2, at: 100)], keysUsed: [])
        #expect(try store.apps().first?.assignment == ["c", "a", "b"])
        #expect(try store.apps().first?.requests == 2)
    }
}

@Suite struct StoreMappingTests {
    @Test func schema5KeepsUsageRowsAndAddsTheUpstreamModel() throws {
        let dir = tempDir()
        do {
            let db = try Database(path: dir + "/proxypool.db")
            for (i, sql) in Migrations.steps.prefix(4).enumerated() { try db.execute(sql); try db.execute("PRAGMA user_version = \(i + 1)") }
            try db.execute("INSERT INTO usage(day, app, credential, model, requests, errors, input_tokens, output_tokens, cached_tokens) VALUES ('2026-11-24', 'codex', 'o', 'gpt-5', 3, 1, 30, 20, 10)")
        }
        let store = try Store(directory: dir)
        #expect(store.schemaVersion == Migrations.steps.count, "opened: migrated through 5 to the newest")
        #expect(try store.usage(since: nil) == [UsageRow(day: "2026-11-24", app: "codex", credential: "o", model: "gpt-5", upstreamModel: "gpt-5",
                                                        requests: 3, errors: 1, inputTokens: 30, outputTokens: 20, cachedTokens: 10)])
        try store.applyProxyBatch(cooldownsSet: [], cooldownsCleared: [], usage: [
            .init(day: "2026-11-24", app: "codex", credential: "o", model: "gpt-5", upstreamModel: "gpt-5", requests: 1, errors: 0, input: 1, output: 1, cached: 0),
            .init(day: "2026-11-24", app: "codex", credential: "o", model: "gpt-5", upstreamModel: "claude-sonnet-4-5", requests: 1, errors: 0, input: 5, output: 5, cached: 0),
        ], apps: [], keysUsed: [])
        let rows = try store.usage(since: nil)
        #expect(rows.map(\.upstreamModel) == ["claude-sonnet-4-5", "gpt-5"] && rows.map(\.requests) == [1, 4])
    }

    @Test func aliasesAndCredentialTiers() throws {
        let store = try Store(directory: tempDir())
        _ = try store.addCredential(addParams("a"))
        #expect(try store.setAlias(AliasInfo(name: "fast", model: "gpt-5-mini")) == AliasInfo(name: "fast", model: "gpt-5-mini"))
        _ = try store.setAlias(AliasInfo(name: "fast", model: "gpt-5-nano"))
        #expect(try store.aliases() == [AliasInfo(name: "fast", model: "gpt-5-nano")])
        #expect(throws: RPCError.self) { try store.setAlias(AliasInfo(name: "x", model: "x")) }
        #expect(throws: RPCError.invalidParams("alias name 'has space' must be 1 to 200 characters without spaces")) {
            try store.setAlias(AliasInfo(name: "has space", model: "x"))
        }
        try store.removeAlias("fast")
        #expect(throws: RPCError.self) { try store.removeAlias("fast") }

        let e = try store.setTier(.init(credential: "a", tier: "fast", model: "local-small"))
        #expect(e.credential == "a" && e.model == "local-small" && e.source == .user)
        #expect(try store.tiers().filter { $0.credential == "a" }.map(\.model) == ["local-small"])
        let back = try store.setTier(.init(credential: "a", tier: "fast", model: nil))
        #expect(back.source == .builtin && back.model == Providers.of(back.provider).tierDefault(.fast))
        #expect(throws: RPCError.self) { try store.setTier(.init(provider: "openai", credential: "a", tier: "fast", model: "x")) }
        #expect(throws: RPCError.self) { try store.setTier(.init(credential: "nope", tier: "fast", model: "x")) }
        // A credential's tier models go with it.
        _ = try store.setTier(.init(credential: "a", tier: "standard", model: "m"))
        _ = try store.removeCredential("a", force: true)
        #expect(try store.tiers().allSatisfy { $0.credential == nil })
    }

    @Test func freeModelsPerApp() throws {
        let store = try Store(directory: tempDir())
        _ = try store.setSetting(.freeModels, true)
        let s = try store.setFreeModels(app: "claude-code", false)
        #expect(s.freeModels(for: "claude-code") == false && s.freeModels(for: "codex") == true)
        #expect(try store.setFreeModels(app: "claude-code", nil).freeModelsByApp.isEmpty)
    }
}
