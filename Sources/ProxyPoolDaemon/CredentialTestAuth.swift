import ProxyPoolCore
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

    static func headers(_ route: CredentialRoute, _ provider: any Provider) -> Result<[String], Failure>? {
        switch provider.auth(route) {
        case .headers(let h): return .success(h)
        case .token(let grant):
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
