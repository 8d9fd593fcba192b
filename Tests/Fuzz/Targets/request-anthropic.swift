// Fuzz target: a client's request body in the anthropicMessages protocol (JSON parse → decodeRequest → every encodeRequest).
import ProxyPoolTranslation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzRequest(.anthropicMessages, data, size)
    return 0
}
