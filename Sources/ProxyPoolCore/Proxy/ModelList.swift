/// `GET /v1/models` and `/v1beta/models`, answered by the proxy itself: the models a client may ask for (the
/// tier models of the credentials its app routes to, and the aliases), in the family the client speaks.
public enum ModelList {
    /// One listed model: its id, and for pickers that show one (Claude Code's `/model`) a line saying what it is.
    public struct Entry: Sendable, Equatable {
        public var id: String
        public var description: String?
        public init(_ id: String, description: String? = nil) { self.id = id; self.description = description }
    }

    public static func body(_ family: Family, models: [String]) -> [UInt8] {
        body(family, entries: models.map { Entry($0) })
    }

    public static func body(_ family: Family, entries: [Entry]) -> [UInt8] {
        let q = JSONText.quoted
        switch family {
        case .openai:
            let items = entries.map { #"{"id":\#(q($0.id)),"object":"model","created":0,"owned_by":"proxypool"}"# }
            return Array(#"{"object":"list","data":[\#(items.joined(separator: ","))]}"#.utf8)
        case .anthropic:
            return anthropicPage(entries, hasMore: false)
        case .gemini:
            let items = entries.map { m in
                #"{"name":\#(q("models/" + m.id)),"displayName":\#(q(m.id)),"supportedGenerationMethods":["generateContent","streamGenerateContent","countTokens"]}"#
            }
            return Array(#"{"models":[\#(items.joined(separator: ","))]}"#.utf8)
        }
    }

    /// Anthropic's list shape (docs.claude.com/en/api/models-list): `data` of `{"type":"model","id",
    /// "display_name","created_at"}`, `has_more`, and `first_id` / `last_id` (the cursors of this page, null
    /// when it is empty). `description` is not Anthropic's: Claude Code's gateway discovery reads it for its
    /// picker (`{id, display_name?, description?}`), and Anthropic's SDKs ignore fields they do not know.
    static func anthropicPage(_ entries: [Entry], hasMore: Bool) -> [UInt8] {
        let q = JSONText.quoted
        let items = entries.map { e in
            #"{"type":"model","id":\#(q(e.id)),"display_name":\#(q(e.id)),"created_at":"1970-01-01T00:00:00Z""#
                + (e.description.map { #","description":\#(q($0))"# } ?? "") + "}"
        }
        let first = entries.first.map { q($0.id) } ?? "null", last = entries.last.map { q($0.id) } ?? "null"
        return Array(#"{"data":[\#(items.joined(separator: ","))],"has_more":\#(hasMore),"first_id":\#(first),"last_id":\#(last)}"#.utf8)
    }

    /// The page of an Anthropic list that `limit` (1…1000, default 20), `after_id` and `before_id` ask for, as
    /// Anthropic pages: after a cursor the next `limit` entries, before one the `limit` entries just before it;
    /// `has_more` says whether more lie in that direction. A bad parameter is the caller's error (a 400).
    public static func anthropicPage(_ entries: [Entry], query: Substring?) -> Result<[UInt8], PageError> {
        func parameter(_ name: String) -> String? {
            guard let p = query?.split(separator: "&").first(where: { $0.hasPrefix(name + "=") }) else { return nil }
            return Endpoints.percentDecodedOnce(p.dropFirst(name.utf8.count + 1))
        }
        var limit = 20
        if let l = parameter("limit") {
            guard l.utf8.count <= 4, let n = Int(l), (1...1000).contains(n) else {
                return .failure(PageError(message: "limit must be a whole number from 1 to 1000"))
            }
            limit = n
        }
        let after = parameter("after_id"), before = parameter("before_id")
        if after != nil && before != nil { return .failure(PageError(message: "give after_id or before_id, not both")) }
        func index(of id: String, _ name: String) -> Result<Int, PageError> {
            guard let i = entries.firstIndex(where: { $0.id == id }) else {
                return .failure(PageError(message: "\(name) is not the id of a model in this list"))
            }
            return .success(i)
        }
        if let a = after {
            switch index(of: a, "after_id") {
            case .failure(let e): return .failure(e)
            case .success(let i):
                let rest = entries[(i + 1)...]
                return .success(anthropicPage(Array(rest.prefix(limit)), hasMore: rest.count > limit))
            }
        }
        if let b = before {
            switch index(of: b, "before_id") {
            case .failure(let e): return .failure(e)
            case .success(let i):
                let head = entries[..<i]
                return .success(anthropicPage(Array(head.suffix(limit)), hasMore: head.count > limit))
            }
        }
        return .success(anthropicPage(Array(entries.prefix(limit)), hasMore: entries.count > limit))
    }

    public struct PageError: Error, Equatable, Sendable { public var message: String }
}
