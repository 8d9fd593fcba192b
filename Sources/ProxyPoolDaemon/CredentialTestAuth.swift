import Glibc
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolUpstream
import ProxyPoolProviders

/// The auth `credential test` sends: the static header, or for a kind whose token comes from a grant that never
/// rotates its secret (Vertex AI: a signed assertion, an ADC refresh token Google keeps), a token obtained
/// here and now. Blocking (the token request, the signature): on the control connection's own thread, like
/// the probe itself. A rotating grant (test-oauth) is not tried: its refresh token would be spent outside the
/// token source that stores the new one.
enum CredentialTestAuth {
    struct Failure: Error {
        var message: String
        /// The grant was refused: the credential is marked auth failed.
        var refused: Bool
    }

    /// `accountToken`: a subscription login's token from the daemon's own token source (its refresh token rotates,
    /// and only that source stores the new one), waited for here.
    static func headers(_ route: CredentialRoute, _ provider: any Provider,
                        accountToken: ((CredentialRoute) -> Result<[String], Failure>)? = nil) -> Result<[String], Failure>? {
        switch provider.auth(route) {
        case .headers(let h): return .success(h)
        case .token(let grant):
            if route.provider == .chatGPTAccount || route.provider == .claudeAccount { return accountToken?(route) }
            guard route.provider == .vertex else { return nil }
            let request = grant.request(route, refreshToken: route.secret)
            if let why = request.failure { return .failure(Failure(message: "auth failed: \(why)", refused: true)) }
            let r = Probe.get(url: request.url, headers: request.headers, caFile: route.options["ca-file"], postBody: request.body)
            guard r.status != 0 else { return .failure(Failure(message: "the token endpoint did not answer: \(r.error ?? "unknown error")", refused: false)) }
            switch grant.result(status: r.status, body: r.body, nowMillis: Timestamp.nowMillis()) {
            case .success(let token, _): return .success(grant.headers(token: token.value))
            case .refused(let why): return .failure(Failure(message: "auth failed: \(why)", refused: true))
            case .failed(let why): return .failure(Failure(message: why, refused: false))
            }
        }
    }
}

/// A subscription login's token for `credential test`, from the daemon's token source on the loop (which stores
/// a rotated refresh token before anyone uses the new token), waited for on the control connection's thread.
final class AccountTokenWait: @unchecked Sendable {
    private let lock = Mutex()
    private var result: Result<[String], CredentialTestAuth.Failure>?

    static func headers(_ route: CredentialRoute, loop: EventLoop, tokens: TokenSources, timeoutSeconds: Int = 35)
        -> Result<[String], CredentialTestAuth.Failure> {
        let w = AccountTokenWait()
        loop.execute {
            guard case .token(let grant) = Providers.of(route.provider).auth(route) else {
                return w.put(.failure(.init(message: "this credential has no token grant", refused: false)))
            }
            if let now = tokens.headers(for: route, grant: grant, then: { w.put($0) }) { w.put(now) }
        }
        let deadline = Posix.monotonicMillis() + Int64(timeoutSeconds) * 1000
        while Posix.monotonicMillis() < deadline {
            if let r = w.lock.locked({ w.result }) { return r }
            usleep(10_000)
        }
        return .failure(.init(message: "no token within \(timeoutSeconds) s", refused: false))
    }

    private func put(_ a: TokenSources.Answer) {
        switch a {
        case .ready(let h): put(.success(h))
        case .refused(let why): put(.failure(.init(message: "login expired: \(why)", refused: true)))
        case .failed(let why): put(.failure(.init(message: why, refused: false)))
        }
    }

    private func put(_ r: Result<[String], CredentialTestAuth.Failure>) { lock.locked { if result == nil { result = r } } }
}
