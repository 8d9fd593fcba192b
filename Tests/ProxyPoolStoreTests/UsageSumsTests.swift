import Testing
@testable import ProxyPoolStore
import ProxyPoolCore

/// Usage from upstreams reporting absurd token counts (issue 12): clamped per request, sums that saturate.
@Suite struct UsageSumsTests {
    let cap = Saturating.maxTokensPerRequest

    func delta(_ n: Int64 = 0) -> Store.UsageDelta {
        Store.UsageDelta(day: "2026-11-25", app: "a", credential: "c", model: "m", upstreamModel: "m", requests: n, errors: n, input: n, output: n, cached: n)
    }

    @Test func eachRequestCountsAtMostTenToTheTwelve() {
        var d = delta()
        for _ in 0..<20 { d.add(error: false, input: 999_999_999_999_999_999, output: .max, cached: 1_000_000_000_001) }
        #expect(d.requests == 20 && d.errors == 0)
        #expect(d.input == 20 * cap && d.output == 20 * cap && d.cached == 20 * cap)
        d.add(error: true, input: -1, output: .min, cached: -5)
        #expect(d.requests == 21 && d.errors == 1 && d.input == 20 * cap && d.output == 20 * cap, "negative counts are 0")
    }

    @Test func sumsSaturateAtInt64Max() {
        var d = delta(.max - 1)
        d.add(error: true, input: cap, output: cap, cached: cap)
        #expect(d.requests == .max && d.errors == .max && d.input == .max && d.output == .max && d.cached == .max)
        var e = delta(.max)
        e.merge(delta(.max))
        #expect(e.requests == .max && e.errors == .max && e.input == .max && e.output == .max && e.cached == .max)
        var f = delta(2)
        f.merge(delta(3))
        #expect(f.requests == 5 && f.input == 5 && f.cached == 5)
    }

    /// SQLite turns an overflowing integer sum into a float; the store keeps the largest integer instead.
    @Test func storedSumsSaturateAndReadBackAsIntegers() throws {
        let store = try Store(directory: tempDir())
        for _ in 0..<3 {
            try store.applyProxyBatch(cooldownsSet: [], cooldownsCleared: [], usage: [delta(.max / 2 + 1)],
                                      apps: [(app: "a", requests: .max / 2 + 1, at: 1)], keysUsed: [])
        }
        let rows = try store.usage(since: nil)
        #expect(rows.count == 1)
        #expect(rows.first.map { [$0.requests, $0.errors, $0.inputTokens, $0.outputTokens, $0.cachedTokens] } == Array(repeating: Int64.max, count: 5))
        #expect(try store.apps().first?.requests == .max)
        let types = try store.locked { () throws(RPCError) in
            try store.dbForTests.query("SELECT typeof(input_tokens), typeof(requests) FROM usage", [], { st in (st.text(0) ?? "") + "," + (st.text(1) ?? "") })
        }
        #expect(types == ["integer,integer"], "not a float past Int64.max")
        // Small sums are exact, as before.
        let other = try Store(directory: tempDir())
        for n in [1, 2, 3] as [Int64] { try other.applyProxyBatch(cooldownsSet: [], cooldownsCleared: [], usage: [delta(n)], apps: [], keysUsed: []) }
        #expect(try other.usage(since: nil).first?.inputTokens == 6)
    }
}
