// Fuzz target: a client's request body in the gemini protocol (JSON parse → decodeRequest → every encodeRequest).
import ProxyPoolTranslation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzRequest(.gemini, data, size)
    return 0
}
