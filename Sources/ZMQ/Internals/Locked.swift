#if canImport(Glibc)
import Glibc
#endif

/// State guarded by a `pthread_mutex_t`.
///
/// Used instead of `Synchronization.Mutex` on purpose: on Linux that Mutex is a priority-inheritance
/// futex whose hand-off happens in the kernel, which ThreadSanitizer cannot see, so every contended
/// access is reported as a race. A pthread mutex is intercepted by the sanitizer, costs the same
/// when uncontended, and keeps `swift test --sanitize=thread` free of false reports.
final class Locked<State>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var state: State

    init(_ state: State) {
        self.state = state
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the state. Never resume a continuation inside `body`.
    @inline(__always)
    func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}
