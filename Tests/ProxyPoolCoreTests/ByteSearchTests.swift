import Testing
import ProxyPoolCore

@Suite struct ByteSearchTests {
    @Test func findsTheFirstOccurrence() {
        let head = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody\r\n\r\n".utf8)
        #expect(head.firstRange(ofBytes: [13, 10, 13, 10]) == 23..<27)
        #expect(head.firstRange(ofBytes: [13, 10]) == 14..<16)
        #expect(head[16...].firstRange(ofBytes: Array("\r\n".utf8)) == 23..<25)   // indices of the slice are the array's
        #expect(head.firstRange(ofBytes: Array("body".utf8)) == 27..<31)
    }

    @Test func absentEmptyOrLongerPatterns() {
        let b = Array("abcabd".utf8)
        #expect(b.firstRange(ofBytes: Array("abd".utf8)) == 3..<6)   // after a partial match at 0
        #expect(b.firstRange(ofBytes: Array("abe".utf8)) == nil)
        #expect(b.firstRange(ofBytes: [UInt8]()) == nil)
        #expect(b.firstRange(ofBytes: Array("abcabdx".utf8)) == nil)
        #expect([UInt8]().firstRange(ofBytes: [1]) == nil)
    }
}
