internal import CZMQ
import Synchronization  // Atomic

/// One thread for the whole process that waits on the `ZMQ_FD` of every socket with a suspended
/// task, using epoll in one-shot mode, and ends waits whose timeout has passed.
///
/// `ZMQ_FD` only says "something changed", so the reactor never decides readiness: it wakes the
/// first waiter of each direction, whose task re-reads `ZMQ_EVENTS` under the socket's lock. A socket
/// is armed only while it has a waiter, so idle sockets cost nothing, and no thread exists per socket.
/// A ``Poller`` registers its own epoll set here the same way, as one descriptor.
///
/// Timeouts live here too, as deadlines in a heap with one timerfd in the epoll set armed for the
/// earliest. That was chosen over a task per timed wait (sleeping until the deadline, cancelled when
/// the wait ends) because a wait that ends in time, the common case, then costs a locked heap insert
/// and removal instead of creating, scheduling and cancelling a task on the cooperative pool; and an
/// expired wait is failed straight from this thread, exactly like a cancelled one, with no pool
/// thread needed to notice it.
///
/// The system calls are in `System` (epoll, timerfd): this file holds only what the reactor decides.
final class Reactor: Sendable {
    static let shared = Reactor()

    private let poll: System.Poll
    private let queues = Locked<[UInt64: Registration]>([:])

    private struct Registration {
        let queue: WaitQueue
        /// Whether a signal wakes every waiter (a poller's) rather than the head of each line (a socket's).
        let wakesAll: Bool
    }
    private let nextToken = Atomic<UInt64>(1)
    /// Armed (absolute, `CLOCK_MONOTONIC`) for the earliest deadline in `timers`.
    private let timer: System.Timer
    private let timers = Locked(Timers())
    /// The epoll token of the timerfd; socket tokens start at 1.
    private static let timerToken: UInt64 = 0
    /// The jobs of tasks that prefer ``ReactorExecutor``, run on this thread between epoll waits.
    private let jobs = Locked(Jobs())
    /// Signalled by ``enqueue(_:)`` when the thread sleeps in epoll with no job to run.
    private let wakeUp: System.Event
    /// The epoll token of `wakeUp`.
    private static let wakeUpToken: UInt64 = .max

    /// The reactor thread's ``System/currentThread()``, once it runs.
    private static let thread = Atomic<UInt>(0)

    /// Whether the caller runs on the reactor thread (a task preferring ``ReactorExecutor``).
    static var isCurrentThread: Bool {
        thread.load(ordering: .relaxed) == System.currentThread()
    }

    private struct Jobs {
        var queue: [UnownedJob] = []
        /// The reactor thread is (about to be) blocked in `epoll_wait` for ever.
        var sleeping = false
    }

    private struct Timers {
        var queue = TimerQueue()
        /// The deadline the timerfd is armed for; 0 when disarmed.
        var armed: UInt64 = 0
    }

    private init() {
        do {
            poll = try System.Poll()
            timer = try System.Timer()
            wakeUp = try System.Event()
            var added = false
            try poll.watch(timer.descriptor, token: Reactor.timerToken, once: false, added: &added)
            added = false
            try poll.watch(wakeUp.descriptor, token: Reactor.wakeUpToken, once: false, added: &added)
        } catch {
            // Without its epoll set and timer no wait could ever end: nothing sensible can go on.
            fatalError("ZMQ cannot start its reactor: \(error)")
        }
        System.startThread { [self] in run() }
    }

    /// A registration token for one socket's queue (or, with `wakesAll`, a poller's).
    func register(_ queue: WaitQueue, wakesAll: Bool = false) -> UInt64 {
        let token = nextToken.wrappingAdd(1, ordering: .relaxed).oldValue
        queues.withLock { $0[token] = Registration(queue: queue, wakesAll: wakesAll) }
        return token
    }

    /// Arms `fd` for one wake-up of `token`'s queue. `added` records whether epoll already knows the fd.
    /// - Throws: when epoll refuses the descriptor (for example at the system's limit of watched
    ///   descriptors): nobody would wake the waiter, so it must not suspend.
    func arm(fd: Int32, token: UInt64, added: inout Bool) throws(System.Failure) {
        try poll.watch(fd, token: token, once: true, added: &added)
    }

    /// Forgets `token`; must run before libzmq closes `fd`.
    func unregister(fd: Int32, token: UInt64, added: Bool) {
        if added { poll.unwatch(fd) }
        _ = queues.withLock { $0.removeValue(forKey: token) }
    }

