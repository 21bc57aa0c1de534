internal import CZMQ

/// The wait engine: how a send or receive completes at once, spins, lines up, parks, is woken, times
/// out or is cancelled. Everything here runs on the caller's own executor (no call hops onto the
/// socket's actor), and every libzmq call is made under the socket's lock (`exclusive`).
///
/// 1. **At once** (``attemptAtOnce(_:timeout:spin:_:_:)``): when nobody waits ahead in the same
///    direction, the operation is tried with `ZMQ_DONTWAIT`; a queued message costs no suspension.
/// 2. **Spin** (``SpinPolicy``): if it would block and spinning has been paying on this socket in this
///    direction, it is retried for up to ``SpinPolicy/budget`` (``SpinPolicy/turnBudget`` on a socket
///    that takes turns), yielding the thread between tries.
/// 3. **Line up and park** (``performSlowly(_:timeout:committed:servedWith:_:)``): the caller joins its
///    direction's line in the ``WaitQueue`` and suspends; ``scheduleLocked(_:)`` reads `ZMQ_EVENTS` and
///    arms the reactor for the socket's `ZMQ_FD` when nobody can proceed.
/// 4. **Wake**: the ``Reactor`` thread (or a task about to suspend, `Reactor.deliverPending()`)
///    wakes the head of each line when `ZMQ_FD` signals; the woken task tries again and, whatever the
///    result, re-reads the events for whoever is next, because its libzmq call may have consumed the
///    edge the next waiter counts on.
/// 5. **Serve**: a receiver woken at the head that gets a message also receives, in line order, for
///    the receivers parked right behind it (``WaitQueue/serve(behind:_:limit:_:)``), which then only
///    return what they were given; a line drains a queue of messages a round at a time.
/// 6. **Timeouts and cancellation** end a waiter that has not been woken (a woken one may already own
///    a message, which is then always returned); the reactor's timer heap fails timed waits.
extension Socket {
    /// The libzmq socket in `state`, or the error that says why it cannot be used now (the caller
    /// adds the operation and the socket type: ``ZMQError/on(_:_:)``).
    @inline(__always)
    nonisolated func usable(_ state: SocketState) throws(ZMQError) -> LibZMQ.Handle {
        guard let handle = state.handle else { throw ZMQError.socketClosed }
        if state.lentToProxy { throw ZMQError.inUseByProxy }
        return handle
    }

    /// The libzmq socket, or the error that says why it cannot be used now. Only for checks: libzmq
    /// calls must be made under the lock, through ``withHandle(_:_:)`` or ``perform(_:timeout:_:)``.
    nonisolated func usableHandle() throws(ZMQError) -> LibZMQ.Handle {
        try usable(exclusive.withLock { $0 })
    }

    /// Runs a synchronous libzmq call on the socket. Any libzmq call may consume the `ZMQ_FD` edge
    /// that a waiting task depends on, so waiters are re-checked afterwards. An error names
    /// `operation` (unless the call named a more precise one) and the socket's type.
    nonisolated func withHandle<R>(_ operation: @autoclosure () -> String, _ body: (LibZMQ.Handle) throws -> R) throws -> R {
        var wake = Wake()
        defer { deliver(wake) }
        do {
            return try exclusive.withLock { state in
                let handle = try usable(state)
                defer {
                    noteCallLocked(state.watched, &wake)
                    if state.hasWaiters { wake.merge(scheduleLocked(&state)) }
                }
                return try body(handle)
            }
        } catch {
            throw ZMQError.adding(type, operation(), to: error)
        }
    }

    /// Records a libzmq call made with the lock held (see ``calls``): pollers holding the socket are
    /// then told, once the lock is released, through `wake`.
    @inline(__always)
    nonisolated func noteCallLocked(_ watched: Bool, _ wake: inout Wake) {
        calls.store(calls.load(ordering: .relaxed) &+ 1, ordering: .releasing)
        if watched { wake.watchers = true }
    }

