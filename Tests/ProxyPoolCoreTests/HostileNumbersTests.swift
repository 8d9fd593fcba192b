import Testing
@testable import ProxyPoolCore

/// Numbers from outside that once trapped (issue 12): every parser clamps, none traps.
@Suite struct SaturatingTests {
    @Test func doublesBecomeInt64WithoutTrapping() {
        #expect(Saturating.int64(1e300) == .max && Saturating.int64(.infinity) == .max)
        #expect(Saturating.int64(-1e300) == .min && Saturating.int64(-.infinity) == .min)
        #expect(Saturating.int64(.nan) == nil && Saturating.int64(-.nan) == nil)
        #expect(Saturating.int64(0x1p63) == .max, "2^63 is one past Int64.max")
        #expect(Saturating.int64(-0x1p63) == .min && Saturating.int64(0x1p62) == 1 << 62)
        #expect(Saturating.int64(1.9) == 1 && Saturating.int64(-1.9) == -1 && Saturating.int64(-1) == -1)
    }

    @Test func arithmeticStopsAtTheBounds() {
        #expect(Saturating.add(.max, 1) == .max && Saturating.add(.min, -1) == .min && Saturating.add(2, 3) == 5)
        #expect(Saturating.add(.max, .min) == -1, "no overflow, no clamping")
        #expect(Saturating.subtract(.min, 1) == .min && Saturating.subtract(.max, -1) == .max && Saturating.subtract(5, 7) == -2)
        #expect(Saturating.multiply(.max / 2, 3) == .max && Saturating.multiply(.max / 2, -3) == .min)
        #expect(Saturating.multiply(-(.max / 2), -3) == .max && Saturating.multiply(6, 7) == 42)
    }

    @Test func tokenCountsAreHeldToTenToTheTwelve() {
        let cap = Saturating.maxTokensPerRequest
        #expect(cap == 1_000_000_000_000)
        #expect(Saturating.tokens(999_999_999_999_999_999 as Int64) == cap && Saturating.tokens(Int.max) == cap)
        #expect(Saturating.tokens(UInt64.max) == cap, "wider than Int64: clamped, not trapped")
        #expect(Saturating.tokens(-1) == 0 && Saturating.tokens(Int.min) == 0 && Saturating.tokens(1234) == 1234)
        #expect(Saturating.tokens(text: "999999999999999999") == cap && Saturating.tokens(text: "99999999999999999999999999") == cap)
        #expect(Saturating.tokens(text: "1e300") == cap && Saturating.tokens(text: "-1") == 0 && Saturating.tokens(text: "-1e300") == 0)
        #expect(Saturating.tokens(text: "12") == 12 && Saturating.tokens(text: "12.9") == 12 && Saturating.tokens(text: "1e3") == 1000)
        #expect(Saturating.tokens(text: "nan") == nil && Saturating.tokens(text: "abc") == nil)
        #expect(Saturating.tokens(text: "inf") == cap)
    }
}

@Suite struct HostileCooldownTests {
    let now: Int64 = 1_795_600_000_000
    let cap: Int64 = 120_000

    func wait(_ headers: [(String, String)], _ body: String = "", status: Int = 429) -> Int64? {
        guard case .coolDown(let until, _)? = Cooldowns.verdict(status: status, headers: headers, body: Array(body.utf8), nowMillis: now,
                                                                 consecutiveFailures: 0, capMillis: cap)?.action else { return nil }
        return until - now
    }

    @Test func hugeRetryAfterIsCutToTheCap() {
        for v in ["1e300", "inf", "infinity", "99999999999999999999999", String(repeating: "9", count: 400), "1.7976931348623157e308"] {
            #expect(wait([("Retry-After", v)]) == cap, "Retry-After: \(v.prefix(30))")
            #expect(wait([("retry-after-ms", v)]) == cap, "retry-after-ms: \(v.prefix(30))")
        }
    }

    @Test func nanAndNegativeWaitsFallBackToBackoff() {
        for v in ["nan", "-nan", "-1", "-1e300", "-inf"] {
            #expect(wait([("Retry-After", v)]) == 1_000, "Retry-After: \(v) is no wait at all: the first backoff step")
            #expect(wait([("retry-after-ms", v)]) == 1_000, "retry-after-ms: \(v)")
        }
    }

