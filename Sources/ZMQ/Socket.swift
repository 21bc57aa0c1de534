internal import CZMQ
#if canImport(Glibc)
import Glibc
#endif

/// A ZeroMQ socket with async send and receive.
///
/// Create one with a factory named after its pattern role, chain its set-up, then await messages:
/// ```swift
/// let publisher  = try await Socket.pub().bind("inproc://feed")
/// let subscriber = try await Socket.sub().connect("inproc://feed").subscribe("weather")
/// try await publisher.send("weather sunny")
/// let bytes: [UInt8] = try await subscriber.recv()
/// ```
///
/// A libzmq socket is not thread-safe; this type makes it safe to share between tasks: every libzmq
/// call on it is made under the socket's lock, one at a time, and everything that waits runs on the
/// actor. Sending and receiving never block a thread: a message that is already queued (or a send
/// that fits under the high-water mark) completes at once; otherwise the task suspends until libzmq
/// reports readiness, and several tasks waiting on the same socket are served in the order they
/// began to wait. Cancelling a waiting task throws
/// `CancellationError` and never loses a message: a message taken from libzmq is always returned.
/// A timeout (the ``SocketOption/receiveTimeout`` and ``SocketOption/sendTimeout`` options, or a
/// `timeout:` argument) ends a wait the same way, with ``ZMQError/timedOut``.
///
/// Options are typed keys: `try await socket.set(.linger, .zero)`, `try await socket.get(.type)`;
/// see ``SocketOption``.
///
/// A socket is closed by ``close()``, by ``withSocket(_:context:isolation:_:)`` when its body ends, or
/// when the last reference to it goes away. The corresponding C type is a `zmq_socket` handle.
public actor Socket {
    /// The socket's pattern role.
    public nonisolated let type: SocketType
    /// The context the socket belongs to.
    public nonisolated let context: Context

    /// What using the libzmq socket needs, under one lock. A send or receive that can complete at
    /// once takes the lock on the caller's own executor and never hops onto the actor (a hop there
    /// and back was most of the wrapper's cost per message); the waiting (slow) path runs on the actor
    /// and takes the same lock for each libzmq call. The lock is held only for non-blocking libzmq
    /// calls, never across a suspension.
    struct Exclusive {
        /// The libzmq socket; `nil` once closed. Every libzmq call on it is made with the lock held.
        var handle: LibZMQ.Handle?
        /// Set while a proxy owns the libzmq socket; every use is then refused.
        var lentToProxy = false
        /// How many calls are in the slow (suspending) path, per direction. While any is, a new call in
        /// that direction joins the line instead of trying at once, which keeps callers in order.
        var slowReceivers = 0
        var slowSenders = 0
        /// Whether the reactor's epoll set holds `fd`.
        var inReactor = false
        /// `ZMQ_RCVTIMEO` and `ZMQ_SNDTIMEO` as last set through ``set(_:_:)-(SocketOption<Value>,_)``;
        /// `nil` waits forever. libzmq never applies them itself, because every call here is non-blocking.
        var receiveTimeout: Duration?
        var sendTimeout: Duration?
        /// Whether the last wait in each direction ended soon (within ``Socket/shortWait``): only then
        /// is a call that would block worth retrying for a moment before it suspends.
        var receiveWaitsAreShort = true
        var sendWaitsAreShort = true
        /// The current ``monitor(_:)``, if any (see `Socket+Monitor.swift`).
        var monitor: MonitorLink?
        /// The direction of the last call that completed. A send after a receive is a socket taking
        /// turns (a reply after its request): the one kind of send whose wait is worth a spin.
        var lastCompleted: Direction?

        func timeout(_ direction: Direction) -> Duration? {
            direction == .receive ? receiveTimeout : sendTimeout
        }
    }

    /// How long a call that would block keeps retrying (yielding its thread in between) before it
    /// suspends, when its recent waits in this direction were short: a receive (once the socket has
    /// completed a call), or a send on a socket that takes turns (it last completed a receive: a
    /// reply after its request). A wait for a peer's reply or for the next message of a busy
    /// pipeline takes microseconds to tens of microseconds; suspending and being woken costs two
    /// thread wake-ups (the reactor's, then a pool thread's) on top, which on a virtual machine is as
    /// much again. Retrying for this long catches such messages without the wake-ups. A socket whose
    /// waits are long (idle, or waiting for people) stops retrying after its first long wait.
    ///
    /// Measured with `zmq-bench` (A/B, medians of 5-7 alternating runs, ratio to C): a pipeline
    /// receiver that retries moved thr-tcp 65536 from 0.90 to 1.05 and thr-ipc 64 from 0.94 to
    /// 1.04, and lost nothing elsewhere. A pipeline sender that retried took the CPU its consumer
    /// and libzmq's I/O thread needed (thr-tcp 64 from 0.86 to 0.64), so a sender retries only
    /// when taking turns.
    static let spinBudget: UInt64 = 50_000
    /// A wait that ended within this long counts as short (see ``spinBudget``).
    static let shortWait: UInt64 = 1_000_000

    let exclusive: Locked<Exclusive>
    /// `ZMQ_FD`: signalled by libzmq whenever the socket's state may have changed. For the thread-safe
    /// DRAFT types, which have no `ZMQ_FD`, the descriptor of `poller`, signalled the same way.
    nonisolated let fd: Int32
    /// The `zmq_poller` whose descriptor is `fd`, for a thread-safe DRAFT type only (see
    /// `DraftAPI.readinessSignal(for:)`); destroyed just before the socket is closed.
    nonisolated(unsafe) let poller: UnsafeMutableRawPointer?
    /// Tasks suspended on this socket.
    nonisolated let waiters = WaitQueue()
    /// This socket's registration with the shared reactor.
    nonisolated let token: UInt64
    /// The id of the next waiter; ids only need to be unique per socket.
    private var nextWaiterID: UInt64 = 0
    /// The receive buffer, reused for every frame and only touched under the lock; it is
    /// heap-allocated so it never moves while libzmq points into it (messages up to 33 bytes live
    /// inside the `zmq_msg_t` itself).
    nonisolated(unsafe) let frame: UnsafeMutablePointer<zmq_msg_t>
    /// Frames a message stream took out of libzmq but did not deliver; every receive takes these first.
    nonisolated let unread = UnreadFrames()
    /// The running proxy that owns the socket, so that ``close()`` can stop it (see `Socket+Proxy.swift`).
    var proxyLink: ProxyLink?

    /// Creates a socket of `type` in `context`.
    ///
    /// The corresponding C function is `zmq_socket`.
    /// - Throws: ``ZMQError/draftUnavailable`` for a DRAFT type when libzmq has no DRAFT support
    ///   (before any libzmq socket is made), or the libzmq error (for example
    ///   ``ZMQError/contextTerminated`` after ``Context/shutdown()``).
    public init(_ type: SocketType, context: Context = .shared) throws {
        if type.isDraft && !ZMQLibrary.has(.draft) {
            throw ZMQError.draftUnavailable.with("cannot create a \(type) socket")
        }
        let handle = try LibZMQ.socket(context, type)
        // The first socket starts the context's threads, whatever happens next.
        context.hasStarted.store(true, ordering: .relaxed)
        let fd: Int32
        var poller: UnsafeMutableRawPointer?
        do {
            if type.isThreadSafe {
                (fd, poller) = try DraftAPI.readinessSignal(for: handle)
            } else {
                fd = try LibZMQ.int32Option(handle, ZMQ_FD, "ZMQ_FD")
            }
        } catch {
            LibZMQ.close(handle)
            throw error
        }
        self.type = type
        self.context = context
        self.exclusive = Locked(Exclusive(handle: handle))
        self.fd = fd
        self.poller = poller
        self.frame = .allocate(capacity: 1)
        zmq_msg_init(frame)
        self.token = Reactor.shared.register(waiters)
    }

    deinit {
        // Waiting tasks hold the actor, so a socket with waiters is never deinitialised.
        let (state, monitorReceiver) = exclusive.withLock { state in
            let receiver = Self.stopMonitoringLocked(&state)
            return (state, receiver)
        }
        _ = monitorReceiver  // released (and closed) after the lock
        if let handle = state.handle {
            Reactor.shared.unregister(fd: fd, token: token, added: state.inReactor)
            closeLibZMQ(handle)
        }
        zmq_msg_close(frame)
        frame.deallocate()
    }

    /// Closes the libzmq socket (`zmq_close`), after its poller if it has one. Called exactly once,
    /// by whoever takes the handle away.
    nonisolated func closeLibZMQ(_ handle: LibZMQ.Handle) {
        if let poller { DraftAPI.destroy(poller) }
        LibZMQ.close(handle)
    }

    /// How many calls are suspended (or woken and about to retry) in each direction; for tests and
    /// diagnostics.
    var suspendedCalls: (receive: Int, send: Int) { waiters.count }

    /// The libzmq socket, or `nil` once closed.
    nonisolated var handle: LibZMQ.Handle? { exclusive.withLock { $0.handle } }

    /// Whether a proxy owns the libzmq socket now.
    var lentToProxy: Bool {
        get { exclusive.withLock { $0.lentToProxy } }
        set { exclusive.withLock { $0.lentToProxy = newValue } }
    }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool { handle == nil }

    /// Closes the socket. Tasks waiting on it throw ``ZMQError/socketClosed``, and so does every
    /// later call. Calling `close()` again does nothing.
    ///
    /// Messages still queued for sending are delivered in the background for the `linger` period.
    ///
    /// Closing a socket that a running ``proxy(_:_:capture:control:)`` owns stops that proxy, which
    /// then throws ``ZMQError/socketClosed``; the libzmq socket is closed as soon as the proxy's
    /// thread has let go of it, moments later.
    /// The corresponding C function is `zmq_close`.
    public func close() {
        var monitorReceiver: Socket?
        defer { _ = monitorReceiver }  // released (and closed) after the lock
        let closed = exclusive.withLock { state -> Bool in
            guard let handle = state.handle else { return false }
            // First, while the handle is still there (a lent socket's monitor is stopped by giveBack).
            monitorReceiver = Self.stopMonitoringLocked(&state)
            state.handle = nil
            Reactor.shared.unregister(fd: fd, token: token, added: state.inReactor)
            state.inReactor = false
            if state.lentToProxy {
                // The proxy thread may be inside a libzmq call on this socket right now: it closes the
                // socket when it gives it back (giveBack in Socket+Proxy.swift).
                proxyLink?.requestStop(.failed(ZMQError.socketClosed.with("\(type) socket was closed while a proxy used it")))
            } else {
                closeLibZMQ(handle)
            }
            return true
        }
        guard closed else { return }
        unread.removeAll()
        waiters.failAll(with: ZMQError.socketClosed.with("\(type) socket"))
    }

    // MARK: - Access for the library's operations

    /// The libzmq socket in `state`, or the error that says why it cannot be used now.
    @inline(__always)
    nonisolated func usable(_ state: Exclusive) throws(ZMQError) -> LibZMQ.Handle {
        guard let handle = state.handle else { throw ZMQError.socketClosed.with("\(type) socket") }
        if state.lentToProxy { throw ZMQError.inUseByProxy.with("\(type) socket") }
        return handle
    }

    /// The libzmq socket, or the error that says why it cannot be used now. Only for checks: libzmq
    /// calls must be made under the lock, through ``withHandle(_:)`` or ``perform(_:timeout:_:)``.
    nonisolated func usableHandle() throws(ZMQError) -> LibZMQ.Handle {
        try usable(exclusive.withLock { $0 })
    }

    /// Runs a synchronous libzmq call on the socket. Any libzmq call may consume the `ZMQ_FD` edge
    /// that a waiting task depends on, so waiters are re-checked afterwards.
    nonisolated func withHandle<R>(_ body: (LibZMQ.Handle) throws -> R) throws -> R {
        var wake = Wake()
        defer { wake.deliver(to: waiters) }
        return try exclusive.withLock { state in
            let handle = try usable(state)
            defer { if state.slowReceivers + state.slowSenders > 0 { wake = scheduleLocked(&state) } }
            return try body(handle)
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
    /// direction's line, and must go on with ``performSlowly(_:timeout:committed:_:)`` on the actor.
    ///
    /// When `spin` is set (the single-frame calls, on the caller's own executor) and the operation
    /// would block but this socket takes turns and its recent waits were short, it is retried for up
    /// to ``spinBudget`` first (never past a `timeout`, never once `committed`, never while anyone
    /// waits), yielding the thread between tries and releasing the lock, so that other callers and
    /// the slow path go on.
    @inline(__always)
    nonisolated func attemptAtOnce<R>(
        _ direction: Direction,
        timeout: Duration?,
        spin: Bool = true,
        _ committed: inout Bool,
        _ attempt: (_ handle: LibZMQ.Handle, _ committed: inout Bool) throws -> R?
    ) throws -> R? {
        var spinUntil: UInt64 = 0
        while true {
            var wake = Wake()
            defer { wake.deliver(to: waiters) }
            var retry = false
            let result = try exclusive.withLock { state -> R? in
                if (direction == .receive ? state.slowReceivers : state.slowSenders) == 0 {
                    let handle = try usable(state)
                    let result: R?
                    do {
                        result = try attempt(handle, &committed)
                    } catch {
                        if state.slowReceivers + state.slowSenders > 0 { wake = scheduleLocked(&state) }
                        throw error
                    }
                    if let result {
                        state.lastCompleted = direction
                        if state.slowReceivers + state.slowSenders > 0 { wake = scheduleLocked(&state) }
                        return result
                    }
                    if spin && !committed && Self.maySpin(direction, timeout: timeout, state, until: spinUntil) {
                        retry = true
                        return nil
                    }
                }
                if direction == .receive { state.slowReceivers += 1 } else { state.slowSenders += 1 }
                return nil
            }
            if let result { return result }
            if !retry { return nil }
            if spinUntil == 0 { spinUntil = MonotonicClock.now() + Self.spinBudget }
            sched_yield()
        }
    }

    /// Whether a call that would block should try again rather than suspend (see ``spinBudget``).
    /// Never while anyone waits, in either direction: each try is a libzmq call that may consume the
    /// `ZMQ_FD` edge a waiter counts on.
    @inline(__always)
    static func maySpin(_ direction: Direction, timeout: Duration?, _ state: Exclusive, until deadline: UInt64) -> Bool {
        guard state.slowReceivers + state.slowSenders == 0,
              let last = state.lastCompleted, direction == .receive || last == .receive,
              direction == .receive ? state.receiveWaitsAreShort : state.sendWaitsAreShort else { return false }
        if let timeout = timeout ?? state.timeout(direction), timeout < .nanoseconds(Int64(spinBudget)) { return false }
        return deadline == 0 || MonotonicClock.now() < deadline
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
        try validate(timeout)
        let frame = self.frame
        let unread = self.unread
        var committed = false
        return try attemptAtOnce(direction, timeout: timeout, &committed) { handle, _ in try attempt(handle, frame, unread) }
    }

    /// The rest of a single-frame call whose fast path (``completeAtOnce(_:timeout:_:)``) found it
    /// has to wait: on the actor, in line.
    func completeWaiting<R>(
        _ direction: Direction,
        timeout: Duration?,
        _ attempt: (_ handle: LibZMQ.Handle, _ frame: UnsafeMutablePointer<zmq_msg_t>, _ unread: UnreadFrames) throws -> R?
    ) async throws -> R {
        let frame = self.frame
        let unread = self.unread
        return try await performSlowly(direction, timeout: timeout, committed: false) { handle, _ in try attempt(handle, frame, unread) }
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
    /// The single-frame `send` and `recv` run the fast path themselves on the caller's executor
    /// (``attemptAtOnce(_:timeout:_:_:)``) and come to the actor only to wait.
    @inline(__always)
    func perform<R>(
        _ direction: Direction,
        timeout: Duration? = nil,
        _ attempt: (_ handle: LibZMQ.Handle, _ committed: inout Bool) throws -> R?
    ) async throws -> R {
        try validate(timeout)
        var committed = false
        // No spin here: `perform` runs on the actor, which a spin would hold from everyone else.
        if let result = try attemptAtOnce(direction, timeout: timeout, spin: false, &committed, attempt) { return result }
        return try await performSlowly(direction, timeout: timeout, committed: committed, attempt)
    }

    /// The rest of ``perform(_:timeout:_:)`` once the operation would block or others wait ahead:
    /// wait in line. The caller has been counted in `direction`'s line by ``attemptAtOnce(_:timeout:_:_:)``.
    @inline(never)
    func performSlowly<R>(
        _ direction: Direction,
        timeout: Duration?,
        committed: Bool,
        _ attempt: (_ handle: LibZMQ.Handle, _ committed: inout Bool) throws -> R?
    ) async throws -> R {
        var committed = committed
        let started = MonotonicClock.now()
        let timeout = timeout ?? exclusive.withLock { $0.timeout(direction) }
        let deadline = timeout.flatMap(MonotonicClock.deadline(after:))
        // The reactor's timer for this call, added only when it first parks.
        var timer: UInt64?
        defer {
            exclusive.withLock { state in
                if direction == .receive { state.slowReceivers -= 1 } else { state.slowSenders -= 1 }
            }
            if let timer { Reactor.shared.cancelTimer(timer) }
        }
        // A caller that counted itself in on its own executor hopped here: the socket may have closed
        // (or been lent to a proxy) in between, and then nobody would wake it.
        _ = try usableHandle()
        let id = nextWaiterID
        nextWaiterID &+= 1
        while true {
            if let deadline, !committed {
                // Not worth parking (a zero timeout, or a deadline that passed while this waiter was
                // woken and found nothing to do); `park` checks again once parked, for a timer that
                // fires in between.
                if MonotonicClock.now() >= deadline {
                    waiters.leave(id, direction)
                    noteLongWait(direction)
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
            do {
                try await park(id, direction, interruptible: !committed, deadline: committed ? nil : deadline)
            } catch {
                // Cancelled, timed out or closed: the waiter is out of the line. Its own last libzmq
                // call (the attempt that found nothing) may have consumed the ZMQ_FD edge that the
                // next waiter, in either direction, counts on: look again before leaving.
                schedule()
                if let failure = error as? ZMQError, failure == ZMQError.timedOut {
                    noteLongWait(direction)
                    throw timedOut(direction, after: timeout)
                }
                throw error
            }
            // Woken at the head of the line: this task alone may now try, whatever happens to it.
            let result: R?
            do {
                result = try exclusive.withLock { state in try attempt(try usable(state), &committed) }
            } catch {
                waiters.leave(id, direction)
                schedule()
                throw error
            }
            if let result {
                waiters.leave(id, direction)
                let short = MonotonicClock.now() - started <= Self.shortWait
                exclusive.withLock { state in
                    if direction == .receive { state.receiveWaitsAreShort = short } else { state.sendWaitsAreShort = short }
                    state.lastCompleted = direction
                }
                schedule()
                return result
            }
        }
    }

    /// A wait in `direction` timed out: retrying before suspending would not have helped it.
    private nonisolated func noteLongWait(_ direction: Direction) {
        exclusive.withLock { state in
            if direction == .receive { state.receiveWaitsAreShort = false } else { state.sendWaitsAreShort = false }
        }
    }

    private func timedOut(_ direction: Direction, after timeout: Duration?) -> ZMQError {
        let operation = direction == .receive ? "receive" : "send"
        return ZMQError.timedOut.with("\(operation) on \(type) socket after \(timeout.map(DurationUnits.describe) ?? "?")")
    }

    /// Suspends waiter `id` until it is woken at the head of its line, or, if `interruptible`, until
    /// it is cancelled or its `deadline` passes; or until the socket closes.
    ///
    /// Before suspending, the task delivers whatever readiness the reactor has pending
    /// (`Reactor.deliverPending()`), so that a peer readied by a message this thread just sent runs
    /// here at once instead of after a round of thread wake-ups.
    private func park(_ id: UInt64, _ direction: Direction, interruptible: Bool, deadline: UInt64?) async throws {
        let waiters = self.waiters
        if !interruptible {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                waiters.park(id, direction, continuation, interruptible: false)
                self.schedule()
                Reactor.shared.deliverPending()
            }
            return
        }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                waiters.park(id, direction, continuation, interruptible: true)
                // A cancellation, or a timer, that came before the waiter was parked (while it was
                // woken, or on its way here) found nothing to end.
                if Task.isCancelled {
                    waiters.fail(id, direction, with: CancellationError())
                } else if let deadline, MonotonicClock.now() >= deadline {
                    waiters.fail(id, direction, with: ZMQError.timedOut)
                } else {
                    self.schedule()
                    Reactor.shared.deliverPending()
                }
            }
        } onCancel: {
            waiters.fail(id, direction, with: CancellationError())
        }
    }

    /// Re-reads `ZMQ_EVENTS` and wakes the head waiter of each direction that can proceed; arms the
    /// reactor for the rest. Called after every libzmq call while anyone waits, because that call
    /// may have consumed the `ZMQ_FD` edge the waiter was counting on.
    nonisolated func schedule() {
        let wake = exclusive.withLock { scheduleLocked(&$0) }
        wake.deliver(to: waiters)
    }

    /// The part of ``schedule()`` that needs the lock; the continuations are resumed after it is released.
    nonisolated func scheduleLocked(_ state: inout Exclusive) -> Wake {
        // While a proxy owns the socket its thread alone touches it; the proxy reschedules on return.
        guard let handle = state.handle, !state.lentToProxy else { return Wake() }
        let wanted = waiters.wanted()
        guard wanted.receive || wanted.send else { return Wake() }
        // A thread-safe socket's signal is never drained by libzmq: empty it before reading the
        // events, so that only a change after this reading makes epoll report it again.
        if poller != nil { DraftAPI.drain(fd) }
        let events: Int32
        do {
            events = try LibZMQ.events(handle)
        } catch {
            // The context is terminating or the socket failed: let every waiter see the error.
            return Wake(all: true)
        }
        var wake = Wake()
        var arm = false
        if wanted.receive {
            // Frames a stream handed back are as readable as frames in libzmq's queue.
            if events & Int32(ZMQ_POLLIN) != 0 || !unread.isEmpty { wake.receive = true } else { arm = true }
        }
        if wanted.send {
            if events & Int32(ZMQ_POLLOUT) != 0 { wake.send = true } else { arm = true }
        }
        if arm {
            Reactor.shared.arm(fd: fd, token: token, added: &state.inReactor)
        }
        return wake
    }
}

/// Which waiters ``Socket/schedule()`` found ready; they are woken once the socket's lock is released.
struct Wake {
    var receive = false
    var send = false
    var all = false

    func deliver(to waiters: WaitQueue) {
        if all {
            waiters.wakeAll()
            return
        }
        if receive { waiters.wakeFirst(.receive) }
        if send { waiters.wakeFirst(.send) }
    }
}
