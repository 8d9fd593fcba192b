import Testing
import ProxyPoolHTTPWire

/// `isTokenChar` (a bit table) against RFC 9110 §5.6.2's tchar, written out, for every byte.
@Suite struct TokenCharTests {
    @Test func everyByteIsJudgedAsTheGrammarSays() {
        let specials = Set("!#$%&'*+-.^_`|~".utf8)
        for b in 0...255 {
            let c = UInt8(b)
            let tchar = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || specials.contains(c)
            #expect(isTokenChar(c) == tchar, "byte \(b)")
        }
    }
}