    @Test func farDatesAreCutToTheCap() {
        for date in ["Fri, 31 Dec 99999 23:59:59 GMT", "Fri, 31 Dec 2147483647 23:59:59 GMT", "Fri, 31 Dec 9223372036854775807 23:59:59 GMT"] {
            #expect(wait([("Retry-After", date)]) == cap, "\(date)")
        }
        // A date long past is no wait (the 100 ms floor), whatever its year.
        for date in ["Fri, 31 Dec -9223372036854775808 23:59:59 GMT", "Fri, 31 Dec -2147483648 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT"] {
            let w = wait([("Retry-After", date)])
            #expect(w == 100 || w == 1_000, "\(date): \(String(describing: w))")
        }
        #expect(wait([("anthropic-ratelimit-requests-reset", "9999-12-31T23:59:59Z"), ("anthropic-ratelimit-requests-remaining", "0")]) == cap)
        #expect(wait([("anthropic-ratelimit-tokens-reset", "9999-12-31T23:59:59.99999999999999999999999+23:59")]) == cap)
        #expect(wait([("anthropic-ratelimit-tokens-reset", "0000-01-01T00:00:00-99:99")]) == 100)
    }

    @Test func hugeDurationsAreCutToTheCap() {
        for d in ["99999999999999h", String(repeating: "9", count: 400) + "h", "99999999999999999999ms", "9999999999999999m9999999999999999s"] {
            #expect(wait([("x-ratelimit-reset-requests", d), ("x-ratelimit-remaining-requests", "0")]) == cap, "\(d.prefix(30))")
            #expect(wait([("x-ratelimit-reset-tokens", d)]) == cap, "\(d.prefix(30))")
        }
        #expect(Cooldowns.parseDuration("1e300s") == nil, "not a Go duration ('e' is no unit)")
        #expect(wait([("x-ratelimit-reset-requests", "1e300s")]) == 1_000, "so the backoff applies")
        #expect(wait([], #"{"error":{"details":[{"retryDelay": "99999999999999h"}]}}"#) == cap)
        #expect(wait([], "Rate limit reached. Please try again in 99999999999999h.") == cap)
    }

    @Test func hugeResetsInBodiesAreCutToTheCap() {
        let digits = String(repeating: "9", count: 400)
        #expect(wait([], #"{"error":{"type":"usage_limit_reached","resets_in_seconds":\#(digits)}}"#) == cap)
        #expect(wait([], #"{"error":{"type":"usage_limit_reached","resets_in_seconds":99999999999999999999}}"#) == cap)
        #expect(wait([], #"{"resets_at": \#(digits)}"#) == cap)
        #expect(wait([], #"{"resets_at": 99999999999999999999.5}"#) == cap)
        #expect(wait([], #"{"resets_in_seconds": -1}"#) == 1_000, "no number after the key: backoff")
    }

    @Test func parsersSaturate() {
        #expect(Cooldowns.parseDuration("99999999999999h") == .max)
        #expect(Cooldowns.parseDuration(String(repeating: "9", count: 400) + "s") == .max)
        #expect(Cooldowns.parseDuration("1.5s") == 1_500)
        #expect(Cooldowns.parseHTTPDate("Fri, 31 Dec 2147483647 23:59:59 GMT") == .max)
        #expect(Cooldowns.parseHTTPDate("Fri, 31 Dec 99999 23:59:59 GMT") == 3_093_527_980_799_000, "year 99999 is representable")
        #expect(Cooldowns.parseHTTPDate("Fri, 31 Dec 99999999999999999999 23:59:59 GMT") == nil, "not an Int64 year: not a date")
        #expect(Cooldowns.parseRFC3339("9999-12-31T23:59:59Z") == 253_402_300_799_000)
        #expect(Cooldowns.parseRFC3339("2026-11-25T09:00:00." + String(repeating: "9", count: 500) + "Z") == Cooldowns.parseRFC3339("2026-11-25T09:00:01Z"),
                "a fraction of 500 nines is a whole second")
    }

    @Test func untilNeverOverflows() {
        guard case .coolDown(let until, _)? = Cooldowns.verdict(status: 429, headers: [("Retry-After", "1e300")], body: [], nowMillis: .max - 10,
                                                                 consecutiveFailures: 0, capMillis: cap)?.action else { Issue.record("no cooldown"); return }
        #expect(until == .max)
        guard case .coolDown(let u2, _) = Cooldowns.connectFailure(nowMillis: .max - 10, consecutiveFailures: .max, capMillis: cap, message: "x").action else { return }
        #expect(u2 == .max)
    }
}

