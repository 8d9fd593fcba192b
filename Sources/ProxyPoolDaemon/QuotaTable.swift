import ProxyPoolCore
import ProxyPoolSystem
import ProxyPoolProviders

/// The latest usage windows of each subscription account, read from its upstream's answers on the loop and
/// read by routing (loop) and the control methods (their threads): hence the lock. Memory only: every answer
/// brings fresh figures, and a restarted daemon learns them with its first request.
final class QuotaTable: @unchecked Sendable {
    private let lock = Mutex()
    private var windows: [String: [QuotaWindow]] = [:]
    private var credits: [String: AccountCredits] = [:]

    /// A ChatGPT account's credits, as its latest answer reported them.
    func update(_ credential: String, credits new: AccountCredits?) {
        guard let new else { return }
        lock.locked { credits[credential] = new }
    }

    func credits(_ credential: String) -> AccountCredits? { lock.locked { credits[credential] } }

    /// New figures for `credential`: each replaces the window of the same name, the others stay.
    func update(_ credential: String, _ new: [QuotaWindow]) {
        guard !new.isEmpty else { return }
        lock.locked {
            var w = windows[credential] ?? []
            for n in new {
                if let i = w.firstIndex(where: { $0.name == n.name }) { w[i] = n } else { w.append(n) }
            }
            windows[credential] = w.sorted { ($0.windowMinutes ?? 0) < ($1.windowMinutes ?? 0) }
        }
    }

    func windows(_ credential: String) -> [QuotaWindow] { lock.locked { windows[credential] ?? [] } }

    func forget(_ credential: String) { lock.locked { windows[credential] = nil; credits[credential] = nil } }

    /// The credits an answer's headers report (ChatGPT accounts only).
    static func readCredits(kind: ProviderKind, headers: [(String, String)], lowerNames: [String]) -> AccountCredits? {
        guard kind == .chatGPTAccount else { return nil }
        return AccountQuota.codexCredits { n in lowerNames.lastIndex(of: n).map { headers[$0].1 } }
    }

    /// The windows an answer's headers report, for the kinds that report them.
    static func read(kind: ProviderKind, headers: [(String, String)], lowerNames: [String], nowMillis: Int64) -> [QuotaWindow] {
        func header(_ n: String) -> String? { lowerNames.lastIndex(of: n).map { headers[$0].1 } }
        switch kind {
        case .chatGPTAccount: return AccountQuota.codex(header, nowMillis: nowMillis)
        case .claudeAccount: return AccountQuota.claude(header)
        default: return []
        }
    }
}
