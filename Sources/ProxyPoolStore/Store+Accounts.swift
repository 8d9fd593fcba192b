import ProxyPoolCore
import ProxyPoolControl

// Subscription logins imported from a CLI's token file (`credential import`): the refresh token is the
// credential's secret, the access token goes to `credential_tokens` in the same transaction.
extension Store {
    /// `--replace`: a new login for an existing credential of the same kind. Its secret, base URL and options
    /// change and its old token goes (the stored refresh token was the old login's). False when there is no
    /// credential of that name (the caller inserts one); throws when it is of another kind.
    func replaceLogin(_ p: RPC.CredentialAdd.Params, kind: ProviderKind, secret: String, optionsJSON: String, now: Int64) throws(RPCError) -> Bool {
        guard let existing = try db.query("SELECT provider FROM credentials WHERE name = ?", [.text(p.name)], { st in st.text(0) }).first else {
            return false
        }
        guard existing == kind.rawValue else {
            throw .alreadyExists("credential '\(p.name)' is a \(existing ?? "?") credential, not \(kind.rawValue); --replace keeps the kind")
        }
        try db.run("UPDATE credentials SET secret = ?, base_url = ?, options = ?, updated_at = ? WHERE name = ?",
                   [.text(secret), .optional(p.baseURL), .text(optionsJSON), .int(now), .text(p.name)])
        try db.run("DELETE FROM credential_tokens WHERE credential_id = (SELECT id FROM credentials WHERE name = ?)", [.text(p.name)])
        try storeImportedToken(p)
        return true
    }

    /// The imported access token, with no rotated refresh token (the credential's secret is the one to present).
    func storeImportedToken(_ p: RPC.CredentialAdd.Params) throws(RPCError) {
        guard let token = p.accessToken else { return }
        try db.run("""
            INSERT INTO credential_tokens(credential_id, access_token, expires_at_ms, refresh_token, updated_at)
            SELECT id, ?, ?, NULL, ? FROM credentials WHERE name = ?
            ON CONFLICT(credential_id) DO UPDATE SET access_token = excluded.access_token, expires_at_ms = excluded.expires_at_ms,
                refresh_token = NULL, updated_at = excluded.updated_at
            """, [.text(token), .int(max(0, p.accessTokenExpiresAtMillis ?? 0)), .int(Timestamp.now()), .text(p.name)])
    }
}
