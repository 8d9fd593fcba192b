// Fuzz target: the request body check (RequestFields.scan; its two sources and the C string scan, CByteScan, are
// compiled into this target). Beyond not crashing: the input read as the text of one JSON string gets the same
// verdict from the C loop as from the Swift one, which the C loop replaced and still names each problem: the
// same closing quote and escape flag, or a refusal from both.
import CByteScan

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    _ = RequestFields.scan(bytes)
    let string = [0x22] + bytes
    string.withUnsafeBufferPointer { b in
        var escapedC: Int32 = 0, escapedSwift = false
        let c = cbytescan_json_string_end(b.baseAddress!, b.count, 1, &escapedC)
        let swift = try? StrictJSON(p: b.baseAddress!, n: b.count).stringEndInSwift(0, &escapedSwift)
        check((c >= 0 ? c : nil) == swift, "string end: C \(c), Swift \(String(describing: swift))")
        if c >= 0 { check((escapedC != 0) == escapedSwift, "escape flags differ: C \(escapedC), Swift \(escapedSwift)") }
    }
    return 0
}
