// Fuzz target: the JSON parser. Beyond not crashing: what the writer writes parses back to an equal tree, and
// writing that again gives the same bytes.
import ProxyPoolTranslation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard let v = try? JSONParser.parse(bytes) else { return 0 }
    let written = JSONWriter.bytes(v)
    let again: JSONNode
    do { again = try JSONParser.parse(written) } catch {
        check(false, "the writer's output does not parse: \(error)")
        return 0
    }
    check(again == v, "parse(write(parse(x))) != parse(x)")
    check(JSONWriter.bytes(again) == written, "write(parse(write(v))) != write(v)")
    return 0
}
