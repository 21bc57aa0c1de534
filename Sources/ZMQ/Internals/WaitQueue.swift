/// The tasks suspended on one socket, in arrival order per direction.
///
/// The socket's callers, the reactor thread and cancellation handlers all touch it, so its state sits
/// under a lock (`Locked`), and every continuation is resumed exactly once, outside the lock. A waiter is
/// either *waiting* (it may be cancelled, timed out or woken) or *woken* (its task will run and try the
/// operation; nothing can take that away). The waiter leaves the queue only when its task has finished
/// the attempt, so the queue is empty exactly when nobody is ahead of a new caller, which is what keeps
/// callers in order.
///
/// Every operation on one waiter costs the same however long the line is: thousands of tasks may wait
/// with short timeouts, leaving and joining all the time (see `Line`).
final class WaitQueue: Sendable {
    fileprivate struct Waiter {
        var continuation: UnsafeContinuation<Void, any Error>?
        /// Whether cancellation and timeouts may end the wait; not once a multipart message is half done.
        var interruptible: Bool
    }

    /// One direction's line: the waiters by id, and their ids in arrival order. A waiter that leaves is
    /// only removed from `waiters`; its id stays in `order` until it reaches the head, where it is
    /// skipped, or until such ids are most of `order`, which is then compacted (so a head that waits
    /// for ever, with others timing out behind it, cannot make `order` grow without bound). Leaving
    /// from the middle of the line costs no search and no shifting; compacting costs, spread over the
    /// joins that made it necessary, a constant per join.
    fileprivate struct Line {
        var waiters: [UInt64: Waiter] = [:]
        var order: [UInt64] = []
        var head = 0

        /// The id of the first waiter in line, dropping ids of waiters that have left.
        mutating func first() -> UInt64? {
            while head < order.count {
                if waiters[order[head]] != nil { return order[head] }
                head += 1
            }
            order.removeAll(keepingCapacity: true)
            head = 0
            return nil
        }

        mutating func append(_ id: UInt64, _ waiter: Waiter) {
            waiters[id] = waiter
            if order.count - head > 2 * waiters.count + 64 {
                order = order[head...].filter { waiters[$0] != nil }
                head = 0
            }
            order.append(id)
        }

        /// How many ids `order` holds from the head, stale ones included (for tests).
        var storedIDs: Int { order.count - head }

        mutating func removeAll() -> [UnsafeContinuation<Void, any Error>] {
            let taken = waiters.values.compactMap(\.continuation)
            self = Line()
            return taken
        }
    }

    private let lines = Locked(PerDirection(repeating: Line()))

    /// Whether nobody waits in `direction`, woken or not.
    func isIdle(_ direction: Direction) -> Bool {
        lines.withLock { $0[direction].waiters.isEmpty }
    }

    /// Whether a waiter is in the middle of a multipart message (not interruptible), woken or not.
    /// Looks at every waiter: for lending a socket to a proxy, not for the paths of sending and receiving.
    var hasCommittedWaiter: Bool {
        lines.withLock { lines in
            Direction.allCases.contains { lines[$0].waiters.values.contains { !$0.interruptible } }
        }
    }

    /// How many ids the lines keep, those of waiters that left included; for tests.
    var storedIDs: (receive: Int, send: Int) {
        lines.withLock { ($0.receive.storedIDs, $0.send.storedIDs) }
    }

    /// How many waiters each line holds, waiting or woken.
    var count: (receive: Int, send: Int) {
        lines.withLock { ($0.receive.waiters.count, $0.send.waiters.count) }
    }

    /// Whether the head of each line is waiting to be woken (only the head can be woken).
    func wanted() -> PerDirection<Bool> {
        lines.withLock { lines in
            var wanted = PerDirection(repeating: false)
            for direction in Direction.allCases {
                if let id = lines[direction].first() { wanted[direction] = lines[direction].waiters[id]?.continuation != nil }
            }
            return wanted
        }
    }

    /// Parks waiter `id` with `continuation`: a new waiter joins the back of the line, a waiter that
    /// was woken but found nothing to do keeps its place. Only an `interruptible` waiter can be ended
    /// by ``fail(_:_:with:)``. Returns whether the waiter is at the head of its line.
    @discardableResult
    func park(_ id: UInt64, _ direction: Direction, _ continuation: UnsafeContinuation<Void, any Error>, interruptible: Bool) -> Bool {
        lines.withLock { lines in
            let waiter = Waiter(continuation: continuation, interruptible: interruptible)
            if lines[direction].waiters[id] != nil {
                lines[direction].waiters[id] = waiter
            } else {
                lines[direction].append(id, waiter)
            }
            return lines[direction].first() == id
        }
    }

    /// Removes waiter `id` after its attempt (success or failure).
    func leave(_ id: UInt64, _ direction: Direction) {
        _ = lines.withLock { $0[direction].waiters.removeValue(forKey: id) }
    }

    /// Wakes the waiter at the head of `direction`'s line if it is waiting; it keeps its place until
    /// it leaves. Only the head is ever woken, so at most one task per direction is on its way to try
    /// and callers are served strictly in order. Returns whether a waiter was woken.
    @discardableResult
    func wakeFirst(_ direction: Direction) -> Bool {
        let continuation = lines.withLock { lines -> UnsafeContinuation<Void, any Error>? in
            guard let id = lines[direction].first(), let continuation = lines[direction].waiters[id]?.continuation else { return nil }
            lines[direction].waiters[id]?.continuation = nil
            return continuation
        }
        continuation?.resume()
        return continuation != nil
    }

    /// Wakes every waiting waiter in both directions (each re-checks and finds an error or work).
    func wakeAll() {
        let continuations = lines.withLock { lines -> [UnsafeContinuation<Void, any Error>] in
            var taken: [UnsafeContinuation<Void, any Error>] = []
            for direction in Direction.allCases {
                for (id, waiter) in lines[direction].waiters {
                    guard let continuation = waiter.continuation else { continue }
                    taken.append(continuation)
                    lines[direction].waiters[id]?.continuation = nil
                }
            }
            return taken
        }
        continuations.forEach { $0.resume() }
    }

    /// Ends waiter `id` with `error` if it is still waiting and interruptible (cancellation, timeout);
    /// a woken waiter is left alone because its task is about to run and may already own a message,
    /// and so is one in the middle of a multipart message. Returns whether the waiter was ended.
    @discardableResult
    func fail(_ id: UInt64, _ direction: Direction, with error: any Error) -> Bool {
        let continuation = lines.withLock { lines -> UnsafeContinuation<Void, any Error>? in
            guard let waiter = lines[direction].waiters[id], waiter.interruptible,
                  let continuation = waiter.continuation else { return nil }
            lines[direction].waiters[id] = nil
            return continuation
        }
        continuation?.resume(throwing: error)
        return continuation != nil
    }

    /// Ends every waiter with `error` (the socket was closed, or cannot be waited on); woken waiters
    /// see the error when they run.
    func failAll(with error: any Error) {
        let continuations = lines.withLock { lines in
            lines.receive.removeAll() + lines.send.removeAll()
        }
        continuations.forEach { $0.resume(throwing: error) }
    }
}
