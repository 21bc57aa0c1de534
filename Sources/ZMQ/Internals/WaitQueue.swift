internal import CZMQ

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
        /// How the waiter ahead may complete this waiter's call for it (see ``serve(behind:_:limit:_:)``).
        var server: Server?
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

        /// Puts `id` at the head. It costs a shift of `order` only when no stale id is in front to
        /// take the place of; it is made at most once per wait, for the few who lined up meanwhile.
        mutating func prepend(_ id: UInt64, _ waiter: Waiter) {
            waiters[id] = waiter
            if head > 0 {
                head -= 1
                order[head] = id
            } else {
                order.insert(id, at: 0)
            }
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

    /// Parks waiter `id` with `continuation`: a new waiter joins the back of the line (the front, if
    /// `first`: one that was alone in line when it began to wait elsewhere, and so is ahead of everyone
    /// here), a waiter that was woken but found nothing to do keeps its place. Only an `interruptible`
    /// waiter can be ended by ``fail(_:_:with:)``. Returns whether the waiter is at the head of its line.
    @discardableResult
    func park(_ id: UInt64, _ direction: Direction, _ continuation: UnsafeContinuation<Void, any Error>,
              interruptible: Bool, server: Server? = nil, first: Bool = false) -> Bool {
        lines.withLock { lines in
            let waiter = Waiter(continuation: continuation, interruptible: interruptible, server: server)
            if lines[direction].waiters[id] != nil {
                lines[direction].waiters[id] = waiter
            } else if first {
                lines[direction].prepend(id, waiter)
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
    /// it leaves. Only the head is ever woken to try (the waiters it serves behind it are woken only
    /// to return what it gave them), so at most one task per direction is on its way to try and
    /// callers are served strictly in order. Returns whether a waiter was woken.
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

    /// Completes, in line order, the calls of the waiters parked right behind waiter `id` (the head
    /// of `direction`'s line, woken, which has just completed its own): `serve` is given each one's
    /// ``Server``, with this queue's lock held, and says whether it completed the call. A waiter
    /// served so is resumed, to return what its server holds; the first that is not parked, has no
    /// server or cannot be completed ends the round, untouched, as does `limit`. A served waiter
    /// leaves the line at once (its task only returns what it was given). Returns the
    /// continuations of the waiters served, to resume once the locks are released.
    ///
    /// This is how a line of receivers drains a queue of messages: each served waiter's task only
    /// returns what it was given, so `limit` messages cost one pass through the executor's queue of
    /// jobs instead of one each (with thousands of waiters timing out, that queue is long).
    /// Holding this lock while `serve` calls libzmq keeps a timeout or cancellation from ending a
    /// waiter whose message has been taken.
    func serve(behind id: UInt64, _ direction: Direction, limit: Int, _ serve: (Server) -> Bool) -> [UnsafeContinuation<Void, any Error>] {
        lines.withLock { lines in
            var served: [UnsafeContinuation<Void, any Error>] = []
            guard lines[direction].first() == id else { return served }
            var index = lines[direction].head + 1
            while served.count < limit && index < lines[direction].order.count {
                let next = lines[direction].order[index]
                index += 1
                guard let waiter = lines[direction].waiters[next] else { continue }  // left
                guard let continuation = waiter.continuation, let server = waiter.server, serve(server) else { break }
                // Its call is complete: it leaves the line now, so that the next parked waiter
                // becomes the head at once, instead of once every served task has run.
                lines[direction].waiters[next] = nil
                served.append(continuation)
            }
            return served
        }
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

/// What a parked receiver offers the waiter ahead of it: a way to complete its receive for it (see
/// ``WaitQueue/serve(behind:_:limit:_:)``). ``Served`` holds the receive and its outcome.
class Server: @unchecked Sendable {
    /// Tries the waiter's receive on `handle`, with the socket's lock held; returns whether it
    /// completed (with a message or an error, which the waiter then returns or throws).
    func serve(_ handle: LibZMQ.Handle) -> Bool { false }
}

/// A single-frame receive that can be kept while its caller is parked: a function of the socket's
/// state alone (what the receive calls take, with the socket's receive buffer and the frames streams
/// handed back), so that keeping it allocates nothing.
struct Receive<R> {
    let take: (_ handle: LibZMQ.Handle, _ frame: UnsafeMutablePointer<zmq_msg_t>, _ unread: UnreadFrames) throws -> R?
    let frame: UnsafeMutablePointer<zmq_msg_t>
    let unread: UnreadFrames
}

/// A ``Server`` for a receive that returns `R`. Its outcome is written by the serving task, under the
/// locks, while this waiter is suspended, and read by this waiter once it is resumed.
final class Served<R>: Server, @unchecked Sendable {
    private let receive: Receive<R>
    private(set) var outcome: Result<R, any Error>?

    init(_ receive: Receive<R>) {
        self.receive = receive
    }

    override func serve(_ handle: LibZMQ.Handle) -> Bool {
        do {
            guard let value = try receive.take(handle, receive.frame, receive.unread) else { return false }
            outcome = .success(value)
        } catch {
            outcome = .failure(error)
        }
        return true
    }
}
