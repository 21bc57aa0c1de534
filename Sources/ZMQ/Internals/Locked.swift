#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// State guarded by a small lock: one atomic word, taken with a compare-and-swap and released with
/// a plain store.
///
/// Why not `Synchronization.Mutex`: on Linux it is a priority-inheritance futex whose hand-off
/// happens in the kernel, which ThreadSanitizer cannot see, so every contended access is reported
/// as a race. Why not a `pthread_mutex_t` (what this was at first): its unlock is a second atomic
/// read-modify-write, and the socket lock is taken by every send and receive, so it was 6% of the
/// CPU of a 1-byte message benchmark. Every critical section in this library is short and never
/// blocks (a non-blocking libzmq call at most; continuations are resumed after the lock is released),
/// so a waiter spins briefly and then yields its thread until the lock is free. ThreadSanitizer sees
/// the atomic operations, so it orders what the lock orders.
///
/// The lock word and the state share one block of memory aligned to, and padded to, a multiple of
/// 128 bytes (two cache lines, what adjacent-line prefetching pulls in together), so that two locks
/// never share a cache line: a sender's and a receiver's sockets are usually made one after the
/// other, and their locks are then used by two threads at once.
///
/// The state lives behind a pointer rather than in a stored `var`: the lock already makes access
/// exclusive, and a class's stored `var` passed `inout` would pay for Swift's dynamic exclusivity
/// check on every access (`swift_beginAccess`/`swift_endAccess`, a thread-local lookup each: about 5%
/// of a small-message benchmark's CPU).
final class Locked<State>: @unchecked Sendable {
    private static var lineSize: Int { 128 }
    private static var stateOffset: Int {
        let end = MemoryLayout<Atomic<UInt32>>.size
        let alignment = max(MemoryLayout<State>.alignment, 1)
        return (end + alignment - 1) / alignment * alignment
    }
    private static var blockSize: Int {
        let end = stateOffset + MemoryLayout<State>.size
        return (end + lineSize - 1) / lineSize * lineSize
    }

    private let word: UnsafeMutablePointer<Atomic<UInt32>>
    private let state: UnsafeMutablePointer<State>

    init(_ state: State) {
        let block = UnsafeMutableRawPointer.allocate(byteCount: Self.blockSize, alignment: Self.lineSize)
        word = block.bindMemory(to: Atomic<UInt32>.self, capacity: 1)
        word.initialize(to: Atomic(0))
        self.state = (block + Self.stateOffset).bindMemory(to: State.self, capacity: 1)
        self.state.initialize(to: state)
    }

    deinit {
        state.deinitialize(count: 1)
        word.deinitialize(count: 1)
        UnsafeMutableRawPointer(word).deallocate()
    }

    /// Runs `body` with exclusive access to the state. Never resume a continuation, and never wait,
    /// inside `body`.
    @inline(__always)
    func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        if !word.pointee.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
            lockContended()
        }
        defer { word.pointee.store(0, ordering: .releasing) }
        return try body(&state.pointee)
    }

    /// Waits for the lock: a few tries, then a yield of the thread between tries, so that a holder
    /// that was preempted gets to run.
    @inline(never)
    private func lockContended() {
        var tries = 0
        while true {
            if word.pointee.load(ordering: .relaxed) == 0,
               word.pointee.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
                return
            }
            tries += 1
            if tries > 100 { System.yieldThread() }
        }
    }
}
