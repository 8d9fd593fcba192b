import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolStore
import ProxyPoolControl
import ProxyPoolUpstream
import ProxyPoolProviders

/// The control plane's methods: validate, change the store (one transaction each), log the event.
/// No handler returns a secret: credentials come back redacted, and access keys only once at creation.
enum ControlMethods {
    static func who(_ c: ControlCaller) -> Logger.Field {
        switch c.identity {
        case .peer(let p): return .init("PEER_UID", "\(p.uid)")
        case .dashboardSession(let id): return .init("DASHBOARD_SESSION", id)
        }
    }

    static func make(store: Store, logger: Logger, quota: @escaping @Sendable (String) -> [QuotaWindow] = { _ in [] },
                     credits: @escaping @Sendable (String) -> AccountCredits? = { _ in nil },
                     recognition: @escaping @Sendable (String) -> String? = { _ in nil },
                     status: @escaping @Sendable () throws -> StatusInfo,
                     changed: @escaping @Sendable (_ credential: String?) -> Void,
                     authFailed: @escaping @Sendable (_ credential: String) -> Void = { _ in },
                     accountToken: (@Sendable (CredentialRoute) -> Result<[String], CredentialTestAuth.Failure>)? = nil,
                     dashboard: DashboardSessions = DashboardSessions(), listen: ListenAddress = try! ListenAddress(parsing: DaemonConfig.defaultListen)) -> ControlHandlers {
        var h = ControlHandlers()
        DashboardControl.register(&h, sessions: dashboard, listen: listen, logger: logger)
        ConfigureControl.register(&h, store: store, listen: listen, logger: logger, sessions: dashboard)

        h.register(RPC.Status.self) { _, _ in try status() }
        h.register(RPC.CredentialAdd.self) { p, c in
            let info = try store.addCredential(p)
            logger.notice("credential \(info.name) added (\(info.provider.rawValue), \(info.secretRedacted))", event: "credential-added",
                          [.init("CREDENTIAL", info.name), .init("PROVIDER", info.provider.rawValue), who(c)])
            changed(info.name)
            return info
        }
        // A subscription account's usage windows (memory only) beside what the store holds.
        let withQuota: @Sendable (CredentialInfo) -> CredentialInfo = { c in
            var c = c
            if c.provider.isAccount { c.quota = quota(c.name); c.credits = credits(c.name) }
            return c
        }
        h.register(RPC.CredentialList.self) { _, _ in try store.credentials().map(withQuota) }
        h.register(RPC.CredentialShow.self) { p, _ in withQuota(try store.credential(p.name)) }
        h.register(RPC.CredentialRemove.self) { p, c in
            let apps = try store.removeCredential(p.name, force: p.force ?? false)
            logger.notice("credential \(p.name) removed" + (apps.isEmpty ? "" : ", and from the chains of \(apps.joined(separator: ", "))"),
                          event: "credential-removed", [.init("CREDENTIAL", p.name), who(c)])
            changed(p.name)
            return .init(name: p.name, unassignedFrom: apps)
        }
        h.register(RPC.CredentialUpdate.self) { p, c in
            let info = try store.updateCredential(p)
            var what: [String] = []
            if p.secret != nil { what.append("secret") }
            if p.baseURL != nil { what.append("base URL") }
            if let o = p.options, !o.isEmpty { what.append("options " + o.keys.sorted().joined(separator: ", ")) }
            if p.free != nil { what.append("free mark") }
            logger.notice("credential \(p.name) updated (\(what.isEmpty ? "nothing changed" : what.joined(separator: ", ")))", event: "credential-updated",
                          [.init("CREDENTIAL", p.name), who(c)])
            changed(p.name)
            return info
        }
        h.register(RPC.CredentialSetEnabled.self) { p, c in
            let info = try store.setEnabled(p.name, p.enabled)
            logger.notice("credential \(p.name) \(p.enabled ? "enabled" : "disabled")",
                          event: p.enabled ? "credential-enabled" : "credential-disabled", [.init("CREDENTIAL", p.name), who(c)])
            changed(p.name)
            return info
        }
        h.register(RPC.CredentialTest.self) { p, c in
            // Blocking, on this control connection's own thread (at most 10 s): the proxy loop is not involved.
            guard let route = try store.routes().first(where: { $0.name == p.name }) else {
                throw RPCError.notFound("no credential named '\(p.name)'; 'proxypoolctl credential list' shows them")
            }
            let provider = Providers.of(route.provider)
            guard let probe = provider.probe(route), let probeAuth = CredentialTestAuth.headers(route, provider, accountToken: accountToken) else {
                throw RPCError.invalidParams("\(route.provider.rawValue) credentials cannot be tested in this release")
            }
            let auth: [String]
            switch probeAuth {
            case .success(let h): auth = h
            case .failure(let f):
                if f.refused { authFailed(p.name) }
                logger.notice("credential \(p.name) tested: failed, \(f.message)", event: "credential-tested",
                              [.init("CREDENTIAL", p.name), .init("OK", "0"), who(c)])
                return try store.setLastTest(p.name, ok: false, message: f.message)
            }
            let r = Probe.get(url: probe.url, headers: probe.headers + auth, caFile: route.options["ca-file"])
            let ok = (200..<300).contains(r.status)
            var message: String
            if ok {
                message = "HTTP \(r.status) in \(r.millis) ms"
            } else if r.status == 0 {
                message = "no answer: \(r.error ?? "unknown error") (after \(r.millis) ms)"
            } else {
                let text = String(decoding: r.body.prefix(300), as: UTF8.self).split(whereSeparator: \.isNewline).joined(separator: " ")
                message = "HTTP \(r.status)" + (text.isEmpty ? "" : ": " + text)
            }
            if !route.secret.isEmpty { message = message.replacingEvery(route.secret, with: "…") }   // an echoed key never leaves
            if ok { changed(p.name) } else if r.status == 401 || r.status == 403 { authFailed(p.name) }
            logger.notice("credential \(p.name) tested: \(ok ? "ok" : "failed"), \(message)", event: "credential-tested",
                          [.init("CREDENTIAL", p.name), .init("OK", ok ? "1" : "0"), .init("STATUS", String(r.status)), who(c)])
            return try store.setLastTest(p.name, ok: ok, message: message)
        }
        h.register(RPC.Assign.self) { p, c in
            let a = try store.assign(p)
            logger.notice("app \(a.app) assigned to \(a.credentials.joined(separator: " → "))", event: "assignment-changed",
                          [.init("APP", a.app), .init("CREDENTIALS", a.credentials.joined(separator: ",")), who(c)])
            changed(nil)
            return a
        }
        h.register(RPC.Unassign.self) { p, c in
            try store.unassign(p.app)
            logger.notice("app \(p.app) unassigned", event: "assignment-removed", [.init("APP", p.app), who(c)])
            changed(nil)
            return Empty()
        }
        h.register(RPC.AssignmentList.self) { _, _ in try store.assignments() }
        h.register(RPC.KeyCreate.self) { p, c in
            let k = try store.createKey(app: p.app)
            var fields: [Logger.Field] = [.init("KEY_ID", k.id), who(c)]
            if let app = k.app { fields.append(.init("APP", app)) }
            logger.notice("access key \(k.id) created" + (k.app.map { " for app \($0)" } ?? ""), event: "key-created", fields)
            changed(nil)
            return k
        }
        h.register(RPC.KeyList.self) { _, _ in try store.keys() }
        h.register(RPC.KeyRevoke.self) { p, c in
            try store.revokeKey(p.id)
            logger.notice("access key \(p.id) revoked", event: "key-revoked", [.init("KEY_ID", p.id), who(c)])
            changed(nil)
            return Empty()
        }
        h.register(RPC.TierList.self) { _, _ in try store.tiers() }
        h.register(RPC.TierSet.self) { p, c in
            let e = try store.setTier(p)
            logger.notice("tier \(e.tier.rawValue) of \(e.credential.map { "credential \($0)" } ?? e.provider.rawValue) set to \(e.model ?? "none") (\(e.source.rawValue))",
                          event: "tier-set", [.init("PROVIDER", e.provider.rawValue), .init("CREDENTIAL", e.credential ?? ""),
                                              .init("TIER", e.tier.rawValue), .init("MODEL", e.model ?? ""), who(c)])
            changed(nil)
            return e
        }
        h.register(RPC.AliasList.self) { _, _ in try store.aliases() }
        h.register(RPC.AliasSet.self) { p, c in
            let a = try store.setAlias(p)
            logger.notice("alias \(a.name) → \(a.model)", event: "alias-set", [.init("ALIAS", a.name), .init("MODEL", a.model), who(c)])
            changed(nil)
            return a
        }
        h.register(RPC.AliasRemove.self) { p, c in
            try store.removeAlias(p.name)
            logger.notice("alias \(p.name) removed", event: "alias-removed", [.init("ALIAS", p.name), who(c)])
            changed(nil)
            return Empty()
        }
        h.register(RPC.SettingsGet.self) { _, _ in try store.settings() }
        h.register(RPC.AppList.self) { _, _ in
            try store.apps().map { a in
                var a = a
                a.recognisedBy = recognition(a.app)
                return a
            }
        }
        h.register(RPC.Usage.self) { p, _ in try store.usage(since: p.since) }
        h.register(RPC.TierClassify.self) { p, _ in
            let r = TierClassifier.classify(p.model, userRules: try store.tierRules().map(\.rule))
            return .init(model: p.model, normalized: r.normalized, tier: r.tier, rule: r.rule)
        }
        h.register(RPC.TierRuleList.self) { _, _ in try store.tierRules() }
        h.register(RPC.TierRuleAdd.self) { p, c in
            let r = try store.addTierRule(pattern: p.pattern, tier: p.tier)
            logger.notice("tier rule \(r.id) added: '\(r.pattern)' → \(r.tier.rawValue)", event: "tier-rule-added", [who(c)])
            changed(nil)
            return r
        }
        h.register(RPC.TierRuleRemove.self) { p, c in
            try store.removeTierRule(p.id)
            logger.notice("tier rule \(p.id) removed", event: "tier-rule-removed", [who(c)])
            changed(nil)
            return Empty()
        }
        h.register(RPC.AppRuleList.self) { _, _ in try store.appRules() }
        h.register(RPC.AppRuleAdd.self) { p, c in
            let r = try store.addAppRule(AppRule(header: p.header, match: p.match, value: p.value, app: p.app))
            logger.notice("app rule \(r.id) added: \(r.rule.header) \(r.rule.match.rawValue) '\(r.rule.value)' → \(r.rule.app)", event: "app-rule-added",
                          [.init("APP", r.rule.app), who(c)])
            changed(nil)
            return r
        }
        h.register(RPC.AppRuleRemove.self) { p, c in
            try store.removeAppRule(p.id)
            logger.notice("app rule \(p.id) removed", event: "app-rule-removed", [who(c)])
            changed(nil)
            return Empty()
        }
        h.register(RPC.SettingsSet.self) { p, c in
            guard let key = SettingKey(rawValue: p.key) else {
                throw RPCError.invalidParams("unknown setting '\(p.key)'; one of: \(SettingKey.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let value = p.value.map { $0 ? "on" : "off" } ?? "default"
            let s: Settings
            if let app = p.app {
                guard key == .freeModels else { throw RPCError.invalidParams("only free_models can be set per app") }
                s = try store.setFreeModels(app: app, p.value)
            } else {
                guard let v = p.value else { throw RPCError.invalidParams("value must be true or false") }
                s = try store.setSetting(key, v)
            }
            logger.notice("setting \(key.rawValue)\(p.app.map { " for app \($0)" } ?? "") = \(value)", event: "setting-changed",
                          [.init("SETTING", key.rawValue), .init("VALUE", value), .init("APP", p.app ?? ""), who(c)])
            changed(nil)
            return s
        }
        return h
    }
}
