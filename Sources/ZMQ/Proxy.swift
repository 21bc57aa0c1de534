import Logging

extension Socket {
    /// Forwards messages between `frontend` and `backend`, both ways, until the calling task is
    /// cancelled (then it throws `CancellationError`), `control` terminates it (then it returns), or
    /// a socket or the context fails (then it throws that error).
    ///
    /// The classic devices are all this one call:
    /// ```swift
    /// // A request broker: REQ clients connect to the ROUTER, REP workers to the DEALER.
    /// let clients = try await Socket.router().bind("tcp://*:5559")
    /// let workers = try await Socket.dealer().bind("tcp://*:5560")
    /// let broker = Task { try await Socket.proxy(clients, workers) }
    /// ...
    /// broker.cancel()   // the sockets are usable again once `try await broker.value` has thrown
    /// ```
    /// XSUB/XPUB makes a forwarder (subscriptions travel upstream, data downstream), PULL/PUSH a
    /// streamer.
    ///
    /// Multipart messages are forwarded whole and in order. With a `capture` socket, every frame
    /// forwarded either way is also sent to it (a copy that shares large frames, not a deep copy).
    ///
    /// The proxy runs a `zmq_poll` loop on a Dispatch thread of its own, never on Swift's
    /// concurrency threads. While it runs it owns the sockets: `send`, `recv` and option calls on them through
    /// their actors throw ``ZMQError/inUseByProxy``, and tasks that were already waiting on them
    /// throw the same error when the proxy starts. ``close()`` on one of them stops the proxy, which
    /// then throws ``ZMQError/socketClosed``. When the proxy has returned or thrown, by whatever
    /// cause, every socket is back in its actor's hands and works as before.
    ///
    /// Like libzmq's proxy, it reads a side only when the other side (and the capture socket) can
    /// take a message, so a slow consumer makes messages queue up in libzmq, within its high-water
    /// marks, not in the proxy. Cancellation and the control's commands take effect within
    /// milliseconds, even when every socket is stuck; only then can a message be lost: one the proxy
    /// had already taken but that its destination could not yet accept.
    ///
    /// It does what the C functions `zmq_proxy` and `zmq_proxy_steerable` do, with a `zmq_poll`
    /// loop of its own instead of calling them, so that cancellation and ``close()`` can stop it and
    /// the sockets can be given back.
    /// - Parameters:
    ///   - frontend: The socket facing clients.
    ///   - backend: The socket facing services.
    ///   - capture: A socket that receives a copy of every forwarded frame (PUB, PUSH, PAIR, ...).
    ///   - control: Pauses, resumes or terminates the proxy and reads its statistics.
    /// - Throws: ``ZMQError/invalidArgument`` if the same socket is passed twice or `control` already
    ///   steers a running proxy, ``ZMQError/socketClosed`` for a closed socket,
    ///   ``ZMQError/inUseByProxy`` for a socket another proxy owns (all before anything starts, with
    ///   no socket left lent); `CancellationError` when the task is cancelled; the libzmq error that
    ///   ended it otherwise (for example ``ZMQError/contextTerminated`` after ``Context/shutdown()``).
    public static func proxy(
        _ frontend: Socket,
        _ backend: Socket,
        capture: Socket? = nil,
        control: ProxyControl? = nil
    ) async throws {
        if frontend === backend {
            throw ZMQError.invalidArgument.with("the frontend and the backend are the same socket").on(frontend.type, "proxy")
        }
        if let capture, capture === frontend || capture === backend {
            throw ZMQError.invalidArgument.with("the capture socket is also the frontend or the backend").on(capture.type, "proxy")
        }
        let link = try ProxyLink(context: frontend.context)
        do {
            try control?.attach(link)
        } catch {
            link.shutDown()
            throw error
        }

        var lent: [(socket: Socket, handle: SendablePointer)] = []
        do {
            for socket in [frontend, backend] + (capture.map { [$0] } ?? []) {
                lent.append((socket, try await socket.lend(to: link)))
            }
        } catch {
            for (socket, handle) in lent { await socket.giveBack(handle) }
            control?.detach(link, statistics: ProxyStatistics())
            link.shutDown()
            throw error
        }

        let logger = frontend.logger
        let metadata: Logger.Metadata = [
            "zmq.frontend": "\(frontend.type)", "zmq.backend": "\(backend.type)",
            "zmq.capture": "\(capture.map { "\($0.type)" } ?? "none")",
        ]
        logger.debug("proxy started", metadata: metadata)
        let handles = (frontend: lent[0].handle, backend: lent[1].handle, capture: capture == nil ? nil : lent[2].handle)
        let outcome = await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<ProxyOutcome, Never>) in
                ProxyThread.start {
                    let loop = ProxyLoop(frontend: handles.frontend, backend: handles.backend,
                                         capture: handles.capture, link: link, control: control)
                    continuation.resume(returning: loop.run())
                }
            }
        } onCancel: {
            link.requestStop(.cancelled)
        }

        for (socket, handle) in lent { await socket.giveBack(handle) }
        switch outcome {
        case .terminated:
            logger.debug("proxy stopped: terminated by its control", metadata: metadata)
            return
        case .cancelled:
            logger.debug("proxy stopped: cancelled", metadata: metadata)
            throw CancellationError()
        case .failed(let error):
            // A socket's own error (closed while the proxy used it) names it; the loop's name the call.
            let thrown = error.socketType != nil ? error
                : ZMQError(kind: error.kind, code: error.code, operation: "proxy between \(frontend.type) and \(backend.type) sockets",
                           detail: error.operation ?? error.detail)
            logger.debug("proxy stopped: \(thrown)", metadata: metadata.merging(["zmq.error": "\(thrown)"]) { $1 })
            throw thrown
        }
    }
}

