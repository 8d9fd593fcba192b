import Testing
import ProxyPoolCore

/// Bytewise substring search, replacement and splitting (what the shipped targets use instead of _StringProcessing).
@Suite struct TextSearchTests {
    @Test func includesFindsBytesAnywhere() {
        #expect("an error: usage_limit_reached, retry".includes("usage_limit_reached"))
        #expect(!"usage_limit_reache".includes("usage_limit_reached"))
        #expect("abc".includes(""))
        #expect(!"".includes("a"))
        #expect("ab".includes("ab") && !"ab".includes("abc"))
        #expect("ppk_ü€x".includes("€x"))
        // A needle that starts like the text twice before it matches.
        #expect("aaab".includes("aab"))
        // A substring receiver searches only its own part.
        let s = "xxhello"
        #expect(s.dropFirst(2).includes("hello") && !s.dropFirst(3).includes("hello"))
        // Bytewise: a precomposed é does not contain e + combining accent, and the other way round.
        #expect(!"caf\u{E9}".includes("e\u{301}") && !"cafe\u{301}".includes("\u{E9}"))
    }

    @Test func replacingEveryReplacesNonOverlappingLeftToRight() {
        #expect("key sk-123 and sk-123 again".replacingEvery("sk-123", with: "…") == "key … and … again")
        #expect("aaa".replacingEvery("aa", with: "X") == "Xa")
        #expect("nothing here".replacingEvery("sk-", with: "…") == "nothing here")
        #expect("a<b><c".replacingEvery("<", with: "&lt;") == "a&lt;b>&lt;c")
        #expect("abc".replacingEvery("", with: "X") == "abc")
        #expect("€€".replacingEvery("€", with: "e") == "ee")
        #expect("x".replacingEvery("xyz", with: "") == "x")
    }

    @Test func piecesKeepEmptyPiecesBetweenSeparators() {
        #expect("a\n\nb\n\n".pieces(separatedBy: "\n\n") == ["a", "b", ""])
        #expect("\n\na".pieces(separatedBy: "\n\n") == ["", "a"])
        #expect("abc".pieces(separatedBy: "\n\n") == ["abc"])
        #expect("".pieces(separatedBy: ",") == [""])
        #expect("a,,b".pieces(separatedBy: ",") == ["a", "", "b"])
        #expect("1€2€3".pieces(separatedBy: "€") == ["1", "2", "3"])
        #expect("abc".pieces(separatedBy: "") == ["abc"])
    }
}
