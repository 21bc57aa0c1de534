/// Nanoseconds on `CLOCK_MONOTONIC`, the clock the reactor's timerfd counts on. Timeouts are measured
/// on it (not on `ContinuousClock`, whose Linux clock may differ) so that a deadline the timer has
/// reached has also passed for the waiting call that checks it.
enum MonotonicClock {
    @inline(__always)
    static func now() -> UInt64 { System.monotonicNanoseconds() }

    /// `duration` in nanoseconds, saturating at `UInt64.max`; negative durations count as zero.
    static func nanoseconds(of duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        guard seconds < 18_000_000_000 else { return .max }
        return UInt64(seconds) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    /// The deadline `timeout` from now, or `nil` for a timeout too long to matter (over a century).
    static func deadline(after timeout: Duration) -> UInt64? {
        guard timeout.components.seconds < 3_000_000_000 else { return nil }
        return now() + nanoseconds(of: timeout)
    }
}

/// The deadlines of waiting calls, earliest first: a binary min-heap with lazy removal.
///
/// Most timed waits end before their deadline, so removal must be cheap: it only frees the timer's
/// slot, and the heap's node is dropped when it reaches the top, or when stale nodes outnumber live
/// ones (so a long timeout on a busy socket cannot make the heap grow without bound).
///
/// A key is a slot number and that slot's generation: a slot's generation moves on whenever its timer
/// ends (fires or is removed), which makes the key, and its node in the heap, stale. So every
/// operation finds a timer by indexing, with no hashing, and the heap moves 16-byte nodes.
struct TimerQueue {
    struct Entry {
        let deadline: UInt64
        let key: UInt64
        /// The reactor registration of the socket, and the waiter on it.
        let token: UInt64
        let waiter: UInt64
        let direction: Direction
    }

    /// What the heap orders.
    private struct Node {
        let deadline: UInt64
        let key: UInt64
    }

    /// A timer's payload, found by its key's slot number.
    private struct Slot {
        /// Never 0, so that no key is 0.
        var generation: UInt32 = 1
        var token: UInt64
        var waiter: UInt64
        var direction: Direction
    }

    private var heap: [Node] = []
    private var slots: [Slot] = []
    /// The slots no live timer holds.
    private var unused: [Int] = []
    private var live = 0

    private static func slot(_ key: UInt64) -> Int { Int(UInt32(truncatingIfNeeded: key)) }

    private func isLive(_ key: UInt64) -> Bool {
        Self.isLive(key, in: slots)
    }

    private static func isLive(_ key: UInt64, in slots: [Slot]) -> Bool {
        slots[slot(key)].generation == UInt32(truncatingIfNeeded: key >> 32)
    }

    /// Adds a deadline and returns the key that removes it (never 0).
    mutating func add(deadline: UInt64, token: UInt64, waiter: UInt64, direction: Direction) -> UInt64 {
        let slot: Int
        if let reused = unused.popLast() {
            slot = reused
            slots[slot].token = token
            slots[slot].waiter = waiter
            slots[slot].direction = direction
        } else {
            slot = slots.count
            slots.append(Slot(token: token, waiter: waiter, direction: direction))
        }
        live += 1
        let key = UInt64(slots[slot].generation) << 32 | UInt64(slot)
        heap.append(Node(deadline: deadline, key: key))
        siftUp(heap.count - 1)
        return key
    }

    /// Ends the timer in `slot`: its key goes stale, and the slot can be used again.
    private mutating func end(_ slot: Int) {
        slots[slot].generation &+= 1
        if slots[slot].generation == 0 { slots[slot].generation = 1 }
        unused.append(slot)
        live -= 1
    }

    /// Forgets the deadline of `key`, if it has not expired; returns whether it had not.
    @discardableResult
    mutating func remove(_ key: UInt64) -> Bool {
        guard isLive(key) else { return false }
        end(Self.slot(key))
        if heap.count > 64 && heap.count > 2 * live { compact() }
        return true
    }

    /// The earliest live deadline.
    mutating func earliest() -> UInt64? {
        dropStaleTop()
        return heap.first?.deadline
    }

    /// Removes the live entries whose deadline is at or before `now`, earliest first, into `buffer`,
    /// as many as it holds; returns how many. (When that fills it, more may be left.)
    mutating func popExpired(now: UInt64, into buffer: UnsafeMutableBufferPointer<Entry>) -> Int {
        var count = 0
        while count < buffer.count, let top = heap.first {
            let isLive = isLive(top.key)
            guard top.deadline <= now || !isLive else { break }
            popTop()
            guard isLive else { continue }
            let slot = Self.slot(top.key), timer = slots[slot]
            (buffer.baseAddress! + count).initialize(to: Entry(deadline: top.deadline, key: top.key, token: timer.token,
                                                              waiter: timer.waiter, direction: timer.direction))
            end(slot)
            count += 1
        }
        return count
    }

    /// How many live deadlines belong to `token` (for tests and diagnostics).
    func count(token: UInt64) -> Int {
        heap.reduce(0) { $0 + (isLive($1.key) && slots[Self.slot($1.key)].token == token ? 1 : 0) }
    }

    private mutating func dropStaleTop() {
        while let top = heap.first, !isLive(top.key) { popTop() }
    }

    private mutating func compact() {
        // The slots are passed in: the closure may not read `self` while `heap` is being changed.
        let slots = self.slots
        heap.removeAll { !Self.isLive($0.key, in: slots) }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    // The sifts move the node into a hole instead of swapping it at every level.
    private mutating func siftUp(_ index: Int) {
        let node = heap[index]
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard node.deadline < heap[parent].deadline else { break }
            heap[child] = heap[parent]
            child = parent
        }
        heap[child] = node
    }

    private mutating func siftDown(_ index: Int) {
        let node = heap[index]
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            guard left < heap.count else { break }
            let smaller = right < heap.count && heap[right].deadline < heap[left].deadline ? right : left
            guard heap[smaller].deadline < node.deadline else { break }
            heap[parent] = heap[smaller]
            parent = smaller
        }
        heap[parent] = node
    }
}
