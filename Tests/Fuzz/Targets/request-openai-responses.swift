// Fuzz target: a client's request body in the openAIResponses protocol (JSON parse → decodeRequest → every encodeRequest).
import ProxyPoolTranslation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzRequest(.openAIResponses, data, size)
    return 0
}
