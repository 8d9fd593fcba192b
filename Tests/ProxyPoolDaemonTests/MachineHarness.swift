import Testing
@testable import ProxyPoolCore
@testable import ProxyPoolDaemon

typealias Action = ExchangeMachine.Action
typealias Failure = ExchangeMachine.Failure
typealias ErrorReply = ExchangeMachine.ErrorReply

/// The daemon's own cooldown table at a fixed clock, so that reset times are exact.
struct FixedClock: ExchangeEnvironment {
    let table = CooldownTable()
    var nowMillis: Int64
    func failureCount(_ c: String) -> Int { table.failureCount(c) }
    func blockedUntil(_ c: String, model: String?, now: Int64) -> (until: Int64, reason: String)? { table.blockedUntil(c, model: model, now: now) }
}

/// 2026-11-25T09:48:00Z.
let testNow = Cooldowns.parseHTTPDate("Wed, 25 Nov 2026 09:48:00 GMT")!

/// One exchange's machine, driven as `Exchange` drives it: the side effects it asks for (cooldowns, marks) are
/// written to the table and answered with `.carriedOut`; every action is kept in `log`.
struct MachineRun {
    var machine: ExchangeMachine
    let env: FixedClock
    var log: [Action] = []

    init(candidates: [String] = ["a", "b", "c"], model: String? = "m", stream: Bool = true, maxAnswerBytes: Int = 1 << 20,
         env: FixedClock = FixedClock(nowMillis: testNow)) {
        machine = ExchangeMachine(candidates: candidates, app: "cli", model: model, stream: stream,
                                  cooldownCapMillis: 1_800_000, maxAnswerBytes: maxAnswerBytes)
        self.env = env
    }

    /// The action after the side effects: the one that needs the exchange's I/O.
    @discardableResult
    mutating func feed(_ event: ExchangeMachine.Event) -> Action {
        var a = machine.handle(event, env)
        while true {
            log.append(a)
            switch a {
            case .coolDown(let cd): env.table.coolDown(cd.credential, model: cd.model, until: cd.untilMillis, reason: cd.reason)
            case .markAuthFailed(let c, _): env.table.markAuthFailed(c, reason: "auth failed")
            case .retryElsewhere: break
            default: return a
            }
            a = machine.handle(.carriedOut, env)
        }
    }

    @discardableResult mutating func start() -> Action { feed(.start) }

    @discardableResult
    mutating func head(_ status: Int, _ headers: [(String, String)] = [], translating: Bool = false) -> Action {
        feed(.head(status: status, headers: headers, lowerNames: headers.map { $0.0.lowercased() }, translating: translating))
    }

    @discardableResult
    mutating func body(_ text: String) -> Action { body(Array(text.utf8)) }

    @discardableResult
    mutating func body(_ bytes: [UInt8]) -> Action { bytes.withUnsafeBytes { feed(.body($0)) } }

    @discardableResult mutating func end(_ failure: Failure? = nil) -> Action { feed(.end(failure)) }

    /// One whole failover answer: head, body, end.
    @discardableResult
    mutating func answer(_ status: Int, _ headers: [(String, String)] = [], body text: String = "{}") -> Action {
        #expect(head(status, headers) == .none, "a failover status is held back")
        #expect(body(text) == .none, "its body is read, not forwarded")
        return end()
    }

    /// The side effects asked for so far.
    var cooldowns: [ExchangeMachine.Cooldown] { log.compactMap { if case .coolDown(let c) = $0 { c } else { nil } } }
    var marked: [String] { log.compactMap { if case .markAuthFailed(let c, _) = $0 { c } else { nil } } }
    var retried: [String] { log.compactMap { if case .retryElsewhere(let c, _) = $0 { c } else { nil } } }
    var sends: [Int] { log.compactMap { if case .send(let i) = $0 { i } else { nil } } }
}
