

/// Which readiness a waiter needs: `ZMQ_POLLIN` (receive) or `ZMQ_POLLOUT` (send).
enum Direction: Sendable {
    case receive
    case send
}

/// The tasks suspended on one socket, in arrival order per direction.
///
/// The socket's actor, the reactor thread and cancellation handlers all touch it, so its state sits
/// under a lock (`Locked`), and every continuation is resumed exactly once, outside the lock. A waiter is
/// either *waiting* (it may be cancelled, timed out or woken) or *woken* (its task will run on the
/// actor and try the operation; nothing can take that away). The waiter leaves the queue only when
/// its task has finished the attempt, so the queue is empty exactly when nobody is ahead of a new
/// caller, which is what keeps callers in order.
final class WaitQueue: Sendable {
    private struct Waiter {
        let id: UInt64
        var continuation: UnsafeContinuation<Void, any Error>?
        /// Whether cancellation and timeouts may end the wait; not once a multipart message is half done.
        var interruptible: Bool
    }

    private struct State {
        var receivers: [Waiter] = []
        var senders: [Waiter] = []

        subscript(direction: Direction) -> [Waiter] {
            get { direction == .receive ? receivers : senders }
            set { if direction == .receive { receivers = newValue } else { senders = newValue } }
        }
    }

    private let state = Locked(State())

    /// Whether nobody waits in `direction`, woken or not.
    func isIdle(_ direction: Direction) -> Bool {
        state.withLock { $0[direction].isEmpty }
    }

    /// Whether a waiter is in the middle of a multipart message (not interruptible), woken or not.
    var hasCommittedWaiter: Bool {
        state.withLock { state in (state.receivers + state.senders).contains { !$0.interruptible } }
    }

    /// How many waiters each line holds, waiting or woken.
    var count: (receive: Int, send: Int) {
        state.withLock { ($0.receivers.count, $0.senders.count) }
    }

    /// Whether the head of each line is waiting to be woken (only the head can be woken).
    func wanted() -> (receive: Bool, send: Bool) {
        state.withLock { state in
            (state.receivers.first?.continuation != nil, state.senders.first?.continuation != nil)
        }
    }

    /// Parks waiter `id` with `continuation`: a new waiter joins the back of the line, a waiter that
    /// was woken but found nothing to do keeps its place. Only an `interruptible` waiter can be ended
    /// by ``fail(_:_:with:)``.
    func park(_ id: UInt64, _ direction: Direction, _ continuation: UnsafeContinuation<Void, any Error>, interruptible: Bool) {
        state.withLock { state in
            if let index = state[direction].firstIndex(where: { $0.id == id }) {
                state[direction][index].continuation = continuation
                state[direction][index].interruptible = interruptible
            } else {
                state[direction].append(Waiter(id: id, continuation: continuation, interruptible: interruptible))
            }
        }
    }

    /// Removes waiter `id` after its attempt (success or failure).
    func leave(_ id: UInt64, _ direction: Direction) {
        state.withLock { state in
            if let index = state[direction].firstIndex(where: { $0.id == id }) {
                state[direction].remove(at: index)
            }
        }
    }

    /// Wakes the waiter at the head of `direction`'s line if it is waiting; it keeps its place until
    /// it leaves. Only the head is ever woken, so at most one task per direction is on its way to the
    /// actor and callers are served strictly in order. Returns whether a waiter was woken.
    @discardableResult
    func wakeFirst(_ direction: Direction) -> Bool {
        let continuation = state.withLock { state -> UnsafeContinuation<Void, any Error>? in
            guard let continuation = state[direction].first?.continuation else { return nil }
            state[direction][0].continuation = nil
            return continuation
        }
        continuation?.resume()
        return continuation != nil
    }

    /// Wakes every waiting waiter in both directions (each re-checks and finds an error or work).
    func wakeAll() {
        let continuations = state.withLock { state -> [UnsafeContinuation<Void, any Error>] in
            var taken: [UnsafeContinuation<Void, any Error>] = []
            for direction in [Direction.receive, .send] {
                for index in state[direction].indices {
                    if let continuation = state[direction][index].continuation {
                        taken.append(continuation)
                        state[direction][index].continuation = nil
                    }
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
        let continuation = state.withLock { state -> UnsafeContinuation<Void, any Error>? in
            guard let index = state[direction].firstIndex(where: { $0.id == id }),
                  state[direction][index].interruptible,
                  let continuation = state[direction][index].continuation else { return nil }
            state[direction].remove(at: index)
            return continuation
        }
        continuation?.resume(throwing: error)
        return continuation != nil
    }

    /// Ends every waiter with `error` (the socket was closed); woken waiters see the error when they run.
    func failAll(with error: any Error) {
        let continuations = state.withLock { state -> [UnsafeContinuation<Void, any Error>] in
            let taken = (state.receivers + state.senders).compactMap(\.continuation)
            state.receivers.removeAll()
            state.senders.removeAll()
            return taken
        }
        continuations.forEach { $0.resume(throwing: error) }
    }
}
