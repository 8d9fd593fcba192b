import Glibc

/// Start a detached OS thread: blocking work (sockets, SQLite) never runs on Swift's cooperative pool.
public enum Threads {
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }

    public static func start(_ body: @escaping @Sendable () -> Void) { start(stackSize: 512 * 1024, body) }

    /// 512 KiB suits threads that only block; the event loop's translation walks client JSON recursively (as
    /// deep as the parser allows) and gets more.
    public static func start(stackSize: Int, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attr, stackSize)
        var tid = pthread_t()
        let rc = pthread_create(&tid, &attr, { raw in
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box)
        pthread_attr_destroy(&attr)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }
}

/// A value carried to another thread and back by someone who knows it is only touched on one thread at a time
/// (a loop-confined object handed to a worker thread that gives it back through `loop.execute`).
public final class Unchecked<T>: @unchecked Sendable {
    public let value: T
    public init(_ v: T) { value = v }
}
