#if canImport(Glibc)
import Glibc
#endif

/// State guarded by a `pthread_mutex_t`.
///
/// Used instead of `Synchronization.Mutex` on purpose: on Linux that Mutex is a priority-inheritance
/// futex whose hand-off happens in the kernel, which ThreadSanitizer cannot see, so every contended
/// access is reported as a race. A pthread mutex is intercepted by the sanitizer, costs the same
/// when uncontended, and keeps `swift test --sanitize=thread` free of false reports.
///
/// The state lives behind a pointer rather than in a stored `var`: the mutex already makes access
/// exclusive, and a class's stored `var` passed `inout` would pay for Swift's dynamic exclusivity
/// check on every access (`swift_beginAccess`/`swift_endAccess`, a thread-local lookup each: about 5%
/// of a small-message benchmark's CPU).
final class Locked<State>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let state = UnsafeMutablePointer<State>.allocate(capacity: 1)

    init(_ state: State) {
        self.state.initialize(to: state)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Runs `body` with exclusive access to the state. Never resume a continuation inside `body`.
    @inline(__always)
    func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state.pointee)
    }
}
