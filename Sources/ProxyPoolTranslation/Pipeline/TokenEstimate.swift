/// An honest estimate of a request's input tokens, for `count_tokens` / `countTokens` when no credential of
/// the client's protocol can count them exactly. It is an estimate and says so (the daemon marks the answer
/// with `X-Proxypool-Estimate: true`): about 4 bytes of UTF-8 text per token, as English text and code average
/// with current tokenizers; a fixed cost per image and document page set; a small overhead per message.
public enum TokenEstimate {
    public static let bytesPerToken = 4
    public static let perMessage = 4
    public static let perImage = 1_600
    public static let perDocument = 3_000

    public static func inputTokens(_ r: ChatRequest) -> Int {
        var bytes = 0
        var fixed = 0
        for s in r.system { bytes += s.utf8.count; fixed += perMessage }
        func visit(_ blocks: [ContentBlock]) {
            for b in blocks {
                switch b {
                case .text(let t): bytes += t.utf8.count
                case .image: fixed += perImage
                case .document: fixed += perDocument
                case .toolCall(let c): bytes += c.name.utf8.count + c.arguments.utf8.count
                case .toolResult(let t): visit(t.content)
                case .reasoning(let t): bytes += t.text.utf8.count
                }
            }
        }
        for m in r.messages { fixed += perMessage; visit(m.content) }
        for t in r.tools {
            bytes += t.name.utf8.count + (t.description?.utf8.count ?? 0) + JSONWriter.bytes(t.parameters).count
        }
        return fixed + (bytes + bytesPerToken - 1) / bytesPerToken
    }
}
