/// Arithmetic on numbers that come from outside (upstream headers and bodies, usage counts, stored sums): it
/// never traps. `Int64(someDouble)` traps on NaN, infinity and anything beyond ±2^63, and `+`/`*` trap on
/// overflow; one hostile `Retry-After: 1e300` or `"prompt_tokens": 999999999999999999` must not end the daemon.
/// Inlinable: a few of these run on every request (usage), and a generic or cross-module call would cost more
/// than the arithmetic.
public enum Saturating {
    /// The most tokens one request may report (10^12): far above any real context window, and small enough
    /// that ~9 million such requests still add up without saturating.
    public static let maxTokensPerRequest: Int64 = 1_000_000_000_000

    /// `d` rounded toward zero and clamped to Int64's range; nil for NaN (there is no sane value for it).
    @inlinable public static func int64(_ d: Double) -> Int64? {
        if d.isNaN { return nil }
        // 2^63 is exactly representable; Int64.max is not (it rounds up to 2^63, which would trap).
        if d >= 0x1p63 { return .max }
        if d <= -0x1p63 { return .min }
        return Int64(d)
    }

    /// `a + b`, or the bound it ran past.
    @inlinable public static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (r, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : r
    }

    /// `a - b`, or the bound it ran past.
    @inlinable public static func subtract(_ a: Int64, _ b: Int64) -> Int64 {
        let (r, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (b < 0 ? .max : .min) : r
    }

    /// `a * b`, or the bound it ran past.
    @inlinable public static func multiply(_ a: Int64, _ b: Int64) -> Int64 {
        let (r, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? ((a < 0) == (b < 0) ? .max : .min) : r
    }

    /// A token count one request reported, made sane: negative counts are 0, huge ones `maxTokensPerRequest`.
    @inlinable public static func tokens<T: BinaryInteger>(_ n: T) -> Int64 {
        min(max(Int64(clamping: n), 0), maxTokensPerRequest)
    }

    /// A token count read as a JSON number's text ("12", "1e300", "-1", "1.5"): clamped like `tokens`; nil when
    /// the text is not a number at all.
    public static func tokens(text: String) -> Int64? {
        if let n = Int64(text) { return tokens(n) }
        guard let d = Double(text), let n = int64(d) else { return nil }
        return tokens(n)
    }
}
