import Glibc
internal import CSQLite
import ProxyPoolCore
import ProxyPoolSystem

/// The daemon's persistent state: one SQLite file, 0600 in a 0700 directory, WAL, foreign keys, versioned
/// migrations, one transaction per change. Safe to call from any thread; calls are serialized.
public final class Store: @unchecked Sendable {
    public static let fileName = "proxypool.db"

    public let path: String
    /// Mode repairs and other notes from opening, for the daemon to log as warnings.
    public private(set) var openingNotes: [String] = []
    fileprivate let db: Database
    private var lock = pthread_mutex_t()

    /// Open (creating if needed) the store in `directory`.
    public init(directory: String) throws(RPCError) {
        var notes: [String] = []
        try Store.prepareDirectory(directory, notes: &notes)
        path = directory + "/" + Store.fileName
        try Store.prepareFile(path, notes: &notes)
        db = try Database(path: path)
        pthread_mutex_init(&lock, nil)
        try db.execute("PRAGMA journal_mode=WAL")
        try db.execute("PRAGMA foreign_keys=ON")
        // FULL: a commit is on disk before the control call returns; the store is written rarely.
        try db.execute("PRAGMA synchronous=FULL")
        try db.execute("PRAGMA busy_timeout=5000")
        try db.execute("PRAGMA cache_size=-512")   // 512 KiB: the store is small, and idle memory counts
        try Migrations.apply(db)
        for suffix in ["-wal", "-shm"] { try Store.prepareFile(path + suffix, notes: &notes, create: false) }
        openingNotes = notes
    }

    deinit { pthread_mutex_destroy(&lock) }

    public var schemaVersion: Int { (try? locked { () throws(RPCError) in try Migrations.version(db) }) ?? 0 }

    // MARK: Modes

    static func prepareDirectory(_ dir: String, notes: inout [String]) throws(RPCError) {
        if let st = Posix.fileMode(dir) {
            guard st.isDirectory else { throw .storeFailure("\(dir) exists and is not a directory") }
            if st.mode & 0o077 != 0 {
                guard chmod(dir, 0o700) == 0 else { throw .storeFailure("cannot tighten mode of \(dir): \(errnoString())") }
                notes.append("state directory \(dir) had mode \(octal(st.mode)); set it to 0700")
            }
        } else {
            // Parents are created with 0755 like mkdir -p; only the state directory itself is private.
            var current = ""
            let parts = dir.split(separator: "/")
            for (i, part) in parts.enumerated() {
                current += "/" + part
                if mkdir(current, i == parts.count - 1 ? 0o700 : 0o755) != 0 && errno != EEXIST {
                    throw .storeFailure("cannot create \(current): \(errnoString())")
                }
            }
            chmod(dir, 0o700)   // mkdir applies the umask; make the mode exact
        }
    }