/// Steers a running ``Socket/proxy(_:_:capture:control:)``: pause, resume and terminate it, and read
/// its statistics, from any task.
///
/// ```swift
/// let control = ProxyControl()
/// let proxy = Task { try await Socket.proxy(frontend, backend, control: control) }
/// control.pause()                                  // messages queue up in libzmq meanwhile
/// control.resume()
/// let stats = await control.statistics()           // stats.frontend.received.messages, ...
/// control.terminate()
/// try await proxy.value                            // returns normally after terminate()
/// ```
///
/// Commands are remembered, not queued: a control paused before its proxy starts starts that proxy
/// paused, and a terminated control stays terminated, so a proxy given it later returns at once
/// (use a new control for a new proxy). A control steers one proxy at a time.
///
/// It stands for the control socket of the C function `zmq_proxy_steerable` and its commands.
public final class ProxyControl: Sendable {
    private struct State {
        var paused = false
        var terminated = false
        /// The running proxy's wake-up line; `nil` when none runs.
        var link: ProxyLink?
        /// Callers of ``statistics()`` waiting for the loop's next pass.
        var statisticsRequests: [UnsafeContinuation<ProxyStatistics, Never>] = []
        /// The final statistics of the last proxy that ran.
        var last = ProxyStatistics()
    }

    private let state = Locked(State())

    /// Creates a control for one proxy.
    public init() {}

    /// Stops forwarding; messages wait in libzmq's queues (within their high-water marks) and are
    /// forwarded after ``resume()``, none lost. A message already part-way through the proxy is
    /// finished first. The proxy still answers commands, cancellation and ``statistics()``.
    ///
    /// The proxy acts on it moments later, from its own thread; ``statistics()`` is answered after
    /// every command sent before it, so `await control.statistics()` after `pause()` returns once the
    /// proxy has paused.
    /// The corresponding C command is `PAUSE`.
    public func pause() {
        command { $0.paused = true }
    }

    /// Restarts forwarding after ``pause()``.
    ///
    /// The corresponding C command is `RESUME`.
    public func resume() {
        command { $0.paused = false }
    }

    /// Ends the proxy: its ``Socket/proxy(_:_:capture:control:)`` call gives the sockets back and
    /// returns normally (no error). If no proxy runs yet, the next one given this control returns at
    /// once; a terminated control stays terminated.
    ///
    /// The corresponding C command is `TERMINATE`.
    public func terminate() {
        command { $0.terminated = true }
    }

    /// Whether ``pause()`` was called more recently than ``resume()``.
    public var isPaused: Bool { state.withLock { $0.paused } }

