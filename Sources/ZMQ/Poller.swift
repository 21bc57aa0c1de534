internal import CZMQ

/// Waits until any of many sockets is ready to receive or to send: the async form of `zmq_poll`.
///
/// ```swift
/// var poller = Poller()
/// poller.add(control, events: .readable)
/// for worker in workers { poller.add(worker, events: .readable) }
/// while true {
///     for item in try await poller.poll(timeout: .seconds(1)) {
///         let message = try await item.socket.recv(as: Message.self)  // returns at once
///         ...
///     }
/// }
/// ```
///
/// Waiting costs no thread and no CPU, whatever the number of sockets: the poller keeps the sockets'
/// `ZMQ_FD`s in an epoll set of its own, which the process's one reactor thread watches as a single
/// descriptor while a poll waits. A poll reads the events (`ZMQ_EVENTS`) only of the sockets that
/// signalled, that a libzmq call was made on, or that were ready the last time, so the idle sockets of a
/// large poller cost next to nothing per poll (where `zmq_poll` asks every socket, every time). Polling
/// consumes nothing; a socket reported readable has a message that the next receive takes without
/// waiting, unless another task takes it first. (A socket that another task is already awaiting a
/// receive on is served to that task first, so poll sockets that one task owns.)
///
/// A `Poller` is a value: adding and removing sockets changes this poller only. The corresponding C
/// function is `zmq_poll`.
public struct Poller: Sendable {
    /// Kinds of readiness to wait for, and that ``Poller/poll(timeout:)`` reports: the same set that
    /// ``ReadOnlySocketOption/events`` reads (`ZMQ_POLLIN`, `ZMQ_POLLOUT`).
    public typealias Events = Socket.Events

    /// A socket and a set of events: what to wait for when added, what is ready when returned by
    /// ``Poller/poll(timeout:)``. The corresponding C type is `zmq_pollitem_t`.
    public struct Item: Sendable {
        /// The socket.
        public let socket: Socket
        /// The events wanted (in ``Poller/items``) or ready (in a ``Poller/poll(timeout:)`` result).
        public let events: Events
    }

    /// The sockets being polled, in the order they were added, with the events wanted for each.
    public private(set) var items: [Item] = []

    /// The epoll set and what was last read of each socket, shared by copies until one changes.
    private var core = PollerCore()

    /// Creates a poller with no sockets.
    public init() {}

    /// Adds `socket` to the poller, waiting for `events`; adding a socket again adds to its events.
    public mutating func add(_ socket: Socket, events: Events = .readable) {
        if let index = items.firstIndex(where: { $0.socket === socket }) {
            items[index] = Item(socket: socket, events: items[index].events.union(events))
            return
        }
        if !isKnownUniquelyReferenced(&core) { core = core.copy() }
        items.append(Item(socket: socket, events: events))
        core.append(socket)
    }

    /// Removes `socket` from the poller; removing a socket it does not hold does nothing.
    public mutating func remove(_ socket: Socket) {
        guard let index = items.firstIndex(where: { $0.socket === socket }) else { return }
        if !isKnownUniquelyReferenced(&core) { core = core.copy() }
        items.remove(at: index)
        core.remove(at: index)
    }

    /// Waits until at least one socket is ready for one of its events, or until `timeout` has passed,
    /// and returns the sockets that are ready, with the events each is ready for (in the order they
    /// were added). A timeout returns an empty list; `.zero` only checks; `nil` waits as long as it takes.
    ///
    /// The corresponding C function is `zmq_poll`.
    /// - Throws: ``ZMQError/socketClosed`` if a polled socket is closed, ``ZMQError/invalidArgument``
    ///   for a poller without sockets and no timeout (it would wait forever), or `CancellationError`.
    public func poll(timeout: Duration? = nil) async throws -> [Item] {
        if items.isEmpty && timeout == nil {
            throw ZMQError.invalidArgument.with("polling no sockets without a timeout would never return").during("poll")
        }
        if let timeout, timeout < .zero {
            throw ZMQError.invalidArgument.with("timeout \(timeout) is negative").during("poll")
        }
        let deadline = timeout.flatMap(MonotonicClock.deadline(after:))
        while true {
            let (ready, changes, unsignalled) = try core.ready(items)
            if !ready.isEmpty { return ready }
            let now = MonotonicClock.now()
            if let deadline, now >= deadline { return [] }
            try Task.checkCancellation()
            var wakeUp = deadline
            if unsignalled { wakeUp = min(deadline ?? .max, now + PollerCore.recheckInterval) }
            try await core.wait(since: changes, deadline: wakeUp)
        }
    }

    /// How many polls of this poller (and its unchanged copies) are waiting now; for tests.
    var waitingPolls: Int { core.waiters.count.receive }
}

/// A poller's core as a socket refers to it: weakly, since the poller holds the socket.
struct WeakPollerCore: Sendable {
    weak var core: PollerCore?
}

extension Socket {
    /// Which of `events` the socket is ready for now, and ``calls`` after reading them. Frames a stream
    /// handed back count as readable. `poller` is the one asking: it is not told of its own reading.
    nonisolated func readiness(_ events: Poller.Events, for poller: PollerCore) throws -> (Poller.Events, UInt64) {
        var wake = Wake()
        defer { deliver(wake, except: poller) }
        return try exclusive.withLock { state in
            let handle = try usable(state)
            let current = try readEventsLocked(handle, state, &wake)
            if state.hasWaiters { wake.merge(scheduleLocked(&state)) }
            // After this section's own calls (the waiters' events reading too): only others' count.
            let after = calls.load(ordering: .relaxed)
            var ready: Poller.Events = []
            if events.contains(.readable) && (current & Int32(ZMQ_POLLIN) != 0 || !unread.isEmpty) {
                ready.insert(.readable)
            }
            if events.contains(.writable) && current & Int32(ZMQ_POLLOUT) != 0 {
                ready.insert(.writable)
            }
            return (ready, after)
        }
    }

    /// Starts telling `poller` of every libzmq call on this socket.
    nonisolated func watch(_ poller: PollerCore) {
        watchers.withLock { $0.append(WeakPollerCore(core: poller)) }
        exclusive.withLock { state in
            state.watched = true
            state.endWaitHere()
        }
    }

    /// Stops telling `poller` (and forgets pollers that are gone).
    nonisolated func unwatch(_ poller: PollerCore) {
        let remaining = watchers.withLock { watchers in
            watchers.removeAll { $0.core == nil || $0.core === poller }
            return watchers.count
        }
        exclusive.withLock { $0.watched = remaining > 0 }
    }
}
