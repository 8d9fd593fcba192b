// Times RequestFields.scan on request-shaped bodies of about 1 KB and 100 KB (release build; see bench.sh,
// which also builds it from an older BodyScanner.swift to compare). Prints ns per scan and ns per KB.
import Glibc

@main struct Bench {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// A chat request: prose with escapes and some non-ASCII text in the messages, a tool schema, numbers.
    static func body(bytes target: Int) -> [UInt8] {
        let prose = #"The proxy forwards this request unchanged; it only reads \"model\" and \"stream\".\nLine two, with a tab\tand café, naïve, 日本語 text. "#
        var messages: [String] = []
        var size = 0
        var turn = 0
        while size < target - 400 {
            let role = turn % 2 == 0 ? "user" : "assistant"
            let m = #"{"role":"\#(role)","content":[{"type":"text","text":"\#(String(repeating: prose, count: 3))"}]}"#
            messages.append(m); size += m.utf8.count; turn += 1
        }
        let tools = #"[{"name":"read_file","description":"Read a file","input_schema":{"type":"object","properties":{"path":{"type":"string"},"limit":{"type":"integer","minimum":1,"maximum":1e6}},"required":["path"]}}]"#
        return Array(#"{"model":"claude-sonnet-4-5","max_tokens":8192,"temperature":0.7,"stream":true,"tools":\#(tools),"messages":[\#(messages.joined(separator: ","))]}"#.utf8)
    }

    static func readFile(_ path: String) -> [UInt8] {
        guard let f = fopen(path, "rb") else { fatalError("cannot open \(path)") }
        defer { fclose(f) }
        var out: [UInt8] = [], buf = [UInt8](repeating: 0, count: 65536)
        while case let n = fread(&buf, 1, buf.count, f), n > 0 { out += buf[0..<n] }
        return out
    }

    /// `scan-bench [DIVISOR [FILE...]]`: DIVISOR runs that fraction of the iterations (for valgrind's
    /// instruction counts); each FILE is timed as a body too (bench.sh passes real clients' captured bodies).
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        let divisor = args.first.flatMap { Int($0) } ?? 1
        // SCAN_BENCH_ONLY=FILES times only the files (one body per process, for per-body instruction counts);
        // SCAN_BENCH_ONLY=1K or 100K only that synthetic body.
        let only = getenv("SCAN_BENCH_ONLY").map { String(cString: $0) }
        var bodies: [(String, [UInt8])] = []
        if only == nil || only == "1K" { bodies.append(("synthetic 1 KB", body(bytes: 1024))) }
        if only == nil || only == "100K" { bodies.append(("synthetic 100 KB", body(bytes: 100 * 1024))) }
        for path in args.dropFirst() { bodies.append((String(path.split(separator: "/").last ?? ""), readFile(path))) }
        for (name, b) in bodies {
            let iterations = max(1, (b.count < 10_000 ? 200_000 : 2_000) / divisor)
            var sink = 0
            for _ in 0..<max(1, iterations / 10) { sink &+= RequestFields.scan(b).model?.utf8.count ?? 0 }   // warm up
            var best = UInt64.max
            for _ in 0..<5 {
                let t0 = now()
                for _ in 0..<iterations { sink &+= RequestFields.scan(b).validObject ? 1 : 0 }
                best = min(best, (now() - t0) / UInt64(iterations))
            }
            let perKB = Double(best) / (Double(b.count) / 1024)
            print("\(name) (\(b.count) bytes, valid \(RequestFields.scan(b).validObject)): \(best) ns per scan, \(Int(perKB)) ns per KB (sink \(sink % 7))")
        }
    }
}
