#if canImport(Glibc)
import Glibc
#endif

/// What an upstream failure means for the credential that got it.
public struct FailureVerdict: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Skip the credential (for `model` only, or for every model) until the time given.
        case coolDown(untilEpochMillis: Int64, perModel: Bool)
        /// 401/403: the credential is marked "auth failed" until it is changed or re-tested.
        case authFailed
        /// A transient error: try the next candidate, no cooldown.
        case retryElsewhere
    }
    public var action: Action
    public var reason: String
}

/// Reading rate-limit signals from every provider: status, Retry-After (seconds or HTTP date), retry-after-ms,
/// OpenAI's x-ratelimit-reset-*, Anthropic's anthropic-ratelimit-*-reset, reset times in error bodies
/// (Codex usage_limit_reached, Gemini RetryInfo, "try again in …"), else exponential backoff. Always capped.
/// Every number here comes from an upstream: it is read saturating (`Saturating`), so `Retry-After: 1e300`
/// or a reset in the year 2147483647 is a long wait, cut to the cap, and never a trap.
public enum Cooldowns {
    public static let backoffBaseMillis: Int64 = 1_000
    /// The state of a subscription whose plan refuses this app (Anthropic's third-party 400).
    public static let planRefusesThirdParty = "plan refuses third-party use"

    /// The verdict for a failed attempt; nil when the response is not a failure to act on (forward it).
    public static func verdict(status: Int, headers: [(String, String)], body: [UInt8], nowMillis: Int64,
                               consecutiveFailures: Int, capMillis: Int64) -> FailureVerdict? {
        let text = String(decoding: body.prefix(65536), as: UTF8.self)
        func header(_ n: String) -> String? { headers.last { $0.0.lowercased() == n }?.1 }
        let quota = text.includes("usage_limit_reached") || text.includes("insufficient_quota") || text.includes("quota_exceeded")
            || text.includes("usage limit")
        let overloaded = status == 529 || status == 503 || text.includes("overloaded_error")
        switch status {
        case 401, 403:
            return FailureVerdict(action: .authFailed, reason: "upstream answered \(status) (authentication failed)")
        case 429, 529, 503:
            break
        case 500, 502, 504:
            return FailureVerdict(action: .retryElsewhere, reason: "upstream answered \(status)")
        case 400 where text.includes("Third-party apps now draw from your extra usage"):
            // Anthropic refusing a subscription's use by this app (../shared/notes/clients.md §8): the credential
            // is at fault for this kind of request, not rate-limited.
            return FailureVerdict(action: .authFailed, reason: planRefusesThirdParty)
        default:
            if !overloaded { return nil }
        }
        if status == 429, let v = claudeSubscription(header, text: text, nowMillis: nowMillis, capMillis: capMillis) { return v }
        let reason = quota ? "usage limit reached" : (overloaded ? "overloaded (\(status))" : "rate-limited (429)")
        var wait = resetFromHeaders(header, nowMillis: nowMillis) ?? resetFromBody(text, nowMillis: nowMillis)
        if wait == nil {
            let shift = min(consecutiveFailures, 20)
            wait = backoffBaseMillis << Int64(shift)
        }
        let millis = min(max(wait!, 100), capMillis)
        return FailureVerdict(action: .coolDown(untilEpochMillis: Saturating.add(nowMillis, millis), perModel: !quota), reason: reason)
    }

