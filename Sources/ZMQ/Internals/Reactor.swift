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
/// Timeouts live here too, as deadlines in a heap. The thread's wait in epoll times out at the
/// earliest (`epoll_pwait2`); a deadline that another thread adds while it sleeps, earlier than
/// that, arms a timerfd in the epoll set (see `addTimer(deadline:slack:token:waiter:direction:)`).
/// The heap was chosen over a task per timed wait (sleeping until the deadline, cancelled when
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

    /// How many jobs of the batch the reactor thread is running come after the one it runs now (only
    /// that thread uses it).
    private let jobsLeftInBatch = Atomic<Int>(0)

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
        /// The reactor thread is (about to be) blocked in ``Reactor/waitHere(for:)``.
        var waitingHere = false
    }
    /// Signalled to end a ``waitHere(for:)``; read by that wait alone. (Not `wakeUp`, whose
    /// edge-triggered report in the epoll set another thread's `deliverPending()` may take first.)
    private let interruption: System.Event

    private struct Timers {
        var queue = TimerQueue()
        /// The deadline the timerfd is to be armed for; 0 when none.
        var armed: UInt64 = 0
        /// Whether the reactor thread sleeps in epoll, or is about to, having read the heap; while it
        /// runs, it reads the heap again before it sleeps.
        var sleeping = false
        /// The end of that sleep's timeout: the earliest deadline when it began (`.max`: none).
        var sleepsUntil: UInt64 = .max

        /// When the reactor thread looks at the heap next, at the latest: at once (0) while it runs;
        /// while it sleeps, at the end of its timeout or when the timerfd fires, whichever is first.
        var looksAt: UInt64 { sleeping ? min(sleepsUntil, armed == 0 ? .max : armed) : 0 }
    }
    /// The deadline the timerfd was last set to (0: disarmed, or expired). Its lock is held across the
    /// system call, which is made outside the timers' lock, so that adding and removing deadlines
    /// never waits for the kernel; each setting is the latest `Timers.armed` when its turn comes.
    private let setting = Locked<UInt64>(0)

    private init() {
        do {
            poll = try System.Poll()
            timer = try System.Timer()
            wakeUp = try System.Event()
            interruption = try System.Event()
            var added = false
            // Edge-triggered: an expiry is reported once, and no read is needed to stop the reports.
            try poll.watch(timer.descriptor, token: Reactor.timerToken, .edge, added: &added)
            added = false
            // Edge-triggered: each signal is reported once, and the eventfd is never read.
            try poll.watch(wakeUp.descriptor, token: Reactor.wakeUpToken, .edge, added: &added)
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
        try poll.watch(fd, token: token, .once, added: &added)
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
    /// The timer may fire up to a sixteenth of the wait late (at most a sixteenth of ``Reactor/slackLimit``: 1 ms),
    /// plus the kernel's timer slack (see `addTimer(deadline:slack:token:waiter:direction:)`).
    func addTimer(deadline: UInt64, token: UInt64, waiter: UInt64, direction: Direction) -> UInt64 {
        let slack = Self.slack(until: deadline, now: MonotonicClock.now(), limit: Self.slackLimit)
        return addTimer(deadline: deadline, slack: slack, token: token, waiter: waiter, direction: direction)
    }

    /// How late a deadline may fire: a sixteenth of the wait from `now`, at most a sixteenth of `limit`.
    private static func slack(until deadline: UInt64, now: UInt64, limit: UInt64) -> UInt64 {
        deadline > now ? min(limit, deadline - now) / 16 : 0
    }

    /// Adds a deadline to the heap. Two things end the reactor thread's sleep for a deadline:
    ///
    /// - the timeout of its wait in epoll (`epoll_pwait2`), set to the earliest deadline each time it
    ///   goes to sleep. A deadline added on the reactor thread itself (a task on ``ReactorExecutor``
    ///   that sleeps or waits), or while the thread runs, costs no system call: it is in the heap
    ///   when the thread next reads it. This is how a paced task on the reactor sleeps, with the
    ///   one system call `clock_nanosleep` would cost it, and the same timer slack.
    /// - the timerfd, armed only when a deadline comes from another thread while the reactor sleeps,
    ///   more than `slack` before the reactor would look at the heap anyway, so that thousands of
    ///   short timed waits do not each re-arm it.
    private func addTimer(deadline: UInt64, slack: UInt64, token: UInt64, waiter: UInt64, direction: Direction) -> UInt64 {
        let (key, rearm) = timers.withLock { timers in
            let key = timers.queue.add(deadline: deadline, token: token, waiter: waiter, direction: direction)
            guard deadline &+ slack < timers.looksAt else { return (key, false) }
            timers.armed = deadline
            return (key, true)
        }
        if rearm { setTimer(expired: false) }
        return key
    }

    /// Sets the timerfd to what the timers want now. `expired`: it has just fired, and so is disarmed.
    private func setTimer(expired: Bool) {
        setting.withLock { current in
            if expired { current = 0 }
            let wanted = timers.withLock { $0.armed }
            guard wanted != current else { return }
            timer.arm(wanted)
            current = wanted
        }
    }

    /// A timed wait ends at most a sixteenth of this late (see ``addTimer(deadline:token:waiter:direction:)``).
    static let slackLimit: UInt64 = 16_000_000

    /// Forgets a timer; the timerfd may still fire for it, which is harmless. Returns whether the
    /// timer was still pending (it had neither fired nor been cancelled).
    @discardableResult
    func cancelTimer(_ key: UInt64) -> Bool {
        timers.withLock { $0.queue.remove(key) }
    }

    /// How many timers of `token` are pending (for tests).
    func pendingTimers(token: UInt64) -> Int {
        timers.withLock { $0.queue.count(token: token) }
    }

    /// How long the reactor thread, about to sleep in epoll, may sleep for the timers (`nil`: for
    /// ever); from now on, a deadline added on another thread that comes earlier arms the timerfd.
    private func sleepTimeout() -> UInt64? {
        let now = MonotonicClock.now()
        let earliest = timers.withLock { timers in
            let earliest = timers.queue.earliest()
            timers.sleeping = true
            timers.sleepsUntil = earliest ?? .max
            return earliest
        }
        return earliest.map { $0 > now ? $0 - now : 0 }
    }

    /// Ends the waits and sleeps whose deadline has passed. The reactor thread calls it each time it
    /// wakes (`awake`: it no longer sleeps); any thread that takes the timerfd's expiry (`expired`;
    /// it is edge-triggered, and has then disarmed itself) calls it too, and re-arms the timerfd for
    /// the next deadline if the reactor sleeps past it. Otherwise the timerfd is left alone: with no
    /// deadline left, timers cost no system call.
    private func fireTimers(awake: Bool, expired: Bool) {
        let now = MonotonicClock.now()
        if !expired {
            // The usual case on waking, nothing due: no buffer to set up.
            let due = timers.withLock { timers in
                if awake { timers.sleeping = false }
                return timers.queue.earliest().map { $0 <= now } ?? false
            }
            if !due { return }
        }
        // In rounds of at most a buffer's worth, so that firing allocates nothing.
        withUnsafeTemporaryAllocation(of: TimerQueue.Entry.self, capacity: 32) { buffer in
            while true {
                let count = timers.withLock { timers in
                    if awake { timers.sleeping = false }
                    let count = timers.queue.popExpired(now: now, into: buffer)
                    if expired {
                        let next = timers.queue.earliest() ?? .max
                        timers.armed = timers.sleeping && next < timers.sleepsUntil ? next : 0
                    }
                    return count
                }
                for entry in buffer[..<count] {
                    if entry.token == Reactor.sleepToken {
                        wake(sleeperAt: entry.waiter)
                    } else {
                        queues.withLock { $0[entry.token] }?.queue.fail(entry.waiter, entry.direction, with: TimerFired())
                    }
                }
                if count < buffer.count { break }
            }
        }
        if expired { setTimer(expired: true) }
    }

    // MARK: Sleeps (ReactorClock)

    /// The timer entries of sleeps have this token, which no socket has; their `waiter` is the
    /// address of the ``Sleeper``, retained once for the entry. Whoever ends the entry's key in the
    /// heap (the reactor popping it as expired, or a cancellation removing it; a key ends once)
    /// owns that retain and releases it.
    private static let sleepToken: UInt64 = 0

    /// One task's sleep: parked until its timer fires or its task is cancelled, whichever comes first.
    /// Its state is one atomic word (a sleep takes one allocation and no lock of its own).
    private final class Sleeper: @unchecked Sendable {
        private static let starting: UInt8 = 0, parked: UInt8 = 1, cancelled: UInt8 = 2, resumed: UInt8 = 3
        private let state = Atomic<UInt8>(Sleeper.starting)
        /// Written once by ``park(_:)`` before the state says `parked`; read by whoever ends it.
        private var continuation: UnsafeContinuation<Void, any Error>?
        /// The sleep's timer, for a cancellation to remove (0 until it is added).
        let timer = Atomic<UInt64>(0)

        /// Parks the sleep, unless a cancellation came first; returns whether it parked.
        func park(_ continuation: UnsafeContinuation<Void, any Error>) -> Bool {
            self.continuation = continuation
            if state.compareExchange(expected: Sleeper.starting, desired: Sleeper.parked, ordering: .acquiringAndReleasing).exchanged {
                return true
            }
            // Cancelled before it parked.
            state.store(Sleeper.resumed, ordering: .relaxed)
            continuation.resume(throwing: CancellationError())
            return false
        }

        /// Ends the sleep: normally (its timer fired) or, `cancelled`, with `CancellationError`.
        /// Only the first end counts.
        func end(cancelled: Bool) {
            while true {
                let current = state.load(ordering: .acquiring)
                if current == Sleeper.parked {
                    guard state.compareExchange(expected: current, desired: Sleeper.resumed, ordering: .acquiringAndReleasing).exchanged else { continue }
                    let continuation = self.continuation!
                    if cancelled { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
                    return
                }
                // Cancelled before it parked: it resumes itself as it parks.
                if current == Sleeper.starting && cancelled {
                    guard state.compareExchange(expected: current, desired: Sleeper.cancelled, ordering: .acquiringAndReleasing).exchanged else { continue }
                }
                return
            }
        }
    }

    /// Ends the sleep of a timer entry that fired, releasing the entry's retain.
    private func wake(sleeperAt address: UInt64) {
        Unmanaged<Sleeper>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(address))!).takeRetainedValue().end(cancelled: false)
    }

    /// Suspends the calling task until `deadline` (``MonotonicClock`` nanoseconds, `now` being the
    /// time the caller read), or up to `slack` nanoseconds after it (`nil`: a sixteenth of the sleep, at most 62.5 µs), on the reactor's
    /// timer. A task that prefers ``ReactorExecutor`` resumes on this thread, woken by the timer
    /// alone. Throws `CancellationError` when the task is cancelled first.
    nonisolated(nonsending) func sleep(until deadline: UInt64, now: UInt64, slack: UInt64?) async throws {
        let sleeper = Sleeper()
        let slack = slack ?? Self.slack(until: deadline, now: now, limit: Self.sleepSlackLimit)
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                guard sleeper.park(continuation) else { return }
                let address = UInt64(UInt(bitPattern: Unmanaged.passRetained(sleeper).toOpaque()))
                let timer = addTimer(deadline: deadline, slack: slack, token: Reactor.sleepToken, waiter: address, direction: .receive)
                sleeper.timer.store(timer, ordering: .releasing)
            }
        } onCancel: {
            sleeper.end(cancelled: true)
            let timer = sleeper.timer.load(ordering: .acquiring)
            // Not yet stored: the entry stays until its deadline, and firing it releases it.
            if timer != 0, cancelTimer(timer) {
                Unmanaged.passUnretained(sleeper).release()
            }
        }
    }

    /// A sleep with no tolerance given ends at most a sixteenth of this late (62.5 µs).
    static let sleepSlackLimit: UInt64 = 1_000_000

    /// Delivers, without waiting, the readiness the reactor has pending; called by a task that is about
    /// to suspend. When tasks talk to each other over inproc, the message that readied a waiting peer
    /// was sent moments ago on this very thread: waking the peer here lets this thread, about to fall
    /// idle, run it at once, instead of a round of thread wake-ups (reactor, then a pool thread), each
    /// costing tens of microseconds on a virtual machine. The events are the same one-shot events the
    /// reactor thread waits for; whichever thread takes an event delivers it, exactly once. (The timerfd
    /// is edge-triggered: each expiry reaches one thread.) The reactor thread itself has nothing to
    /// deliver here: it waits for the events as soon as its jobs have run.
    func deliverPending() {
        if Reactor.isCurrentThread { return }
        withUnsafeTemporaryAllocation(of: epoll_event.self, capacity: 16) { events in
            let count = poll.poll(into: events)
            if count > 0, deliver(events, count) { fireTimers(awake: false, expired: true) }
        }
    }

    /// Wakes the head waiter of each direction of every socket in `events` (the woken task re-reads
    /// `ZMQ_EVENTS`, which re-arms the socket if it still has to wait). Returns whether the timerfd
    /// is among them: the caller then fires the timers (after the sockets, so that a waiter whose
    /// message came with its deadline gets the message).
    private func deliver(_ events: UnsafeMutableBufferPointer<epoll_event>, _ count: Int) -> Bool {
        var expired = false
        for index in 0..<count {
            let token = events[index].data.u64
            if token == Reactor.timerToken {
                expired = true
                continue
            }
            if token == Reactor.wakeUpToken { continue }
            guard let registration = queues.withLock({ $0[token] }) else { continue }
            if registration.wakesAll {
                registration.queue.wakeAll()
            } else {
                registration.queue.wakeFirst(.receive)
                registration.queue.wakeFirst(.send)
            }
        }
        return expired
    }

    // MARK: Waiting inside a task

    /// Waits for `fd` right here, on the reactor thread, inside the job of the task that calls it,
    /// for as long as the reactor has nothing else to do: no other job to run, no event or deadline
    /// to deliver. Returns `true` when `fd` became readable first: the task then goes on with no
    /// suspension at all, as a blocked C thread would (one `ppoll` instead of arming epoll,
    /// suspending, delivering the event and scheduling the task's job again). Returns `false` when
    /// anything else wants the thread (a job queued from another thread, another descriptor or the
    /// timerfd ready in the epoll set, an ``interrupt()``), and at once when a deadline is due within
    /// ``waitHereTimerMargin`` or jobs are queued: the caller then suspends the usual way and the
    /// reactor goes on. Only for the reactor thread (``isCurrentThread``), inside a job for which
    /// ``mayWaitHere()`` has just said yes (the jobs left in the batch cannot change during a job).
    ///
    /// Whatever another thread needs the reactor thread for while it waits here reaches it: a job
    /// (`enqueue` signals `interruption`), a deadline earlier than the wait's timeout (it arms the
    /// timerfd, as for a sleep in epoll, which makes the epoll set readable), an event of another
    /// descriptor (the epoll set is readable; if another thread's `deliverPending()` takes it first,
    /// that thread delivers it).
    func waitHere(for fd: Int32) -> Bool {
        // From here on, `enqueue` on another thread signals `interruption`.
        let noJobs = jobs.withLock { jobs in
            jobs.waitingHere = jobs.queue.isEmpty
            return jobs.queue.isEmpty
        }
        guard noJobs else { return false }
        // From here on, a deadline added on another thread earlier than the timeout arms the timerfd.
        let timeout = sleepTimeout()
        var readable = false
        if Self.leavesTimeToWaitHere(timeout) {
            switch System.waitReadable(fd, or: poll.descriptor, interruption.descriptor, nanoseconds: timeout) {
            case .first: readable = true
            case .another: System.drainEventFD(interruption.descriptor)
            case .other, .neither: break
            }
        }
        jobs.withLock { $0.waitingHere = false }
        fireTimers(awake: true, expired: false)
        return readable
    }

    /// Whether ``waitHere(for:)`` would wait now: no other job to run and no deadline within
    /// ``waitHereTimerMargin``. A look without a system call, so that a task that cannot wait here
    /// pays next to nothing before it suspends the usual way (paced senders on the reactor keep a
    /// deadline always near: their receivers never wait here).
    func mayWaitHere() -> Bool {
        guard jobsLeftInBatch.load(ordering: .relaxed) == 0, jobs.withLock({ $0.queue.isEmpty }) else { return false }
        let now = MonotonicClock.now()
        return Self.leavesTimeToWaitHere(timers.withLock { $0.queue.earliest() }.map { $0 > now ? $0 - now : 0 })
    }

    /// Whether the next deadline, `nanoseconds` away (`nil`: none), leaves ``waitHereTimerMargin``
    /// to wait here.
    private static func leavesTimeToWaitHere(_ nanoseconds: UInt64?) -> Bool {
        nanoseconds.map { $0 >= waitHereTimerMargin } ?? true
    }

    /// ``waitHere(for:)`` does not wait when a deadline comes sooner than this (1 ms): the wait would
    /// most likely end for the deadline, costing a system call more than suspending.
    static let waitHereTimerMargin: UInt64 = 1_000_000

    /// Ends a ``waitHere(for:)`` in progress, or the next one, from any thread (a cancellation, or a
    /// call on the waiting socket by another task): the waiting task then suspends the usual way.
    func interrupt() {
        interruption.signal()
    }

    // MARK: Running tasks

    /// Queues a job of a task that prefers ``ReactorExecutor``; wakes the thread if it sleeps.
    func enqueue(_ job: UnownedJob) {
        let (wake, interrupt) = jobs.withLock { jobs in
            jobs.queue.append(job)
            if jobs.sleeping {
                jobs.sleeping = false
                return (true, false)
            }
            if jobs.waitingHere {
                jobs.waitingHere = false
                return (false, true)
            }
            return (false, false)
        }
        if wake { wakeUp.signal() }
        if interrupt { interruption.signal() }
    }

    private func run() -> Never {
        let events = UnsafeMutableBufferPointer<epoll_event>.allocate(capacity: 256)
        let executor = ReactorExecutor.shared.asUnownedTaskExecutor()
        Reactor.thread.store(System.currentThread(), ordering: .relaxed)
        System.setTimerSlack(nanoseconds: 1)
        var batch: [UnownedJob] = []
        // Whether no job is queued; if so the thread is about to sleep in epoll, and `enqueue` must wake it.
        func noJobs() -> Bool {
            jobs.withLock { jobs in
                jobs.sleeping = jobs.queue.isEmpty
                return jobs.queue.isEmpty
            }
        }
        var idle = noJobs()
        while true {
            // Wait for the next event or deadline (when no job is queued; otherwise only look),
            // deliver it (which usually resumes a task that prefers this executor, queueing its job),
            // then run what is queued: one system call per wake-up.
            let count = idle ? poll.wait(into: events, nanoseconds: sleepTimeout()) : poll.poll(into: events)
            if idle { jobs.withLock { $0.sleeping = false } }
            let expired = deliver(events, count)
            fireTimers(awake: true, expired: expired)
            jobs.withLock { swap(&batch, &$0.queue) }
            for (index, job) in batch.enumerated() {
                jobsLeftInBatch.store(batch.count - index - 1, ordering: .relaxed)
                job.runSynchronously(on: executor)
            }
            batch.removeAll(keepingCapacity: true)
            // Sleep in epoll only if the jobs just run queued no others.
            idle = noJobs()
        }
    }
}

/// What the reactor ends an expired timed wait with (its caller throws ``ZMQError/timedOut``). The
/// wait's timer has then left the heap: the waiter has nothing to cancel, and does not take the
/// timers' lock to do so (with thousands of waiters timing out, that lock is the busiest there is).
struct TimerFired: Error {}