/// An upstream's Retry-After goes on with a translated error only as a short delay or a valid HTTP date.
@Suite struct RetryAfterForwardingTests {
    @Test func onlyShortDelaysAndValidDatesAreForwardable() {
        for v in ["0", "30", "999999999", " 30\t", "Sun, 06 Nov 1994 08:49:37 GMT", "Fri, 31 Dec 9999 23:59:60 GMT"] {
            #expect(RetryAfterValue.isForwardable(v), "\(v)")
        }
        for v in ["", " ", "1000000000", "1e300", "-1", "1.5", "+5", "0x10", "30 s", "30,30", String(repeating: "9", count: 400),
                  "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                  "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:61:37 GMT",
                  "Sun, 06 Nov 21474836470 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
                  "Sun, 06 Nov 1994 08:49:37 GMT\r\nX-Evil: 1"] {
            #expect(!RetryAfterValue.isForwardable(v), "\(v)")
        }
    }
}

@Suite struct HostileUsageScannerTests {
    @Test func eachReportedCountIsHeldToTenToTheTwelve() {
        var u = UsageScanner()
        u.feed(Array(#"{"usage":{"prompt_tokens":999999999999999999,"completion_tokens":99999999999999999999999,"prompt_tokens_details":{"cached_tokens":1000000000001}}}"#.utf8))
        #expect(u.input == Saturating.maxTokensPerRequest && u.output == Saturating.maxTokensPerRequest && u.cached == Saturating.maxTokensPerRequest)
        var v = UsageScanner()
        v.feed(Array(#"{"input_tokens":-1,"output_tokens":1e300,"cache_read_input_tokens":12}"#.utf8))
        #expect(v.input == 0 && v.output == Saturating.maxTokensPerRequest && v.cached == 12, "a sign is not a digit; 1e300 is the cap")
    }

    /// Numbers with a fraction or an exponent read as `Saturating.tokens(text:)` reads them (the translated path),
    /// whole or cut anywhere across two chunks; one longer than any real count (20 characters) is the cap.
    @Test func fractionsAndExponentsReadLikeTheTranslatedPath() {
        let cap = Saturating.maxTokensPerRequest
        let cases: [(String, Int64)] = [("1e300", cap), ("1E300", cap), ("1.9", 1), ("1.5e1", 15), ("2E3", 2000), ("2e+3", 2000),
                                        ("1e-1", 0), ("125e-1", 12), ("0.0", 0), ("0", 0), ("7", 7), ("123456789012", 123_456_789_012),
                                        ("1000000000001", cap), ("1e12", cap), ("9.99e11", 999_000_000_000), ("0.000001e7", 10),
                                        ("1.00000000000000000000001", cap), (String(repeating: "9", count: 400), cap), ("1e99999999999999999999", cap)]
        for (text, want) in cases {
            // Past 20 characters the scanner does not read on (a fraction's end may be chunks away): the cap.
            if text.utf8.count <= UsageScanner.maxNumberLength || want == cap && !text.contains(".") {
                #expect(Saturating.tokens(text: text) == want, "translated path: \(text)")
            }
            let raw = Array(#"{"x":1,"output_tokens":\#(text),"y":2}"#.utf8)
            for cut in [0] + Array(10..<min(raw.count, 60)) {
                var u = UsageScanner()
                if cut == 0 { u.feed(raw) } else { u.feed(Array(raw[..<cut])); u.feed(Array(raw[cut...])) }
                #expect(u.output == want, "\(text) cut at \(cut): \(u.output)")
            }
        }
    }
}
