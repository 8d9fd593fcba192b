// Fuzz target: an upstream's SSE stream (byte 0 picks the protocol, byte 1 the chunk splits) → stream decoder
// → every client's stream encoder.
import ProxyPoolTranslation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzStream(data, size)
    return 0
}
