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
/// Most timed waits end before their deadline, so removal must be cheap: it only forgets the key,
/// and the entry is dropped when it reaches the top of the heap, or when stale entries outnumber live
/// ones (so a long timeout on a busy socket cannot make the heap grow without bound).
struct TimerQueue {
    struct Entry {
        let deadline: UInt64
        let key: UInt64
        /// The reactor registration of the socket, and the waiter on it.
        let token: UInt64
        let waiter: UInt64
        let direction: Direction
    }

    private var heap: [Entry] = []
    private var live: Set<UInt64> = []
    private var nextKey: UInt64 = 1

    /// Adds a deadline and returns the key that removes it.
    mutating func add(deadline: UInt64, token: UInt64, waiter: UInt64, direction: Direction) -> UInt64 {
        let key = nextKey
        nextKey &+= 1
        live.insert(key)
        heap.append(Entry(deadline: deadline, key: key, token: token, waiter: waiter, direction: direction))
        siftUp(heap.count - 1)
        return key
    }

    /// Forgets the deadline of `key`, if it has not expired; returns whether it had not.
    @discardableResult
    mutating func remove(_ key: UInt64) -> Bool {
        guard live.remove(key) != nil else { return false }
        if heap.count > 64 && heap.count > 2 * live.count { compact() }
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
        while count < buffer.count, let top = heap.first, top.deadline <= now || !live.contains(top.key) {
            popTop()
            if live.remove(top.key) != nil {
                (buffer.baseAddress! + count).initialize(to: top)
                count += 1
            }
        }
        return count
    }

    /// How many live deadlines belong to `token` (for tests and diagnostics).
    func count(token: UInt64) -> Int {
        heap.reduce(0) { $0 + ($1.token == token && live.contains($1.key) ? 1 : 0) }
    }

    private mutating func dropStaleTop() {
        while let top = heap.first, !live.contains(top.key) { popTop() }
    }

    private mutating func compact() {
        heap.removeAll { !live.contains($0.key) }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count && heap[right].deadline < heap[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