    /// Resumes what `wake` says, after the lock is released. Inline, it is one test on the fast path,
    /// where there is usually nothing to resume.
    @inline(__always)
    nonisolated func deliver(_ wake: Wake, except poller: PollerCore? = nil) {
        if wake.isPending { deliverPending(wake, except: poller) }
    }

    /// ``deliver(_:except:)`` when there is something to resume.
    @inline(never)
    nonisolated func deliverPending(_ wake: Wake, except poller: PollerCore?) {
        if wake.armingFailed != 0 {
            waiters.failAll(with: ZMQError(kind: .libzmq, code: wake.armingFailed, detail: "cannot wait: epoll_ctl failed"))
        } else {
            wake.deliver(to: waiters)
        }
        if wake.watchers { tellWatchers(except: poller) }
    }

    @inline(never)
    nonisolated func tellWatchers(except poller: PollerCore?) {
        for watcher in watchers.withLock({ $0 }) {
            if let core = watcher.core, core !== poller { core.socketChanged() }
        }
    }

    /// Refuses a negative timeout before anything is tried.
    @inline(__always)
    nonisolated func validate(_ timeout: Duration?) throws(ZMQError) {
        if let timeout, timeout < .zero {
            throw ZMQError.invalidArgument.with("timeout \(timeout) is negative")
        }
    }

    /// Tries a non-blocking operation at once, on the caller's executor, unless others wait ahead in
    /// the same direction. Returns `nil` when the caller has to wait: it is then counted in its
    /// direction's line, and must go on with ``performSlowly(_:timeout:committed:servedWith:_:)``.
    ///
    /// When `spin` is set and the operation would block, the socket's ``SpinPolicy`` decides whether it
    /// is retried for a moment first (``SocketState/spinBudget(_:timeout:)``) (never past a `timeout`,
    /// never once `committed`, never while anyone waits), releasing the lock between tries, pausing
    /// (``SpinPolicy/retryGap(budget:)``) and yielding the thread (after
    /// ``SpinPolicy/yieldsAfter(budget:)``), so that other callers and the waiters go on; the outcome
    /// of the spin is reported back to the policy.
    @inline(__always)
    nonisolated func attemptAtOnce<R>(
        _ direction: Direction,
        timeout: Duration?,
        spin: Bool = true,
        _ committed: inout Bool,
        _ attempt: (_ handle: LibZMQ.Handle, _ committed: inout Bool) throws -> R?
    ) throws -> R? {
        do {
            return try attemptAtOnceWithoutContext(direction, timeout: timeout, spin: spin, &committed, attempt)
        } catch {
            throw ZMQError.adding(type, direction.operation, to: error)
        }
    }

