// Fuzz target: our Codable JSON (ProxyPoolCore/JSONCodable/), as JSON.decode reads control lines, dashboard
// bodies and upstream answers. Beyond not crashing: a document read as a JSONValue prints (compact and pretty) as
// text that reads back to the same value and prints again to the same bytes; JSON.convert of it is itself; and
// one read as a wire type of Core (RPCError, quota windows, credits) encodes and decodes back to itself.
import ProxyPoolCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    do {
        let v = try JSON.decode(JSONValue.self, from: bytes)
        for pretty in [false, true] {
            let written = try JSON.encode(v, pretty: pretty)
            let again = try JSON.decode(JSONValue.self, from: written)
            check(again == v, "decode(encode(v)) != v (pretty: \(pretty))")
            let rewritten = try JSON.encode(again, pretty: pretty)
            check(rewritten == written, "encode(decode(encode(v))) != encode(v) (pretty: \(pretty))")
        }
        let converted = try JSON.convert(v, to: JSONValue.self), valued = try JSON.value(v)
        check(converted == v, "convert(v) != v")
        check(valued == v, "value(v) != v")
    } catch {
        check(!JSON.describe(error).isEmpty, "no words for \(error)")
    }
    roundTrip(RPCError.self, bytes)
    roundTrip([QuotaWindow].self, bytes)
    roundTrip([String: AccountCredits?].self, bytes)
    return 0
}

func roundTrip<T: Codable & Equatable>(_ type: T.Type, _ bytes: [UInt8]) {
    guard let v = try? JSON.decode(T.self, from: bytes) else { return }
    do {
        let decoded = try JSON.decode(T.self, from: JSON.encode(v)), converted = try JSON.convert(JSON.value(v), to: T.self)
        check(decoded == v, "\(T.self): decode(encode(v)) != v")
        check(converted == v, "\(T.self): convert(value(v)) != v")
    } catch {
        check(false, "\(T.self): a decoded value does not encode and decode: \(error)")
    }
}