    /// Whether ``terminate()`` was called.
    public var isTerminated: Bool { state.withLock { $0.terminated } }

    /// What the running proxy has forwarded so far; when none runs, the final counts of the last
    /// proxy that ran with this control (zero if none has).
    ///
    /// The running proxy answers from its own thread within milliseconds, so this is not cancellable.
    /// The corresponding C command is `STATISTICS`.
    public func statistics() async -> ProxyStatistics {
        await withUnsafeContinuation { continuation in
            let (link, answer) = state.withLock { state -> (ProxyLink?, ProxyStatistics?) in
                guard let link = state.link else { return (nil, state.last) }
                state.statisticsRequests.append(continuation)
                return (link, nil)
            }
            if let answer { continuation.resume(returning: answer) }
            link?.wake()
        }
    }

    // MARK: - The proxy's side

    private func command(_ change: (inout State) -> Void) {
        let link = state.withLock { state -> ProxyLink? in
            change(&state)
            return state.link
        }
        link?.wake()
    }

    /// Binds the control to a starting proxy.
    func attach(_ link: ProxyLink) throws(ZMQError) {
        try state.withLock { state throws(ZMQError) in
            guard state.link == nil else {
                throw ZMQError.invalidArgument.with("this ProxyControl already steers a running proxy").during("proxy")
            }
            state.link = link
            state.last = ProxyStatistics()
        }
    }

    /// Unbinds the control from a proxy that has ended, answering pending requests with its final counts.
    func detach(_ link: ProxyLink, statistics: ProxyStatistics) {
        let requests = state.withLock { state -> [UnsafeContinuation<ProxyStatistics, Never>] in
            guard state.link === link else { return [] }
            state.link = nil
            state.last = statistics
            defer { state.statisticsRequests.removeAll() }
            return state.statisticsRequests
        }
        requests.forEach { $0.resume(returning: statistics) }
    }

    /// Called by the loop after each wake-up: answers statistics requests with `statistics` and
    /// returns the commands in force.
    func loopPass(_ statistics: ProxyStatistics) -> (paused: Bool, terminated: Bool) {
        let (requests, commands) = state.withLock { state in
            defer { state.statisticsRequests.removeAll() }
            return (state.statisticsRequests, (paused: state.paused, terminated: state.terminated))
        }
        requests.forEach { $0.resume(returning: statistics) }
        return commands
    }
}

/// What a proxy has forwarded, counted on each side as libzmq's `zmq_proxy_steerable` counts it:
/// what the frontend received and sent, and the same for the backend. Capture copies are not counted.
///
/// A message received by the frontend and forwarded is counted in `frontend.received` and in
/// `backend.sent`; a reply travelling back in `backend.received` and `frontend.sent`.
///
/// The corresponding C command is `STATISTICS`, whose eight numbers are the `frames` and `bytes` here.
public struct ProxyStatistics: Sendable, Hashable {
    /// Traffic in one direction through one socket.
    public struct Traffic: Sendable, Hashable {
        /// Whole messages: a multipart message counts once.
        public internal(set) var messages: UInt64 = 0
        /// Frames (message parts). libzmq's `STATISTICS` reply calls these "messages".
        public internal(set) var frames: UInt64 = 0
        /// Bytes, summed over the frames.
        public internal(set) var bytes: UInt64 = 0

        /// Traffic of the given counts (zero by default), for comparing with what a proxy reports.
        public init(messages: UInt64 = 0, frames: UInt64 = 0, bytes: UInt64 = 0) {
            self.messages = messages
            self.frames = frames
            self.bytes = bytes
        }
    }

    /// Traffic through one socket.
    public struct Side: Sendable, Hashable {
        /// What the proxy received from this socket.
        public internal(set) var received = Traffic()
        /// What the proxy sent out of this socket.
        public internal(set) var sent = Traffic()

        /// One socket's traffic (none by default), for comparing with what a proxy reports.
        public init(received: Traffic = Traffic(), sent: Traffic = Traffic()) {
            self.received = received
            self.sent = sent
        }
    }

    /// Traffic through the frontend socket.
    public internal(set) var frontend = Side()
    /// Traffic through the backend socket.
    public internal(set) var backend = Side()

    /// Statistics with every count zero.
    public init() {}
}
