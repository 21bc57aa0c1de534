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
/// Waiting costs no thread and no CPU, whatever the number of sockets: each socket waits the way an
/// awaiting `recv` or `send` does (the process's one reactor thread watches the sockets' `ZMQ_FD`s),
/// so a poller of a thousand sockets is fine. Polling consumes nothing; a socket reported readable
/// has a message that the next receive takes without waiting, unless another task takes it first.
/// (A socket that another task is already awaiting a receive on is served to that task first, so
/// poll sockets that one task owns.)
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

    /// Creates a poller with no sockets.
    public init() {}

    /// Adds `socket` to the poller, waiting for `events`; adding a socket again adds to its events.
    public mutating func add(_ socket: Socket, events: Events = .readable) {
        if let index = items.firstIndex(where: { $0.socket === socket }) {
            items[index] = Item(socket: socket, events: items[index].events.union(events))
        } else {
            items.append(Item(socket: socket, events: events))
        }
    }

    /// Removes `socket` from the poller; removing a socket it does not hold does nothing.
    public mutating func remove(_ socket: Socket) {
        items.removeAll { $0.socket === socket }
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
            throw ZMQError.invalidArgument.with("polling no sockets without a timeout would never return")
        }
        let deadline = timeout.map { ContinuousClock.now.advanced(by: $0) }
        while true {
            let ready = try await readyItems()
            if !ready.isEmpty { return ready }
            if let deadline, ContinuousClock.now >= deadline { return [] }
            try Task.checkCancellation()
            // Something may only look ready to the waiter that saw it (another task can take the
            // message in between), so check everything again before reporting.
            try await waitForAnyReadiness(until: deadline)
        }
    }

    /// Checks every socket once, without waiting.
    private func readyItems() async throws -> [Item] {
        var ready: [Item] = []
        for item in items {
            let events = try await item.socket.readiness(item.events)
            if !events.isEmpty { ready.append(Item(socket: item.socket, events: events)) }
        }
        return ready
    }

    /// Returns when one socket reports readiness (each waits in its own child task, suspended the way
    /// a receive is, costing no thread) or the deadline passes; the other waits are then cancelled.
    private func waitForAnyReadiness(until deadline: ContinuousClock.Instant?) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for item in items {
                let socket = item.socket
                if item.events.contains(.readable) { group.addTask { try await socket.awaitReadiness(.receive) } }
                if item.events.contains(.writable) { group.addTask { try await socket.awaitReadiness(.send) } }
            }
            if let deadline {
                group.addTask { try await Task.sleep(until: deadline, clock: .continuous) }
            }
            defer { group.cancelAll() }
            _ = try await group.next()
        }
    }
}

extension Socket {
    /// Which of `events` the socket is ready for now. Frames a stream handed back count as readable.
    func readiness(_ events: Poller.Events) throws -> Poller.Events {
        try withHandle { handle in
            let current = try LibZMQ.events(handle)
            var ready: Poller.Events = []
            if events.contains(.readable) && (current & Int32(ZMQ_POLLIN) != 0 || !unread.isEmpty) {
                ready.insert(.readable)
            }
            if events.contains(.writable) && current & Int32(ZMQ_POLLOUT) != 0 {
                ready.insert(.writable)
            }
            return ready
        }
    }

    /// Suspends until the socket is ready in `direction`, consuming nothing. The waiter queues with
    /// receivers (or senders) like any other; once woken it leaves the line, and `schedule()` wakes
    /// the next waiter if the socket is still ready.
    func awaitReadiness(_ direction: Direction) async throws {
        let flag = Int32(direction == .receive ? ZMQ_POLLIN : ZMQ_POLLOUT)
        try await perform(direction) { handle, _ in
            if direction == .receive && !unread.isEmpty { return () }
            return try LibZMQ.events(handle) & flag != 0 ? () : nil
        }
    }
}
