import Glibc
internal import CShims
import Synchronization

/// An owner the loop calls back at the next turn, after the events at hand (see `EventLoop.soon(_:)`): it
/// conforms once instead of allocating a closure every time it asks.
public protocol LoopSoon: AnyObject {
    func runSoon()
}

/// An owner the loop calls back once the handler of the event at hand returns, before the loop goes on (see
/// `EventLoop.afterEvent(_:)`).
public protocol LoopAfterEvent: AnyObject {
    func runAfterEvent()
}

/// One epoll loop on one thread. Everything registered here runs on that thread; other threads hand work in
/// with `execute`, which wakes the loop through an eventfd. The HTTP server and the upstream clients both sit on
/// it: `soon` and `afterEvent` are the two points of a round where they run their deferred work.
public final class EventLoop: @unchecked Sendable {
    public typealias Handler = (_ events: UInt32) -> Void

    public static let readable = CSHIMS_EPOLLIN
    public static let writable = CSHIMS_EPOLLOUT
    public static let peerClosed = CSHIMS_EPOLLRDHUP
    public static let hangup = CSHIMS_EPOLLHUP | CSHIMS_EPOLLERR

    private let ep: Int32
    private let wakeFD: Int32
    /// Indexed by file descriptor (small integers, reused): no hashing per event.
    private var handlers: [Handler?] = []
    private let taskLock = Mutex()
    private var tasks: [() -> Void] = []
    /// Set after a task is queued: the loop takes the lock only when there is something to take.
    private let tasksQueued = Atomic<Bool>(false)
    private var stopping = false
    /// Called every iteration with the time; returns how long (ms) the loop may sleep at most for its owner.
    private var tickers: [(Int64) -> Int] = []
    public private(set) var now: Int64 = Posix.monotonicMillis()
    /// When the loop last went round, read by the watchdog thread.
    private let heartbeat = Atomic<Int64>(Posix.monotonicMillis())

    public init() {
        ep = cshims_epoll_create()
        wakeFD = cshims_eventfd()
        precondition(ep >= 0 && wakeFD >= 0, "epoll/eventfd failed: \(errno)")
        _ = cshims_epoll_ctl(ep, CSHIMS_EPOLL_CTL_ADD, wakeFD, CSHIMS_EPOLLIN, UInt64(wakeFD))
    }

    public func register(_ fd: Int32, _ events: UInt32, _ handler: @escaping Handler) {
        let i = Int(fd)
        if i >= handlers.count { handlers.append(contentsOf: repeatElement(nil, count: max(i + 1, handlers.count * 2) - handlers.count)) }
        handlers[i] = handler
        _ = cshims_epoll_ctl(ep, CSHIMS_EPOLL_CTL_ADD, fd, events, UInt64(UInt32(bitPattern: fd)))
    }

    public func modify(_ fd: Int32, _ events: UInt32) {
        _ = cshims_epoll_ctl(ep, CSHIMS_EPOLL_CTL_MOD, fd, events, UInt64(UInt32(bitPattern: fd)))
    }

    public func unregister(_ fd: Int32) {
        if Int(fd) < handlers.count { handlers[Int(fd)] = nil }
        _ = cshims_epoll_ctl(ep, CSHIMS_EPOLL_CTL_DEL, fd, 0, 0)
    }

    /// Add a periodic duty (timeouts, curl's timer). It returns the ms until it next needs to run.
    public func addTicker(_ t: @escaping (Int64) -> Int) { tickers.append(t) }

    /// Run `task` on the loop thread. Safe from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        taskLock.locked { tasks.append(task) }
        tasksQueued.store(true, ordering: .releasing)
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    public func stop() { execute { [self] in stopping = true } }

    /// Run `work` on this thread at the next turn of the loop, after the events at hand (loop thread only).
    /// A continuation that could otherwise nest (answer, then read the next request, answer it, …) goes here,
    /// so the stack stays flat however fast a client sends.
    public func soon(_ work: @escaping () -> Void) { soonQueue.append(work) }
    private var soonQueue: [() -> Void] = []
    private var soonRunning: [() -> Void] = []

    /// `soon` for an owner that conforms to `LoopSoon` (no closure per call: a keep-alive connection reading its
    /// next request asks on every request). Owners queued this way run before the closures.
    public func soon(_ owner: any LoopSoon) { ownerQueue.append(owner) }
    private var ownerQueue: [any LoopSoon] = []
    private var ownerRunning: [any LoopSoon] = []

    /// Run `owner.runAfterEvent()` once the handler of the event at hand returns, before the loop goes on (loop
    /// thread only). Output queued while handling an event goes out this way: what one read of an upstream socket
    /// brought (a response head and its body, many events of a stream) leaves in one send instead of one per
    /// piece, and nothing waits longer than the work at hand.
    public func afterEvent(_ owner: any LoopAfterEvent) { pendingFlushes.append(owner) }
    private var pendingFlushes: [any LoopAfterEvent] = []

    @inline(__always) private func runPendingFlushes() {
        guard !pendingFlushes.isEmpty else { return }
        var i = 0
        while i < pendingFlushes.count { pendingFlushes[i].runAfterEvent(); i += 1 }
        pendingFlushes.removeAll(keepingCapacity: true)
    }

    /// Milliseconds since the loop last went round (for the watchdog).
    public var sinceHeartbeat: Int64 { Posix.monotonicMillis() - heartbeat.load(ordering: .relaxed) }

    public func run() {
        var datas = [UInt64](repeating: 0, count: 256)
        var events = [UInt32](repeating: 0, count: 256)
        while !stopping {
            now = Posix.monotonicMillis()
            var timeout = 1000
            for t in tickers { timeout = min(timeout, max(0, t(now))) }
            runPendingFlushes()
            if !soonQueue.isEmpty || !ownerQueue.isEmpty { timeout = 0 }
            heartbeat.store(now, ordering: .relaxed)
            let n = cshims_epoll_wait(ep, &datas, &events, 256, Int32(timeout))
            now = Posix.monotonicMillis()
            if n > 0 {
                for i in 0..<Int(n) {
                    let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: datas[i]))
                    if fd == wakeFD {
                        var v: UInt64 = 0
                        _ = read(wakeFD, &v, 8)
                        continue
                    }
                    if Int(fd) < handlers.count, let h = handlers[Int(fd)] { h(events[i]) }
                    runPendingFlushes()
                }
            }
            if tasksQueued.exchange(false, ordering: .acquiring) {
                let pending = taskLock.locked { () -> [() -> Void] in let t = tasks; tasks = []; return t }
                for t in pending { t() }
                runPendingFlushes()
            }
            // Only what was queued before this point: work queued by these runs waits for the next turn. The two
            // lists swap, so neither is allocated again on every turn.
            if !ownerQueue.isEmpty {
                swap(&ownerQueue, &ownerRunning)
                for o in ownerRunning { o.runSoon() }
                ownerRunning.removeAll(keepingCapacity: true)
            }
            if !soonQueue.isEmpty {
                swap(&soonQueue, &soonRunning)
                for w in soonRunning { w() }
                soonRunning.removeAll(keepingCapacity: true)
            }
            runPendingFlushes()
        }
    }
}
