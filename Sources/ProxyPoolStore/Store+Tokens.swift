import ProxyPoolCore

/// The tokens of credentials that authenticate with a fetched token. Not through the batch writer: a grant
/// may rotate the refresh token and spend the old one, so the new one is committed before the token is used.
extension Store {
    public struct StoredToken: Sendable, Equatable {
        public var accessToken: String
        public var expiresAtMillis: Int64
        /// The refresh token to present next, when a grant rotated it (else the credential's own secret).
        public var refreshToken: String?
        public init(accessToken: String, expiresAtMillis: Int64, refreshToken: String?) {
            self.accessToken = accessToken; self.expiresAtMillis = expiresAtMillis; self.refreshToken = refreshToken
        }
    }

    /// The last token stored for a credential; nil when none (or no such credential).
    public func token(_ credential: String) throws(RPCError) -> StoredToken? {
        try locked { () throws(RPCError) in
            try db.query("""
                SELECT t.access_token, t.expires_at_ms, t.refresh_token FROM credential_tokens t
                JOIN credentials c ON c.id = t.credential_id WHERE c.name = ?
                """, [.text(credential)]) { st in
                StoredToken(accessToken: st.text(0) ?? "", expiresAtMillis: st.int(1) ?? 0, refreshToken: st.text(2))
            }.first
        }
    }

    /// Store a credential's new token in a transaction of its own, committed (synchronous=FULL) on return. A
    /// nil `refreshToken` keeps the one stored before (the grant did not rotate it).
    public func saveToken(_ credential: String, _ t: StoredToken) throws(RPCError) {
        try transaction { () throws(RPCError) in
            guard let id = try db.query("SELECT id FROM credentials WHERE name = ?", [.text(credential)], { st in st.int(0) }).first ?? nil else {
                throw .notFound("no credential named '\(credential)'")
            }
            try db.run("""
                INSERT INTO credential_tokens(credential_id, access_token, expires_at_ms, refresh_token, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(credential_id) DO UPDATE SET access_token = excluded.access_token, expires_at_ms = excluded.expires_at_ms,
                    refresh_token = COALESCE(excluded.refresh_token, credential_tokens.refresh_token), updated_at = excluded.updated_at
                """, [.int(id), .text(t.accessToken), .int(t.expiresAtMillis), .optional(t.refreshToken), .int(Timestamp.now())])
        }
    }
}
