import ProxyPoolCore
import ProxyPoolProviders

/// The credential's auth for an exchange: a static header, or a token from its token source. When the token
/// must be fetched first the machine is told `.preparation(.pending)` (no transfer; the exchange waits) and
/// then `.preparation(.ready)` when it is in, so the candidate is sent again, the way it is after media
/// fetches; a refused grant marks the credential (with the endpoint's reason, for `status`) and the machine
/// moves to the next candidate.
extension Exchange {
    enum Auth {
        /// The header lines to send.
        case ready([String])
        /// Not now: what the machine is told (`.preparation(.pending)`, or why this candidate cannot go).
        case notYet(ExchangeMachine.Event)
    }

    func authHeaders(_ c: CredentialRoute) -> Auth {
        if let h = c.staticAuth { return .ready(h) }
        switch Providers.of(c.provider).auth(c) {
        case .headers(let h): return .ready(h)
        case .token(let grant):
            let name = c.name
            guard let answer = service.tokens.headers(for: c, grant: grant, then: { [weak self] answer in
                // Weak: an exchange that finished meanwhile (its client left) is gone, and nothing is owed to it.
                guard let self, machine.mode == .waiting, index < candidates.count, candidates[index] == name else { return }
                run(event(for: answer, credential: name))
            }) else { return .notYet(.preparation(.pending)) }
            if case .ready(let h) = answer { return .ready(h) }
            return .notYet(event(for: answer, credential: name))
        }
    }

    private func event(for answer: TokenSources.Answer, credential name: String) -> ExchangeMachine.Event {
        switch answer {
        case .ready:
            return .preparation(.ready)
        case .refused(let why):
            tokenRefused(name, why, kind: providerKind(name))
            return .preparation(.failed(reason: "\(name): its token grant was refused (\(why))", markCredential: false, ifLast: nil))
        case .failed(let why):
            return .preparation(.failed(reason: "\(name): \(why)", markCredential: false, ifLast: nil))
        }
    }

    private func providerKind(_ name: String) -> ProviderKind? { service.snapshot.credentials[name]?.provider }

    /// Like a key the upstream refused (`.markAuthFailed`), but with the token endpoint's reason, which `status`
    /// shows: skipped until the credential is changed.
    private func tokenRefused(_ c: String, _ why: String, kind: ProviderKind?) {
        // A subscription login whose refresh was refused is logged out for good: `status` says how to log in again.
        let fix = kind.flatMap { AccountTokens.fix(kind: $0, credential: c) }
        let reason = fix.map { "login expired (\(why)): \($0)" } ?? "auth failed: \(why)"
        guard service.cooldowns.blockedUntil(c, model: nil, now: Timestamp.nowMillis())?.until != Int64.max else { return }
        service.cooldowns.markAuthFailed(c, reason: reason)
        service.writer.cooldown(.init(credential: c, model: "", authFailed: true, untilMillis: 0, reason: reason))
        service.logger.error("credential \(c): its token grant was refused (\(why)); marked auth failed until it is changed",
                             event: "auth-failed", [.init("CREDENTIAL", c), .init("REASON", why)])
    }
}
