import Dispatch
import ProxyPoolSystem

extension EventLoop {
    /// Run `work` on the loop thread and wait for its result (the suites here drive a loop from the test thread).
    func runAndWait<T>(_ work: @escaping () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = LoopBox<T>(), job = LoopBox<() -> T>()
        job.value = work
        execute { box.value = job.value!(); done.signal() }
        done.wait()
        return box.value!
    }
}

/// Carries a value across to the loop thread and back; the semaphore orders the accesses.
private final class LoopBox<T>: @unchecked Sendable { var value: T? }
