#if canImport(Glibc)
import Glibc
#endif

/// Times travel as RFC 3339 UTC strings ("2026-11-25T08:37:14Z") and are stored as Unix seconds.
public enum Timestamp {
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }

    /// Wall-clock milliseconds (cooldowns are stored as epoch times so that they survive a restart).
    public static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// The time of day of an epoch time, for messages: "14:02:10 UTC".
    public static func clock(_ epochMillis: Int64) -> String {
        String(iso8601(epochMillis / 1000).dropFirst(11).dropLast()) + " UTC"
    }

    public static func iso8601(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int32, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2))Z"
    }
}