    /// ``attemptAtOnce(_:timeout:spin:_:_:)`` without the operation and socket type in its errors.
    @inline(__always)
    private nonisolated func attemptAtOnceWithoutContext<R>(
        _ direction: Direction,
        timeout: Duration?,
        spin: Bool,
        _ committed: inout Bool,
        _ attempt: (_ handle: LibZMQ.Handle, _ committed: inout Bool) throws -> R?
    ) throws -> R? {
        // When this call began to spin, 0 while it has not; for how long it may; and how long it
        // had spun at its last try.
        var spinStarted: UInt64 = 0
        var spinBudget: UInt64 = 0
        var spun: UInt64 = 0
        while true {
            var wake = Wake()
            defer { deliver(wake) }
            var retry = false
            let result = try exclusive.withLock { state -> R? in
                if state.slow[direction] == 0 {
                    let handle = try usable(state)
                    let result: R?
                    do {
                        defer { noteCallLocked(state.watched, &wake) }
                        result = try attempt(handle, &committed)
                    } catch {
                        if state.hasWaiters { wake.merge(scheduleLocked(&state)) }
                        throw error
                    }
                    if let result {
                        if spinStarted != 0 { state.spin[direction].spun(caught: true, after: MonotonicClock.now() - spinStarted) }
                        state.lastCompleted = direction
                        if state.hasWaiters { wake.merge(scheduleLocked(&state)) }
                        return result
                    }
                    foundNothingLocked(direction, &state)
                    // Never on the reactor thread: a spin there would hold up every other socket's
                    // readiness, and a task there is woken without a thread wake-up anyway.
                    if spin && !committed && !Reactor.isCurrentThread {
                        if spinStarted == 0 {
                            spinBudget = state.spinBudget(direction, timeout: timeout)
                            if spinBudget > 0 {
                                retry = true
                                return nil
                            }
                        } else {
                            spun = MonotonicClock.now() - spinStarted
                            if spun < spinBudget && !state.hasWaiters {
                                retry = true
                                return nil
                            }
                            state.spin[direction].spun(caught: false, after: spun)
                        }
                    }
                } else if spinStarted != 0 {
                    // Someone lined up while this call spun: it lines up behind them.
                    state.spin[direction].spun(caught: false, after: MonotonicClock.now() - spinStarted)
                }
                state.slow[direction] += 1
                return nil
            }
            if let result { return result }
            if !retry { return nil }
            if spinStarted == 0 { spinStarted = MonotonicClock.now() }
            // A stream's receiver first leaves its sender a few microseconds to queue messages. The
            // first microseconds of a wait for a reply only hint the processor between tries. After
            // that each try yields the thread, so that a peer on the same core gets to run.
            let gap = SpinPolicy.retryGap(budget: spinBudget)
            if gap > 0 {
                let next = MonotonicClock.now() + gap
                repeat { System.relax() } while MonotonicClock.now() < next
            }
            if spun < SpinPolicy.yieldsAfter(budget: spinBudget) {
                System.relax()
            } else {
                System.yieldThread()
            }
        }
    }

    /// The fast path of a single-frame call made on the caller's executor (the `@inlinable` `send`
    /// and `recv` wrappers): checks `timeout`, then ``attemptAtOnce(_:timeout:spin:_:_:)``. `attempt`
    /// gets the socket, its receive buffer and the frames streams handed back. `nil` means the caller
    /// has to wait and is now counted in line: it must go on with ``completeWaiting(_:timeout:_:)``.
    @inline(__always)
    nonisolated func completeAtOnce<R>(
        _ direction: Direction,
        timeout: Duration?,
        _ attempt: (_ handle: LibZMQ.Handle, _ frame: UnsafeMutablePointer<zmq_msg_t>, _ unread: UnreadFrames) throws -> R?
    ) throws -> R? {
        do {
            try validate(timeout)
        } catch {
            throw error.on(type, direction.operation)
        }
        let frame = self.frame
        let unread = self.unread
        var committed = false
        return try attemptAtOnce(direction, timeout: timeout, &committed) { handle, _ in try attempt(handle, frame, unread) }
    }

    /// The rest of a single-frame call whose fast path (``completeAtOnce(_:timeout:_:)``) found it
    /// has to wait: in line, on the caller's executor.
    nonisolated(nonsending) func completeWaiting<R>(
        _ direction: Direction,
        timeout: Duration?,
        _ attempt: (_ handle: LibZMQ.Handle, _ frame: UnsafeMutablePointer<zmq_msg_t>, _ unread: UnreadFrames) throws -> R?
    ) async throws -> R {
        let frame = self.frame
        let unread = self.unread
        return try await performSlowly(direction, timeout: timeout, committed: false) { handle, _ in try attempt(handle, frame, unread) }
    }

    /// ``completeWaiting(_:timeout:_:)`` for a single-frame receive, whose `take` (a function of the
    /// socket alone, so it can be kept) lets the waiter ahead complete this call for it while it is
    /// parked (see ``WaitQueue/serve(behind:_:limit:_:)``).
    nonisolated(nonsending) func completeReceiving<R>(
        timeout: Duration?,
        _ take: @escaping (_ handle: LibZMQ.Handle, _ frame: UnsafeMutablePointer<zmq_msg_t>, _ unread: UnreadFrames) throws -> R?
    ) async throws -> R {
        try await completeReceiving(timeout: timeout, servedWith: take, atHead: take)
    }

