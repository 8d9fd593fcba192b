import Foundation
import Testing
@testable import ProxyPoolCore

/// The Anthropic list's paging (docs.claude.com/en/api/models-list): limit, after_id, before_id.
@Suite struct ModelListTests {
    let entries = (1...5).map { ModelList.Entry("claude-\($0)", description: $0 == 1 ? "flagship tier" : nil) }

    func page(_ q: String?) throws -> (ids: [String], hasMore: Bool, first: String?, last: String?) {
        let body = try ModelList.anthropicPage(entries, query: q.map { Substring($0) }).get()
        let j = try JSONSerialization.jsonObject(with: Data(body)) as! [String: Any]
        return ((j["data"] as! [[String: Any]]).map { $0["id"] as! String }, j["has_more"] as! Bool, j["first_id"] as? String, j["last_id"] as? String)
    }

    @Test func pagesForwardAndBackward() throws {
        let all = try page(nil)
        #expect(all.ids == entries.map(\.id) && !all.hasMore && all.first == "claude-1" && all.last == "claude-5")
        let p1 = try page("limit=2")
        #expect(p1.ids == ["claude-1", "claude-2"] && p1.hasMore && p1.last == "claude-2")
        let p2 = try page("limit=2&after_id=claude-2")
        #expect(p2.ids == ["claude-3", "claude-4"] && p2.hasMore)
        let p3 = try page("after_id=claude-4&limit=2")
        #expect(p3.ids == ["claude-5"] && !p3.hasMore)
        let end = try page("after_id=claude-5")
        #expect(end.ids.isEmpty && !end.hasMore && end.first == nil && end.last == nil)
        let b = try page("limit=2&before_id=claude-5")
        #expect(b.ids == ["claude-3", "claude-4"] && b.hasMore)
        let b2 = try page("limit=3&before_id=claude-3")
        #expect(b2.ids == ["claude-1", "claude-2"] && !b2.hasMore)
        #expect(try page("after_id=claude%2D1&limit=1").ids == ["claude-2"], "cursors are percent-decoded")
    }

    @Test func badParametersAreNamed() {
        for (q, word) in [("limit=0", "limit"), ("limit=1001", "limit"), ("limit=-1", "limit"), ("limit=99999999999999999999", "limit"),
                          ("after_id=gpt-5", "after_id"), ("before_id=", "before_id"), ("after_id=claude-1&before_id=claude-3", "not both")] {
            guard case .failure(let e) = ModelList.anthropicPage(entries, query: Substring(q)) else { Issue.record("\(q) accepted"); continue }
            #expect(e.message.contains(word), "\(q): \(e.message)")
        }
    }

    @Test func theAnthropicShapeCarriesTheDescriptionClaudeCodeShows() throws {
        let body = String(decoding: ModelList.body(.anthropic, entries: entries), as: UTF8.self)
        #expect(body.contains(#"{"type":"model","id":"claude-1","display_name":"claude-1","created_at":"1970-01-01T00:00:00Z","description":"flagship tier"}"#))
        #expect(body.hasSuffix(#""has_more":false,"first_id":"claude-1","last_id":"claude-5"}"#))
    }
}
