import ProxyPoolCore
import ProxyPoolSystem

/// How each app was last recognised (the access key, its label, a rule), for the dashboard's Apps page and
/// `proxypoolctl apps`. Memory only: it says how the running daemon tells the app apart, from its first
/// request since the daemon started. Written from the proxy loop only when an app's recognition changes,
/// read by control handlers on their threads.
final class AppRecognitions: @unchecked Sendable {
    private let lock = Mutex()
    private var table: [String: AppDetection.Recognition] = [:]
    /// App names come from clients (labels, rules): a bounded table, emptied when full.
    static let capacity = 1024

    func set(_ app: String, _ how: AppDetection.Recognition) {
        lock.locked {
            if table.count >= Self.capacity && table[app] == nil { table.removeAll() }
            table[app] = how
        }
    }

    func description(_ app: String) -> String? { lock.locked { table[app]?.description } }
}
