import Testing
import ProxyPoolSystem
@testable import ProxyPoolDaemon

/// The request record writes its keys from forms made beforehand (`LogKey`); a typo in one form would put a
/// field under a different name in the journal than on stderr.
@Suite struct RequestRecordKeysTests {
    @Test func eachKeysFormsAgreeAndNoneRepeats() {
        let keys = LogKey.requestRecordKeys
        #expect(keys.count == 14)
        for k in keys { #expect(LogKey.agree(k.journal, k.line), "\(k.journal) / \(k.line)") }
        #expect(Set(keys.map { $0.journal.description }).count == keys.count)
    }
}