    // MARK: Timeouts

    /// Fails waiter `waiter` of `token`'s queue with ``ZMQError/timedOut`` at `deadline`
    /// (``MonotonicClock`` nanoseconds) unless ``cancelTimer(_:)`` comes first. As with cancellation,
    /// only a waiter that is still waiting and interruptible is failed. Returns the timer's key.
    ///
    /// The timer may fire up to a sixteenth of the wait late (at most ``Reactor/slackLimit``): a new
    /// deadline only re-arms the timerfd (a system call) when it comes earlier than that before the one
    /// it is armed for, so that thousands of short timed waits do not each re-arm it.
    func addTimer(deadline: UInt64, token: UInt64, waiter: UInt64, direction: Direction) -> UInt64 {
        let now = MonotonicClock.now()
        let slack = deadline > now ? min(Self.slackLimit, deadline - now) / 16 : 0
        return timers.withLock { timers in
            let key = timers.queue.add(deadline: deadline, token: token, waiter: waiter, direction: direction)
            if timers.armed == 0 || deadline &+ slack < timers.armed {
                timer.arm(deadline)
                timers.armed = deadline
            }
            return key
        }
    }

    /// A timed wait ends at most a sixteenth of this late (see ``addTimer(deadline:token:waiter:direction:)``).
    static let slackLimit: UInt64 = 16_000_000

    /// Forgets a timer; the timerfd may still fire for it, which is harmless.
    func cancelTimer(_ key: UInt64) {
        timers.withLock { $0.queue.remove(key) }
    }

    /// How many timers of `token` are pending (for tests).
    func pendingTimers(token: UInt64) -> Int {
        timers.withLock { $0.queue.count(token: token) }
    }

    private func fireTimers() {
        timer.acknowledge()
        let expired = timers.withLock { timers -> [TimerQueue.Entry] in
            let expired = timers.queue.popExpired(now: MonotonicClock.now())
            let next = timers.queue.earliest() ?? 0
            timer.arm(next)
            timers.armed = next
            return expired
        }
        for entry in expired {
            queues.withLock { $0[entry.token] }?.queue.fail(entry.waiter, entry.direction, with: ZMQError.timedOut)
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
        withUnsafeTemporaryAllocation(of: epoll_event.self, capacity: 16) { events in
            let count = poll.wait(into: events, milliseconds: 0)
            if count > 0 { deliver(events, count) }
        }
    }

    /// Wakes the head waiter of each direction of every socket in `events` (the woken task re-reads
    /// `ZMQ_EVENTS`, which re-arms the socket if it still has to wait), and fails expired timed waits.
    private func deliver(_ events: UnsafeMutableBufferPointer<epoll_event>, _ count: Int) {
        for index in 0..<count {
            let token = events[index].data.u64
            if token == Reactor.timerToken {
                fireTimers()
                continue
            }
            if token == Reactor.wakeUpToken {
                wakeUp.acknowledge()
                continue
            }
            guard let registration = queues.withLock({ $0[token] }) else { continue }
            if registration.wakesAll {
                registration.queue.wakeAll()
            } else {
                registration.queue.wakeFirst(.receive)
                registration.queue.wakeFirst(.send)
            }
        }
    }

    // MARK: Running tasks

    /// Queues a job of a task that prefers ``ReactorExecutor``; wakes the thread if it sleeps.
    func enqueue(_ job: UnownedJob) {
        let wake = jobs.withLock { jobs in
            jobs.queue.append(job)
            guard jobs.sleeping else { return false }
            jobs.sleeping = false
            return true
        }
        if wake { wakeUp.signal() }
    }

    private func run() -> Never {
        let events = UnsafeMutableBufferPointer<epoll_event>.allocate(capacity: 256)
        let executor = ReactorExecutor.shared.asUnownedTaskExecutor()
        Reactor.thread.store(System.currentThread(), ordering: .relaxed)
        var batch: [UnownedJob] = []
        while true {
            // Run what is queued (a woken task, usually: the readiness below resumed it), then wait
            // for the next event; without jobs, for ever.
            let idle = jobs.withLock { jobs in
                swap(&batch, &jobs.queue)
                jobs.sleeping = batch.isEmpty
                return batch.isEmpty
            }
            for job in batch { job.runSynchronously(on: executor) }
            batch.removeAll(keepingCapacity: true)
            let count = poll.wait(into: events, milliseconds: idle ? -1 : 0)
            if idle { jobs.withLock { $0.sleeping = false } }
            deliver(events, count)
        }
    }
}
