import Glibc
internal import CSQLite
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolProviders
import ProxyPoolSystem

// Credentials: add, list, enable, test results, remove; and the routes the proxy loads from them.
extension Store {
    public func addCredential(_ p: RPC.CredentialAdd.Params) throws(RPCError) -> CredentialInfo {
        try Validation.name(p.name, what: "credential name")
        guard let kind = ProviderKind(rawValue: p.provider) else {
            throw .invalidParams("unknown provider '\(p.provider)'; one of: \(ProviderKind.names)")
        }
        let secret = p.secret.trimming(" \t\r\n")
        let options = p.options ?? [:]
        try Providers.validate(kind: kind, secret: secret, baseURL: p.baseURL, options: options)
        let optionsJSON = String(decoding: (try? JSON.encode(options)) ?? Array("{}".utf8), as: UTF8.self)
        let now = Timestamp.now()
        if let t = p.accessToken { try Providers.validateSecret(t, provider: Providers.of(kind)) }
        return try transaction { () throws(RPCError) -> CredentialInfo in
            if p.replace == true, try replaceLogin(p, kind: kind, secret: secret, optionsJSON: optionsJSON, now: now) {
                return try credentialLocked(p.name)
            }
            do throws(RPCError) {
                try db.run("""
                    INSERT INTO credentials(name, provider, secret, base_url, options, enabled, free, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(p.name), .text(kind.rawValue), .text(secret), .optional(p.baseURL), .text(optionsJSON),
                          .int((p.enabled ?? true) ? 1 : 0), .int((p.free ?? false) ? 1 : 0), .int(now), .int(now)])
            } catch where error.name == "constraint" {
                throw .alreadyExists("a credential named '\(p.name)' already exists; remove it first to replace its secret")
            }
            try storeImportedToken(p)
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

    /// `credential.update`: the new secret, base URL, options or free mark, validated as at add time against
    /// the credential's kind. A new secret or endpoint drops the token obtained with the old one and the last
    /// test's outcome (it said nothing about the new one).
    public func updateCredential(_ p: RPC.CredentialUpdate.Params) throws(RPCError) -> CredentialInfo {
        try transaction { () throws(RPCError) -> CredentialInfo in
            guard let row = try db.query("SELECT provider, secret, base_url, options FROM credentials WHERE name = ?", [.text(p.name)], { st in
                (st.text(0) ?? "", st.text(1) ?? "", st.text(2), st.text(3) ?? "{}")
            }).first else { throw Store.noCredential(p.name) }
            guard let kind = ProviderKind(rawValue: row.0) else { throw .storeFailure("credential '\(p.name)' has an unknown provider") }
            if p.secret != nil && kind.isAccount {
                throw .invalidParams("a \(kind.rawValue) credential's tokens come from its login: sign in again "
                                     + "('proxypoolctl login' or 'proxypoolctl credential import') to replace them")
            }
            let secret = p.secret.map { $0.trimming(" \t\r\n") } ?? row.1
            let baseURL = p.baseURL.map { $0.isEmpty ? nil : $0 } ?? row.2
            var options = (try? JSON.decode([String: String].self, from: Array(row.3.utf8))) ?? [:]
            for (k, v) in p.options ?? [:] { options[k] = v.isEmpty ? nil : v }
            if p.secret != nil || p.baseURL != nil || p.options != nil {
                // Account kinds hold a refresh token as their secret, which validates as itself.
                try Providers.validate(kind: kind, secret: secret, baseURL: baseURL, options: options)
            }
            let optionsJSON = String(decoding: (try? JSON.encode(options)) ?? Array("{}".utf8), as: UTF8.self)
            let reauth = secret != row.1 || baseURL != row.2
            try db.run("UPDATE credentials SET secret = ?, base_url = ?, options = ?, free = coalesce(?, free), updated_at = ? WHERE name = ?",
                       [.text(secret), .optional(baseURL), .text(optionsJSON), p.free.map { .int($0 ? 1 : 0) } ?? .null, .int(Timestamp.now()), .text(p.name)])
            if reauth {
                try db.run("DELETE FROM credential_tokens WHERE credential_id = (SELECT id FROM credentials WHERE name = ?)", [.text(p.name)])
                try db.run("UPDATE credentials SET last_test_at = NULL, last_test_ok = NULL, last_test_message = NULL WHERE name = ?", [.text(p.name)])
            }
            return try credentialLocked(p.name)
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
}
