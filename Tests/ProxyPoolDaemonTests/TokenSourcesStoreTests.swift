import Dispatch
import Glibc
import Testing
import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolStore
import ProxyPoolUpstream
import ProxyPoolProviders
@testable import ProxyPoolDaemon

/// The token store is SQLite, which blocks: `TokenSources` reads it on a thread of its own and answers the
/// waiting requests back on the loop. A store that takes half a second must not hold the loop for it.
@Suite struct TokenSourcesStoreTests {
    final class Box: @unchecked Sendable {
        let lock = Mutex()
        var answers: [TokenSources.Answer] = []
        var callMillis: Int64 = -1
        var returnedNil = false
        var loopTurnsWhileLoading = 0
    }

    /// Run `body` on the loop thread, and wait until it has run.
    static func run(on loop: EventLoop, _ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        loop.execute { body(); done.signal() }
        done.wait()
    }

    @Test func aSlowStoreReadDoesNotHoldTheLoopAndTheWaitersGetTheStoredToken() throws {
        let loop = EventLoop()
        func onLoop(_ body: @escaping @Sendable () -> Void) { Self.run(on: loop, body) }
        Threads.start(stackSize: 1 << 20) { loop.run() }
        defer { loop.stop() }
        let logger = Logger(identifier: "test", level: .error, destination: .lines(fd: 2))
        let box = Box()
        nonisolated(unsafe) var tokens: TokenSources!
        let credential = CredentialRoute(name: "t", provider: .testOAuth, secret: "refresh-1", baseURL: "http://127.0.0.1:9/",
                                         options: [:], enabled: true, free: false)
        let farFuture = Timestamp.nowMillis() + 3_600_000
        onLoop {
            tokens = TokenSources(loop: loop, upstreams: Upstreams(loop: loop), logger: logger)
            tokens.persistence = .init(load: { _ in
                usleep(500_000)   // a store busy with another writer
                return Store.StoredToken(accessToken: "stored-access", expiresAtMillis: farFuture, refreshToken: nil)
            }, save: { _, _ in })
        }
        guard case .token(let grant) = Providers.of(.testOAuth).auth(credential) else { Issue.record("test-oauth has no token grant"); return }
        // Two requests wait on the one read; the call itself returns at once.
        onLoop {
            let start = Posix.monotonicMillis()
            for _ in 0..<2 {
                let now = tokens.headers(for: credential, grant: grant) { a in box.lock.locked { box.answers.append(a) } }
                box.lock.locked { box.returnedNil = now == nil }
            }
            box.lock.locked { box.callMillis = Posix.monotonicMillis() - start }
        }
        // The loop keeps turning while the store is read.
        let until = Posix.monotonicMillis() + 300
        while Posix.monotonicMillis() < until {
            onLoop { box.lock.locked { box.loopTurnsWhileLoading += 1 } }
            usleep(10_000)
        }
        let deadline = Posix.monotonicMillis() + 5000
        while box.lock.locked({ box.answers.count }) < 2 && Posix.monotonicMillis() < deadline { usleep(10_000) }
        box.lock.locked {
            #expect(box.returnedNil, "the first call must not wait for the store")
            #expect(box.callMillis < 100, "headers(for:) took \(box.callMillis) ms")
            #expect(box.loopTurnsWhileLoading >= 10, "the loop went round \(box.loopTurnsWhileLoading) times in 300 ms")
            #expect(box.answers.count == 2)
            for a in box.answers {
                guard case .ready(let h) = a else { Issue.record("expected the stored token, got \(a)"); continue }
                #expect(h == ["Authorization: Bearer stored-access"])
            }
        }
    }

    @Test func aCredentialChangedWhileItsTokenIsReadAnswersTheEarlierWaiters() throws {
        let loop = EventLoop()
        func onLoop(_ body: @escaping @Sendable () -> Void) { Self.run(on: loop, body) }
        Threads.start(stackSize: 1 << 20) { loop.run() }
        defer { loop.stop() }
        let box = Box()
        nonisolated(unsafe) var tokens: TokenSources!
        let before = CredentialRoute(name: "t", provider: .testOAuth, secret: "refresh-1", baseURL: "http://127.0.0.1:9/",
                                     options: [:], enabled: true, free: false)
        // Re-added with another login while the first read is under way.
        let after = CredentialRoute(name: "t", provider: .testOAuth, secret: "refresh-2", baseURL: "http://127.0.0.1:9/",
                                    options: [:], enabled: true, free: false)
        let farFuture = Timestamp.nowMillis() + 3_600_000
        onLoop {
            tokens = TokenSources(loop: loop, upstreams: Upstreams(loop: loop), logger: Logger(identifier: "test", level: .error, destination: .lines(fd: 2)))
            tokens.persistence = .init(load: { _ in
                usleep(300_000)
                return Store.StoredToken(accessToken: "stored-access", expiresAtMillis: farFuture, refreshToken: nil)
            }, save: { _, _ in })
        }
        guard case .token(let grant) = Providers.of(.testOAuth).auth(before) else { Issue.record("test-oauth has no token grant"); return }
        onLoop {
            _ = tokens.headers(for: before, grant: grant) { a in box.lock.locked { box.answers.append(a) } }
            _ = tokens.headers(for: after, grant: grant) { a in box.lock.locked { box.answers.append(a) } }
        }
        let deadline = Posix.monotonicMillis() + 5000
        while box.lock.locked({ box.answers.count }) < 2 && Posix.monotonicMillis() < deadline { usleep(10_000) }
        box.lock.locked {
            #expect(box.answers.count == 2, "every waiter is answered: \(box.answers)")
            guard box.answers.count == 2 else { return }
            guard case .failed(let why) = box.answers[0] else { Issue.record("the earlier waiter got \(box.answers[0])"); return }
            #expect(why.contains("credential changed"))
            guard case .ready(let h) = box.answers[1] else { Issue.record("the later waiter got \(box.answers[1])"); return }
            #expect(h == ["Authorization: Bearer stored-access"])
        }
    }
}