    /// ``completeReceiving(timeout:_:)`` whose call at the head of the line (`atHead`) differs from
    /// the one the waiter ahead makes for it (`take`): `atHead` may write into the caller's own
    /// storage, which only the caller's task may touch (``Socket/recv(into:timeout:)``).
    nonisolated(nonsending) func completeReceiving<R>(
        timeout: Duration?,
        servedWith take: @escaping (_ handle: LibZMQ.Handle, _ frame: UnsafeMutablePointer<zmq_msg_t>, _ unread: UnreadFrames) throws -> R?,
        atHead attempt: (_ handle: LibZMQ.Handle, _ frame: UnsafeMutablePointer<zmq_msg_t>, _ unread: UnreadFrames) throws -> R?
    ) async throws -> R {
        let frame = self.frame
        let unread = self.unread
        let receive = Receive(take: take, frame: frame, unread: unread)
        return try await performSlowly(.receive, timeout: timeout, committed: false, servedWith: receive) {
            handle, _ in try attempt(handle, frame, unread)
        }
    }

    /// Performs a non-blocking operation, suspending until libzmq reports readiness when it would block.
    ///
    /// `attempt` tries the operation once with `ZMQ_DONTWAIT` and returns `nil` on EAGAIN. It sets
    /// `committed` once it has changed the socket's state in a way that must be completed (the first
    /// frame of a multipart message went out or came in): from then on the call keeps waiting through
    /// cancellation and timeouts, so that a message is never left half-sent or half-received.
    ///
    /// The first attempt is made at once when nobody is waiting ahead in the same direction, so a
    /// queued message costs no suspension. Otherwise the caller joins the line and its task is woken
    /// (by ``schedule()`` or the reactor) only when it is at the head of the line.
    ///
    /// `timeout` (or, when `nil`, the socket's ``SocketOption/receiveTimeout`` or
    /// ``SocketOption/sendTimeout``) bounds the wait: the call throws ``ZMQError/timedOut`` if it is
    /// still waiting then. Like cancellation, a timeout only ends a waiter that has not been woken, so a
    /// message taken from libzmq is always returned. The fast path reads no clock and sets no timer.
    ///
    /// The multipart calls use this; it does not spin (a multipart call may run on the socket's actor,
    /// which a spin would hold from everyone else). The single-frame `send` and `recv` run the fast
    /// path themselves (``completeAtOnce(_:timeout:_:)``).
    @inline(__always)
    nonisolated(nonsending) func perform<R>(
        _ direction: Direction,
        timeout: Duration? = nil,
        _ attempt: (_ handle: LibZMQ.Handle, _ committed: inout Bool) throws -> R?
    ) async throws -> R {
        do {
            try validate(timeout)
        } catch {
            throw error.on(type, direction.operation)
        }
        var committed = false
        if let result = try attemptAtOnce(direction, timeout: timeout, spin: false, &committed, attempt) { return result }
        return try await performSlowly(direction, timeout: timeout, committed: committed, attempt)
    }

    /// The rest of ``perform(_:timeout:_:)`` once the operation would block or others wait ahead:
    /// wait in line. The caller has been counted in `direction`'s line by
    /// ``attemptAtOnce(_:timeout:spin:_:_:)``. An error it throws is logged at `debug` (only here:
    /// the fast path never touches the logger).
    /// `servedWith`, given for a single-frame receive, is the same attempt, kept so that the waiter
    /// ahead can complete the call for it (see ``WaitQueue/serve(behind:_:limit:_:)``).
    @inline(never)
    nonisolated(nonsending) func performSlowly<R>(
        _ direction: Direction,
        timeout: Duration?,
        committed: Bool,
        servedWith: Receive<R>? = nil,
        _ attempt: (_ handle: LibZMQ.Handle, _ committed: inout Bool) throws -> R?
    ) async throws -> R {
        do {
            return try await waitInLine(direction, timeout: timeout, committed: committed, servedWith: servedWith, attempt)
        } catch {
            let error = ZMQError.adding(type, direction.operation, to: error)
            logDebug("\(direction.operation) failed after waiting", error: error)
            throw error
        }
    }

