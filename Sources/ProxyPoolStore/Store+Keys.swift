import Glibc
internal import CSQLite
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolSystem

// Local access keys: created once, kept as SHA-256, revoked by id; and the hashes the proxy checks against.
extension Store {
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
}
