import Foundation

/// A value behind a lock, for state that the reader threads and the tests share.
///
/// An `NSLock` (a pthread mutex) rather than `Synchronization.Mutex`: the thread sanitizer sees a
/// pthread mutex, but not the futex inside the standard library's precompiled `Mutex`, and would
/// report every access it protects as a race.
final class Protected<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