    /// ``performSlowly(_:timeout:committed:servedWith:_:)``'s wait, without the operation and socket type in
    /// its errors.
    private nonisolated(nonsending) func waitInLine<R>(
        _ direction: Direction,
        timeout: Duration?,
        committed: Bool,
        servedWith: Receive<R>?,
        _ attempt: (_ handle: LibZMQ.Handle, _ committed: inout Bool) throws -> R?
    ) async throws -> R {
        var committed = committed
        let started = MonotonicClock.now()
        // A caller that counted itself in may have been overtaken by a close (or a proxy taking the
        // socket) before it got here: `usable` refuses it before it parks. (Parked, it would only be
        // woken to see the error: see `scheduleLocked`.)
        let (configured, id, othersAhead): (Duration?, UInt64, Bool)
        do {
            (configured, id, othersAhead) = try exclusive.withLock { state throws(ZMQError) in
                _ = try usable(state)
                defer { state.nextWaiterID &+= 1 }
                return (state.timeout[direction], state.nextWaiterID, state.slow[direction] > 1)
            }
        } catch {
            exclusive.withLock { $0.slow[direction] -= 1 }
            throw error
        }
        let timeout = timeout ?? configured
        let deadline = timeout.flatMap(MonotonicClock.deadline(after:))
        // Only a waiter behind others can be served by the one ahead; the head of the line (a lone
        // receiver, the usual case) makes nothing for it.
        let served = othersAhead ? servedWith.map(Served.init) : nil
        // The reactor's timer for this call, added only when it first parks.
        var timer: UInt64?
        // Whether this waiter has waited on the reactor thread (it parks at the front of the line),
        // and whether it has parked (it is then in the `WaitQueue`, and leaves it when done).
        var waitedHere = false
        var parked = false
        defer {
            let waited = MonotonicClock.now() - started
            exclusive.withLock { state in
                state.slow[direction] -= 1
                state.spin[direction].suspended(for: waited)
            }
            if let timer { Reactor.shared.cancelTimer(timer) }
        }
        while true {
            if let deadline, !committed {
                // Not worth parking (a zero timeout, or a deadline that passed while this waiter was
                // woken and found nothing to do); `park` checks again once parked, for a timer that
                // fires in between.
                if MonotonicClock.now() >= deadline {
                    waiters.leave(id, direction)
                    schedule()
                    throw timedOut(direction, after: timeout)
                }
                if timer == nil {
                    timer = Reactor.shared.addTimer(deadline: deadline, token: token, waiter: id, direction: direction)
                }
            } else if committed, let key = timer {
                Reactor.shared.cancelTimer(key)
                timer = nil
            }
            // On the reactor thread, with nothing else for it to do, the wait is a `ppoll` right here;
            // when anything else wants the thread, the waiter parks the usual way, still first in line.
            var readyHere = false
            if !committed && Reactor.isCurrentThread && Reactor.shared.mayWaitHere() && beginWaitHere(direction) {
                waitedHere = true
                readyHere = try await waitHere()
            }
            if !readyHere {
                parked = true
                do {
                    try await park(id, direction, interruptible: !committed, deadline: committed ? nil : deadline,
                                   server: served, first: waitedHere)
                } catch {
                    // Cancelled, timed out or closed while parked: the waiter is out of the line. It made
                    // no libzmq call since it parked, and it read the events when it parked after one (see
                    // `park`), so the next waiter's wake-up is not its concern.
                    if error is TimerFired {
                        timer = nil  // it fired: nothing to cancel
                        throw timedOut(direction, after: timeout)
                    }
                    if let failure = error as? ZMQError, failure == ZMQError.timedOut {
                        throw timedOut(direction, after: timeout)
                    }
                    throw error
                }
                // Served by the waiter ahead, which took it out of the line and reads the events next:
                // its call is complete.
                if let outcome = served?.outcome { return try outcome.get() }
            }
            // Woken at the head of the line, or readable here: this task alone may now try, whatever
            // happens to it.
            let result: R?
            var wake = Wake()
            // Whether receivers wait behind this one, for it to serve once it has its message; whether
            // no other call is in the slow path, which leaves nobody to look at the socket for.
            var serve = false
            var alone = false
            do {
                defer { deliver(wake) }
                result = try exclusive.withLock { state in
                    let handle = try usable(state)
                    let result: R?
                    do {
                        defer { noteCallLocked(state.watched, &wake) }
                        result = try attempt(handle, &committed)
                    }
                    if result != nil {
                        state.lastCompleted = direction
                        serve = servedWith != nil && state.slow[direction] > 1
                        alone = state.slow.receive + state.slow.send == 1
                    } else {
                        foundNothingLocked(direction, &state)
                    }
                    return result
                }
            } catch {
                waiters.leave(id, direction)
                schedule()
                throw error
            }
            if let result {
                if serve { serveBehind(id, direction) }
                if parked { waiters.leave(id, direction) }
                // Whoever joins the slow path from now on looks at the socket when it parks.
                if !alone { schedule() }
                return result
            }
        }
    }

