/// What a Gemini model accepts for its output limit and thinking budget, where Google documents it. Clients of
/// other protocols size these for their own models (Claude Code asks Haiku for a 31 999-token thinking budget
/// and 32 000–128 000 output tokens), and Gemini refuses a value out of its model's range with 400 ("The
/// thinking budget (31999) is invalid."; "Budget 0 is invalid. This model only works in thinking mode."). A
/// value out of range becomes the nearest one the model takes; names without a documented range pass as asked.
public struct GeminiModelLimits: Sendable, Equatable {
    /// The largest output (`maxOutputTokens`) the model can produce; nil: unknown.
    public var maxOutputTokens: Int?
    /// The thinking budgets the model takes besides 0 (off) and -1 (dynamic); nil: unknown.
    public var thinkingRange: ClosedRange<Int>?
    /// Whether `thinkingBudget: 0` turns thinking off (Gemini 2.5 Pro always thinks).
    public var canDisableThinking: Bool

    public init(model: String) {
        var name = Substring(model.lowercased())
        if name.hasPrefix("models/") { name = name.dropFirst("models/".count) }
        maxOutputTokens = nil; thinkingRange = nil; canDisableThinking = true
        // https://ai.google.dev/gemini-api/docs/thinking (budget ranges) and …/docs/models (output limits).
        guard name.hasPrefix("gemini-2.5-") else { return }
        maxOutputTokens = 65536
        if name.hasPrefix("gemini-2.5-pro") {
            thinkingRange = 128...32768; canDisableThinking = false
        } else if name.hasPrefix("gemini-2.5-flash-lite") {
            thinkingRange = 512...24576
        } else if name.hasPrefix("gemini-2.5-flash") {
            thinkingRange = 1...24576
        }
    }

    public func outputTokens(_ requested: Int) -> Int {
        guard let m = maxOutputTokens else { return requested }
        return min(requested, m)
    }

    /// The budget to send for `requested` (0: thinking off).
    public func thinkingBudget(_ requested: Int) -> Int {
        guard let range = thinkingRange, requested != -1 else { return requested }
        if requested == 0 { return canDisableThinking ? 0 : range.lowerBound }
        return min(max(requested, range.lowerBound), range.upperBound)
    }
}