    /// A Claude subscription's 429, by its `anthropic-ratelimit-unified-*` headers (../shared/notes/clients.md §8):
    /// a rejected 5-hour or 7-day window cools the whole account until that window resets; a rejected per-model
    /// weekly window (`7d_oi`) only the model; and a 429 saying the request needs extra usage ("Extra usage is
    /// required for long context requests", anthropics/claude-code#31090; fast mode draws on the same credits)
    /// concerns that request alone: the next account gets it, nothing cools down. Nil: not one of these.
    static func claudeSubscription(_ header: (String) -> String?, text: String, nowMillis: Int64, capMillis: Int64) -> FailureVerdict? {
        if text.includes("Extra usage is required") || text.includes("extra usage is required") {
            return FailureVerdict(action: .retryElsewhere, reason: "the request needs extra usage (this request only)")
        }
        func reset(_ key: String) -> Int64? {
            header("anthropic-ratelimit-unified-\(key)reset").flatMap { Double($0.trimming(" ")) }.flatMap { Saturating.int64($0 * 1000) }
        }
        func until(_ at: Int64?) -> Int64 { Saturating.add(nowMillis, min(max(Saturating.subtract(at ?? nowMillis, nowMillis), 1000), capMillis)) }
        let account = ["5h-", "7d-"].filter { header("anthropic-ratelimit-unified-\($0)status") == "rejected" }
        if !account.isEmpty {
            let at = account.compactMap(reset).max()
            let names = account.map { $0 == "5h-" ? "5h" : "week" }.joined(separator: ", ")
            return FailureVerdict(action: .coolDown(untilEpochMillis: until(at), perModel: false), reason: "usage limit reached (\(names))")
        }
        if header("anthropic-ratelimit-unified-7d_oi-status") == "rejected" {
            return FailureVerdict(action: .coolDown(untilEpochMillis: until(reset("7d_oi-")), perModel: true), reason: "usage limit reached (this model's week)")
        }
        if header("anthropic-ratelimit-unified-status") == "rejected" {
            return FailureVerdict(action: .coolDown(untilEpochMillis: until(reset("")), perModel: false), reason: "usage limit reached")
        }
        return nil
    }

    /// Backoff for a credential whose upstream could not be reached at all.
    public static func connectFailure(nowMillis: Int64, consecutiveFailures: Int, capMillis: Int64, message: String) -> FailureVerdict {
        let millis = min(backoffBaseMillis << Int64(min(consecutiveFailures, 20)), capMillis)
        return FailureVerdict(action: .coolDown(untilEpochMillis: Saturating.add(nowMillis, millis), perModel: false), reason: "unreachable: \(message)")
    }

    static func resetFromHeaders(_ header: (String) -> String?, nowMillis: Int64) -> Int64? {
        // NaN is no wait at all (nan >= 0 is false); infinity and 1e300 saturate.
        if let ms = header("retry-after-ms").flatMap(Double.init), ms >= 0, let w = Saturating.int64(ms) { return w }
        if let ra = header("retry-after") {
            if let s = Double(ra.trimming(" ")), s >= 0, let w = Saturating.int64(s * 1000) { return w }
            if let t = parseHTTPDate(ra) { return max(0, Saturating.subtract(t, nowMillis)) }
        }
        // OpenAI: x-ratelimit-reset-{requests,tokens} = "6m0s"; prefer the limits that are exhausted.
        var openai: [(Int64, Bool)] = []
        for kind in ["requests", "tokens"] {
            if let r = header("x-ratelimit-reset-\(kind)").flatMap(parseDuration) {
                openai.append((r, header("x-ratelimit-remaining-\(kind)") == "0"))
            }
        }
        if let w = pick(openai) { return w }
        // Anthropic: anthropic-ratelimit-*-reset = RFC 3339 time.
        var anthropic: [(Int64, Bool)] = []
        for kind in ["requests", "tokens", "input-tokens", "output-tokens"] {
            if let t = header("anthropic-ratelimit-\(kind)-reset").flatMap(parseRFC3339) {
                anthropic.append((max(0, Saturating.subtract(t, nowMillis)), header("anthropic-ratelimit-\(kind)-remaining") == "0"))
            }
        }
        return pick(anthropic)
    }

    /// The exhausted limits' latest reset; with no remaining-counts, the latest reset of all.
    private static func pick(_ resets: [(Int64, Bool)]) -> Int64? {
        let exhausted = resets.filter(\.1).map(\.0)
        return exhausted.max() ?? resets.map(\.0).max()
    }