    /// Whether the receiver that is to wait now may wait for the socket's `ZMQ_FD` right here, on the
    /// reactor thread (it runs a task that prefers ``ReactorExecutor``): it must be the only call in
    /// the slow path of either direction, on a socket no poller watches, with no frames handed back,
    /// and the last libzmq call on the socket must be its receive that found nothing, so that the
    /// descriptor is readable exactly when a command has come since. Not a thread-safe (DRAFT)
    /// socket, whose signal libzmq never drains. Marks the wait (``SocketState/waitingHere``).
    private nonisolated func beginWaitHere(_ direction: Direction) -> Bool {
        guard direction == .receive, poller == nil else { return false }
        return exclusive.withLock { state in
            guard state.handle != nil, !state.lentToProxy, !state.watched, state.slow.receive == 1, state.slow.send == 0,
                  unread.isEmpty, state.receiveFoundNothing == calls.load(ordering: .relaxed) else { return false }
            state.waitingHere = true
            state.waitsHere += 1
            return true
        }
    }

    /// The wait ``beginWaitHere(_:)`` allowed (`Reactor.waitHere(for:)`): returns whether the socket's
    /// descriptor became readable (the receiver tries again at once) rather than something else
    /// wanting the reactor thread (it parks). Throws `CancellationError` when the task is cancelled.
    private nonisolated(nonsending) func waitHere() async throws -> Bool {
        let fd = self.fd
        let readable = await withTaskCancellationHandler {
            Task.isCancelled ? false : Reactor.shared.waitHere(for: fd)
        } onCancel: {
            Reactor.shared.interrupt()
        }
        exclusive.withLock { $0.waitingHere = false }
        if Task.isCancelled { throw CancellationError() }
        return readable
    }

    /// How many waiters behind it a receiver that got a message may serve in one round (see
    /// ``WaitQueue/serve(behind:_:limit:_:)``), holding the socket's lock: few enough that the lock
    /// is not held for long.
    static var serveLimit: Int { 16 }
    /// How many rounds it may serve before it returns, while rounds come out full: enough that a line
    /// drains a queue of messages in few passes through the executor's job queue.
    static var serveRounds: Int { 8 }

