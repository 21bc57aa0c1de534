internal import CZMQ
import Logging
import Synchronization

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
/// call on it is made under the socket's lock, one at a time. Sending and receiving never block a
/// thread: a message that is already queued (or a send
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

    let exclusive: Locked<SocketState>
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
    /// The receive buffer, reused for every frame and only touched under the lock; it is
    /// heap-allocated so it never moves while libzmq points into it (messages up to 33 bytes live
    /// inside the `zmq_msg_t` itself).
    nonisolated(unsafe) let frame: UnsafeMutablePointer<zmq_msg_t>
    /// Frames a message stream took out of libzmq but did not deliver; every receive takes these first.
    nonisolated let unread = UnreadFrames()
    /// How many libzmq calls have been made on the socket (bumped under the lock, read without it):
    /// a ``Poller`` reads a socket's events again only when this changed, or its `ZMQ_FD` signalled.
    nonisolated let calls = Atomic<UInt64>(0)
    /// The pollers that hold this socket, told of every libzmq call on it (see `PollerCore`).
    nonisolated let watchers = Locked<[WeakPollerCore]>([])
    /// The running proxy that owns the socket, so that ``close()`` can stop it (see `Socket+Proxy.swift`).
    var proxyLink: ProxyLink?
    /// Where the socket is bound and connected, in the order of the calls (``endpoints``).
    var attachedEndpoints: [Endpoint] = []
    /// The logger given with ``setLogger(_:)``, if any (read without the actor by the slow path).
    nonisolated let ownLogger = Locked<Logger?>(nil)
    /// The level of ``ownLogger`` when it was given (``LevelRank``), or `LevelRank.none`.
    nonisolated let ownLoggerLevel = Atomic<UInt8>(LevelRank.none)

    /// Creates a socket of `type` in `context`.
    ///
    /// The corresponding C function is `zmq_socket`.
    /// - Throws: ``ZMQError/draftUnavailable`` for a DRAFT type when libzmq has no DRAFT support
    ///   (before any libzmq socket is made), or the libzmq error (for example
    ///   ``ZMQError/contextTerminated`` after ``Context/shutdown()``).
    public init(_ type: SocketType, context: Context = .shared) throws {
        if type.isDraft && !ZMQLibrary.has(.draft) {
            throw ZMQError.draftUnavailable.during("create a \(type) socket")
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
                fd = try LibZMQ.int32Option(handle, ZMQ_FD, "get ZMQ_FD")
            }
        } catch {
            LibZMQ.close(handle)
            throw ZMQError(kind: error.kind, code: error.code, operation: "create a \(type) socket",
                           detail: [error.operation, error.detail].compactMap { $0 }.joined(separator: ": "))
        }
        self.type = type
        self.context = context
        self.exclusive = Locked(SocketState(handle: handle))
        self.fd = fd
        self.poller = poller
        self.frame = .allocate(capacity: 1)
        zmq_msg_init(frame)
        self.token = Reactor.shared.register(waiters)
    }

    deinit {
        // A waiting call holds the socket, so a socket with waiters is never deinitialised.
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

    /// How many calls are suspended (or woken and about to retry) in each direction, a receiver waiting
    /// on the reactor thread itself included (see ``SocketState/waitingHere``); for tests and
    /// diagnostics.
    var suspendedCalls: (receive: Int, send: Int) {
        let (receive, send) = waiters.count
        return (receive + (exclusive.withLock { $0.waitingHere } ? 1 : 0), send)
    }

    /// How many receives have waited on the reactor thread itself; for tests and diagnostics.
    nonisolated var waitsOnReactorThread: Int { exclusive.withLock { $0.waitsHere } }

    /// Whether a receive waits on the reactor thread itself now; for tests and diagnostics.
    nonisolated var isWaitingOnReactorThread: Bool { exclusive.withLock { $0.waitingHere } }

    /// What the spin policy of each direction did so far; for tests and diagnostics.
    nonisolated var spinStatistics: PerDirection<SpinPolicy.Statistics> {
        exclusive.withLock { state in PerDirection(receive: state.spin.receive.statistics, send: state.spin.send.statistics) }
    }

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
            state.endWaitHere()
            Reactor.shared.unregister(fd: fd, token: token, added: state.inReactor)
            state.inReactor = false
            if state.lentToProxy {
                // The proxy thread may be inside a libzmq call on this socket right now: it closes the
                // socket when it gives it back (giveBack in Socket+Proxy.swift).
                proxyLink?.requestStop(.failed(ZMQError.socketClosed.with("closed while the proxy used it").on(type, "proxy")))
            } else {
                closeLibZMQ(handle)
            }
            return true
        }
        guard closed else { return }
        logDebug("close", endpoint: attachedEndpoints.isEmpty ? nil : attachedEndpoints.map(\.description).joined(separator: ", "))
        attachedEndpoints.removeAll()
        unread.removeAll()
        waiters.failAll(with: ZMQError.socketClosed)
    }
}
