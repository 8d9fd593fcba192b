/// `GET /v1/models` and `/v1beta/models`, answered by the proxy itself: the models a client may ask for (the
/// tier models of the credentials its app routes to, and the aliases), in the family the client speaks.
public enum ModelList {
    public static func body(_ family: Family, models: [String]) -> [UInt8] {
        let q = JSONText.quoted
        switch family {
        case .openai:
            let items = models.map { #"{"id":\#(q($0)),"object":"model","created":0,"owned_by":"proxypool"}"# }
            return Array(#"{"object":"list","data":[\#(items.joined(separator: ","))]}"#.utf8)
        case .anthropic:
            let items = models.map { #"{"type":"model","id":\#(q($0)),"display_name":\#(q($0)),"created_at":"1970-01-01T00:00:00Z"}"# }
            let first = models.first.map(q) ?? "null", last = models.last.map(q) ?? "null"
            return Array(#"{"data":[\#(items.joined(separator: ","))],"has_more":false,"first_id":\#(first),"last_id":\#(last)}"#.utf8)
        case .gemini:
            let items = models.map { m in
                #"{"name":\#(q("models/" + m)),"displayName":\#(q(m)),"supportedGenerationMethods":["generateContent","streamGenerateContent","countTokens"]}"#
            }
            return Array(#"{"models":[\#(items.joined(separator: ","))]}"#.utf8)
        }
    }
}