    /// Waiter `id`, at the head of `direction`'s line, has completed its receive: it now serves the
    /// receivers parked behind it, in rounds, resuming each round's waiters once the locks are
    /// released, until a round comes out short (no message left, or nobody parked) or after
    /// ``serveRounds``.
    private nonisolated func serveBehind(_ id: UInt64, _ direction: Direction) {
        for _ in 0..<Self.serveRounds {
            var wake = Wake()
            let served = exclusive.withLock { state -> [UnsafeContinuation<Void, any Error>] in
                guard let handle = try? usable(state), state.slow[direction] > 1 else { return [] }
                return waiters.serve(behind: id, direction, limit: Self.serveLimit) { server in
                    defer { noteCallLocked(state.watched, &wake) }
                    return server.serve(handle)
                }
            }
            deliver(wake)
            for continuation in served { continuation.resume() }
            if served.count < Self.serveLimit { return }
        }
    }

    private nonisolated func timedOut(_ direction: Direction, after timeout: Duration?) -> ZMQError {
        ZMQError.timedOut.with("after \(timeout.map(DurationUnits.describe) ?? "?")").on(type, direction.operation)
    }

    /// Suspends waiter `id` until it is woken at the head of its line, or, if `interruptible`, until
    /// it is cancelled or its `deadline` passes; or until the socket closes.
    ///
    /// A waiter that parks at the head of its line reads the events (``schedule()``): it may have made
    /// the last libzmq call (the attempt that found nothing), or be the first in its direction, whose
    /// readiness nobody has looked at. A waiter behind others has made no libzmq call since it lined
    /// up (only the head is ever woken to try, and a call that finds others in line does not try), and
    /// whoever is ahead has read the events after the last call, so it parks without any: thousands of
    /// waiters timing out and lining up again cost no libzmq call and no system call each.
    ///
    /// Before suspending, the head also delivers whatever readiness the reactor has pending
    /// (`Reactor.deliverPending()`), so that a peer readied by a message this thread just sent runs
    /// here at once instead of after a round of thread wake-ups.
    private nonisolated(nonsending) func park(_ id: UInt64, _ direction: Direction, interruptible: Bool, deadline: UInt64?,
                                              server: Server?, first: Bool) async throws {
        let waiters = self.waiters
        if !interruptible {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                if waiters.park(id, direction, continuation, interruptible: false) {
                    self.schedule()
                    Reactor.shared.deliverPending()
                }
            }
            return
        }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                if waiters.park(id, direction, continuation, interruptible: true, server: server, first: first) {
                    self.schedule()
                    Reactor.shared.deliverPending()
                }
                // A cancellation, or a timer, that came before the waiter was parked (while it was
                // woken, or on its way here) found nothing to end. (If the events just read woke this
                // waiter, it tries instead: a message is never left behind for a cancellation.)
                if Task.isCancelled {
                    waiters.fail(id, direction, with: CancellationError())
                } else if let deadline, MonotonicClock.now() >= deadline {
                    waiters.fail(id, direction, with: ZMQError.timedOut)
                }
            }
        } onCancel: {
            waiters.fail(id, direction, with: CancellationError())
        }
    }

    /// Records that an attempt in `direction` found it would block, right after its libzmq call (see
    /// ``SocketState/receiveFoundNothing``). Only a receive counts: a send that fails with EAGAIN may
    /// have left the socket's commands unprocessed (libzmq throttles that processing on sends).
    @inline(__always)
    nonisolated func foundNothingLocked(_ direction: Direction, _ state: inout SocketState) {
        if direction == .receive { state.receiveFoundNothing = calls.load(ordering: .relaxed) }
    }

    /// Re-reads `ZMQ_EVENTS` and wakes the head waiter of each direction that can proceed; arms the
    /// reactor for the rest. Called after every libzmq call while anyone waits, because that call
    /// may have consumed the `ZMQ_FD` edge the waiter was counting on.
    nonisolated func schedule() {
        deliver(exclusive.withLock { scheduleLocked(&$0) })
    }

    /// The part of ``schedule()`` that needs the lock; the continuations are resumed after it is released.
    nonisolated func scheduleLocked(_ state: inout SocketState) -> Wake {
        // A receiver waiting on the reactor thread counts on the signal this call may have consumed.
        state.endWaitHere()
        let wanted = waiters.wanted()
        guard wanted.receive || wanted.send else { return Wake() }
        var wake = Wake()
        // Closed, or taken by a proxy (whose thread alone touches it then): the close or the lending
        // ended the waiters it found, but a waiter can park after that (a woken one whose attempt
        // found nothing parks again once it has released the lock, and a close can come in between).
        // Woken, it sees the error when it tries, instead of waiting for ever.
        guard let handle = state.handle, !state.lentToProxy else {
            wake.all = true
            return wake
        }
        // Only a receiver waits, and the last libzmq call on the socket was a receive that found
        // nothing: the events are what that call left, and arming the reactor (which reports a
        // descriptor that is already readable) is all there is to do.
        if wanted.receive && !wanted.send && unread.isEmpty && poller == nil
            && state.receiveFoundNothing == calls.load(ordering: .relaxed) {
            arm(&state, &wake)
            return wake
        }
        let events: Int32
        do {
            events = try readEventsLocked(handle, state, &wake)
        } catch {
            // The context is terminating or the socket failed: let every waiter see the error.
            wake.all = true
            return wake
        }
        var arm = false
        if wanted.receive {
            // Frames a stream handed back are as readable as frames in libzmq's queue.
            if events & Int32(ZMQ_POLLIN) != 0 || !unread.isEmpty { wake.ready.receive = true } else { arm = true }
        }
        if wanted.send {
            if events & Int32(ZMQ_POLLOUT) != 0 { wake.ready.send = true } else { arm = true }
        }
        if arm { self.arm(&state, &wake) }
        return wake
    }

    /// Arms the reactor for the socket's `ZMQ_FD`; if epoll refuses, nobody could wake the waiters,
    /// and `wake` fails them instead of leaving them waiting for ever.
    private nonisolated func arm(_ state: inout SocketState, _ wake: inout Wake) {
        do {
            try Reactor.shared.arm(fd: fd, token: token, added: &state.inReactor)
        } catch {
            wake.armingFailed = error.code
        }
    }

    /// `ZMQ_EVENTS`, with the lock held. A thread-safe socket's signal is never drained by libzmq:
    /// it is emptied first, so that only a change after this reading makes epoll report it again.
    nonisolated func readEventsLocked(_ handle: LibZMQ.Handle, _ state: SocketState, _ wake: inout Wake) throws(ZMQError) -> Int32 {
        if poller != nil { DraftAPI.drain(fd) }
        defer { noteCallLocked(state.watched, &wake) }
        return try LibZMQ.events(handle)
    }
}

