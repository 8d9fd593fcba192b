import Dispatch
import Glibc
import Testing
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolUpstream
import ProxyPoolProviders
@testable import ProxyPoolDaemon

/// A grant whose request is blocking work to build (Vertex AI's signed assertion, `requestBlocks`) is built on a
/// thread of its own: a signature that takes half a second holds neither the loop nor the caller.
@Suite struct TokenSourcesSigningTests {
    struct SlowSigner: TokenGrant {
        var requestBlocks: Bool { true }
        var refreshMarginMillis: Int64 { 0 }
        func request(_ c: CredentialRoute, refreshToken: String) -> TokenRequest {
            usleep(500_000)   // a slow signature
            // Built, but nothing to send it to: refused before any connection, with this reason.
            return TokenRequest(url: "", headers: [], body: [], failure: "signed off the loop")
        }
        func result(status: Int, body: [UInt8], nowMillis: Int64) -> TokenFetchResult { .failed("unused") }
        func headers(token: String) -> [String] { ["Authorization: Bearer \(token)"] }
    }

    @Test func aSlowSignatureDoesNotHoldTheLoop() throws {
        let loop = EventLoop()
        func onLoop(_ body: @escaping @Sendable () -> Void) { TokenSourcesStoreTests.run(on: loop, body) }
        Threads.start(stackSize: 1 << 20) { loop.run() }
        defer { loop.stop() }
        let box = TokenSourcesStoreTests.Box()
        nonisolated(unsafe) var tokens: TokenSources!
        let credential = CredentialRoute(name: "v", provider: .vertex, secret: "{}", baseURL: nil, options: [:], enabled: true, free: false)
        onLoop { tokens = TokenSources(loop: loop, upstreams: Upstreams(loop: loop), logger: Logger(identifier: "test", level: .error, destination: .lines(fd: 2))) }
        onLoop {
            let start = Posix.monotonicMillis()
            for _ in 0..<2 {
                let now = tokens.headers(for: credential, grant: SlowSigner()) { a in box.lock.locked { box.answers.append(a) } }
                box.lock.locked { box.returnedNil = now == nil }
            }
            box.lock.locked { box.callMillis = Posix.monotonicMillis() - start }
        }
        let until = Posix.monotonicMillis() + 300
        while Posix.monotonicMillis() < until {
            onLoop { box.lock.locked { box.loopTurnsWhileLoading += 1 } }
            usleep(10_000)
        }
        let deadline = Posix.monotonicMillis() + 5000
        while box.lock.locked({ box.answers.count }) < 2 && Posix.monotonicMillis() < deadline { usleep(10_000) }
        box.lock.locked {
            #expect(box.returnedNil && box.callMillis < 100, "headers(for:) took \(box.callMillis) ms")
            #expect(box.loopTurnsWhileLoading >= 10, "the loop went round \(box.loopTurnsWhileLoading) times in 300 ms")
            #expect(box.answers.count == 2, "both waiters are answered by the one build")
            for a in box.answers {
                guard case .refused(let why) = a else { Issue.record("expected the build's refusal, got \(a)"); continue }
                #expect(why == "signed off the loop")
            }
        }
    }
}
