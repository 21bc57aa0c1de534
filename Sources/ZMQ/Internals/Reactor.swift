internal import CZMQ
import Synchronization  // Atomic
#if canImport(Glibc)
import Glibc
#endif

/// One thread for the whole process that waits on the `ZMQ_FD` of every socket with a suspended
/// task, using epoll in one-shot mode, and ends waits whose timeout has passed.
///
/// `ZMQ_FD` only says "something changed", so the reactor never decides readiness: it wakes the
/// first waiter of each direction, whose task re-reads `ZMQ_EVENTS` on the socket's actor. A socket
/// is armed only while it has a waiter, so idle sockets cost nothing, and no thread exists per socket.
///
/// Timeouts live here too, as deadlines in a heap with one timerfd in the epoll set armed for the
/// earliest. That was chosen over a task per timed wait (sleeping until the deadline, cancelled when
/// the wait ends) because a wait that ends in time, the common case, then costs a locked heap insert
/// and removal instead of creating, scheduling and cancelling a task on the cooperative pool; and an
/// expired wait is failed straight from this thread, exactly like a cancelled one, with no pool
/// thread needed to notice it.
final class Reactor: Sendable {
    static let shared = Reactor()

    private let epoll: Int32
    private let queues = Locked<[UInt64: WaitQueue]>([:])
    private let nextToken = Atomic<UInt64>(1)
    /// The timerfd, armed (absolute, `CLOCK_MONOTONIC`) for the earliest deadline in `timers`.
    private let timerFD: Int32
    private let timers = Locked(Timers())
    /// The epoll token of the timerfd; socket tokens start at 1.
    private static let timerToken: UInt64 = 0

    private struct Timers {
        var queue = TimerQueue()
        /// The deadline the timerfd is armed for; 0 when disarmed.
        var armed: UInt64 = 0
    }

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed: \(String(cString: strerror(errno)))")
        timerFD = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_CLOEXEC | TFD_NONBLOCK))
        precondition(timerFD >= 0, "timerfd_create failed: \(String(cString: strerror(errno)))")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = Reactor.timerToken
        precondition(epoll_ctl(epoll, EPOLL_CTL_ADD, timerFD, &event) == 0, "cannot watch the timerfd")
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            Unmanaged<Reactor>.fromOpaque(context!).takeUnretainedValue().run()
            return nil
        }, Unmanaged.passRetained(self).toOpaque())
        precondition(started == 0, "cannot start the reactor thread")
        pthread_detach(thread)
    }

    /// A registration token for one socket's queue.
    func register(_ queue: WaitQueue) -> UInt64 {
        let token = nextToken.wrappingAdd(1, ordering: .relaxed).oldValue
        queues.withLock { $0[token] = queue }
        return token
    }

    /// Arms `fd` for one wake-up of `token`'s queue. `added` records whether epoll already knows the fd.
    func arm(fd: Int32, token: UInt64, added: inout Bool) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLONESHOT.rawValue
        event.data.u64 = token
        if added {
            if epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event) == 0 { return }
        }
        if epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 {
            added = true
        } else if errno == EEXIST {
            _ = epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event)
            added = true
        }
    }

    /// Forgets `token`; must run before libzmq closes `fd`.
    func unregister(fd: Int32, token: UInt64, added: Bool) {
        if added {
            var event = epoll_event()
            _ = epoll_ctl(epoll, EPOLL_CTL_DEL, fd, &event)
        }
        _ = queues.withLock { $0.removeValue(forKey: token) }
    }

    // MARK: Timeouts

    /// Fails waiter `waiter` of `token`'s queue with ``ZMQError/timedOut`` at `deadline`
    /// (``MonotonicClock`` nanoseconds) unless ``cancelTimer(_:)`` comes first. As with cancellation,
    /// only a waiter that is still waiting and interruptible is failed. Returns the timer's key.
    func addTimer(deadline: UInt64, token: UInt64, waiter: UInt64, direction: Direction) -> UInt64 {
        timers.withLock { timers in
            let key = timers.queue.add(deadline: deadline, token: token, waiter: waiter, direction: direction)
            if timers.armed == 0 || deadline < timers.armed {
                arm(deadline)
                timers.armed = deadline
            }
            return key
        }
    }

    /// Forgets a timer; the timerfd may still fire for it, which is harmless.
    func cancelTimer(_ key: UInt64) {
        timers.withLock { $0.queue.remove(key) }
    }

    /// How many timers of `token` are pending (for tests).
    func pendingTimers(token: UInt64) -> Int {
        timers.withLock { $0.queue.count(token: token) }
    }

    /// Arms the timerfd for the absolute `deadline`, or disarms it for 0. Called under the `timers`
    /// lock, so the armed time always matches `Timers.armed`.
    private func arm(_ deadline: UInt64) {
        var spec = itimerspec()
        spec.it_value.tv_sec = Int(deadline / 1_000_000_000)
        spec.it_value.tv_nsec = Int(deadline % 1_000_000_000)
        _ = timerfd_settime(timerFD, Int32(TFD_TIMER_ABSTIME), &spec, nil)
    }

    private func fireTimers() {
        var expirations: UInt64 = 0
        _ = read(timerFD, &expirations, MemoryLayout<UInt64>.size)
        let expired = timers.withLock { timers -> [TimerQueue.Entry] in
            let expired = timers.queue.popExpired(now: MonotonicClock.now())
            let next = timers.queue.earliest() ?? 0
            arm(next)
            timers.armed = next
            return expired
        }
        for entry in expired {
            queues.withLock { $0[entry.token] }?.fail(entry.waiter, entry.direction, with: ZMQError.timedOut)
        }
    }

    /// Delivers, without waiting, the readiness the reactor has pending; called by a task that is about
    /// to suspend. When tasks talk to each other over inproc, the message that readied a waiting peer
    /// was sent moments ago on this very thread: waking the peer here lets this thread, about to fall
    /// idle, run it at once, instead of a round of thread wake-ups (reactor, then a pool thread), each
    /// costing tens of microseconds on a virtual machine. The events are the same one-shot events the
    /// reactor thread waits for; whichever thread takes an event delivers it, exactly once. (The timerfd
    /// is level-triggered: a thread that finds it already read pops no timers.)
    func deliverPending() {
        let capacity = 16
        withUnsafeTemporaryAllocation(of: epoll_event.self, capacity: capacity) { events in
            let count = epoll_wait(epoll, events.baseAddress, Int32(capacity), 0)
            if count > 0 { deliver(events.baseAddress!, Int(count)) }
        }
    }

    /// Wakes the head waiter of each direction of every socket in `events` (the woken task re-reads
    /// `ZMQ_EVENTS`, which re-arms the socket if it still has to wait), and fails expired timed waits.
    private func deliver(_ events: UnsafeMutablePointer<epoll_event>, _ count: Int) {
        for index in 0..<count {
            let token = events[index].data.u64
            if token == Reactor.timerToken {
                fireTimers()
                continue
            }
            guard let queue = queues.withLock({ $0[token] }) else { continue }
            queue.wakeFirst(.receive)
            queue.wakeFirst(.send)
        }
    }

    private func run() {
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        while true {
            let count = epoll_wait(epoll, events, Int32(capacity), -1)
            if count < 0 { continue }  // EINTR
            deliver(events, Int(count))
        }
    }
}
