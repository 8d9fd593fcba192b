import ProxyPoolCore

/// Schema versions, applied in order inside one transaction each. `PRAGMA user_version` records the last one.
/// Never edit a shipped migration: add the next one.
enum Migrations {
    static let steps: [String] = [
        // 1: the foundation schema.
        """
        CREATE TABLE credentials(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            provider TEXT NOT NULL,
            secret TEXT NOT NULL,
            base_url TEXT,
            options TEXT NOT NULL DEFAULT '{}',
            enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
            free INTEGER NOT NULL DEFAULT 0 CHECK (free IN (0, 1)),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            last_test_at INTEGER,
            last_test_ok INTEGER,
            last_test_message TEXT
        );
        CREATE TABLE assignments(
            app TEXT NOT NULL,
            position INTEGER NOT NULL,
            credential_id INTEGER NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
            PRIMARY KEY (app, position),
            UNIQUE (app, credential_id)
        );
        CREATE TABLE access_keys(
            id TEXT PRIMARY KEY,
            hash TEXT NOT NULL UNIQUE,
            suffix TEXT NOT NULL,
            app TEXT,
            created_at INTEGER NOT NULL,
            last_used_at INTEGER
        );
        CREATE TABLE tier_models(
            provider TEXT NOT NULL,
            tier TEXT NOT NULL,
            model TEXT NOT NULL,
            PRIMARY KEY (provider, tier)
        );
        CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE usage(
            day TEXT NOT NULL,
            app TEXT NOT NULL,
            credential TEXT NOT NULL,
            model TEXT NOT NULL,
            requests INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cached_tokens INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, app, credential, model)
        );
        """,
        // 2: the proxy's memory across restarts: cooldowns (per credential, or per credential and model; an
        // empty model means the whole credential; kind 'auth' marks a credential whose key was refused) and
        // the apps seen.
        """
        CREATE TABLE cooldowns(
            credential TEXT NOT NULL,
            model TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL CHECK (kind IN ('cooldown', 'auth')),
            until_ms INTEGER NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (credential, model, kind)
        );
        CREATE TABLE apps(
            app TEXT PRIMARY KEY,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            requests INTEGER NOT NULL DEFAULT 0
        );
        """,
        // 3: the user's app-detection rules, tried in id order before the built-in ones.
        """
        CREATE TABLE app_rules(
            id INTEGER PRIMARY KEY,
            header TEXT NOT NULL,
            match TEXT NOT NULL CHECK (match IN ('prefix', 'contains', 'equals')),
            value TEXT NOT NULL,
            app TEXT NOT NULL
        );
        """,
        // 4: the user's tier rules, tried in id order before the built-in ones.
        """
        CREATE TABLE tier_rules(
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('word', 'prefix')),
            value TEXT NOT NULL,
            tier TEXT NOT NULL
        );
        """,
        // 5: model mapping and free routing: aliases, per-credential tier models, per-app free-model switches;
        // usage keeps the model the upstream was asked for beside the one the client asked for.
        """
        CREATE TABLE aliases(
            name TEXT PRIMARY KEY,
            model TEXT NOT NULL
        );
        CREATE TABLE credential_tiers(
            credential_id INTEGER NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
            tier TEXT NOT NULL,
            model TEXT NOT NULL,
            PRIMARY KEY (credential_id, tier)
        );
        CREATE TABLE app_free_models(
            app TEXT PRIMARY KEY,
            enabled INTEGER NOT NULL CHECK (enabled IN (0, 1))
        );
        CREATE TABLE usage_v5(
            day TEXT NOT NULL,
            app TEXT NOT NULL,
            credential TEXT NOT NULL,
            model TEXT NOT NULL,
            upstream_model TEXT NOT NULL DEFAULT '',
            requests INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cached_tokens INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, app, credential, model, upstream_model)
        );
        INSERT INTO usage_v5(day, app, credential, model, upstream_model, requests, errors, input_tokens, output_tokens, cached_tokens)
            SELECT day, app, credential, model, model, requests, errors, input_tokens, output_tokens, cached_tokens FROM usage;
        DROP TABLE usage;
        ALTER TABLE usage_v5 RENAME TO usage;
        """,
        // 6: tokens a credential's token source obtained (an access token and its expiry, and the refresh token
        // a grant rotated the stored secret to), written the moment they arrive: a spent refresh token is gone.
        """
        CREATE TABLE credential_tokens(
            credential_id INTEGER PRIMARY KEY REFERENCES credentials(id) ON DELETE CASCADE,
            access_token TEXT NOT NULL,
            expires_at_ms INTEGER NOT NULL,
            refresh_token TEXT,
            updated_at INTEGER NOT NULL
        );
        """,
    ]

    static func version(_ db: Database) throws(RPCError) -> Int {
        Int(try db.query("PRAGMA user_version", [], { st in st.int(0) ?? 0 }).first ?? 0)
    }

    static func apply(_ db: Database) throws(RPCError) {
        let current = try version(db)
        if current > steps.count {
            throw .storeFailure("the database has schema version \(current), newer than this proxypool knows (\(steps.count)); " +
                                "upgrade proxypool or restore a backup")
        }
        for (i, sql) in steps.enumerated() where i + 1 > current {
            try db.execute("BEGIN IMMEDIATE")
            do throws(RPCError) {
                try db.execute(sql)
                try db.execute("PRAGMA user_version = \(i + 1)")
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw .storeFailure("migration to schema \(i + 1) failed: \(error.message)")
            }
        }
    }
}
