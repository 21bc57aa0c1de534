internal import CZMQ

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
/// The actor is what makes a libzmq socket (which is not thread-safe) safe to share between tasks:
/// every libzmq call on it runs on the actor, one at a time. Sending and receiving never block a
/// thread: a message that is already queued (or a send that fits under the high-water mark) completes
/// at once; otherwise the task suspends until libzmq reports readiness, and several tasks waiting on
/// the same socket are served in the order they called. Cancelling a waiting task throws
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

    /// The libzmq socket; `nil` once closed. Only the actor touches it (and `deinit`, which runs
    /// when nothing else can), hence `nonisolated(unsafe)` only for `deinit`'s sake.
    nonisolated(unsafe) var handle: LibZMQ.Handle?
    /// `ZMQ_FD`: signalled by libzmq whenever the socket's state may have changed.
    let fd: Int32
    /// Tasks suspended on this socket.
    let waiters = WaitQueue()
    /// This socket's registration with the shared reactor.
    let token: UInt64
    /// Whether the reactor's epoll set holds `fd`.
    var inReactor = false
    /// The id of the next waiter; ids only need to be unique per socket.
    private var nextWaiterID: UInt64 = 0
    /// How many calls are in the slow (suspending) path, per direction. Only the actor changes these,
    /// so the fast path decides "nobody is ahead of me" without taking a lock.
    var slowReceivers = 0
    var slowSenders = 0
    /// The receive buffer, reused for every frame; it is heap-allocated so it never moves while
    /// libzmq points into it (messages up to 33 bytes live inside the `zmq_msg_t` itself).
    nonisolated(unsafe) let frame: UnsafeMutablePointer<zmq_msg_t>
    /// Set while a proxy owns the libzmq socket; every use through the actor is then refused.
    var lentToProxy = false
    /// `ZMQ_RCVTIMEO` and `ZMQ_SNDTIMEO` as last set through ``set(_:_:)-(SocketOption<Value>,_)``;
    /// `nil` waits forever. libzmq never applies them itself, because every call here is non-blocking.
    var receiveTimeout: Duration?
    var sendTimeout: Duration?
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
        do {
            fd = try LibZMQ.int32Option(handle, ZMQ_FD, "ZMQ_FD")
        } catch {
            LibZMQ.close(handle)
            throw error
        }
        self.type = type
        self.context = context
        self.handle = handle
        self.fd = fd
        self.frame = .allocate(capacity: 1)
        zmq_msg_init(frame)
        self.token = Reactor.shared.register(waiters)
    }

    deinit {
        // Waiting tasks hold the actor, so a socket with waiters is never deinitialised.
        if let handle {
            Reactor.shared.unregister(fd: fd, token: token, added: inReactor)
            LibZMQ.close(handle)
        }
        zmq_msg_close(frame)
        frame.deallocate()
    }

    /// How many calls are suspended (or about to retry) in each direction; for tests and diagnostics.
    var suspendedCalls: (receive: Int, send: Int) { (slowReceivers, slowSenders) }

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
        guard let handle else { return }
        self.handle = nil
        Reactor.shared.unregister(fd: fd, token: token, added: inReactor)
        inReactor = false
        if lentToProxy {
            // The proxy thread may be inside a libzmq call on this socket right now: it closes the
            // socket when it gives it back (giveBack in Socket+Proxy.swift).
            proxyLink?.requestStop(.failed(ZMQError.socketClosed.with("\(type) socket was closed while a proxy used it")))
        } else {
            LibZMQ.close(handle)
        }
        unread.removeAll()
        waiters.failAll(with: ZMQError.socketClosed.with("\(type) socket"))
    }

    // MARK: - Access for the library's operations

    /// The libzmq socket, or the error that says why it cannot be used now.
    @inline(__always)
    func usableHandle() throws(ZMQError) -> LibZMQ.Handle {
        guard let handle else { throw ZMQError.socketClosed.with("\(type) socket") }
        if lentToProxy { throw ZMQError.inUseByProxy.with("\(type) socket") }
        return handle
    }

    /// Runs a synchronous libzmq call on the socket. Any libzmq call may consume the `ZMQ_FD` edge
    /// that a waiting task depends on, so waiters are re-checked afterwards.
    func withHandle<R>(_ body: (LibZMQ.Handle) throws -> R) throws -> R {
        let handle = try usableHandle()
        defer { if slowReceivers + slowSenders > 0 { schedule() } }
        return try body(handle)
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
    func perform<R>(
        _ direction: Direction,
        timeout: Duration? = nil,
        _ attempt: (_ handle: LibZMQ.Handle, _ committed: inout Bool) throws -> R?
    ) async throws -> R {
        if let timeout, timeout < .zero {
            throw ZMQError.invalidArgument.with("timeout \(timeout) is negative")
        }
        var committed = false
        if (direction == .receive ? slowReceivers : slowSenders) == 0 {
            let handle = try usableHandle()
            let result: R?
            do {
                result = try attempt(handle, &committed)
            } catch {
                if slowReceivers + slowSenders > 0 { schedule() }
                throw error
            }
            if let result {
                if slowReceivers + slowSenders > 0 { schedule() }
                return result
            }
        }

        let timeout = timeout ?? (direction == .receive ? receiveTimeout : sendTimeout)
        let deadline = timeout.flatMap(MonotonicClock.deadline(after:))
        // The reactor's timer for this call, added only when it first parks.
        var timer: UInt64?
        let id = nextWaiterID
        nextWaiterID &+= 1
        if direction == .receive { slowReceivers += 1 } else { slowSenders += 1 }
        defer {
            if direction == .receive { slowReceivers -= 1 } else { slowSenders -= 1 }
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
            do {
                try await park(id, direction, interruptible: !committed, deadline: committed ? nil : deadline)
            } catch ZMQError.timedOut {
                throw timedOut(direction, after: timeout)
            }
            // Woken at the head of the line: this task alone may now try, whatever happens to it.
            do {
                let handle = try usableHandle()
                if let result = try attempt(handle, &committed) {
                    waiters.leave(id, direction)
                    schedule()
                    return result
                }
            } catch {
                waiters.leave(id, direction)
                schedule()
                throw error
            }
        }
    }

    private func timedOut(_ direction: Direction, after timeout: Duration?) -> ZMQError {
        let operation = direction == .receive ? "receive" : "send"
        return ZMQError.timedOut.with("\(operation) on \(type) socket after \(timeout.map(DurationUnits.describe) ?? "?")")
    }

    /// Suspends waiter `id` until it is woken at the head of its line, or, if `interruptible`, until
    /// it is cancelled or its `deadline` passes; or until the socket closes.
    private func park(_ id: UInt64, _ direction: Direction, interruptible: Bool, deadline: UInt64?) async throws {
        let waiters = self.waiters
        if !interruptible {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                waiters.park(id, direction, continuation, interruptible: false)
                self.schedule()
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
                }
            }
        } onCancel: {
            waiters.fail(id, direction, with: CancellationError())
        }
    }

    /// Re-reads `ZMQ_EVENTS` and wakes the head waiter of each direction that can proceed; arms the
    /// reactor for the rest. Called after every libzmq call while anyone waits, because that call
    /// may have consumed the `ZMQ_FD` edge the waiter was counting on.
    func schedule() {
        // While a proxy owns the socket its thread alone touches it; the proxy reschedules on return.
        guard let handle, !lentToProxy else { return }
        let wanted = waiters.wanted()
        guard wanted.receive || wanted.send else { return }
        let events: Int32
        do {
            events = try LibZMQ.events(handle)
        } catch {
            // The context is terminating or the socket failed: let every waiter see the error.
            waiters.wakeAll()
            return
        }
        var arm = false
        if wanted.receive {
            // Frames a stream handed back are as readable as frames in libzmq's queue.
            if events & Int32(ZMQ_POLLIN) != 0 || !unread.isEmpty { waiters.wakeFirst(.receive) } else { arm = true }
        }
        if wanted.send {
            if events & Int32(ZMQ_POLLOUT) != 0 { waiters.wakeFirst(.send) } else { arm = true }
        }
        if arm {
            Reactor.shared.arm(fd: fd, token: token, added: &inReactor)
        }
    }
}