    static func prepareFile(_ file: String, notes: inout [String], create: Bool = true) throws(RPCError) {
        if let st = Posix.fileMode(file) {
            if st.mode & 0o177 != 0 {
                guard chmod(file, 0o600) == 0 else { throw .storeFailure("cannot tighten mode of \(file): \(errnoString())") }
                notes.append("\(file) had mode \(octal(st.mode)); set it to 0600")
            }
        } else if create {
            let fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw .storeFailure("cannot create \(file): \(errnoString())") }
            fchmod(fd, 0o600)
            close(fd)
        }
    }

    // MARK: Locking and transactions

    func locked<T>(_ body: () throws(RPCError) -> T) throws(RPCError) -> T {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return try body()
    }

    /// One change, one transaction. BEGIN IMMEDIATE takes the write lock up front, so a second writer process
    /// waits (busy_timeout) instead of failing halfway.
    func transaction<T>(_ body: () throws(RPCError) -> T) throws(RPCError) -> T {
        try locked { () throws(RPCError) -> T in
            try db.execute("BEGIN IMMEDIATE")
            do throws(RPCError) {
                let r = try body()
                try db.execute("COMMIT")
                return r
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }

    // MARK: Credentials

    public func addCredential(_ p: RPC.CredentialAdd.Params) throws(RPCError) -> CredentialInfo {
        try Validation.name(p.name, what: "credential name")
        guard let kind = ProviderKind(rawValue: p.provider) else {
            throw .invalidParams("unknown provider '\(p.provider)'; one of: \(ProviderKind.names)")
        }
        let secret = p.secret.trimming(" \t\r\n")
        try Validation.secret(secret, provider: kind)
        if let url = p.baseURL { try Validation.baseURL(url) }
        if kind.requiresBaseURL && p.baseURL == nil {
            throw .invalidParams("a credential of kind \(kind.rawValue) needs --base-url (its endpoint has no public default)")
        }
        let options = p.options ?? [:]
        for key in options.keys.sorted() where !kind.allowedOptions.contains(key) {
            throw .invalidParams("option '\(key)' does not apply to \(kind.rawValue); it takes: \(kind.allowedOptions.joined(separator: ", "))")
        }
        // Option values end up in request headers and URLs: one line, no control characters (found here rather
        // than as a failed request later).
        for (key, value) in options.sorted(by: { $0.key < $1.key })
        where value.utf8.count > 2048 || value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0.properties.isWhitespace && $0 != " " }) {
            throw .invalidParams("option '\(key)' must be one line of at most 2048 characters, without control characters")
        }
        if let api = options["api"], api != "chat" && api != "responses" {
            throw .invalidParams("option 'api' must be chat or responses, not '\(api)'")
        }
        if let cap = options["max-output-tokens"], !(Int(cap).map { (1...10_000_000).contains($0) } ?? false) {
            throw .invalidParams("option 'max-output-tokens' must be a whole number from 1 to 10000000, not '\(cap)'")
        }
        for key in kind.requiredOptions where (options[key] ?? "").isEmpty {
            throw .invalidParams("a credential of kind \(kind.rawValue) needs --\(key)")
        }
        if kind == .azureOpenAI, options["api-version"] == nil, let url = p.baseURL, !url.contains("/openai/v1") {
            throw .invalidParams("an azure-openai credential with a resource endpoint needs --api-version (or a base URL ending in /openai/v1)")
        }
        let optionsJSON = String(decoding: (try? JSON.encode(options)) ?? Array("{}".utf8), as: UTF8.self)
        let now = Timestamp.now()
        return try transaction { () throws(RPCError) -> CredentialInfo in
            do throws(RPCError) {
                try db.run("""
                    INSERT INTO credentials(name, provider, secret, base_url, options, enabled, free, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(p.name), .text(kind.rawValue), .text(secret), .optional(p.baseURL), .text(optionsJSON),
                          .int((p.enabled ?? true) ? 1 : 0), .int((p.free ?? false) ? 1 : 0), .int(now), .int(now)])
            } catch where error.name == "constraint" {
                throw .alreadyExists("a credential named '\(p.name)' already exists; remove it first to replace its secret")
            }
            return try credentialLocked(p.name)
        }
    }

    public func credentials() throws(RPCError) -> [CredentialInfo] {
        try locked { () throws(RPCError) in
            let assigned = try assignedApps()
            return try db.query("\(Store.credentialColumns) ORDER BY name") { (st) throws(RPCError) in
                try Store.credentialInfo(st, assigned: assigned)
            }
        }
    }

    public func credential(_ name: String) throws(RPCError) -> CredentialInfo {
        try locked { () throws(RPCError) in try credentialLocked(name) }
    }

    public func removeCredential(_ name: String, force: Bool) throws(RPCError) -> [String] {
        try transaction { () throws(RPCError) -> [String] in
            let info = try credentialLocked(name)
            if !info.assignedTo.isEmpty && !force {
                throw .inUse("credential '\(name)' is assigned to \(info.assignedTo.joined(separator: ", "))",
                             hint: "unassign it first, or pass --force to remove it from those chains too")
            }
            // Keep each remaining chain's positions dense after the cascade.
            try db.run("DELETE FROM credentials WHERE name = ?", [.text(name)])
            for app in info.assignedTo { try renumber(app) }
            return info.assignedTo
        }
    }

    public func setEnabled(_ name: String, _ enabled: Bool) throws(RPCError) -> CredentialInfo {
        try transaction { () throws(RPCError) -> CredentialInfo in
            try db.run("UPDATE credentials SET enabled = ?, updated_at = ? WHERE name = ?",
                       [.int(enabled ? 1 : 0), .int(Timestamp.now()), .text(name)])
            guard db.changes == 1 else { throw Store.noCredential(name) }
            return try credentialLocked(name)
        }
    }

    /// Records the outcome of `credential test`.
    public func setLastTest(_ name: String, ok: Bool, message: String) throws(RPCError) -> CredentialInfo {
        try transaction { () throws(RPCError) -> CredentialInfo in
            try db.run("UPDATE credentials SET last_test_at = ?, last_test_ok = ?, last_test_message = ? WHERE name = ?",
                       [.int(Timestamp.now()), .int(ok ? 1 : 0), .text(message), .text(name)])
            guard db.changes == 1 else { throw Store.noCredential(name) }
            return try credentialLocked(name)
        }
    }

    static let credentialColumns = """
        SELECT name, provider, secret, base_url, options, enabled, free, created_at, updated_at,
               last_test_at, last_test_ok, last_test_message FROM credentials
        """

    private func credentialLocked(_ name: String) throws(RPCError) -> CredentialInfo {
        let assigned = try assignedApps()
        guard let c = try db.query("\(Store.credentialColumns) WHERE name = ?", [.text(name)], { (st) throws(RPCError) in
            try Store.credentialInfo(st, assigned: assigned)
        }).first else { throw Store.noCredential(name) }
        return c
    }

    private static func credentialInfo(_ st: Statement, assigned: [String: [String]]) throws(RPCError) -> CredentialInfo {
        let name = st.text(0) ?? ""
        guard let kind = ProviderKind(rawValue: st.text(1) ?? "") else { throw .storeFailure("credential '\(name)' has an unknown provider") }
        let options = (try? JSON.decode([String: String].self, from: Array((st.text(4) ?? "{}").utf8))) ?? [:]
        var test: TestResult?
        if let at = st.int(9) { test = TestResult(at: Timestamp.iso8601(at), ok: st.int(10) == 1, message: st.text(11) ?? "") }
        return CredentialInfo(name: name, provider: kind, secretRedacted: Redaction.redact(st.text(2) ?? ""),
                              baseURL: st.text(3), options: options, enabled: st.int(5) == 1, free: st.int(6) == 1,
                              createdAt: Timestamp.iso8601(st.int(7) ?? 0), updatedAt: Timestamp.iso8601(st.int(8) ?? 0),
                              lastTest: test, assignedTo: assigned[name] ?? [])
    }

    private func assignedApps() throws(RPCError) -> [String: [String]] {
        var map: [String: [String]] = [:]
        for (cred, app) in try db.query("""
            SELECT c.name, a.app FROM assignments a JOIN credentials c ON c.id = a.credential_id ORDER BY a.app
            """, [], { st in (st.text(0) ?? "", st.text(1) ?? "") }) {
            map[cred, default: []].append(app)
        }
        return map
    }

    static func noCredential(_ name: String) -> RPCError {
        .notFound("no credential named '\(name)'; 'proxypoolctl credential list' shows them")
    }

    // MARK: Assignments

    public func assign(_ a: Assignment) throws(RPCError) -> Assignment {
        try Validation.name(a.app, what: "app name")
        guard !a.credentials.isEmpty else { throw .invalidParams("an assignment needs at least one credential") }
        var seen = Set<String>()
        for c in a.credentials where !seen.insert(c).inserted {
            throw .invalidParams("credential '\(c)' appears twice in the chain")
        }
        return try transaction { () throws(RPCError) -> Assignment in
            var ids: [Int64] = []
            for name in a.credentials {
                guard let id = try db.query("SELECT id FROM credentials WHERE name = ?", [.text(name)], { st in st.int(0) ?? 0 }).first else {
                    throw Store.noCredential(name)
                }
                ids.append(id)
            }
            try db.run("DELETE FROM assignments WHERE app = ?", [.text(a.app)])
            for (pos, id) in ids.enumerated() {
                try db.run("INSERT INTO assignments(app, position, credential_id) VALUES (?, ?, ?)", [.text(a.app), .int(Int64(pos)), .int(id)])
            }
            return a
        }
    }

    public func unassign(_ app: String) throws(RPCError) {
        try transaction { () throws(RPCError) in
            try db.run("DELETE FROM assignments WHERE app = ?", [.text(app)])
            guard db.changes > 0 else { throw .notFound("app '\(app)' has no assignment") }
        }
    }

    public func assignments() throws(RPCError) -> [Assignment] {
        try locked { () throws(RPCError) in
            var order: [String] = []
            var map: [String: [String]] = [:]
            for (app, cred) in try db.query("""
                SELECT a.app, c.name FROM assignments a JOIN credentials c ON c.id = a.credential_id ORDER BY a.app, a.position
                """, [], { st in (st.text(0) ?? "", st.text(1) ?? "") }) {
                if map[app] == nil { order.append(app) }
                map[app, default: []].append(cred)
            }
            return order.map { Assignment(app: $0, credentials: map[$0]!) }
        }
    }

    private func renumber(_ app: String) throws(RPCError) {
        let ids = try db.query("SELECT credential_id FROM assignments WHERE app = ? ORDER BY position", [.text(app)]) { st in st.int(0) ?? 0 }
        try db.run("DELETE FROM assignments WHERE app = ?", [.text(app)])
        for (pos, id) in ids.enumerated() {
            try db.run("INSERT INTO assignments(app, position, credential_id) VALUES (?, ?, ?)", [.text(app), .int(Int64(pos)), .int(id)])
        }
    }

    // MARK: Local access keys

    /// Create a key; the key is returned once and only its SHA-256 is kept.
    public func createKey(app: String?) throws(RPCError) -> RPC.KeyCreate.Result {
        if let app { try Validation.name(app, what: "app name") }
        let key = AccessKeys.generate()
        let id = AccessKeys.newID()
        try transaction { () throws(RPCError) in
            try db.run("INSERT INTO access_keys(id, hash, suffix, app, created_at) VALUES (?, ?, ?, ?, ?)",
                       [.text(id), .text(AccessKeys.hash(key)), .text(String(key.suffix(4))), .optional(app), .int(Timestamp.now())])
        }
        return .init(id: id, key: key, app: app)
    }

    public func keys() throws(RPCError) -> [AccessKeyInfo] {
        try locked { () throws(RPCError) in
            try db.query("SELECT id, app, suffix, created_at, last_used_at FROM access_keys ORDER BY created_at, id") { st in
                AccessKeyInfo(id: st.text(0) ?? "", app: st.text(1), suffix: st.text(2) ?? "",
                              createdAt: Timestamp.iso8601(st.int(3) ?? 0), lastUsedAt: st.int(4).map(Timestamp.iso8601))
            }
        }
    }

    public func revokeKey(_ id: String) throws(RPCError) {
        try transaction { () throws(RPCError) in
            try db.run("DELETE FROM access_keys WHERE id = ?", [.text(id)])
            guard db.changes == 1 else { throw .notFound("no access key with id '\(id)'; 'proxypoolctl key list' shows them") }
        }
    }

    // MARK: Tiers

    public func tiers() throws(RPCError) -> [TierEntry] {
        try locked { () throws(RPCError) in
            var user: [String: String] = [:]
            for (p, t, m) in try db.query("SELECT provider, tier, model FROM tier_models", [], { st in
                (st.text(0) ?? "", st.text(1) ?? "", st.text(2) ?? "")
            }) { user["\(p)/\(t)"] = m }
            let providers = ProviderKind.allCases.flatMap { kind in
                Tier.allCases.map { tier in
                    if let m = user["\(kind.rawValue)/\(tier.rawValue)"] {
                        return TierEntry(provider: kind, tier: tier, model: m, source: .user)
                    }
                    return TierEntry(provider: kind, tier: tier, model: TierDefaults.model(provider: kind, tier: tier), source: .builtin)
                }
            }
            let credentials = try db.query("""
                SELECT c.name, c.provider, t.tier, t.model FROM credential_tiers t JOIN credentials c ON c.id = t.credential_id
                ORDER BY c.name, t.tier
                """) { st in
                TierEntry(provider: ProviderKind(rawValue: st.text(1) ?? "") ?? .openAICompatible, tier: Tier(rawValue: st.text(2) ?? "") ?? .standard,
                          model: st.text(3), source: .user, credential: st.text(0))
            }
            return providers + credentials
        }
    }

    public func setTier(_ p: RPC.TierSet.Params) throws(RPCError) -> TierEntry {
        guard let tier = Tier(rawValue: p.tier) else { throw .invalidParams("unknown tier '\(p.tier)'; one of: \(Tier.names)") }
        if let m = p.model { try Validation.modelName(m) }
        switch (p.provider, p.credential) {
        case (nil, let name?):
            return try transaction { () throws(RPCError) -> TierEntry in
                guard let (id, provider) = try db.query("SELECT id, provider FROM credentials WHERE name = ?", [.text(name)], { st in
                    (st.int(0) ?? 0, ProviderKind(rawValue: st.text(1) ?? "") ?? .openAICompatible)
                }).first else { throw .notFound("no credential named '\(name)'") }
                if let m = p.model {
                    try db.run("INSERT INTO credential_tiers(credential_id, tier, model) VALUES (?, ?, ?) ON CONFLICT(credential_id, tier) DO UPDATE SET model = excluded.model",
                               [.int(id), .text(tier.rawValue), .text(m)])
                    return TierEntry(provider: provider, tier: tier, model: m, source: .user, credential: name)
                }
                try db.run("DELETE FROM credential_tiers WHERE credential_id = ? AND tier = ?", [.int(id), .text(tier.rawValue)])
                // Back to its provider's model.
                let m = try db.query("SELECT model FROM tier_models WHERE provider = ? AND tier = ?", [.text(provider.rawValue), .text(tier.rawValue)]) { st in
                    st.text(0)
                }.first ?? TierDefaults.model(provider: provider, tier: tier)
                return TierEntry(provider: provider, tier: tier, model: m, source: .builtin, credential: name)
            }
        case (let providerName?, nil):
            guard let kind = ProviderKind(rawValue: providerName) else {
                throw .invalidParams("unknown provider '\(providerName)'; one of: \(ProviderKind.names)")
            }
            try transaction { () throws(RPCError) in
                if let m = p.model {
                    try db.run("INSERT INTO tier_models(provider, tier, model) VALUES (?, ?, ?) ON CONFLICT(provider, tier) DO UPDATE SET model = excluded.model",
                               [.text(kind.rawValue), .text(tier.rawValue), .text(m)])
                } else {
                    try db.run("DELETE FROM tier_models WHERE provider = ? AND tier = ?", [.text(kind.rawValue), .text(tier.rawValue)])
                }
            }
            return try tiers().first { $0.provider == kind && $0.tier == tier && $0.credential == nil }!
        default:
            throw .invalidParams("give either a provider or a credential, not both")
        }
    }

    // MARK: Aliases

    public func aliases() throws(RPCError) -> [AliasInfo] {
        try locked { () throws(RPCError) in
            try db.query("SELECT name, model FROM aliases ORDER BY name") { st in AliasInfo(name: st.text(0) ?? "", model: st.text(1) ?? "") }
        }
    }

    public func setAlias(_ a: AliasInfo) throws(RPCError) -> AliasInfo {
        try Validation.modelName(a.name, what: "alias name")
        try Validation.modelName(a.model)
        guard a.name != a.model else { throw .invalidParams("an alias cannot point at itself") }
        try transaction { () throws(RPCError) in
            try db.run("INSERT INTO aliases(name, model) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET model = excluded.model",
                       [.text(a.name), .text(a.model)])
        }
        return a
    }

    public func removeAlias(_ name: String) throws(RPCError) {
        try transaction { () throws(RPCError) in
            try db.run("DELETE FROM aliases WHERE name = ?", [.text(name)])
            guard db.changes == 1 else { throw .notFound("no alias named '\(name)'; 'proxypoolctl alias list' shows them") }
        }
    }

    // MARK: Settings

    public func settings() throws(RPCError) -> Settings {
        try locked { () throws(RPCError) in
            var s = Settings(freeModels: SettingKey.freeModels.defaultValue, fallbackToPool: SettingKey.fallbackToPool.defaultValue,
                             requireAccessKey: SettingKey.requireAccessKey.defaultValue)
            for (k, v) in try db.query("SELECT key, value FROM settings", [], { st in (st.text(0) ?? "", st.text(1) ?? "") }) {
                if let key = SettingKey(rawValue: k) { s[key] = v == "1" }
            }
            for (app, on) in try db.query("SELECT app, enabled FROM app_free_models", [], { st in (st.text(0) ?? "", st.int(1) == 1) }) {
                s.freeModelsByApp[app] = on
            }
            return s
        }
    }

    /// The free-model switch of one app; nil removes its override (the default applies again).
    public func setFreeModels(app: String, _ value: Bool?) throws(RPCError) -> Settings {
        try Validation.name(app, what: "app name")
        try transaction { () throws(RPCError) in
            if let value {
                try db.run("INSERT INTO app_free_models(app, enabled) VALUES (?, ?) ON CONFLICT(app) DO UPDATE SET enabled = excluded.enabled",
                           [.text(app), .int(value ? 1 : 0)])
            } else {
                try db.run("DELETE FROM app_free_models WHERE app = ?", [.text(app)])
            }
        }
        return try settings()
    }

    public func setSetting(_ key: SettingKey, _ value: Bool) throws(RPCError) -> Settings {
        try transaction { () throws(RPCError) in
            try db.run("INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       [.text(key.rawValue), .text(value ? "1" : "0")])
        }
        return try settings()
    }

    // MARK: Proxy state: cooldowns, apps, usage batches

    public struct CooldownRecord: Sendable, Equatable {
        public var credential: String
        public var model: String
        public var authFailed: Bool
        public var untilMillis: Int64
        public var reason: String
        public init(credential: String, model: String, authFailed: Bool, untilMillis: Int64, reason: String) {
            self.credential = credential; self.model = model; self.authFailed = authFailed; self.untilMillis = untilMillis; self.reason = reason
        }
    }

    public func cooldowns(nowMillis: Int64) throws(RPCError) -> [CooldownRecord] {
        try locked { () throws(RPCError) in
            try db.query("SELECT credential, model, kind, until_ms, reason FROM cooldowns WHERE kind = 'auth' OR until_ms > ?", [.int(nowMillis)]) { st in
                CooldownRecord(credential: st.text(0) ?? "", model: st.text(1) ?? "", authFailed: st.text(2) == "auth",
                               untilMillis: st.int(3) ?? 0, reason: st.text(4) ?? "")
            }
        }
    }

    public struct UsageDelta: Sendable {
        public var day, app, credential, model, upstreamModel: String
        public var requests, errors, input, output, cached: Int64
        public init(day: String, app: String, credential: String, model: String, upstreamModel: String, requests: Int64, errors: Int64,
                    input: Int64, output: Int64, cached: Int64) {
            self.day = day; self.app = app; self.credential = credential; self.model = model; self.upstreamModel = upstreamModel
            self.requests = requests; self.errors = errors; self.input = input; self.output = output; self.cached = cached
        }
    }

    /// The proxy's batched writes, in one transaction: cooldown changes, usage, apps seen, key use.
    public func applyProxyBatch(cooldownsSet: [CooldownRecord], cooldownsCleared: [(credential: String, model: String?)],
                                usage: [UsageDelta], apps: [(app: String, requests: Int64, at: Int64)],
                                keysUsed: [(id: String, at: Int64)]) throws(RPCError) {
        try transaction { () throws(RPCError) in
            for (cred, model) in cooldownsCleared {
                if let model { try db.run("DELETE FROM cooldowns WHERE credential = ? AND model = ?", [.text(cred), .text(model)]) }
                else { try db.run("DELETE FROM cooldowns WHERE credential = ?", [.text(cred)]) }
            }
            for c in cooldownsSet {
                try db.run("""
                    INSERT INTO cooldowns(credential, model, kind, until_ms, reason) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(credential, model, kind) DO UPDATE SET until_ms = excluded.until_ms, reason = excluded.reason
                    """, [.text(c.credential), .text(c.model), .text(c.authFailed ? "auth" : "cooldown"), .int(c.untilMillis), .text(c.reason)])
            }
            // SQLite turns an integer sum that overflows into a float; min() with Int64.max keeps it the largest
            // integer instead (a sum that saturated stays saturated, and reads back as Int64.max).
            for u in usage {
                try db.run("""
                    INSERT INTO usage(day, app, credential, model, upstream_model, requests, errors, input_tokens, output_tokens, cached_tokens)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(day, app, credential, model, upstream_model) DO UPDATE SET requests = min(requests + excluded.requests, \(Int64.max)),
                      errors = min(errors + excluded.errors, \(Int64.max)), input_tokens = min(input_tokens + excluded.input_tokens, \(Int64.max)),
                      output_tokens = min(output_tokens + excluded.output_tokens, \(Int64.max)),
                      cached_tokens = min(cached_tokens + excluded.cached_tokens, \(Int64.max))
                    """, [.text(u.day), .text(u.app), .text(u.credential), .text(u.model), .text(u.upstreamModel), .int(u.requests), .int(u.errors),
                          .int(u.input), .int(u.output), .int(u.cached)])
            }
            for a in apps {
                try db.run("""
                    INSERT INTO apps(app, first_seen, last_seen, requests) VALUES (?, ?, ?, ?)
                    ON CONFLICT(app) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen), requests = min(requests + excluded.requests, \(Int64.max))
                    """, [.text(a.app), .int(a.at), .int(a.at), .int(a.requests)])
            }
            for k in keysUsed { try db.run("UPDATE access_keys SET last_used_at = ? WHERE id = ?", [.int(k.at), .text(k.id)]) }
        }
    }

    public func apps() throws(RPCError) -> [AppInfo] {
        try locked { () throws(RPCError) in
            try db.query("""
                SELECT a.app, a.first_seen, a.last_seen, a.requests,
                       (SELECT group_concat(name, ',') FROM (SELECT c.name FROM assignments s JOIN credentials c ON c.id = s.credential_id
                        WHERE s.app = a.app ORDER BY s.position))
                FROM apps a ORDER BY a.last_seen DESC
                """) { st in
                AppInfo(app: st.text(0) ?? "", firstSeen: Timestamp.iso8601(st.int(1) ?? 0), lastSeen: Timestamp.iso8601(st.int(2) ?? 0),
                        requests: st.int(3) ?? 0, assignment: (st.text(4) ?? "").split(separator: ",").map(String.init))
            }
        }
    }

    public func usage(since day: String?) throws(RPCError) -> [UsageRow] {
        try locked { () throws(RPCError) in
            try db.query("""
                SELECT day, app, credential, model, upstream_model, requests, errors, input_tokens, output_tokens, cached_tokens FROM usage
                WHERE day >= ? ORDER BY day, app, credential, model, upstream_model
                """, [.text(day ?? "")]) { st in
                UsageRow(day: st.text(0) ?? "", app: st.text(1) ?? "", credential: st.text(2) ?? "", model: st.text(3) ?? "",
                         upstreamModel: st.text(4) ?? "", requests: st.int(5) ?? 0, errors: st.int(6) ?? 0, inputTokens: st.int(7) ?? 0,
                         outputTokens: st.int(8) ?? 0, cachedTokens: st.int(9) ?? 0)
            }
        }
    }

    /// Every credential with its secret, for the proxy's in-memory routing table.
    public func routes() throws(RPCError) -> [CredentialRoute] {
        try locked { () throws(RPCError) in
            try db.query("SELECT name, provider, secret, base_url, options, enabled, free FROM credentials ORDER BY name") { st in
                CredentialRoute(name: st.text(0) ?? "", provider: ProviderKind(rawValue: st.text(1) ?? "") ?? .openAICompatible,
                                secret: st.text(2) ?? "", baseURL: st.text(3),
                                options: (try? JSON.decode([String: String].self, from: Array((st.text(4) ?? "{}").utf8))) ?? [:],
                                enabled: st.int(5) == 1, free: st.int(6) == 1)
            }
        }
    }

    /// Access keys by hash, for the proxy's in-memory check.
    public func keyHashes() throws(RPCError) -> [String: (id: String, app: String?)] {
        try locked { () throws(RPCError) in
            var m: [String: (id: String, app: String?)] = [:]
            for (h, id, app) in try db.query("SELECT hash, id, app FROM access_keys", [], { st in (st.text(0) ?? "", st.text(1) ?? "", st.text(2)) }) {
                m[h] = (id, app)
            }
            return m
        }
    }

    // MARK: Tier rules

    public func tierRules() throws(RPCError) -> [TierRuleInfo] {
        try locked { () throws(RPCError) in
            try db.query("SELECT id, kind, value, tier FROM tier_rules ORDER BY id") { st in
                TierRuleInfo(id: st.int(0) ?? 0, pattern: (st.text(1) == "prefix" ? (st.text(2) ?? "") + "*" : st.text(2) ?? ""),
                             tier: Tier(rawValue: st.text(3) ?? "") ?? .standard)
            }
        }
    }

    /// PATTERN: a word of the model name (`codex`), or a prefix ending in `*` (`my-model-*`).
    public func addTierRule(pattern: String, tier: String) throws(RPCError) -> TierRuleInfo {
        guard let t = Tier(rawValue: tier) else { throw .invalidParams("unknown tier '\(tier)'; one of: \(Tier.names)") }
        let isPrefix = pattern.hasSuffix("*")
        let value = isPrefix ? String(pattern.dropLast()) : pattern
        guard !value.isEmpty, value.utf8.count <= 100, !value.contains(where: { $0 == "*" || $0 == " " }) else {
            throw .invalidParams("pattern must be a word, or a prefix ending in '*' (for example 'codex' or 'my-model-*')")
        }
        return try transaction { () throws(RPCError) -> TierRuleInfo in
            try db.run("INSERT INTO tier_rules(kind, value, tier) VALUES (?, ?, ?)",
                       [.text(isPrefix ? "prefix" : "word"), .text(value.lowercased()), .text(t.rawValue)])
            return TierRuleInfo(id: db.lastInsertRowID, pattern: pattern.lowercased(), tier: t)
        }
    }

    public func removeTierRule(_ id: Int64) throws(RPCError) {
        try transaction { () throws(RPCError) in
            try db.run("DELETE FROM tier_rules WHERE id = ?", [.int(id)])
            guard db.changes == 1 else { throw .notFound("no tier rule with id \(id); 'proxypoolctl tier rule list' shows them") }
        }
    }

    // MARK: App rules

    public func appRules() throws(RPCError) -> [AppRuleInfo] {
        try locked { () throws(RPCError) in
            try db.query("SELECT id, header, match, value, app FROM app_rules ORDER BY id") { st in
                AppRuleInfo(id: st.int(0) ?? 0, rule: AppRule(header: st.text(1) ?? "", match: AppRule.Match(rawValue: st.text(2) ?? "") ?? .equals,
                                                              value: st.text(3) ?? "", app: st.text(4) ?? ""))
            }
        }
    }

    public func addAppRule(_ r: AppRule) throws(RPCError) -> AppRuleInfo {
        try Validation.name(r.app, what: "app name")
        guard !r.header.isEmpty, r.header.utf8.allSatisfy({ Validation.isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else {
            throw .invalidParams("header name '\(r.header)' is not a valid HTTP header name")
        }
        guard !r.value.isEmpty, r.value.utf8.count <= 256 else { throw .invalidParams("the value to match must be 1 to 256 characters") }
        return try transaction { () throws(RPCError) -> AppRuleInfo in
            try db.run("INSERT INTO app_rules(header, match, value, app) VALUES (?, ?, ?, ?)",
                       [.text(r.header), .text(r.match.rawValue), .text(r.value), .text(r.app)])
            return AppRuleInfo(id: db.lastInsertRowID, rule: r)
        }
    }

    public func removeAppRule(_ id: Int64) throws(RPCError) {
        try transaction { () throws(RPCError) in
            try db.run("DELETE FROM app_rules WHERE id = ?", [.int(id)])
            guard db.changes == 1 else { throw .notFound("no app rule with id \(id); 'proxypoolctl app rule list' shows them") }
        }
    }

    // MARK: Status and checks

    public struct Counts: Sendable { public var credentials, enabled, apps, keys: Int }

    public func counts() throws(RPCError) -> Counts {
        try locked { () throws(RPCError) in
            func one(_ sql: String) throws(RPCError) -> Int { Int(try db.query(sql, [], { st in st.int(0) ?? 0 }).first ?? 0) }
            return Counts(credentials: try one("SELECT count(*) FROM credentials"),
                          enabled: try one("SELECT count(*) FROM credentials WHERE enabled = 1"),
                          apps: try one("SELECT count(DISTINCT app) FROM assignments"),
                          keys: try one("SELECT count(*) FROM access_keys"))
        }
    }

    /// `PRAGMA integrity_check`: "ok" on a sound database.
    public func integrityCheck() throws(RPCError) -> String {
        try locked { () throws(RPCError) in
            try db.query("PRAGMA integrity_check", [], { st in st.text(0) ?? "" }).joined(separator: "; ")
        }
    }
}

private func errnoString() -> String { String(cString: strerror(errno)) }
private func octal(_ m: mode_t) -> String { "0" + String(m, radix: 8) }

extension Store {
    /// The connection, for tests that inspect pragmas and tables (call inside `locked`).
    var dbForTests: Database { db }
}
