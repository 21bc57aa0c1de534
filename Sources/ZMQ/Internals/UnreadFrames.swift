import Synchronization

/// Frames a message stream took out of libzmq but did not deliver, handed back so that the next
/// receive on the socket gets them, in their original order, before anything still in libzmq.
///
/// Why it exists: a stream takes a batch of frames in one actor call so that it need not hop to the
/// actor per message. When its loop breaks, or its task is cancelled, with part of the batch
/// undelivered, libzmq cannot take frames back, so the stream's iterator puts them here (from its
/// `deinit`, which may run on any thread, hence the lock) and wakes the socket's first waiting
/// receiver. Every receive path takes from here before calling libzmq; the socket's `schedule()`
/// treats a non-empty stash as readable, so a receiver parked just before the hand-back still wakes.
///
/// Frames carry the sequence number they were given when they left libzmq, so frames handed back by
/// several streams (or out of order) are merged back into the order libzmq delivered them.
final class UnreadFrames: Sendable {
    /// One frame with its place in the socket's receive order.
    struct Entry: Sendable {
        let sequence: UInt64
        let frame: Message
        /// Whether the frame libzmq delivered just before this one had more frames after it: what
        /// `ZMQ_RCVMORE` says to a caller whose last frame was that one (see ``oldestPrecededByMore``).
        let precededByMore: Bool
    }

    /// Oldest last, so that taking is `popLast`.
    private let entries = Locked<[Entry]>([])
    /// How many entries there are: lets the receive fast path skip the lock when there are none.
    private let available = Atomic<Int>(0)
    private let nextSequence = Atomic<UInt64>(0)

    /// Whether there is nothing to take. A hand-back racing with this check is seen by the waiter
    /// it wakes.
    @inline(__always)
    var isEmpty: Bool { available.load(ordering: .acquiring) == 0 }

    /// How many frames are waiting; for tests and diagnostics.
    var count: Int { available.load(ordering: .acquiring) }

    /// Stamps a frame just taken out of libzmq with its place in the receive order.
    @inline(__always)
    func stamp(_ frame: Message, precededByMore: Bool) -> Entry {
        Entry(sequence: nextSequence.wrappingAdd(1, ordering: .relaxed).oldValue, frame: frame, precededByMore: precededByMore)
    }

    /// `ZMQ_RCVMORE` as the socket's user sees it while frames wait here: whether the last frame
    /// delivered (the one before the oldest waiting) had more after it; `nil` when none wait, and
    /// libzmq's own flag is right (its last frame is the last one delivered).
    var oldestPrecededByMore: Bool? {
        guard !isEmpty else { return nil }
        return entries.withLock { $0.last?.precededByMore }
    }

    /// Takes the oldest unread frame, if any.
    @inline(__always)
    func take() -> Entry? {
        guard !isEmpty else { return nil }
        return entries.withLock { entries in
            guard let entry = entries.popLast() else { return nil }
            available.subtract(1, ordering: .releasing)
            return entry
        }
    }

    /// Takes the oldest unread frame's message, if any.
    @inline(__always)
    func takeFrame() -> Message? { take()?.frame }

    /// Hands back frames that were taken but not delivered.
    func putBack(_ returned: some Collection<Entry>) {
        guard !returned.isEmpty else { return }
        entries.withLock { entries in
            entries.append(contentsOf: returned)
            entries.sort { $0.sequence > $1.sequence }
            available.store(entries.count, ordering: .releasing)
        }
    }

    /// Drops every unread frame (the socket was closed).
    func removeAll() {
        entries.withLock { entries in
            entries.removeAll()
            available.store(0, ordering: .releasing)
        }
    }
}
