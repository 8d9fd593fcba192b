/// Upstreams that take only inline data (Gemini) get images and documents named by URL fetched by the daemon
/// and inlined. These walk a request's blocks, tool results included.
public extension ChatRequest {
    /// The distinct http(s) URLs of images and documents, in order of appearance.
    var mediaURLs: [String] {
        var seen = Set<String>()
        var out: [String] = []
        func visit(_ blocks: [ContentBlock]) {
            for b in blocks {
                switch b {
                case .image(.url(let u, _)), .document(.url(let u, _), _):
                    if seen.insert(u).inserted { out.append(u) }
                case .toolResult(let r): visit(r.content)
                default: break
                }
            }
        }
        for m in messages { visit(m.content) }
        return out
    }

    /// The request with each fetched URL replaced by its inline data.
    func inliningMedia(_ fetched: [String: (mediaType: String, base64: String)]) -> ChatRequest {
        func map(_ blocks: [ContentBlock]) -> [ContentBlock] {
            blocks.map { b in
                switch b {
                case .image(.url(let u, _)):
                    guard let f = fetched[u] else { return b }
                    return .image(.base64(mediaType: f.mediaType, data: f.base64))
                case .document(.url(let u, _), let title):
                    guard let f = fetched[u] else { return b }
                    return .document(.base64(mediaType: f.mediaType, data: f.base64), title: title)
                case .toolResult(var r):
                    r.content = map(r.content)
                    return .toolResult(r)
                default: return b
                }
            }
        }
        var r = self
        r.messages = messages.map { Message(role: $0.role, content: map($0.content)) }
        return r
    }
}