    static func resetFromBody(_ text: String, nowMillis: Int64) -> Int64? {
        // A 400-digit number is infinity as a Double: it saturates like any other huge value.
        if let s = numberAfter(#""resets_in_seconds""#, in: text), let w = Saturating.int64(s * 1000) { return max(0, w) }
        if let at = numberAfter(#""resets_at""#, in: text), let t = Saturating.int64(at * 1000) { return max(0, Saturating.subtract(t, nowMillis)) }
        if let r = stringAfter(#""retryDelay""#, in: text).flatMap(parseDuration) { return r }
        if let range = text.range(of: "try again in ") {
            let word = text[range.upperBound...].prefix { !$0.isWhitespace && $0 != "." || $0 == "." }
            var w = String(word)
            while let l = w.last, !(l.isNumber || l.isLetter) { w.removeLast() }
            if let d = parseDuration(w) { return d }
        }
        return nil
    }

    static func numberAfter(_ key: String, in text: String) -> Double? {
        guard let r = text.range(of: key) else { return nil }
        let rest = text[r.upperBound...].drop { $0 == " " || $0 == ":" || $0 == "\t" }
        return Double(rest.prefix { $0.isNumber || $0 == "." })
    }

    static func stringAfter(_ key: String, in text: String) -> String? {
        guard let r = text.range(of: key) else { return nil }
        let rest = text[r.upperBound...].drop { $0 == " " || $0 == ":" || $0 == "\t" }
        guard rest.first == "\"" else { return nil }
        return String(rest.dropFirst().prefix { $0 != "\"" })
    }

    /// Go-style durations ("6m0s", "1.5s", "20ms", "1h2m") and Google's "30s" / "0.5s".
    public static func parseDuration(_ s: String) -> Int64? {
        var total = 0.0
        var number = ""
        var i = s.startIndex
        var sawUnit = false
        while i < s.endIndex {
            let c = s[i]
            if c.isNumber || c == "." { number.append(c); i = s.index(after: i); continue }
            var unit = ""
            while i < s.endIndex, s[i].isLetter { unit.append(s[i]); i = s.index(after: i) }
            guard let v = Double(number) else { return nil }
            switch unit {
            case "ms": total += v
            case "s": total += v * 1000
            case "m": total += v * 60_000
            case "h": total += v * 3_600_000
            default: return nil
            }
            number = ""
            sawUnit = true
        }
        guard sawUnit, number.isEmpty else { return nil }
        return Saturating.int64(total)
    }

    /// IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT") in epoch milliseconds. A year beyond what `tm` holds is
    /// clamped to it (a wait that long is cut to the cap anyway); the result saturates.
    public static func parseHTTPDate(_ s: String) -> Int64? {
        let p = s.split(separator: " ")
        guard p.count == 6, p[5] == "GMT", let day = Int32(p[1]), let year = Int64(p[3]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let mon = months.firstIndex(of: String(p[2])) else { return nil }
        let hms = p[4].split(separator: ":").compactMap { Int32($0) }
        guard hms.count == 3 else { return nil }
        var t = tm()
        t.tm_year = Int32(clamping: Saturating.subtract(year, 1900)); t.tm_mon = Int32(mon); t.tm_mday = day
        t.tm_hour = hms[0]; t.tm_min = hms[1]; t.tm_sec = hms[2]
        // -1: a time time_t cannot hold (1969-12-31T23:59:59 is never a reset time).
        let seconds = timegm(&t)
        guard seconds != -1 else { return nil }
        return Saturating.multiply(Int64(seconds), 1000)
    }

    /// RFC 3339 ("2026-11-25T09:00:00Z", fractional seconds and numeric offsets allowed) in epoch milliseconds.
    public static func parseRFC3339(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard u.count >= 20, u[4] == 45, u[7] == 45, u[10] == 84 || u[10] == 116, u[13] == 58, u[16] == 58 else { return nil }
        func num(_ a: Int, _ b: Int) -> Int32? { Int32(String(decoding: u[a..<b], as: UTF8.self)) }
        guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13), let mi = num(14, 16), let se = num(17, 19) else { return nil }
        var i = 19
        var frac = 0.0
        if i < u.count && u[i] == 46 {
            var j = i + 1
            while j < u.count && u[j] >= 48 && u[j] <= 57 { j += 1 }
            frac = Double("0" + String(decoding: u[i..<j], as: UTF8.self)) ?? 0
            i = j
        }
        var offset: Int64 = 0
        guard i < u.count else { return nil }
        if u[i] == 90 || u[i] == 122 { offset = 0 } else if (u[i] == 43 || u[i] == 45) && u.count >= i + 6, let oh = num(i + 1, i + 3), let om = num(i + 4, i + 6) {
            offset = Int64(oh * 3600 + om * 60) * (u[i] == 43 ? 1 : -1)
        } else { return nil }
        var t = tm()
        t.tm_year = y - 1900; t.tm_mon = mo - 1; t.tm_mday = d; t.tm_hour = h; t.tm_min = mi; t.tm_sec = se
        return Saturating.add(Saturating.multiply(Saturating.subtract(Int64(timegm(&t)), offset), 1000), Int64(frac * 1000))
    }
}

extension String {
    /// The first occurrence of `needle` (a small substring search; this module does without Foundation).
    func range(of needle: String) -> Range<String.Index>? {
        let n = Array(needle.utf8)
        guard !n.isEmpty else { return nil }
        let u = utf8
        var i = u.startIndex
        while i != u.endIndex {
            var j = i, k = 0
            while j != u.endIndex && k < n.count && u[j] == n[k] { j = u.index(after: j); k += 1 }
            if k == n.count { return i..<j }
            i = u.index(after: i)
        }
        return nil
    }
}

/// Which upstream Retry-After values are passed on to a client with a translated error: a delay of at most nine
/// digits (under 32 years of seconds) or an IMF-fixdate of valid fields; anything else (1e300, a negative or
/// fractional number, a long or malformed text) is dropped rather than handed to a client's parser.
public enum RetryAfterValue {
    /// (Spaces or tabs around the value, which a transport may leave, are not part of it.)
    public static func isForwardable(_ value: String) -> Bool {
        var u = Substring(value).utf8[...]
        while let f = u.first, f == 32 || f == 9 { u.removeFirst() }
        while let l = u.last, l == 32 || l == 9 { u.removeLast() }
        if !u.isEmpty && u.count <= 9 && u.allSatisfy({ $0 >= 48 && $0 <= 57 }) { return true }
        return isIMFFixdate(Array(u))
    }

    /// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7), each field in its range.
    static func isIMFFixdate(_ u: [UInt8]) -> Bool {
        guard u.count == 29, u[3] == 44, u[4] == 32, u[7] == 32, u[11] == 32, u[16] == 32, u[19] == 58, u[22] == 58, u[25] == 32,
              u[26...28].elementsEqual("GMT".utf8) else { return false }
        func num(_ r: Range<Int>) -> Int? {
            var n = 0
            for i in r { guard u[i] >= 48 && u[i] <= 57 else { return nil }; n = n * 10 + Int(u[i] - 48) }
            return n
        }
        let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let day = String(decoding: u[0..<3], as: UTF8.self), month = String(decoding: u[8..<11], as: UTF8.self)
        guard days.contains(day), months.contains(month), let d = num(5..<7), (1...31).contains(d), num(12..<16) != nil,
              let h = num(17..<19), h <= 23, let m = num(20..<22), m <= 59, let s = num(23..<25), s <= 60 else { return false }
        return true
    }
}