/// Which waiters ``Socket/schedule()`` found ready; they are woken once the socket's lock is released.
struct Wake {
    var ready = PerDirection(repeating: false)
    /// Wake every waiter (each finds the error that made this necessary when it tries).
    var all = false
    /// Non-zero: arming the reactor failed with this `errno`, and every waiter ends with that error
    /// (the socket cannot be waited on). A plain value, so that a `Wake` costs the fast path nothing.
    var armingFailed: Int32 = 0
    /// Tell the pollers that hold the socket that a libzmq call was made on it.
    var watchers = false

    /// Whether anything is to be done: someone to wake, a failure to report or pollers to tell.
    @inline(__always)
    var isPending: Bool { ready.receive || ready.send || all || armingFailed != 0 || watchers }

    /// Adds what `other` found to wake.
    mutating func merge(_ other: Wake) {
        ready.receive = ready.receive || other.ready.receive
        ready.send = ready.send || other.ready.send
        all = all || other.all
        if armingFailed == 0 { armingFailed = other.armingFailed }
        watchers = watchers || other.watchers
    }

    func deliver(to waiters: WaitQueue) {
        if all {
            waiters.wakeAll()
        } else {
            if ready.receive { waiters.wakeFirst(.receive) }
            if ready.send { waiters.wakeFirst(.send) }
        }
    }
}
