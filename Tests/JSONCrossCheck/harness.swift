// Reads hex-encoded bodies, one per line, and prints RequestFields.scan's verdict for each:
// "ok <model as hex or -> <stream: t, f or ->" or "err". Built by crosscheck.py from the scanner's own sources.
@main struct Harness {
    static func main() {
        while let line = readLine() {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(line.utf8.count / 2)
            var it = line.utf8.makeIterator()
            while let h = it.next(), let l = it.next() { bytes.append(UInt8(hexDigit(h) << 4 | hexDigit(l))) }
            let f = RequestFields.scan(bytes)
            if f.problem != nil { print("err"); continue }
            let model = f.model.map { $0.utf8.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() } ?? "-"
            print("ok \(model.isEmpty ? "=" : model) \(f.stream.map { $0 ? "t" : "f" } ?? "-")")
        }
    }

    static func hexDigit(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10 }
}
