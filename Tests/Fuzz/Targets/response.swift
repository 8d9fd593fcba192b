// Fuzz target: an upstream's whole answer (byte 0 picks the protocol) → decodeResponse / decodeError → every client.
import ProxyPoolTranslation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzResponse(data, size)
    return 0
}
