// Fuzz target: an upstream's SSE stream (byte 0 picks the upstream and client protocols, byte 1 the chunk
// splits) → stream decoder → the client's stream encoder (fuzzStream in TranslationSupport.swift).
import ProxyPoolTranslation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzStream(data, size)
    return 0
}
